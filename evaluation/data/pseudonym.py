"""Keyed pseudonymisation of person identifiers at the data boundary.

Identifiers are replaced by ``HMAC-SHA256(key, id)`` truncated to 16 hex digits, prefixed
``p_``. The key comes from the environment variable ``EVALUATION_PSEUDONYM_KEY`` or from a
per-study secret file (``.pseudonym-key`` beside ``study.yaml``); it is never written into
any output. Without either, a random key is drawn for the run, so identifiers cannot be
linked across runs (results never contain identifiers, so outputs stay byte-identical).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

import pandas as pd

__all__ = ["CPR_PATTERN", "looks_like_cpr", "load_key", "pseudonymise_ids"]

KEY_ENV = "EVALUATION_PSEUDONYM_KEY"
KEY_FILE = ".pseudonym-key"

#: A Danish CPR number: DDMMYY-SSSS or DDMMYYSSSS (day 01-31, month 01-12).
CPR_PATTERN = re.compile(r"(?<!\d)(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])\d{2}-?\d{4}(?!\d)")

_RUN_KEY: bytes | None = None


def looks_like_cpr(value: object) -> bool:
    """True if ``value`` contains something shaped like a CPR number."""
    return bool(CPR_PATTERN.search(str(value)))


def load_key(study_dir: str | os.PathLike | None = None) -> bytes:
    """Return the pseudonymisation key (environment, then study secret file, then a run key)."""
    global _RUN_KEY
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode("utf-8")
    if study_dir is not None:
        f = Path(study_dir) / KEY_FILE
        if f.is_file():
            return f.read_bytes().strip()
    if _RUN_KEY is None:
        _RUN_KEY = secrets.token_bytes(32)
    return _RUN_KEY


def pseudonymise_ids(ids: pd.Series, key: bytes) -> pd.Series:
    """Map each identifier to ``p_`` + 16 hex digits of HMAC-SHA256(key, str(id)).

    Equal identifiers map to equal pseudonyms under the same key; missing values stay missing.
    """
    cache: dict[str, str] = {}

    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and v != v):
            return None
        s = str(v).strip()
        out = cache.get(s)
        if out is None:
            out = "p_" + hmac.new(key, s.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
            cache[s] = out
        return out

    return ids.map(one).astype("string")
