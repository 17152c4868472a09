"""scikit-learn feature extractors for questions and the named feature sets."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from training.question_features.heuristics import question_cues
from training.question_features.text import preprocess

# Word tokens are runs of word characters, so "What 's" and "What's" give the same tokens.
WORD_TOKEN_PATTERN = r"(?u)\b\w+\b"

# Each question's cues, while ``cues_remembered`` is in force (None otherwise).
_remembered: dict[str, dict[str, float]] | None = None


@contextmanager
def cues_remembered() -> Iterator[None]:
    """Within the block each distinct question's cues are found once.

    A training run fits on its rows, scores the held-out rows, labels the stored questions and
    cross-validates the user-labelled rows with three more fits on nearly the same rows; finding
    the cues is about a third of a fit. Only training uses it: a server's workers, which see
    ever new questions, would only grow the table. Callers must not change the dicts.
    """
    global _remembered
    outer = _remembered
    if outer is None:
        _remembered = {}
    try:
        yield
    finally:
        _remembered = outer


def cues_of(text: str) -> dict[str, float]:
    """``question_cues``, remembered inside ``cues_remembered``."""
    remembered = _remembered
    if remembered is None:
        return question_cues(text)
    found = remembered.get(text)
    if found is None:
        found = remembered[text] = question_cues(text)
    return found


class QuestionFeatures(BaseEstimator, TransformerMixin):
    """Sparse binary cue features (wh-word, following words, focus head noun, word shapes).

    The weight 0.25 won a 5-fold CV against 0.15, 0.4, 0.6 and 0.8 on the UIUC set; with the
    casing cues and the revised lexicon, 0.35 beat 0.25 and 0.5 (bench/RESULTS.md, "Accuracy
    of the model tiers").
    """

    def __init__(self, weight: float = 0.35) -> None:
        self.weight = weight

    def fit(self, texts: Iterable[str], y: object = None) -> QuestionFeatures:
        """Learn the cue vocabulary."""
        self.vectorizer_ = DictVectorizer(dtype=np.float64)
        self.vectorizer_.fit(cues_of(text) for text in texts)
        return self

    def transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        """Cue matrix scaled so it does not swamp the L2-normalised TF-IDF blocks."""
        matrix = self.vectorizer_.transform(cues_of(text) for text in texts)
        return sparse.csr_matrix(matrix * self.weight)

    def fit_transform(self, texts: Iterable[str], y: object = None) -> sparse.csr_matrix:
        """``fit`` then ``transform`` with each question's cues found once, not twice."""
        self.vectorizer_ = DictVectorizer(dtype=np.float64)
        matrix = self.vectorizer_.fit_transform([cues_of(text) for text in texts])
        return sparse.csr_matrix(matrix * self.weight)

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices (sorted) and values of one question's row, as ``transform`` gives it,
        without building sparse matrices (the serving hot path)."""
        vectorizer = self.vectorizer_
        vocabulary = vectorizer.vocabulary_
        separator = vectorizer.separator
        found: dict[int, float] = {}
        for name, value in question_cues(text).items():
            if isinstance(value, str):
                name, value = f"{name}{separator}{value}", 1.0
            column = vocabulary.get(name)
            if column is not None and value:
                found[column] = found.get(column, 0.0) + float(value)
        columns = np.fromiter(sorted(found), dtype=np.int64, count=len(found))
        values = np.array([found[c] for c in columns], dtype=np.float64) * self.weight
        return columns, values

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Cue names such as 'head=county'."""
        return self.vectorizer_.get_feature_names_out()


def word_tfidf(ngram_max: int = 2) -> TfidfVectorizer:
    """Word n-gram TF-IDF on untokenised, lower-cased text."""
    return TfidfVectorizer(
        preprocessor=preprocess,
        token_pattern=WORD_TOKEN_PATTERN,
        ngram_range=(1, ngram_max),
        sublinear_tf=True,
        dtype=np.float64,
    )


def char_tfidf() -> TfidfVectorizer:
    """Character n-grams inside word boundaries; robust to spelling and inflection."""
    return TfidfVectorizer(
        preprocessor=preprocess,
        analyzer="char_wb",
        ngram_range=(2, 5),
        min_df=2,
        sublinear_tf=True,
        dtype=np.float64,
    )


def _tutorial() -> FeatureUnion:
    """Lower-case word TF-IDF only, as in the original tutorial."""
    return FeatureUnion([("word", TfidfVectorizer(lowercase=True))])


def _default() -> FeatureUnion:
    """Word 1-2 grams, character 2-5 grams and question cues."""
    return FeatureUnion(
        [("word", word_tfidf()), ("char", char_tfidf()), ("cues", QuestionFeatures())]
    )


# Named feature sets; another module may register more (for example "embeddings").
FEATURE_SETS: dict[str, Callable[[], FeatureUnion]] = {
    "tutorial": _tutorial,
    "default": _default,
}


def register_feature_set(name: str, factory: Callable[[], FeatureUnion]) -> None:
    """Make a new feature set available to build_features and train_model."""
    FEATURE_SETS[name] = factory


def build_features(kind: str = "default") -> FeatureUnion:
    """A fresh, unfitted feature extractor for the named feature set."""
    try:
        factory = FEATURE_SETS[kind]
    except KeyError:
        known = ", ".join(sorted(FEATURE_SETS))
        raise ValueError(f"unknown feature set {kind!r}; known sets: {known}") from None
    return factory()
