"""The serving shortcut for TF-IDF gives exactly scikit-learn's matrix."""

import pickle

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from training.question_features.fast_tfidf import supports, tfidf_rows

TEXTS = [
    "What is the capital of Peru?",
    "How far is it from Denver to Aspen ?",
    "Who was Galileo?",
    "",
    "日本の首都は?",
    "what what what is is a a a a",
]


@pytest.mark.parametrize(
    "options",
    [
        {"ngram_range": (1, 2), "sublinear_tf": True, "lowercase": True},
        {"analyzer": "char_wb", "ngram_range": (2, 5), "sublinear_tf": True},
        {"norm": None, "use_idf": False},
        {"smooth_idf": False, "min_df": 1, "max_df": 0.9},
    ],
)
def test_same_matrix_as_scikit_learn(options):
    vectorizer = TfidfVectorizer(**options).fit(TEXTS + ["capital cities of the world"])
    assert supports(vectorizer)
    expected = vectorizer.transform(TEXTS)
    actual = tfidf_rows(vectorizer, TEXTS)
    assert actual.shape == expected.shape
    assert np.abs((actual - expected).toarray()).max() < 1e-12


def test_unfitted_or_binary_vectorizers_are_left_to_scikit_learn():
    assert not supports(TfidfVectorizer())
    assert not supports(TfidfVectorizer(binary=True).fit(TEXTS))
    assert not supports(object())


def test_vectorizer_still_pickles_after_use():
    vectorizer = TfidfVectorizer().fit(TEXTS)
    tfidf_rows(vectorizer, TEXTS)
    restored = pickle.loads(pickle.dumps(vectorizer))
    assert (
        np.abs((tfidf_rows(restored, TEXTS) - vectorizer.transform(TEXTS)).toarray()).max() < 1e-12
    )


def test_single_question_matrix_matches_the_batch_path():
    """predict() assembles one row directly; it must equal the stacked batch matrix."""
    from pathlib import Path

    from training.data.datasets import load_dataset
    from training.tiers.train import train_model

    frame = load_dataset(Path(__file__).resolve().parents[2] / "training/data/starter.csv").frame
    model = train_model(
        frame.sample(400, random_state=1), quick=True, with_metrics=False
    ).classifier
    for text in TEXTS + ["Name a flower that blooms at night."]:
        single = model._transform([text])
        batch = model._transform([text, "filler question?"])[0]
        assert single.shape == batch.shape
        assert np.abs((single - batch).toarray()).max() < 1e-12
        one, batched = model.predict(text), model.predict_many([text, "filler?"])[0]
        # Same labels; the weights are float32 and one row is summed in another order than a
        # sparse batch product, so probabilities agree to float32 precision only.
        assert (one.coarse, one.fine) == (batched.coarse, batched.fine)
        assert one.fine_confidence == pytest.approx(batched.fine_confidence, rel=1e-5)
        assert one.coarse_confidence == pytest.approx(batched.coarse_confidence, rel=1e-5)
        assert [a["fine"] for a in one.alternatives] == [a["fine"] for a in batched.alternatives]
        assert [e["word"] for e in one.explanation] == [e["word"] for e in batched.explanation]
