"""Whether a retrain has anything to learn.

A version records what trained it: the base dataset, a fingerprint of every row it read
(training and held-out, corrections included), the approved corrections it used, the texts
reviewers had discarded (its scope check learns them), its feature set and the kind of run. A
retrain that would read the same rows, the same set of approved corrections and discards, with
the same settings, as the active version (or as the newest version, a candidate the gate kept
back) would only train that version again: it ends without registering one, unless forced.
"""

from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...models import Dataset, ModelVersion, RunKind
from ..data.merge import MergedSet
from ..review.discards import discards_fingerprint
from .plan import RunPlan

# What a version's params record of its model choices, which a refit reuses.
CHOICES = ("coarse_model", "fine_model")


class NothingNew(Exception):
    """A retrain found nothing new since a version's training; it registers no version."""

    def __init__(self, version: ModelVersion):
        self.version = version.version
        super().__init__(
            f"nothing new since version {version.version} (same training rows, same approved "
            "corrections, same settings); use --force to train anyway"
        )


def run_kind_of(version: ModelVersion) -> str | None:
    """The kind of run that trained ``version``, as its params record it."""
    params = version.params or {}
    kind = (params.get("run") or {}).get("kind")
    if kind:
        return kind
    return RunKind.QUICK if params.get("quick") else None


def what_changed(
    version: ModelVersion, plan: RunPlan, dataset: Dataset, merged: MergedSet, discarded: str = ""
) -> str | None:
    """What this run would train on or with that ``version`` was not trained on or with, in a
    few words; None when nothing. ``discarded`` is the discards' fingerprint now."""
    sources = version.data_sources or {}
    if "fingerprint" not in sources:
        return f"version {version.version} does not record what trained it"
    if version.dataset_name != dataset.name:
        return f"the base dataset is {dataset.name}, not {version.dataset_name}"
    used, now = set(sources.get("correction_ids") or ()), set(merged.correction_ids)
    if used != now:
        added, withdrawn = len(now - used), len(used - now)
        parts = [f"{added} approved correction(s) added"] if added else []
        parts += [f"{withdrawn} withdrawn"] if withdrawn else []
        return ", ".join(parts)
    if merged.fingerprint != sources["fingerprint"]:
        return "training rows changed (an example edited, added or relabelled)"
    if discarded != sources.get("discarded", ""):
        return "the texts discarded as not questions changed (the scope check learns them)"
    if plan.features != version.feature_set:
        return f"the feature set is {plan.features}, not {version.feature_set}"
    if plan.kind == RunKind.REFIT:
        # A refit fits the reused model choices on the rows: on the same rows, the same
        # choices make the same model, whatever kind of run made the version.
        params = version.params or {}
        if any(params.get(key) != plan.reuse.get(key) for key in CHOICES):
            return f"the refit reuses other model choices than version {version.version}'s"
        return None
    kind = run_kind_of(version)
    if plan.kind != kind:
        return f"a {plan.kind} run was asked for; version {version.version} was a {kind} run"
    return None


def check_something_new(
    active: ModelVersion | None, plan: RunPlan, dataset: Dataset, merged: MergedSet
) -> None:
    """NothingNew when this run would train what the active version, or the newest version,
    was trained on, with the same settings."""
    newest = db.session.scalar(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(1))
    discarded = discards_fingerprint()
    for version in dict.fromkeys(v for v in (active, newest) if v is not None):
        if what_changed(version, plan, dataset, merged, discarded) is None:
            raise NothingNew(version)
