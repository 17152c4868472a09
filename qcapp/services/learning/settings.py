"""What a retrain was asked for: typed where a run is started, stored as JSON with its run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ...models import RunTask


@dataclass(frozen=True)
class RunSettings:
    """A retrain's settings, kept in ``TrainingRun.params`` between the process that starts the
    run and the one that executes it."""

    task: ClassVar[RunTask] = RunTask.RETRAIN

    quick: bool = False  # fixed settings, no model selection (first install, tests)
    select: bool = False  # select the model again (a full run) even where a refit would do
    features: str | None = None  # the feature set; None: the active version's
    dataset: str | None = None  # a base dataset by name; None: the active one
    activate: bool = True  # False: register the version as a candidate, whatever the gate says
    force: bool = False  # train even when nothing is new since the last version (``novelty``)

    def to_json(self) -> dict[str, Any]:
        """The stored form, as runs have always written it (``"activate": "never"``)."""
        stored: dict[str, Any] = {"quick": self.quick, "select": self.select}
        if self.features:
            stored["features"] = self.features
        if self.dataset:
            stored["dataset"] = self.dataset
        if not self.activate:
            stored["activate"] = "never"
        if self.force:
            stored["force"] = True
        return stored

    @classmethod
    def from_json(cls, stored: Mapping[str, Any] | None) -> RunSettings:
        """The settings of a recorded run; a key a run written before did not store takes its
        default, and one this version does not know is ignored."""
        stored = stored or {}
        return cls(
            quick=bool(stored.get("quick")),
            select=bool(stored.get("select")),
            features=stored.get("features") or None,
            dataset=stored.get("dataset") or None,
            activate=stored.get("activate") != "never",
            force=bool(stored.get("force")),
        )
