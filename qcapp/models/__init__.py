"""The database schema: what is asked, what was answered, what users said, what was trained.

One module per concern; every table is imported here, so ``from qcapp.models import X`` names
any of them and the metadata Alembic compares with the migrations holds them all.
"""

from .accounts import AuditEvent, LoginFailure, User
from .batch import BatchJob, BatchPart
from .columns import as_utc, new_public_token, utcnow
from .datasets import Dataset, Example, LabelIssue
from .queries import Correction, DiscardedQuestion, Prediction, Query
from .runs import TrainingRun
from .states import (
    CorrectionKind,
    CorrectionStatus,
    IssueKind,
    IssueStatus,
    Role,
    RunKind,
    Runner,
    RunStatus,
    RunTask,
    VersionStatus,
)
from .versions import (
    ArtifactBlob,
    ArtifactChunk,
    ModelVersion,
    VersionActivation,
    VersionFlip,
    version_corrections,
)

__all__ = [
    "ArtifactBlob",
    "ArtifactChunk",
    "AuditEvent",
    "BatchJob",
    "BatchPart",
    "Correction",
    "CorrectionKind",
    "CorrectionStatus",
    "Dataset",
    "DiscardedQuestion",
    "Example",
    "IssueKind",
    "IssueStatus",
    "LabelIssue",
    "LoginFailure",
    "ModelVersion",
    "Prediction",
    "Query",
    "Role",
    "RunKind",
    "RunStatus",
    "RunTask",
    "Runner",
    "TrainingRun",
    "User",
    "VersionActivation",
    "VersionFlip",
    "VersionStatus",
    "as_utc",
    "new_public_token",
    "utcnow",
    "version_corrections",
]
