"""The promotion gate: the candidate and the active version scored on the same held-out
questions, and the decision to promote the candidate or keep it a candidate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from training import metrics_from_labels

from ...models import ModelVersion, utcnow
from ..data.merge import MergedSet
from .label_cache import ModelLabels
from .settings import RunSettings

LABEL_COLUMNS = ["text", "coarse", "fine"]


@dataclass(frozen=True)
class Decision:
    """Whether the candidate is promoted, why, and the margin it was judged with."""

    promote: bool
    reason: str
    margin: float
    at: datetime = field(default_factory=utcnow)

    def record(self, actor: str | None) -> dict:
        """As stored with the flip report."""
        return {
            "promoted": self.promote,
            "reason": self.reason,
            "margin": self.margin,
            "by": actor,
            "at": self.at.isoformat(),
        }


def headline(metrics: dict) -> dict:
    """The scores the gate compares and the pages show."""
    keys = ("n", "coarse_accuracy", "fine_accuracy", "coarse_macro_f1", "fine_macro_f1")
    return {key: metrics[key] for key in keys if key in metrics}


def reference_scores(
    active: ModelVersion | None, labels: ModelLabels | None, merged: MergedSet
) -> dict | None:
    """The active version's scores on the same held-out rows (its labels remembered by
    artifact, so only the first run after it became active labels them)."""
    if active is None or labels is None or merged.held_out.empty:
        return None
    held_out = merged.held_out[LABEL_COLUMNS]
    scores = headline(metrics_from_labels(held_out, labels.labels(list(held_out["text"]))))
    same_split = (active.data_sources or {}).get("dataset") == merged.counts["dataset"]
    note = "same held-out split" if same_split else "trained on another dataset; may have seen rows"
    return {**scores, "note": note}


def decide(candidate: dict | None, reference: dict | None, margin: float) -> tuple[bool, str]:
    """Promote unless the candidate is worse than the reference by more than ``margin``."""
    if reference is None:
        return True, "There was no active version to compare with."
    if candidate is None:
        return True, "There are no held-out rows to compare on."
    worse = [
        f"{task} accuracy {candidate[key]:.2%} vs {reference[key]:.2%}"
        for task, key in (("coarse", "coarse_accuracy"), ("fine", "fine_accuracy"))
        if candidate[key] < reference[key] - margin
    ]
    if worse:
        return False, f"Worse than the active version by more than {margin:.1%}: " + "; ".join(
            worse
        )
    return True, (
        f"Held-out fine accuracy {candidate['fine_accuracy']:.2%} "
        f"vs {reference['fine_accuracy']:.2%}"
        f" (margin {margin:.1%})."
    )


def promotion_decision(
    candidate: dict | None, reference: dict | None, margin: float, settings: RunSettings
) -> Decision:
    """``decide``, unless the run was asked never to activate its version."""
    promote, reason = decide(candidate, reference, margin)
    if not settings.activate:
        promote, reason = False, "Registered without activation, as asked."
    return Decision(promote, reason, margin)
