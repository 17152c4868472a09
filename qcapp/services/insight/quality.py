"""Live quality for the dashboard: calibration against reviewed verdicts, corrections per class."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from ...database import read_only_connection
from ...models import Correction, CorrectionStatus, Prediction
from .stats import COUNTED_CORRECTION, day_bucket, day_key

RELIABILITY_BINS = 10
TOP_CORRECTED_CLASSES = 6
OTHER_CLASSES = "other"


@dataclass(frozen=True)
class ReliabilityBin:
    """Reviewed predictions whose fine confidence fell in [low, high)."""

    low: float
    high: float
    count: int
    right: int
    mean_confidence: float | None

    @property
    def accuracy(self) -> float | None:
        return self.right / self.count if self.count else None


@dataclass
class LiveQuality:
    """What the live-quality charts draw."""

    reliability: list[ReliabilityBin]
    calibration_error: float | None
    corrected_classes: dict[str, list[int]]


def reviewed_outcomes() -> list[tuple[float, bool]]:
    """Per query with an approved verdict: its stored fine confidence and whether it was right.

    An approved confirmation, or an approved correction to the predicted fine label, says the
    prediction was right; an approved correction to another label says it was wrong. When a
    query has several approved verdicts the latest review decides, as in the training set.
    Pending verdicts are not decided yet and rejected or reverted ones were overruled, so
    neither counts.
    """
    with read_only_connection() as connection:
        rows = connection.execute(
            select(
                Correction.query_id,
                Correction.fine,
                Prediction.fine,
                Prediction.fine_confidence,
            )
            .join(Prediction, Prediction.query_id == Correction.query_id)
            .where(Correction.status == CorrectionStatus.APPROVED)
            .order_by(Correction.reviewed_at.asc().nulls_first(), Correction.id)
        ).all()
    latest = {
        query_id: (float(confidence), reviewed == predicted)
        for query_id, reviewed, predicted, confidence in rows
    }
    return list(latest.values())


def reliability_bins(
    outcomes: Iterable[tuple[float, bool]], bins: int = RELIABILITY_BINS
) -> list[ReliabilityBin]:
    """Equal-width confidence bins with their counts, right answers and mean confidence."""
    counts, rights, sums = [0] * bins, [0] * bins, [0.0] * bins
    for confidence, right in outcomes:
        confidence = min(max(confidence, 0.0), 1.0)
        index = min(int(confidence * bins), bins - 1)  # a confidence of 1.0 joins the last bin
        counts[index] += 1
        rights[index] += bool(right)
        sums[index] += confidence
    return [
        ReliabilityBin(
            low=n / bins,
            high=(n + 1) / bins,
            count=counts[n],
            right=rights[n],
            mean_confidence=sums[n] / counts[n] if counts[n] else None,
        )
        for n in range(bins)
    ]


def calibration_error(bins: Sequence[ReliabilityBin]) -> float | None:
    """Expected calibration error: the count-weighted gap between confidence and accuracy."""
    total = sum(b.count for b in bins)
    if not total:
        return None
    return sum(b.count / total * abs(b.accuracy - b.mean_confidence) for b in bins if b.count)


def corrections_per_class(
    days: Sequence[str], top: int = TOP_CORRECTED_CLASSES
) -> dict[str, list[int]]:
    """Corrections per day for the most corrected predicted fine classes, the rest as "other".

    Counted like the dashboard's other correction figures (pending and approved corrections,
    not rejected ones, nor confirmations), by the day the correction was made.
    """
    if not days:
        return {}
    index = {day: n for n, day in enumerate(days)}
    since = datetime.strptime(days[0], "%Y-%m-%d").replace(tzinfo=UTC)
    with read_only_connection() as connection:
        day = day_bucket(Correction.created_at, connection.dialect.name)
        rows = connection.execute(
            select(day, Prediction.fine, func.count())
            .join(Prediction, Prediction.query_id == Correction.query_id)
            .where(COUNTED_CORRECTION, Correction.created_at >= since)
            .group_by(day, Prediction.fine)
        ).all()
    per_class: dict[str, list[int]] = {}
    for bucket, fine, count in rows:
        if day_key(bucket) in index:
            per_class.setdefault(fine, [0] * len(days))[index[day_key(bucket)]] += count
    ranked = sorted(per_class, key=lambda label: (-sum(per_class[label]), label))
    shown = {label: per_class[label] for label in ranked[:top]}
    rest = [per_class[label] for label in ranked[top:]]
    if rest:
        shown[OTHER_CLASSES] = [sum(values) for values in zip(*rest, strict=True)]
    return shown


def collect_live_quality(days: Sequence[str]) -> LiveQuality:
    """Reliability bins over every reviewed prediction; corrections per class on ``days``
    (the dashboard's window, as "YYYY-MM-DD" UTC days)."""
    bins = reliability_bins(reviewed_outcomes())
    return LiveQuality(
        reliability=bins,
        calibration_error=calibration_error(bins),
        corrected_classes=corrections_per_class(days),
    )
