"""What the result page may say of a prediction's numbers, true for every tier.

The page words its doubt from the numbers it shows (qcapp/services/serving/doubt.py): the
alternatives are the next most likely fine classes, highest first; no fine class gets more than
its coarse class in all; and where another class gets more than the answer, the answer's coarse
class is the one with the most in all. The tiers share the decision (QuestionClassifier); these
check it on the light model, on an embeddings model and on a fine-tuned one's mixture.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from training.runtime import extras
from training.runtime.finetuned_classifier import FinetunedClassifier
from training.tiers.train import train_model

QUESTIONS = [
    "Which one?", "Name one.", "Which way?", "What is used for that?", "What comes next?",
    "What is the best way to learn French?", "What should I do?", "Which of them?",
    "What is the best way to cook rice?", "What helps with a cold?", "How come?",
    "Who painted the Mona Lisa?", "What is the capital of Peru?", "How far is the Moon?",
    "When did the Berlin Wall fall?", "What does NATO stand for?", "Why do cats purr?",
    "How do you make bread?", "What is a kayak?", "Name a famous painter.",
]


def check_numbers(model, questions: list[str]) -> int:
    """Assert what the page relies on for every question; return how many answers trail."""
    coarse_rows, _fine_rows = model._probabilities(model._transform(questions), questions)
    trailing = 0
    for question, prediction, coarse in zip(
        questions, model.predict_many(questions), coarse_rows, strict=True
    ):
        values = [a["confidence"] for a in prediction.alternatives]
        assert prediction.fine.startswith(prediction.coarse + ":"), question
        assert values == sorted(values, reverse=True), question
        assert prediction.fine not in [a["fine"] for a in prediction.alternatives], question
        top = coarse.max()
        # The answer's coarse class has the most in all, and no fine class gets more than it.
        assert prediction.coarse_confidence == pytest.approx(top), question
        assert max([prediction.fine_confidence, *values]) <= top + 1e-9, question
        for alternative in prediction.alternatives:
            if alternative["coarse"] == prediction.coarse:  # the best inside its coarse class
                assert alternative["confidence"] <= prediction.fine_confidence + 1e-9, question
        trailing += bool(values) and values[0] > prediction.fine_confidence
    return trailing


def test_the_light_model(trained_artifact):
    _info, result = trained_artifact
    assert check_numbers(result.classifier, QUESTIONS) >= 3  # "Which way?" and others


class ScrambledNetwork:
    """Stands in for a fine-tuned network: sharp, question-seeded probabilities in the light
    model's columns, which disagree with it often."""

    def __init__(self, coarse: int, fine: int):
        self.sizes = (coarse, fine)

    def prepare(self) -> None:
        pass

    def probabilities(self, texts):
        rows = ([], [])
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
            generator = np.random.default_rng(seed)
            for row, size in zip(rows, self.sizes, strict=True):
                row.append(generator.dirichlet(np.full(size, 0.3)))
        return np.array(rows[0]), np.array(rows[1])


def test_the_fine_tuned_mixture(trained_artifact):
    _info, result = trained_artifact
    light = result.classifier
    network = ScrambledNetwork(len(light.coarse_labels), len(light.fine_labels))
    mixed = FinetunedClassifier(light, network, network_weight=0.5)
    questions = QUESTIONS + [f"Which {word} is it?" for word in ("car", "one", "way")]
    assert check_numbers(mixed, questions) >= 1


@pytest.mark.slow
@pytest.mark.skipif(not extras.available(), reason="the 'embeddings' extra is not installed")
def test_the_embeddings_model(tiny_frame):
    model = train_model(tiny_frame, quick=True, features="embeddings").classifier
    check_numbers(model, QUESTIONS)
