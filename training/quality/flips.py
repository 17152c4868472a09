"""Flips between two models: which questions change label, who is right, and whether it matters.

Pure functions on predictors and lists; the application gathers the rows and stores the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

from scipy.stats import binomtest

from training.runtime.predictor import LabelBatch

BATCH_SIZE = 2000
SOURCES = ("held_out", "query")


class LabelPredictor(Protocol):
    """Anything that labels a batch of questions (QuestionClassifier and its wrappers)."""

    def predict_labels(self, texts: Sequence[str]) -> LabelBatch: ...


@dataclass(frozen=True)
class FlipRow:
    """One question whose fine label differs between the old and the new model."""

    source: str
    text: str
    query_id: int | None
    gold_coarse: str | None
    gold_fine: str | None
    old_coarse: str
    old_fine: str
    old_confidence: float
    new_coarse: str
    new_fine: str
    new_confidence: float

    @property
    def verdict(self) -> str | None:
        """Against the gold label: "old right", "new right" or "neither"; None without one."""
        if self.gold_fine is None:
            return None
        if self.old_fine == self.gold_fine:
            return "old right"
        if self.new_fine == self.gold_fine:
            return "new right"
        return "neither"

    def to_dict(self) -> dict:
        """Plain JSON-ready dict, with the verdict."""
        return {**asdict(self), "verdict": self.verdict}


@dataclass
class FlipComparison:
    """The flips among ``compared`` questions of one source."""

    source: str
    compared: int
    flips: list[FlipRow]


def label_in_batches(
    predictor: LabelPredictor,
    texts: Sequence[str],
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> LabelBatch:
    """``predict_labels`` over fixed-size batches, so memory stays flat for any row count."""
    parts = LabelBatch([], [], [], [])
    for start in range(0, len(texts), batch_size):
        batch = predictor.predict_labels(list(texts[start : start + batch_size]))
        parts.coarse += batch.coarse
        parts.coarse_confidence += batch.coarse_confidence
        parts.fine += batch.fine
        parts.fine_confidence += batch.fine_confidence
        if progress:
            progress(min(start + batch_size, len(texts)))
    return parts


def find_flips(
    old: LabelPredictor,
    new: LabelPredictor,
    texts: Sequence[str],
    *,
    source: str,
    gold_fine: Sequence[str] | None = None,
    query_ids: Sequence[int | None] | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> FlipComparison:
    """Every question whose fine label differs between ``old`` and ``new``, in input order.

    The fine label decides: a model's fine class always lies inside its coarse class, so a
    changed coarse label is a changed fine label too. ``progress`` gets the rows labelled so far,
    counting both models (up to twice the row count).
    """
    count = len(texts)
    before = label_in_batches(old, texts, batch_size, progress)
    after = label_in_batches(
        new, texts, batch_size, (lambda done: progress(count + done)) if progress else None
    )
    return flips_between(before, after, texts, source=source, gold_fine=gold_fine,
                         query_ids=query_ids)


def flips_between(
    before: LabelBatch,
    after: LabelBatch,
    texts: Sequence[str],
    *,
    source: str,
    gold_fine: Sequence[str] | None = None,
    query_ids: Sequence[int | None] | None = None,
) -> FlipComparison:
    """The flips between two models' labels of the same ``texts`` (labelled beforehand)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
    count = len(texts)
    for name, values in (("gold_fine", gold_fine), ("query_ids", query_ids),
                         ("old labels", before.fine), ("new labels", after.fine)):
        if values is not None and len(values) != count:
            raise ValueError(f"{name} has {len(values)} items for {count} texts")
    flips = [
        FlipRow(
            source=source,
            text=str(texts[i]),
            query_id=query_ids[i] if query_ids is not None else None,
            gold_coarse=gold_fine[i].split(":", 1)[0] if gold_fine is not None else None,
            gold_fine=gold_fine[i] if gold_fine is not None else None,
            old_coarse=before.coarse[i],
            old_fine=before.fine[i],
            old_confidence=float(before.fine_confidence[i]),
            new_coarse=after.coarse[i],
            new_fine=after.fine[i],
            new_confidence=float(after.fine_confidence[i]),
        )
        for i in range(count)
        if before.fine[i] != after.fine[i]
    ]
    return FlipComparison(source=source, compared=count, flips=flips)


def class_counts(flips: Sequence[FlipRow]) -> dict[str, dict[str, int]]:
    """Per fine class, how many flips leave it ("out") and how many arrive in it ("in")."""
    counts: dict[str, dict[str, int]] = {}
    for flip in flips:
        counts.setdefault(flip.old_fine, {"out": 0, "in": 0})["out"] += 1
        counts.setdefault(flip.new_fine, {"out": 0, "in": 0})["in"] += 1
    return dict(sorted(counts.items()))


def mcnemar(old_right: int, new_right: int) -> dict:
    """McNemar's test on paired right/wrong outcomes, always in its exact binomial form.

    Only discordant pairs count: ``old_right`` questions the old model got right and the new
    one wrong, ``new_right`` the reverse. Under the null hypothesis (equal accuracy) each
    discordant pair is a fair coin, so the two-sided p-value is scipy's exact binomial test of
    ``old_right`` out of the sum at 0.5. The exact form is valid at any count, where the
    chi-square approximation needs large ones. The statistic is the smaller count, as in
    statsmodels' exact McNemar.
    """
    if old_right < 0 or new_right < 0:
        raise ValueError("counts must not be negative")
    discordant = old_right + new_right
    p_value = binomtest(old_right, discordant, 0.5).pvalue if discordant else 1.0
    return {
        "method": "exact binomial, two-sided",
        "old_right": old_right,
        "new_right": new_right,
        "discordant": discordant,
        "statistic": min(old_right, new_right),
        "p_value": float(p_value),
    }


def held_out_test(flips: Sequence[FlipRow]) -> dict:
    """McNemar's test from the held-out flips: a question both models label alike is a
    concordant pair, so every discordant pair is a flip with a gold label."""
    verdicts = [flip.verdict for flip in flips if flip.gold_fine is not None]
    return mcnemar(verdicts.count("old right"), verdicts.count("new right"))
