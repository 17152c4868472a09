"""Admin accounts: creation, authentication and the throttle on failed logins."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import AuditEvent, User, utcnow


class AccountError(ValueError):
    """An account cannot be created or changed as asked."""


def create_admin(username: str, password: str, role: str = "admin") -> User:
    """Create an account of the admin site; refuses unknown roles, duplicates, weak passwords."""
    username = username.strip()
    if role not in User.ROLES:
        raise AccountError(f"A role is one of {', '.join(User.ROLES)}, not {role!r}.")
    if not username or len(username) > 80:
        raise AccountError("A username needs 1 to 80 characters.")
    if len(password) < 8:
        raise AccountError("A password needs at least 8 characters.")
    if db.session.scalar(select(User).where(User.username == username)):
        raise AccountError(f"There is already an account named {username!r}.")
    user = User(username=username, role=role)
    user.set_password(password)
    db.session.add(user)
    record_event(None, "user_created", "user", username, {"role": role})
    db.session.commit()
    return user


def record_event(
    actor: str | None, action: str, target_type: str | None, target_id, details: dict | None = None
) -> AuditEvent:
    """Add an audit event to the session; the caller commits it with its own change."""
    event = AuditEvent(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details or {},
    )
    db.session.add(event)
    return event


def seconds_until_login_allowed(username: str, client_hash: str | None) -> int:
    """0 when a login may be tried; otherwise how long the account or client must wait."""
    window = current_app.config["LOGIN_FAILURE_WINDOW"]
    since = utcnow() - timedelta(seconds=window)
    conditions = [AuditEvent.target_id == username]
    if client_hash:
        conditions.append(AuditEvent.details["client"].as_string() == client_hash)
    failures = db.session.execute(
        select(func.count(), func.min(AuditEvent.created_at)).where(
            AuditEvent.action == "login_failed",
            AuditEvent.created_at >= since,
            or_(*conditions),
        )
    ).one()
    count, oldest = failures
    if count < current_app.config["LOGIN_MAX_FAILURES"]:
        return 0
    if oldest.tzinfo is None:  # SQLite hands back naive datetimes
        oldest = oldest.replace(tzinfo=utcnow().tzinfo)
    return max(1, int((oldest + timedelta(seconds=window) - utcnow()).total_seconds()) + 1)


def authenticate(username: str, password: str, client_hash: str | None) -> User | None:
    """The user when the password matches; a failure is recorded for the throttle."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is not None and user.is_active and user.check_password(password):
        user.last_login_at = utcnow()
        record_event(username, "login", "user", username)
        db.session.commit()
        return user
    record_event(None, "login_failed", "user", username, {"client": client_hash})
    db.session.commit()
    return None
