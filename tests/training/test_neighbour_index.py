"""The neighbour index of training questions, and its copies brought up to date by reviews."""

from __future__ import annotations

import pytest

from training import NeighbourIndex

TEXTS = [
    "Who wrote Hamlet?",
    "Who painted the Mona Lisa?",
    "What is the capital of France?",
    "Which city has the Eiffel Tower?",
    "How far is the Moon from the Earth?",
]
LABELS = ["HUM:ind", "HUM:ind", "LOC:city", "LOC:city", "NUM:dist"]


def test_an_extended_index_relabels_rows_and_adds_questions():
    base = NeighbourIndex(TEXTS, LABELS)
    extended = base.extended({2: "LOC:other"}, ["Who composed the Magic Flute?"], ["HUM:ind"])

    assert extended.texts == [*TEXTS, "Who composed the Magic Flute?"]
    assert list(extended.labels) == ["HUM:ind", "HUM:ind", "LOC:other", "LOC:city", "NUM:dist",
                                     "HUM:ind"]
    assert list(base.labels) == LABELS  # the base index is left as it was
    [nearest] = extended.nearest(["Who composed the Magic Flute?"], k=1)
    assert nearest[0].text == "Who composed the Magic Flute?"
    assert nearest[0].similarity == pytest.approx(1.0)
    [capital] = extended.nearest(["What is the capital of France?"], k=1)
    assert (capital[0].text, capital[0].fine) == ("What is the capital of France?", "LOC:other")


def test_an_extended_index_finds_what_a_full_rebuild_finds():
    """On the starter dataset, with questions added as reviews add them: the same nearest
    question for each probe (the weights, not refitted, move similarities a little)."""
    from training import load_dataset
    from training.data import STARTER_DATASET_PATH

    frame = load_dataset(STARTER_DATASET_PATH).frame
    base_texts, base_labels = list(frame["text"][:-40]), list(frame["fine"][:-40])
    added, added_labels = list(frame["text"][-40:-20]), list(frame["fine"][-40:-20])
    probes = list(frame["text"][-20:])
    extended = NeighbourIndex(base_texts, base_labels).extended({}, added, added_labels)
    rebuilt = NeighbourIndex(base_texts + added, base_labels + added_labels)
    same = sum(
        mine[0].text == full[0].text
        for mine, full in zip(extended.nearest(probes, k=1), rebuilt.nearest(probes, k=1),
                              strict=True)
    )
    assert same >= 19


def test_an_empty_index_extended_is_built_from_the_added_questions():
    extended = NeighbourIndex([], []).extended({}, TEXTS[:2], LABELS[:2])
    assert extended.texts == TEXTS[:2]
    assert extended.nearest(["Who wrote Hamlet?"], k=1)[0][0].fine == "HUM:ind"
