"""The answer-type lexicon and the cues it adds."""

from __future__ import annotations

import pytest

from training.question_features.extractors import QuestionFeatures
from training.question_features.heuristics import question_cues
from training.question_features.lexicon import HEAD_TYPES, answer_type
from training.taxonomy import FINE_LABELS


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("city", "LOC:city"),
        ("Cities", "LOC:city"),
        ("rivers", "LOC:other"),
        ("far", "NUM:dist"),
        ("century", "NUM:date"),
        ("flowers", "ENTY:plant"),
        ("dog", "ENTY:animal"),
        ("boxes", None),
        ("zeppelin", None),
        (None, None),
        ("", None),
    ],
)
def test_answer_type(head: str | None, expected: str | None) -> None:
    assert answer_type(head) == expected


def test_lexicon_types_are_real_fine_classes() -> None:
    assert set(HEAD_TYPES.values()) <= set(FINE_LABELS)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What county is Modesto in?", "LOC:state"),
        ("How far is it from Denver to Aspen?", "NUM:dist"),
        ("Name a flower that blooms at night.", "ENTY:plant"),
        ("What kind of dog is Lassie?", "ENTY:animal"),
        ("In what year did the Titanic sink?", "NUM:date"),
        ("Which rivers flow through Rome?", "LOC:other"),
    ],
)
def test_cues_carry_the_answer_type(question: str, expected: str) -> None:
    cues = question_cues(question)
    assert cues[f"type={expected}"] == 1.0
    assert cues[f"type_coarse={expected.split(':')[0]}"] == 1.0


def test_no_type_cue_without_a_known_head() -> None:
    cues = question_cues("Who was Galileo?")
    assert not [key for key in cues if key.startswith("type")]


def test_question_features_weight_scales_every_cue() -> None:
    questions = ["What city is the largest?", "How far is Mars?"]
    matrix = QuestionFeatures(weight=0.25).fit(questions).transform(questions)
    assert set(matrix.data) == {0.25}
    names = set(QuestionFeatures().fit(questions).get_feature_names_out())
    assert {"type=LOC:city", "type=NUM:dist"} <= names
