"""The labels a model gives, computed once: within a run in memory, across runs on disk.

A version's artifact never changes (its sha256 names it), so the labels its model gives a
question are fixed: every retrain compares the candidate with the active version on the
held-out split and on the stored questions, and only questions the active version has not
labelled yet need its model. Files live in ``instance/cache/labels``, one per artifact, and
only the newest few stay. Labels here are the model's own; serving overrides go on top.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import joblib
from flask import current_app

from training import LabelBatch, dump_atomically, label_in_batches

from ...models import ModelVersion

KEEP_FILES = 4
Row = tuple[str, float, str, float]


def cache_folder() -> Path:
    """Where label caches live (instance/cache/labels)."""
    return Path(current_app.instance_path) / "cache" / "labels"


def cache_path(version: ModelVersion) -> Path | None:
    """The file of a version's labels, named by its artifact's sha256 (None without one)."""
    sha = version.artifact_sha256 or ""
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        return None
    return cache_folder() / f"{sha}.joblib"


class ModelLabels:
    """A model's labels of questions, remembered; with a ``path``, also between runs."""

    def __init__(self, load_model: Callable[[], Any], path: Path | None = None):
        self.path = path
        self._load_model = load_model
        self._model: Any = None
        self.rows: dict[str, Row] = self._read() if path else {}
        self.added = 0
        self.reused = 0

    def model(self) -> Any:
        """The model itself, loaded on first need."""
        if self._model is None:
            self._model = self._load_model()
        return self._model

    def _read(self) -> dict[str, Row]:
        try:
            rows = joblib.load(self.path)
        except (OSError, EOFError, ValueError, TypeError, KeyError):
            return {}  # absent or unreadable: recompute (a cache is never a source of truth)
        return rows if isinstance(rows, dict) else {}

    def labels(self, texts: Sequence[str]) -> LabelBatch:
        """The version's labels of ``texts``; the model is loaded only if some are missing."""
        missing = list(dict.fromkeys(text for text in texts if text not in self.rows))
        self.reused += len(texts) - len(missing)
        if missing:
            batch = label_in_batches(self.model(), missing)
            for i, text in enumerate(missing):
                self.rows[text] = (
                    batch.coarse[i], batch.coarse_confidence[i],
                    batch.fine[i], batch.fine_confidence[i],
                )
            self.added += len(missing)
        rows = [self.rows[text] for text in texts]
        return LabelBatch(
            coarse=[row[0] for row in rows],
            coarse_confidence=[row[1] for row in rows],
            fine=[row[2] for row in rows],
            fine_confidence=[row[3] for row in rows],
        )

    def save(self) -> None:
        """Write the labels atomically when any were added; keep only the newest files."""
        if not self.rows or self.path is None or (self.path.exists() and not self.added):
            return
        dump_atomically(self.rows, self.path)
        folder = self.path.parent
        files = sorted(folder.glob("*.joblib"), key=lambda path: path.stat().st_mtime)
        for stale in files[:-KEEP_FILES]:
            stale.unlink(missing_ok=True)
