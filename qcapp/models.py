"""The database schema: what is asked, what was answered, what users said, what was trained."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    event,
)
from sqlalchemy import (
    false as sa_false,
)
from sqlalchemy import (
    true as sa_true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.base import NO_VALUE
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def new_public_token() -> str:
    """An unguessable public handle (a query's, a correction's): 144 random bits, URL-safe."""
    while True:
        token = secrets.token_urlsafe(18)
        # A leading "-" would make spreadsheets read the exported cell as a formula.
        if token[0].isalnum():
            return token


class Query(db.Model):
    """One question as a user asked it."""

    __tablename__ = "queries"
    # Covers the review inbox's count of how often, and by how many clients, a question is asked,
    # and every other lookup or grouping by the normalised question (no index of its own: each
    # stored query would update both).
    __table_args__ = (Index("ix_queries_normalized_client", "normalized", "client_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The only handle the public sees; the integer id stays internal (admin pages, CLI).
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_token)
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(String(600))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    client_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16), default="web")
    latency_ms: Mapped[float | None] = mapped_column(Float)
    # The scope check's verdict: False when the text is not an English question at all.
    in_scope: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=sa_true(), index=True
    )
    scope_reason: Mapped[str | None] = mapped_column(String(24))

    prediction: Mapped[Prediction | None] = relationship(
        back_populates="query", uselist=False, cascade="all, delete-orphan"
    )
    corrections: Mapped[list[Correction]] = relationship(
        back_populates="query", cascade="all, delete-orphan", order_by="Correction.id"
    )

    def __repr__(self) -> str:
        return f"<Query {self.id}>"


class Prediction(db.Model):
    """The model's answer to one query."""

    __tablename__ = "predictions"

    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("queries.id", ondelete="CASCADE"), unique=True)
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL"), index=True
    )
    coarse: Mapped[str] = mapped_column(String(8), index=True)
    fine: Mapped[str] = mapped_column(String(24), index=True)
    coarse_confidence: Mapped[float] = mapped_column(Float, index=True)
    fine_confidence: Mapped[float] = mapped_column(Float)
    # Fine confidence minus the runner-up's: the review inbox ranks small margins first.
    margin: Mapped[float | None] = mapped_column(Float, index=True)
    # Alternatives and explanation, kept so the result page can be shown again later.
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    query: Mapped[Query] = relationship(back_populates="prediction")
    model_version: Mapped[ModelVersion | None] = relationship()


