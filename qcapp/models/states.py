"""The states and kinds the service records, by name.

Each is a ``StrEnum`` stored as the string it names, as before: the columns stay strings, no
row changes, and a member compares equal to the string read back from the database.
"""

from __future__ import annotations

from enum import StrEnum


class CorrectionStatus(StrEnum):
    """Where a user's correction or confirmation stands in review."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVERTED = "reverted"  # approved, then taken back: later training sets leave it out


class CorrectionKind(StrEnum):
    """Whether a user proposed another label or confirmed the model's."""

    CORRECTION = "correction"
    CONFIRMATION = "confirmation"


class IssueStatus(StrEnum):
    """A label-issue finding, as the review inbox and the label-issues page show it."""

    OPEN = "open"
    RELABELLED = "relabelled"
    DISMISSED = "dismissed"


class IssueKind(StrEnum):
    """What the label-issue finder found."""

    DOUBTFUL = "doubtful"
    NEAR_DUPLICATE = "near_duplicate"


class RunStatus(StrEnum):
    """A run from queued to its end."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RunTask(StrEnum):
    """What a run does."""

    RETRAIN = "retrain"  # train, gate, register a version
    LABEL_SCAN = "label_scan"  # score the training labels for the label-issue finder


class RunKind(StrEnum):
    """Which kind of retrain a run became (``services.learning.plan``)."""

    REFIT = "refit"  # the last model selection's choices fitted on the merged set
    FULL = "full"  # model selection again
    QUICK = "quick"  # fixed defaults


class Runner(StrEnum):
    """What gave a run its process (``qcapp.runs.launchers``)."""

    PROCESS = "process"  # a process on the machine that started it (its own, or the standby)
    QUEUE = "queue"  # a job on the Redis queue, taken by any host's ``qc worker``


class Role(StrEnum):
    """What an account of the admin site may do."""

    ADMIN = "admin"  # everything: retrain, activate, delete, accounts, exports
    REVIEWER = "reviewer"  # reviews and labels


class VersionStatus(StrEnum):
    """A model version's place: registered, serving, or replaced."""

    CANDIDATE = "candidate"
    ACTIVE = "active"
    RETIRED = "retired"
