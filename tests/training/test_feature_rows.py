"""A refit keeps the active version's fitted features, and each question's row is found once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.question_features.rows import FeatureRows, forget_rows, kept_rows, rows_of
from training.tiers.refit import refit_model, reusable_features
from training.tiers.train import train_model

TEXTS = [
    "Who invented the telephone ?",
    "What is the capital of Peru ?",
    "Who invented the telephone ?",
    "How many moons does Mars have ?",
]


@pytest.fixture
def trained(tiny_frame):
    forget_rows()
    yield train_model(tiny_frame, quick=True)
    forget_rows()


def test_rows_equal_the_extractors_own_matrix_in_order(trained) -> None:
    extractor = trained.classifier.features
    rows = FeatureRows(extractor)
    assert rows.add(TEXTS[:2]) == 2
    matrix = rows.matrix(TEXTS)  # one repeated text, one not seen before
    assert len(rows.rows) == 3
    expected = extractor.transform(TEXTS).toarray()
    assert matrix.shape == expected.shape
    np.testing.assert_allclose(matrix.toarray(), expected)
    assert rows.matrix([]).shape == (0, expected.shape[1])


def test_a_classifier_labels_the_same_with_kept_rows(trained) -> None:
    classifier = trained.classifier
    without = classifier.predict_labels(TEXTS)
    assert kept_rows(classifier.features) is None
    rows_of(classifier.features).add(TEXTS)
    assert kept_rows(classifier.features) is not None
    assert classifier.predict_labels(TEXTS) == without
    # Another extractor takes the slot; the first one's rows are no longer used.
    rows_of(object())
    assert kept_rows(classifier.features) is None


def test_a_refit_keeps_the_active_features_until_the_rows_grow(trained, tiny_frame) -> None:
    active = trained.classifier
    params = trained.params
    kept = refit_model(tiny_frame, params, warm_start=lambda: active)
    assert kept.classifier.features is active.features
    assert kept.params["features_rows"] == len(tiny_frame)
    question = "Who discovered the radio?"
    assert kept.classifier.predict(question).fine == active.predict(question).fine

    grown = pd.concat([tiny_frame, tiny_frame.head(len(tiny_frame) // 5)], ignore_index=True)
    assert reusable_features(params, len(grown), lambda: active) is None
    refitted = refit_model(grown, params, warm_start=lambda: active)
    assert refitted.classifier.features is not active.features
    assert refitted.params["features_rows"] == len(grown)

    # Without the active model, or for another feature set, the features are fitted again.
    assert reusable_features(params, len(tiny_frame), None) is None
    other = {**params, "feature_set": "embeddings"}
    assert reusable_features(other, len(tiny_frame), lambda: active) is None


def test_a_chain_of_refits_counts_growth_from_the_features_fit(trained, tiny_frame) -> None:
    first = refit_model(tiny_frame, trained.params, warm_start=lambda: trained.classifier)
    # The refit records more rows, but its features were fitted on the original ones.
    params = {**first.params, "rows": len(tiny_frame) * 2}
    assert reusable_features(params, int(len(tiny_frame) * 1.5), lambda: first.classifier) is None
    assert reusable_features(params, len(tiny_frame), lambda: first.classifier) is not None
