"""Admin accounts: creation, authentication, password changes and the end of sessions."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import check_password_hash

from ...extensions import db
from ...models import AuditEvent, User, utcnow
from .login_throttle import forget_failed_logins, record_failed_login


class AccountError(ValueError):
    """An account cannot be created or changed as asked."""


def create_admin(username: str, password: str, role: str = "admin") -> User:
    """Create an account of the admin site; refuses unknown roles, duplicates, weak passwords."""
    username = username.strip()
    if role not in User.ROLES:
        raise AccountError(f"A role is one of {', '.join(User.ROLES)}, not {role!r}.")
    if not username or len(username) > 80:
        raise AccountError("A username needs 1 to 80 characters.")
    check_password_rules(password)
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


# A scrypt hash of a random password nobody knows, made with the parameters set_password uses:
# checking a password for an unknown or disabled account costs what checking a real one does,
# so the answer's timing does not tell which usernames exist.
DUMMY_PASSWORD_HASH = (
    "scrypt:32768:8:1$GFRACodh5aGjRFx8$dd82681d77431469582902e8a24e51b276081457070fd31484950e7775"
    "b4759e08a81c064c54013c8f7ef0fe7bdecdd63620c178bdd616961676844f4ca2f4de"
)


def authenticate(username: str, password: str, client_hash: str | None) -> User | None:
    """The user when the password matches; a failure is counted by the throttle and audited."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        check_password_hash(DUMMY_PASSWORD_HASH, password)
    elif user.check_password(password):
        user.last_login_at = utcnow()
        forget_failed_logins(username, client_hash)
        record_event(username, "login", "user", username)
        db.session.commit()
        return user
    record_failed_login(username, client_hash)
    record_event(None, "login_failed", "user", username, {"client": client_hash})
    db.session.commit()
    return None


def end_sessions(user: User, actor: str, reason: str) -> None:
    """Invalidate every session of ``user`` opened so far, and record why."""
    user.end_sessions()
    record_event(actor, reason, "user", user.username)
    db.session.commit()


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Replace the password after checking the current one; every other session ends."""
    if not user.check_password(current_password):
        raise AccountError("The current password is wrong.")
    check_password_rules(new_password)
    user.set_password(new_password)  # the model's listener raises the session generation
    record_event(user.username, "password_changed", "user", user.username)
    db.session.commit()


def set_active(username: str, active: bool, actor: str) -> User:
    """Enable or disable an account; disabling ends its sessions at once."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"There is no account named {username!r}.")
    user.active = active
    record_event(actor, "user_enabled" if active else "user_disabled", "user", username)
    db.session.commit()
    return user


def check_password_rules(password: str) -> None:
    """Raise AccountError when ``password`` is too short or too long."""
    if len(password) < 8:
        raise AccountError("A password needs at least 8 characters.")
    if len(password) > 256:
        raise AccountError("A password may have at most 256 characters.")
