"""Who uses the admin site and what they did: accounts, failed logins, the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.base import NO_VALUE
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .columns import utcnow
from .states import Role


class User(UserMixin, db.Model):
    """An account of the admin site: a reviewer labels, an admin also runs the service."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(
        String(16), default=Role.ADMIN, server_default=Role.ADMIN.value
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Part of every session's user id (see get_id): raising it ends all earlier sessions. It is
    # raised on logout and, by the listeners below, whenever the password or ``active`` changes.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    ROLES = tuple(Role)

    @property
    def is_admin(self) -> bool:
        """Whether the account may retrain, activate, delete, manage users and export."""
        return self.role == Role.ADMIN

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
