"""The most typical questions of each class: those closest to the class's TF-IDF centroid."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from training.data.datasets import normalise_question
from training.question_features.extractors import word_tfidf

PER_CLASS = 3


def typical_questions(
    texts: Sequence[str], labels: Sequence[str], *, per_class: int = PER_CLASS
) -> dict[str, list[str]]:
    """For each label, up to ``per_class`` distinct questions most similar to its centroid."""
    texts = list(texts)
    labels = np.asarray(labels, dtype=object)
    if not texts:
        return {}
    matrix = word_tfidf().fit_transform(texts).tocsr()
    typical: dict[str, list[str]] = {}
    for label in sorted(set(labels)):
        rows = np.flatnonzero(labels == label)
        centroid = np.asarray(matrix[rows].mean(axis=0)).ravel()
        # Rows are L2-normalised, so the dot product ranks them as the cosine would.
        closeness = matrix[rows] @ centroid
        chosen, seen = [], set()
        for position in np.argsort(-closeness, kind="stable"):
            text = texts[rows[position]]
            key = normalise_question(text)
            if key not in seen:
                seen.add(key)
                chosen.append(text)
            if len(chosen) == per_class:
                break
        typical[str(label)] = chosen
    return typical
