"""The embeddings tier: default features plus all-MiniLM-L6-v2 sentence embeddings.

Training exports the encoder from the weights the model package installs to an ONNX graph, once
per installed package (kept in a cache folder), and stores that graph inside the model, where
``training.runtime.sentence_encoder`` serves it. The graph keeps float32 weights by default (the
same vectors as sentence-transformers); int8 weights encode about 2.5 times faster but cost
about 0.6 points of fine accuracy on the tutorial dataset (bench/RESULTS.md, "Training time and
serving cost per tier"), so they are a setting (``training.settings``).

Importing this module registers the 'embeddings' feature set. The export itself is
``training.runtime.sentence_encoder.onnx_encoder``, where a fitted feature set finds it; torch
is imported only when the encoder is exported.
"""

from __future__ import annotations

from sklearn.pipeline import FeatureUnion

from training.question_features.extractors import (
    QuestionFeatures,
    char_tfidf,
    register_feature_set,
    word_tfidf,
)
from training.runtime.sentence_encoder import (
    FEATURE_SET,
    SentenceEmbeddings,
    mean_pooled,
    onnx_encoder,
)

__all__ = ["embedding_features", "mean_pooled", "onnx_encoder"]


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
