"""Keyed pseudonymisation of person identifiers at the data boundary.

Identifiers are replaced by ``HMAC-SHA256(key, id)`` truncated to 16 hex digits, prefixed
``p_``. The key comes from the environment variable ``EVALUATION_PSEUDONYM_KEY`` or from a
per-study secret file (``.pseudonym-key`` beside ``study.yaml``); it is never written into
any output. Without either, the first run says so (a :class:`PseudonymKeyWarning`) and stores a
new random key in the study's ``.pseudonym-key`` (readable by its owner only; the repository's
``.gitignore`` keeps it out of version control), so pseudonyms stay the same from run to run.
Only when the study folder cannot be written is a key drawn for the one run, and that is said too.
Results never contain identifiers, and no number depends on the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tempfile
import warnings
from pathlib import Path

import pandas as pd

from evaluation.exceptions import DataValidationError, EvaluationWarning

__all__ = ["CPR_PATTERN", "looks_like_cpr", "load_key", "pseudonymise_ids", "PseudonymKeyWarning", "KEY_ENV", "KEY_FILE"]

KEY_ENV = "EVALUATION_PSEUDONYM_KEY"
KEY_FILE = ".pseudonym-key"

#: A Danish CPR number: DDMMYY-SSSS or DDMMYYSSSS (day 01-31, month 01-12).
CPR_PATTERN = re.compile(r"(?<!\d)(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])\d{2}-?\d{4}(?!\d)")

_RUN_KEY: bytes | None = None


class PseudonymKeyWarning(EvaluationWarning):
    """No pseudonymisation key was given: one was made (and stored beside the study when possible)."""


def looks_like_cpr(value: object) -> bool:
    """True if ``value`` contains something shaped like a CPR number."""
    return bool(CPR_PATTERN.search(str(value)))


def load_key(study_dir: str | os.PathLike | None = None) -> bytes:
    """Return the pseudonymisation key: environment, then the study's key file (created when missing).

    Raises
    ------
    DataValidationError
        When the study's key file exists but is empty or unreadable.
    """
    global _RUN_KEY
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode("utf-8")
    if study_dir is not None:
        f = Path(study_dir) / KEY_FILE
        if not f.exists():
            created = _create_key_file(f)
            if created is not None:
                warnings.warn(PseudonymKeyWarning(
                    f"no pseudonymisation key was given ({KEY_ENV} is not set and {f} did not exist): a new random key "
                    f"is stored in {f} and used from now on. Keep that file secret and out of version control; it is "
                    "never written to any output."), stacklevel=2)
        if f.exists():
            try:
                key = f.read_bytes().strip()
            except OSError as exc:
                raise DataValidationError(f"{f}: the pseudonymisation key file cannot be read ({exc.strerror})") from None
            if not key:
                raise DataValidationError(f"{f}: the pseudonymisation key file is empty; delete it to have a new key made, "
                                          f"or set {KEY_ENV}")
            return key
    if _RUN_KEY is None:
        _RUN_KEY = secrets.token_bytes(32)
        where = f" and no key file could be stored in {study_dir}" if study_dir is not None else ""
        warnings.warn(PseudonymKeyWarning(
            f"no pseudonymisation key was given ({KEY_ENV} is not set{where}): a random key is used for this run only, "
            "so pseudonyms differ from run to run (the results do not)."), stacklevel=2)
    return _RUN_KEY


def _create_key_file(path: Path) -> Path | None:
    """Write a new random key to ``path`` unless it exists (atomic: written aside, then hard-linked).

    Returns the path when this call created it, None when it could not be written (read-only folder)
    or another process created it first.
    """
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{KEY_FILE}.", suffix=".tmp", dir=path.parent)  # mode 0600
    except OSError:
        return None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            return None
        except OSError:  # no hard links here: exclusive create
            try:
                with open(path, "x", encoding="ascii") as fh:
                    fh.write(Path(tmp).read_text(encoding="ascii"))
            except OSError:
                return None
        return path
    finally:
        Path(tmp).unlink(missing_ok=True)


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
