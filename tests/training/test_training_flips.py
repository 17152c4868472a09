"""The pure flip comparison: which rows change label, who is right, per-class counts, McNemar."""

from __future__ import annotations

import pytest

from training.quality.flips import class_counts, find_flips, held_out_test, mcnemar
from training.runtime.predictor import LabelBatch


class TablePredictor:
    """Labels looked up in a dict; counts the batches it was asked for."""

    def __init__(self, table: dict[str, tuple[str, float]], default: str = "DESC:def"):
        self.table = table
        self.default = default
        self.batches: list[int] = []

    def predict_labels(self, texts):
        self.batches.append(len(texts))
        labels = [self.table.get(text, (self.default, 0.5)) for text in texts]
        return LabelBatch(
            coarse=[fine.split(":")[0] for fine, _ in labels],
            coarse_confidence=[confidence for _, confidence in labels],
            fine=[fine for fine, _ in labels],
            fine_confidence=[confidence for _, confidence in labels],
        )


TEXTS = ["q1", "q2", "q3", "q4", "q5"]
OLD = TablePredictor(
    {
        "q1": ("HUM:ind", 0.9),
        "q2": ("LOC:city", 0.8),
        "q3": ("NUM:date", 0.7),
        "q5": ("HUM:ind", 0.6),
    }
)
NEW = TablePredictor(
    {
        "q1": ("HUM:ind", 0.95),  # same label: no flip, whatever the confidence
        "q2": ("LOC:country", 0.6),
        "q3": ("NUM:count", 0.55),
        "q5": ("HUM:gr", 0.4),
    }
)
GOLD = ["HUM:ind", "LOC:country", "NUM:date", "DESC:def", "ENTY:other"]


def test_lists_exactly_the_changed_rows_in_order_with_verdicts():
    comparison = find_flips(OLD, NEW, TEXTS, source="held_out", gold_fine=GOLD)
    assert comparison.compared == 5
    flipped = [(f.text, f.old_fine, f.new_fine, f.verdict) for f in comparison.flips]
    assert flipped == [
        ("q2", "LOC:city", "LOC:country", "new right"),
        ("q3", "NUM:date", "NUM:count", "old right"),
        ("q5", "HUM:ind", "HUM:gr", "neither"),
    ]
    second = comparison.flips[0]
    assert (second.old_confidence, second.new_confidence) == (0.8, 0.6)
    assert (second.gold_coarse, second.old_coarse, second.new_coarse) == ("LOC", "LOC", "LOC")
    assert second.to_dict()["verdict"] == "new right"


def test_query_rows_carry_ids_and_no_verdict():
    comparison = find_flips(OLD, NEW, TEXTS, source="query", query_ids=[10, 20, 30, 40, 50])
    assert [(f.query_id, f.verdict, f.gold_fine) for f in comparison.flips] == [
        (20, None, None),
        (30, None, None),
        (50, None, None),
    ]


def test_predicts_in_batches_and_reports_progress():
    old, new = TablePredictor(OLD.table), TablePredictor(NEW.table)
    seen = []
    comparison = find_flips(old, new, TEXTS, source="query", batch_size=2, progress=seen.append)
    assert old.batches == [2, 2, 1] and new.batches == [2, 2, 1]
    assert seen == [2, 4, 5, 7, 9, 10]
    assert len(comparison.flips) == 3


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown source"):
        find_flips(OLD, NEW, TEXTS, source="elsewhere")
    with pytest.raises(ValueError, match="gold_fine has 2 items for 5 texts"):
        find_flips(OLD, NEW, TEXTS, source="held_out", gold_fine=GOLD[:2])
    assert find_flips(OLD, NEW, [], source="query").flips == []


def test_class_counts_out_of_and_into_each_class():
    flips = find_flips(OLD, NEW, TEXTS, source="held_out", gold_fine=GOLD).flips
    assert class_counts(flips) == {
        "HUM:gr": {"out": 0, "in": 1},
        "HUM:ind": {"out": 1, "in": 0},
        "LOC:city": {"out": 1, "in": 0},
        "LOC:country": {"out": 0, "in": 1},
        "NUM:count": {"out": 0, "in": 1},
        "NUM:date": {"out": 1, "in": 0},
    }


def test_mcnemar_exact_p_values():
    # 1 against 8 discordant pairs: 2 * (C(9,0) + C(9,1)) / 2**9 = 20 / 512.
    result = mcnemar(1, 8)
    assert result["p_value"] == pytest.approx(20 / 512)
    assert (result["statistic"], result["discordant"]) == (1, 9)
    assert mcnemar(0, 0)["p_value"] == 1.0
    assert mcnemar(5, 5)["p_value"] == pytest.approx(1.0)
    assert mcnemar(0, 30)["p_value"] == pytest.approx(2 * 0.5**30)
    with pytest.raises(ValueError):
        mcnemar(-1, 3)


def test_held_out_test_counts_only_discordant_flips():
    flips = find_flips(OLD, NEW, TEXTS, source="held_out", gold_fine=GOLD).flips
    result = held_out_test(flips)
    assert (result["old_right"], result["new_right"]) == (1, 1)  # "neither" is concordant
    assert result["p_value"] == pytest.approx(1.0)


def test_predict_labels_agrees_with_predict_many(tiny_result, tiny_frame):
    classifier = tiny_result.classifier
    texts = list(tiny_frame["text"]) + ["Where is the nearest bridge?", "zzz", ""]
    batch = classifier.predict_labels(texts)
    full = classifier.predict_many(texts, explain=False)
    assert batch.fine == [p.fine for p in full] and batch.coarse == [p.coarse for p in full]
    assert batch.fine_confidence == pytest.approx([p.fine_confidence for p in full])
    assert batch.coarse_confidence == pytest.approx([p.coarse_confidence for p in full])
    assert len(classifier.predict_labels([])) == 0
