"""TF-IDF rows for a handful of texts without scikit-learn's per-call validation.

``TfidfVectorizer.transform`` spends most of its time on one question checking its inputs;
serving calls it for every request. This computes the same matrix from the fitted vocabulary
and idf weights (a test compares the two).
"""

from __future__ import annotations

import copy
import weakref
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

_ANALYZERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def supports(vectorizer: object) -> bool:
    """Whether ``vectorizer`` is a fitted TfidfVectorizer whose options this module handles."""
    return (
        isinstance(vectorizer, TfidfVectorizer)
        and hasattr(vectorizer, "vocabulary_")
        and vectorizer.norm in ("l2", None)
        and not vectorizer.binary
    )


def _analyzer(vectorizer: TfidfVectorizer) -> Callable[[str], list[str]]:
    """The vectorizer's analyzer, built on a copy that holds only its settings.

    An analyzer holds bound methods of the object that built it. Built on the fitted
    vectorizer, the cache's value would keep its key alive, so a model replaced in a worker
    would never be freed (its vocabulary, and its mapped arrays file with the idf weights).
    """
    settings = copy.copy(vectorizer)
    for name in [name for name in vars(settings) if name.endswith("_") or name == "_tfidf"]:
        delattr(settings, name)
    return settings.build_analyzer()


def tfidf_row(vectorizer: TfidfVectorizer, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Column indices (sorted) and values of one text's TF-IDF row."""
    analyze = _ANALYZERS.get(vectorizer)
    if analyze is None:
        # Kept beside the vectorizer, not on it, so a model can still be pickled after use.
        analyze = _ANALYZERS[vectorizer] = _analyzer(vectorizer)
    vocabulary = vectorizer.vocabulary_
    counts = Counter(vocabulary[term] for term in analyze(text) if term in vocabulary)
    columns = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
    data = np.array([counts[c] for c in columns], dtype=np.float64)
    if vectorizer.sublinear_tf:
        data = np.log(data) + 1.0
    if vectorizer.use_idf:
        data *= vectorizer.idf_[columns]
    if vectorizer.norm == "l2" and data.size:
        data /= np.sqrt(np.dot(data, data))
    return columns, data


def tfidf_rows(vectorizer: TfidfVectorizer, texts: Sequence[str]) -> sparse.csr_matrix:
    """The rows ``vectorizer.transform(texts)`` would return, computed directly."""
    rows = [tfidf_row(vectorizer, text) for text in texts]
    indptr = np.cumsum([0] + [len(columns) for columns, _ in rows])
    return sparse.csr_matrix(
        (
            np.concatenate([data for _, data in rows]) if rows else np.empty(0),
            np.concatenate([columns for columns, _ in rows]) if rows else np.empty(0, np.int64),
            indptr,
        ),
        shape=(len(texts), len(vectorizer.vocabulary_)),
        dtype=vectorizer.dtype,
    )
