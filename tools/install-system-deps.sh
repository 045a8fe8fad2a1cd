#!/usr/bin/env bash
# Optional system packages used by the headless-browser and PDF-as-image checks (Debian/Ubuntu).
# Chromium opens rendered reports in tests; poppler-utils turns PDF pages into images.
# Everything else the project needs is a Python package installed by pyproject.toml.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then echo "apt-get not available: skipping ${need[*]}"; exit 1; fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else echo "not root and no sudo: skipping ${need[*]}"; exit 1; fi
fi
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