# Which approved corrections and confirmations trained which model version.
version_corrections = db.Table(
    "version_corrections",
    Column(
        "model_version_id",
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "correction_id",
        ForeignKey("corrections.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Correction(db.Model):
    """A user's verdict on a prediction: a proposed label, or a confirmation of it."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The handle the public sees (the API's "id", the query page's anchors): a sequential
    # integer would let anyone count everyone's corrections.
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_token)
    query_id: Mapped[int] = mapped_column(ForeignKey("queries.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="correction")
    coarse: Mapped[str] = mapped_column(String(8), index=True)
    fine: Mapped[str] = mapped_column(String(24), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    client_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    # Why the merge guard wants a second look, by code: {"contradicts_base": "...", ...}.
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reverted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reverted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revert_reason: Mapped[str | None] = mapped_column(Text)

    query: Mapped[Query] = relationship(back_populates="corrections")
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    reverted_by: Mapped[User | None] = relationship(foreign_keys=[reverted_by_id])
    model_versions: Mapped[list[ModelVersion]] = relationship(
        secondary=version_corrections, back_populates="corrections", order_by="ModelVersion.id"
    )

    STATUSES = ("pending", "approved", "rejected", "reverted")
    KINDS = ("correction", "confirmation")


class BatchJob(db.Model):
    """A file of questions classified without JavaScript: a slice of rows per page load, so no
    request holds a web worker for long; the labelled CSV is downloaded once all are done."""

    __tablename__ = "batch_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The job's only public handle (its pages and download), like a query's.
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_token)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    client_hash: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    # The upload's columns and the labelled CSV's (``BatchTable.columns``/``output_columns``).
    columns: Mapped[list[str]] = mapped_column(JSON)
    output_columns: Mapped[list[str]] = mapped_column(JSON)
    total_rows: Mapped[int] = mapped_column(Integer)
    done_rows: Mapped[int] = mapped_column(Integer, default=0)

    parts: Mapped[list[BatchPart]] = relationship(
        back_populates="job", cascade="all, delete-orphan", passive_deletes=True,
        order_by="BatchPart.position",
    )


class BatchPart(db.Model):
    """A slice of a batch job's rows: the upload's cells going in, labelled CSV lines coming out."""

    __tablename__ = "batch_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(
        ForeignKey("batch_jobs.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    # [[line, cells, question, error], ...] as the upload was read.
    rows: Mapped[list[Any]] = mapped_column(JSON)
    # Set by the request that classifies the part; another request leaves it alone meanwhile.
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    output: Mapped[str | None] = mapped_column(Text)
    # Its rows that got no label, "line N: why", for the page that lists them.
    problems: Mapped[list[str] | None] = mapped_column(JSON)

    job: Mapped[BatchJob] = relationship(back_populates="parts")


class Dataset(db.Model):
    """A named base dataset imported into the database; one of them is active."""

    __tablename__ = "datasets"
    # Inactive rows hold NULL, which a unique column allows many times: at most one TRUE.
    __table_args__ = (
        CheckConstraint("is_active IS NULL OR is_active", name="active_true_or_null"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    origin: Mapped[str | None] = mapped_column(String(500))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool | None] = mapped_column(Boolean, unique=True)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Example(db.Model):
    """One labelled training question."""

    __tablename__ = "examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int | None] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(String(600), index=True)
    coarse: Mapped[str] = mapped_column(String(8), index=True)
    fine: Mapped[str] = mapped_column(String(24), index=True)
    source: Mapped[str] = mapped_column(String(16), default="base", index=True)
    correction_id: Mapped[int | None] = mapped_column(
        ForeignKey("corrections.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    dataset: Mapped[Dataset | None] = relationship()


class ModelVersion(db.Model):
    """A trained model on disk; at most one row is active (``is_active`` true, the rest null)."""

    __tablename__ = "model_versions"
    # Inactive rows hold NULL, which a unique column allows many times: at most one TRUE.
    __table_args__ = (
        CheckConstraint("is_active IS NULL OR is_active", name="active_true_or_null"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    artifact_path: Mapped[str] = mapped_column(String(500))
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    feature_set: Mapped[str] = mapped_column(String(32), default="default")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dataset_name: Mapped[str | None] = mapped_column(String(64))
    dataset_fingerprint: Mapped[str | None] = mapped_column(String(64))
    train_size: Mapped[int] = mapped_column(Integer, default=0)
    test_size: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="candidate", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool | None] = mapped_column(Boolean, unique=True)
    training_seconds: Mapped[float | None] = mapped_column(Float)
    # Which rows trained it: counts by source, fingerprint, the ids of the corrections used.
    data_sources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The promotion gate's comparison with the version that was active when it was trained.
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The flip report against the version active when it was trained: counts per class,
    # McNemar's test on the held-out set, and the promotion decision taken with it.
    flip_summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A pinned version's artifact is never pruned, whatever its status.
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    corrections: Mapped[list[Correction]] = relationship(
        secondary=version_corrections, back_populates="model_versions", order_by="Correction.id"
    )

    STATUSES = ("candidate", "active", "retired")

    def __repr__(self) -> str:
        return f"<ModelVersion {self.version}>"


class VersionFlip(db.Model):
    """A question whose label changes between a baseline version and a candidate."""

    __tablename__ = "version_flips"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    baseline_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    source: Mapped[str] = mapped_column(String(16), index=True)  # "held_out" or "query"
    query_id: Mapped[int | None] = mapped_column(ForeignKey("queries.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    gold_coarse: Mapped[str | None] = mapped_column(String(8))
    gold_fine: Mapped[str | None] = mapped_column(String(24))
    old_coarse: Mapped[str] = mapped_column(String(8))
    old_fine: Mapped[str] = mapped_column(String(24), index=True)
    old_confidence: Mapped[float] = mapped_column(Float)
    new_coarse: Mapped[str] = mapped_column(String(8))
    new_fine: Mapped[str] = mapped_column(String(24), index=True)
    new_confidence: Mapped[float] = mapped_column(Float)

    candidate: Mapped[ModelVersion] = relationship(foreign_keys=[candidate_id])
    baseline: Mapped[ModelVersion | None] = relationship(foreign_keys=[baseline_id])


class VersionActivation(db.Model):
    """One switch of the active version: which version served from when, and who switched."""

    __tablename__ = "version_activations"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL"), index=True
    )
    version: Mapped[str] = mapped_column(String(64))  # kept when the version is deleted
    previous_version: Mapped[str | None] = mapped_column(String(64))
    activated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    activated_by: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(String(200))

    model_version: Mapped[ModelVersion | None] = relationship()


class LabelIssue(db.Model):
    """A training example whose label looks doubtful, found by the label-issue finder."""

    __tablename__ = "label_issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)  # "doubtful" or "near_duplicate"
    dataset_id: Mapped[int | None] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    example_id: Mapped[int | None] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), index=True
    )
    other_example_id: Mapped[int | None] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE")
    )
    text: Mapped[str] = mapped_column(Text)
    given_coarse: Mapped[str] = mapped_column(String(8))
    given_fine: Mapped[str] = mapped_column(String(24))
    suggested_coarse: Mapped[str | None] = mapped_column(String(8))
    suggested_fine: Mapped[str | None] = mapped_column(String(24))
    score: Mapped[float] = mapped_column(Float, index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_by: Mapped[str | None] = mapped_column(String(80))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    example: Mapped[Example | None] = relationship(foreign_keys=[example_id])
    other_example: Mapped[Example | None] = relationship(foreign_keys=[other_example_id])

    KINDS = ("doubtful", "near_duplicate")
    STATUSES = ("open", "relabelled", "dismissed")


class TrainingRun(db.Model):
    """One training job, from queued to succeeded or failed."""

    __tablename__ = "training_runs"
    # ``in_progress`` is TRUE while queued or running and NULL after: the unique column lets the
    # database itself refuse a second run while one is under way.
    __table_args__ = (
        CheckConstraint("in_progress IS NULL OR in_progress", name="in_progress_true_or_null"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the run does: "retrain" (train, gate, register a version) or "label_scan" (score
    # the training labels for the label-issue finder). Both are heavy, so both run in the
    # training process or a queued job, one at a time.
    task: Mapped[str] = mapped_column(String(16), default="retrain", server_default="retrain")
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    in_progress: Mapped[bool | None] = mapped_column(Boolean, unique=True, default=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(String(500))
    log: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_by: Mapped[str | None] = mapped_column(String(80))
    pid: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    # "refit" (the last selection's choices on the merged set), "full" (model selection again)
    # or "quick" (fixed defaults), and why the run became that kind.
    kind: Mapped[str | None] = mapped_column(String(16))
    kind_reason: Mapped[str | None] = mapped_column(String(300))
    # Seconds each step took: the next run of the same kind weighs its progress bar by them.
    step_seconds: Mapped[dict[str, float] | None] = mapped_column(JSON)
    # Where the run executes: "process" (a child of the web worker that asked) or "queue" (a
    # job any host's `qc worker` picks up). A queued job's pid means nothing on another host,
    # so its liveness is the heartbeat it writes while it runs.
    runner: Mapped[str | None] = mapped_column(String(16))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    host: Mapped[str | None] = mapped_column(String(120))

    model_version: Mapped[ModelVersion | None] = relationship()

    STATUSES = ("queued", "running", "succeeded", "failed")
    KINDS = ("refit", "full", "quick")
    TASKS = ("retrain", "label_scan")


class ArtifactBlob(db.Model):
    """One file of a model version, stored once under its sha256 where every host reads it."""

    __tablename__ = "artifact_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    chunk_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ArtifactChunk(db.Model):
    """A slice of a blob: read one at a time, so a large model never sits whole in a query."""

    __tablename__ = "artifact_chunks"

    sha256: Mapped[str] = mapped_column(
        ForeignKey("artifact_blobs.sha256", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class User(UserMixin, db.Model):
    """An account of the admin site: a reviewer labels, an admin also runs the service."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="admin", server_default="admin")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Part of every session's user id (see get_id): raising it ends all earlier sessions. It is
    # raised on logout and, by the listeners below, whenever the password or ``active`` changes.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    ROLES = ("admin", "reviewer")

    @property
    def is_admin(self) -> bool:
        """Whether the account may retrain, activate, delete, manage users and export."""
        return self.role == "admin"

    @property
    def is_active(self) -> bool:  # Flask-Login reads this to refuse disabled accounts.
        return self.active

    def get_id(self) -> str:
        """The id a session stores: the user's id and the session generation it was made in."""
        return f"{self.id}:{self.session_generation or 0}"

    def end_sessions(self) -> None:
        """Make every session opened so far invalid (the caller commits)."""
        self.session_generation = (self.session_generation or 0) + 1

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash of ``password``."""
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        """True when ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


@event.listens_for(User.password_hash, "set")
@event.listens_for(User.active, "set")
def _end_sessions_on_change(user: User, value, old_value, _initiator) -> None:
    # A new password or a deactivation must not leave an old session (perhaps a stolen one) open.
    if old_value is not NO_VALUE and old_value is not None and value != old_value:
        user.end_sessions()


class LoginFailure(db.Model):
    """One failed login; the throttle counts these (every worker sees the same rows)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    client_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


class AuditEvent(db.Model):
    """Who did what to which record, and when."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    actor: Mapped[str | None] = mapped_column(String(80), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
