"""Accounts of the admin site: creation, roles, enabling and disabling, passwords,
authentication and the end of sessions. The command line and the admin site call the same
functions here; both record every change in the audit log."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from ...extensions import db
from ...models import AuditEvent, Role, User, utcnow
from .login_throttle import forget_failed_logins, record_failed_login


class AccountError(ValueError):
    """An account cannot be created or changed as asked."""


class LockoutRefused(AccountError):
    """The change would leave the admin site without an admin, or lock its author out."""


def create_admin(
    username: str,
    password: str,
    role: str = Role.ADMIN,
    *,
    actor: str | None = None,
) -> User:
    """Create an account of the admin site; refuses unknown roles, duplicates, weak passwords."""
    username = username.strip()
    check_role(role)
    if not username or len(username) > 80:
        raise AccountError("A username needs 1 to 80 characters.")
    if not username.isprintable():
        raise AccountError("A username cannot contain control or invisible characters.")
    check_password_rules(password)
    if find_account(username) is not None:
        raise AccountError(f"There is already an account named {username!r}.")
    user = User(username=username, role=role)
    user.set_password(password)
    db.session.add(user)
    record_event(actor, "user_created", "user", username, {"role": str(role)})
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


def find_account(username: str) -> User | None:
    """The account named ``username``, or None."""
    return db.session.scalar(select(User).where(User.username == username))


def account(username: str) -> User:
    """The account named ``username``; AccountError when there is none."""
    user = find_account(username)
    if user is None:
        raise AccountError(f"There is no account named {username!r}.")
    return user


def set_active(username: str, active: bool, actor: str, *, acting: User | None = None) -> User:
    """Enable or disable an account; disabling ends its sessions at once.

    ``acting`` is the account making the change from the admin site (None from the command
    line): it may not disable itself nor the last active admin.
    """
    user = account(username)
    if user.active == active:
        return user
    guarded = not active and acting is not None
    if guarded:
        _refuse_lockout(user, acting, "disable")
    user.active = active  # a deactivation raises the session generation (see User)
    if guarded:
        _keep_an_admin(user, "disable")
    record_event(actor, "user_enabled" if active else "user_disabled", "user", username)
    db.session.commit()
    return user


def set_role(username: str, role: str, actor: str, *, acting: User | None = None) -> User:
    """Give an account another role; it applies from the account's next request.

    From the admin site (``acting``), an admin may not demote itself nor the last active admin.
    """
    check_role(role)
    user = account(username)
    if user.role == role:
        return user
    guarded = role != Role.ADMIN and acting is not None
    if guarded:
        _refuse_lockout(user, acting, "demote")
    previous, user.role = user.role, role
    if guarded:
        _keep_an_admin(user, "demote")
    record_event(
        actor, "user_role_changed", "user", username, {"from": previous, "to": str(role)}
    )
    db.session.commit()
    return user


def reset_password(
    username: str, password: str | None, actor: str, *, acting: User | None = None
) -> str:
    """Give an account a new password, or a generated one when ``password`` is None; every
    session of the account ends. Returns the password, which is shown once and never stored.

    An account changes its own password with ``change_password``, which asks for the current
    one: from the admin site (``acting``) a reset of one's own account is refused.
    """
    user = account(username)
    if acting is not None and acting.id == user.id:
        raise AccountError(
            "Change your own password on the password page: it asks for the current one."
        )
    generated = password is None
    if generated:
        password = generate_password()
    check_password_rules(password)
    user.set_password(password)  # the model's listener raises the session generation
    record_event(actor, "password_reset", "user", username, {"generated": generated})
    db.session.commit()
    return password


# A generated password: 18 random bytes, 24 URL-safe characters (144 bits).
GENERATED_PASSWORD_BYTES = 18


def generate_password() -> str:
    """A random password of 24 characters that are safe to read aloud or paste."""
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def accounts() -> list[User]:
    """Every account, by username."""
    return list(db.session.scalars(select(User).order_by(User.username)))


def account_events(username: str, limit: int = 20) -> list[AuditEvent]:
    """The newest audit events about an account: logins, failures, changes."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.target_type == "user", AuditEvent.target_id == username)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )


def active_admins() -> int:
    """How many enabled accounts have the admin role."""
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
    )


def _refuse_lockout(user: User, acting: User, verb: str) -> None:
    """AccountError when disabling or demoting ``user`` would lock ``acting`` or everybody out
    of the admin site's administration."""
    if user.id == acting.id:
        raise LockoutRefused(
            f"You cannot {verb} your own account: another admin has to, so the site always "
            "keeps an admin who can undo it."
        )
    # Two admins demoting each other at once must not both succeed: on PostgreSQL the second
    # waits here for the first to commit (SQLite's writers queue at the change itself).
    admins = db.session.scalars(
        select(User.id).where(User.role == Role.ADMIN, User.active).with_for_update()
    ).all()
    if user.id in admins and len(admins) <= 1:
        raise LockoutRefused(_last_admin(user, verb))


def _keep_an_admin(user: User, verb: str) -> None:
    """Undo the pending change and refuse it when no active admin is left after it."""
    db.session.flush()
    if not active_admins():
        db.session.rollback()
        raise LockoutRefused(_last_admin(user, verb))


def _last_admin(user: User, verb: str) -> str:
    return (
        f"{user.username} is the last active admin; make another account an admin before "
        f"you {verb} this one."
    )


def check_role(role: str) -> None:
    """Raise AccountError when ``role`` is not a role of the admin site."""
    if role not in User.ROLES:
        raise AccountError(f"A role is one of {', '.join(User.ROLES)}, not {role!r}.")


def check_password_rules(password: str) -> None:
    """Raise AccountError when ``password`` is too short or too long."""
    if len(password) < 8:
        raise AccountError("A password needs at least 8 characters.")
    if len(password) > 256:
        raise AccountError("A password may have at most 256 characters.")
