"""Which kind of run a retrain is, and why.

A run is one of three kinds. A *refit* fits the feature set and hyperparameters the active
version's model selection chose on the merged set: seconds, so it is the default after
corrections. A lexical refit also keeps the active version's fitted features (vocabularies,
idf weights) while the rows grow by at most a tenth, so each question's features are found once
per process (a waiting standby finds most of them before the run, ``qcapp.runs.prepare``), and
it is single-threaded work, which the process running it keeps on one CPU
(``TRAINING_REFIT_ONE_CPU``). A *full* run selects the model again (minutes): asked for, or
whenever a refit would reuse a stale choice (no active version, one without a selection,
another base dataset or feature set). A *quick* run uses fixed settings (first install, tests).
"""

from __future__ import annotations

from dataclasses import dataclass

from training import FINETUNE_FEATURE_SET as FINETUNE
from training import KEPT_FEATURE_SETS, REFIT_STEP_SECONDS, default_step_seconds

from ...models import Dataset, ModelVersion, RunKind
from .settings import RunSettings

# Seconds each step took on the tutorial dataset (2 cores, idle): the progress bar's shares
# until a run of the same kind has measured its own.
RUN_STEP_SECONDS = {
    "training set": 0.5, "train": 4.0, "evaluate": 0.5, "flip report": 1.0, "save": 0.5,
    "activate": 0.2,
}
FULL_TRAIN_SECONDS = 85.0


@dataclass(frozen=True)
class RunPlan:
    """What kind of run this is, why, and the earlier choices a refit reuses."""

    kind: RunKind
    reason: str
    features: str
    reuse: dict | None = None

    @property
    def single_threaded(self) -> bool:
        """Whether the run is a refit that keeps its features: single-threaded work."""
        return self.kind == RunKind.REFIT and self.features in KEPT_FEATURE_SETS

    def train_weights(self, previous: dict[str, float]) -> dict[str, float]:
        """Expected seconds of the training steps: the last run of this kind's, else defaults."""
        measured = {
            key.removeprefix("train/"): value
            for key, value in previous.items()
            if key.startswith("train/")
        }
        if measured:
            return measured
        if self.kind == RunKind.REFIT and self.features != FINETUNE:
            return dict(REFIT_STEP_SECONDS)
        return default_step_seconds(self.kind == RunKind.QUICK, self.features)

    def run_weights(self, previous: dict[str, float]) -> dict[str, float]:
        """Expected seconds of the run's own steps."""
        # Runs before the cross-validation became a follow-up also timed a "corrections" step.
        measured = {key: value for key, value in previous.items() if key in RUN_STEP_SECONDS}
        if measured:
            return {**RUN_STEP_SECONDS, **measured}
        if self.features == FINETUNE:  # minutes of fine-tuning, a refit too
            train = sum(self.train_weights({}).values())
        elif self.kind == RunKind.FULL:
            train = FULL_TRAIN_SECONDS
        else:
            train = RUN_STEP_SECONDS["train"]
        return {**RUN_STEP_SECONDS, "train": train}


def _selection(version: ModelVersion) -> dict | None:
    """The model selection a version's params record, when it has one to reuse."""
    params = version.params or {}
    if params.get("quick") or not all(
        isinstance(params.get(f"{task}_model"), dict) and "family" in params[f"{task}_model"]
        for task in ("coarse", "fine")
    ):
        return None
    return params


def plan_run(settings: RunSettings, active: ModelVersion | None, dataset: Dataset) -> RunPlan:
    """Decide between a refit and a full run (or a quick one, when asked) and say why."""
    features = settings.features or (active.feature_set if active else "default")
    if settings.quick:
        return RunPlan(RunKind.QUICK, "a quick run was asked for (fixed settings)", features)
    if settings.select:
        return RunPlan(RunKind.FULL, "model selection was asked for", features)
    if active is None:
        return RunPlan(
            RunKind.FULL, "there is no active version whose selection could be reused", features
        )
    selection = _selection(active)
    if selection is None:
        return RunPlan(
            RunKind.FULL,
            f"the active version {active.version} has no model selection to reuse",
            features,
        )
    if features != active.feature_set:
        return RunPlan(
            RunKind.FULL,
            f"the feature set changes from {active.feature_set} to {features}",
            features,
        )
    if (active.dataset_name, active.dataset_fingerprint) != (dataset.name, dataset.fingerprint):
        return RunPlan(
            RunKind.FULL,
            f"the base dataset changed since version {active.version} "
            f"({active.dataset_name} then, {dataset.name} now)",
            features,
        )
    origin = selection.get("selection_version") or active.version
    return RunPlan(
        RunKind.REFIT,
        f"reusing the model selection of version {origin} "
        f"({_describe_choice(selection['coarse_model'])} coarse, "
        f"{_describe_choice(selection['fine_model'])} fine)",
        features,
        reuse={**selection, "selection_version": origin, "refit_of": active.version},
    )


def _describe_choice(choice: dict) -> str:
    settings = ", ".join(f"{key}={value}" for key, value in (choice.get("params") or {}).items())
    return f"{choice['family']} {settings}".strip()
