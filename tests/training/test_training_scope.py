"""The scope check's data, threshold, reasons and behaviour on inputs it never saw."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pytest

from training.data import compose_out_of_scope
from training.data.datasets import load_dataset
from training.runtime.scope import (
    OUT_OF_SCOPE_PATH,
    REASONS,
    fit_scope_model,
    load_out_of_scope,
    reason_for,
    shape_features,
    threshold_for,
)


@pytest.fixture(scope="module")
def shipped_model():
    """The model qcapp serves: starter questions against the bundled out-of-scope set."""
    starter = OUT_OF_SCOPE_PATH.parent / "starter.csv"
    questions = list(load_dataset(starter).frame["text"])
    return fit_scope_model(questions, [text for _, text in load_out_of_scope()])


def test_out_of_scope_set_is_the_composed_one_and_varied():
    with OUT_OF_SCOPE_PATH.open(encoding="utf-8", newline="") as handle:
        rows = [(row["kind"], row["text"]) for row in csv.DictReader(handle)]
    assert rows == compose_out_of_scope.compose()  # the committed file is reproducible
    assert len(rows) >= 500 and len({text for _, text in rows}) == len(rows)
    kinds = Counter(kind.split(":")[0] for kind, _ in rows)
    assert {"language", "symbols", "code", "web", "gibberish", "word_salad", "arithmetic"} <= set(
        kinds
    )
    assert len({kind for kind, _ in rows if kind.startswith("language:")}) >= 20


def test_threshold_refuses_at_most_the_allowed_share():
    scores = np.linspace(0, 1, 1000)
    threshold = threshold_for(scores, 0.01)
    assert np.mean(scores >= threshold) <= 0.01
    assert np.mean(scores >= threshold) >= 0.009  # and not needlessly fewer


@pytest.mark.parametrize(
    "text, reason",
    [
        ("🔥🔥🔥", "no_words"),
        ("12345", "no_words"),
        ("東京タワーの高さは？", "other_script"),
        ("https://example.org/page", "web_address"),
        ("for (i = 0; i < 3; i++) { }", "code"),
        ("What is 17*3?", "arithmetic"),
        ("xkcdqwrtzpl mnbvcxz", "gibberish"),
        ("Où est la gare ?", "not_english"),
    ],
)
def test_reasons(text, reason):
    assert reason_for(text) == reason
    assert reason in REASONS


def test_shape_features_are_bounded():
    for text in ("Who?", "", "   ", "😀", "x" * 500, "Ünïcödé wörds?"):
        features = shape_features(text)
        assert all(0.0 <= value <= 1.0 for value in features), (text, features)


@pytest.mark.slow
def test_unseen_english_questions_are_in_scope(shipped_model):
    questions = [
        "Which painter cut off part of his own ear?",
        "How many moons does Neptune have?",
        "Where do penguins live in the wild?",
        "What does the abbreviation GDP stand for?",
        "Who directed the film Jaws?",
        "When did the Berlin Wall fall?",
        "Why do onions make people cry?",
        "what is the tallest building in asia",
        "Name a metal that is liquid at room temperature.",
        "How much does a blue whale weigh?",
    ]
    verdicts = shipped_model.check_many(questions)
    assert [v.in_scope for v in verdicts] == [True] * len(questions), verdicts


@pytest.mark.slow
def test_unseen_out_of_scope_inputs_are_refused(shipped_model):
    inputs = [
        "Wer hat das Telefon erfunden?",
        "¿Cuántas lunas tiene Neptuno?",
        "Как называется эта река?",
        "이 강의 이름은 무엇입니까?",
        "🐧🐧❄️",
        "lkjhgf poiuy",
        "SELECT id FROM orders;",
        "What is 12 * 12?",
        "www.example.net/about",
    ]
    verdicts = shipped_model.check_many(inputs)
    assert [v.in_scope for v in verdicts] == [False] * len(inputs), verdicts
    assert shipped_model.metrics["out_of_fold_refused"] <= 0.01
