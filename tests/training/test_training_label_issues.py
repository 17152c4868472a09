"""The label-issue finder: flipped labels rank first; near-duplicates with other labels show."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.quality.label_issues import doubtful_labels, find_doubtful_labels, near_duplicates

# Rows of the tiny frame given a wrong label on purpose, each to a clearly different class.
FLIPS = {0: "LOC:city", 30: "NUM:date", 45: "HUM:ind", 70: "ENTY:animal", 95: "NUM:count"}


def flipped(frame: pd.DataFrame, flips: dict[int, str]) -> pd.DataFrame:
    """A copy of ``frame`` with the fine labels of some rows replaced."""
    frame = frame.copy()
    for index, fine in flips.items():
        assert frame.at[index, "fine"] != fine
        frame.at[index, "fine"] = fine
        frame.at[index, "coarse"] = fine.split(":", 1)[0]
    return frame


def test_flipped_labels_rank_first_and_get_their_true_label_back(tiny_frame):
    frame = flipped(tiny_frame, FLIPS)
    found, self_confidence = find_doubtful_labels(frame["text"], frame["fine"])
    top = found[: len(FLIPS)]
    assert {item.index for item in top} == set(FLIPS)
    for item in top:
        assert item.given == FLIPS[item.index]
        assert item.suggested == tiny_frame.at[item.index, "fine"]
        assert item.margin > 0
    assert len(self_confidence) == len(frame)
    clean = np.delete(self_confidence, list(FLIPS))
    assert self_confidence[list(FLIPS)].max() < np.median(clean)


def test_a_clean_frame_raises_few_doubts(tiny_frame):
    found, _ = find_doubtful_labels(tiny_frame["text"], tiny_frame["fine"])
    assert len(found) <= 3


def test_per_class_thresholds_decide_what_is_flagged():
    classes = np.array(["A", "B", "C"])
    labels = ["A", "A", "B", "B", "C"]
    probabilities = np.array(
        [
            [0.9, 0.1, 0.0],  # confident in its label
            [0.3, 0.6, 0.1],  # B reaches B's threshold (0.55): flagged, suggests B
            [0.1, 0.8, 0.1],
            [0.1, 0.3, 0.6],  # C reaches C's threshold (0.5) and beats B: suggests C
            [0.45, 0.05, 0.5],  # A's threshold is 0.6; C is its own label: not flagged
        ]
    )
    found = doubtful_labels(labels, classes, probabilities)
    assert [(item.index, item.suggested) for item in found] == [(1, "B"), (3, "C")]
    assert found[0].margin == 0.6 - 0.3


def test_real_dataset_flips_concentrate_at_the_top(real_frame):
    rng = np.random.default_rng(7)
    rows = rng.choice(len(real_frame), size=30, replace=False)
    coarse_classes = ["HUM:ind", "LOC:country", "NUM:date", "ENTY:animal", "DESC:def"]
    flips = {
        int(i): next(f for f in coarse_classes if f[:3] != real_frame.at[i, "fine"][:3])
        for i in rows
    }
    frame = flipped(real_frame, flips)
    found, _ = find_doubtful_labels(frame["text"], frame["fine"])
    top = {item.index for item in found[:200]}
    # The real set has a couple of hundred doubtful labels of its own; chance would put one
    # of the 30 flips among the top 200 of 5,382 rows.
    assert len(top & set(flips)) >= 22


def test_near_duplicates_pair_same_questions_with_other_labels():
    texts = [
        "What is the chromosome number of an elephant ?",
        "Who wrote Hamlet?",
        "What is the chromosome number of an elephant?",
        "How many American soldiers remain unaccounted from the Vietnam war ?",
        "How many American soldiers remain unaccounted from the Vietnam war",
        "What city is the Golden Gate Bridge in?",
    ]
    labels = ["NUM:count", "HUM:ind", "NUM:other", "NUM:count", "NUM:count", "LOC:city"]
    pairs = near_duplicates(texts, labels)
    assert [(pair.first, pair.second) for pair in pairs] == [(0, 2)]  # 3 and 4 agree
    assert pairs[0].similarity > 0.99


def test_near_duplicates_threshold_filters_by_similarity():
    texts = ["Who wrote Hamlet?", "Who wrote `` Hamlet '' ?", "Who painted the Mona Lisa?"]
    labels = ["HUM:ind", "ENTY:cremat", "HUM:desc"]
    every = near_duplicates(texts, labels, threshold=0.0)
    assert {(pair.first, pair.second) for pair in every} == {(0, 1), (0, 2), (1, 2)}
    best = every[0]
    assert (best.first, best.second) == (0, 1)
    assert [p.similarity for p in every] == sorted((p.similarity for p in every), reverse=True)
    only = near_duplicates(texts, labels, threshold=best.similarity)
    assert [(pair.first, pair.second) for pair in only] == [(0, 1)]
    assert near_duplicates(texts[:1], labels[:1]) == []
