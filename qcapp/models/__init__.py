"""The database schema: what is asked, what was answered, what users said, what was trained.

One module per concern; every table is imported here, so ``from qcapp.models import X`` names
any of them and the metadata Alembic compares with the migrations holds them all.
"""

from .accounts import AuditEvent, LoginFailure, User
from .batch import BatchJob, BatchPart
from .columns import as_utc, new_public_token, utcnow
from .datasets import Dataset, Example, LabelIssue
from .queries import Correction, Prediction, Query, version_corrections
from .runs import TrainingRun
from .versions import ArtifactBlob, ArtifactChunk, ModelVersion, VersionActivation, VersionFlip

__all__ = [
    "ArtifactBlob",
    "ArtifactChunk",
    "AuditEvent",
    "BatchJob",
    "BatchPart",
    "Correction",
    "Dataset",
    "Example",
    "LabelIssue",
    "LoginFailure",
    "ModelVersion",
    "Prediction",
    "Query",
    "TrainingRun",
    "User",
    "VersionActivation",
    "VersionFlip",
    "as_utc",
    "new_public_token",
    "utcnow",
    "version_corrections",
]
