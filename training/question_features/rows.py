"""Rows of one fitted feature extractor, found once per question and kept for a process.

A refit keeps the active version's fitted features (vocabulary, idf weights, cue names) until
the rows grow by more than a tenth (``training.tiers.refit``), so a question's row depends only on
its text and that extractor. A training process keeps the rows of the one extractor it works with:
the fit, the held-out scores, the flip report and the cross-validation after the run all read
them, and a waiting standby finds them before the run is asked for.

One extractor at a time: a row is kept only while the same object is in use, and the slot is
replaced when another extractor asks. Serving processes never fill it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

Row = tuple[np.ndarray, np.ndarray]


class FeatureRows:
    """The rows ``extractor.transform`` gives, remembered per text."""

    def __init__(self, extractor: object) -> None:
        self.extractor = extractor
        self.rows: dict[str, Row] = {}
        self.width: int | None = None

    def add(self, texts: Sequence[str]) -> int:
        """Find the rows of the texts not seen yet (in one batch); how many were new."""
        missing = [text for text in dict.fromkeys(texts) if text not in self.rows]
        if not missing:
            return 0
        matrix = sparse.csr_matrix(self.extractor.transform(missing))
        matrix.sort_indices()
        self.width = matrix.shape[1]
        bounds = matrix.indptr
        for i, text in enumerate(missing):
            start, end = bounds[i], bounds[i + 1]
            self.rows[text] = (matrix.indices[start:end].copy(), matrix.data[start:end].copy())
        return len(missing)

    def matrix(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """The feature matrix of ``texts``, in order, as ``extractor.transform`` would give it."""
        texts = list(texts)
        self.add(texts)
        if self.width is None:  # no texts at all
            self.width = sparse.csr_matrix(self.extractor.transform([""])).shape[1]
        rows = [self.rows[text] for text in texts]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(columns) for columns, _ in rows], out=indptr[1:])
        indices = np.concatenate([c for c, _ in rows]) if rows else np.empty(0, np.int32)
        data = np.concatenate([d for _, d in rows]) if rows else np.empty(0)
        return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), self.width))


_kept: FeatureRows | None = None


def rows_of(extractor: object) -> FeatureRows:
    """The process's rows of ``extractor``, started afresh when another extractor held the slot."""
    global _kept
    if _kept is None or _kept.extractor is not extractor:
        _kept = FeatureRows(extractor)
    return _kept


def kept_rows(extractor: object) -> FeatureRows | None:
    """The kept rows when they belong to ``extractor`` (this very object), else None."""
    kept = _kept
    return kept if kept is not None and kept.extractor is extractor else None


def forget_rows() -> None:
    """Empty the slot (tests, and a process done with its extractor)."""
    global _kept
    _kept = None
