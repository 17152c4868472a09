"""Files written so that another process never reads half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import joblib


def dump_atomically(value: object, path: Path) -> None:
    """joblib-dump ``value`` to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".joblib")
    os.close(handle)
    try:
        joblib.dump(value, temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
