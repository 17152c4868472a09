"""Admin sessions: who a session belongs to, and when it ends.

A session stores the user's id with the session generation it was opened in (``User.get_id``);
logout, a password change and deactivation raise the generation, so every older cookie, even a
copy taken before, no longer names a user. A session also ends after ``SESSION_IDLE_TIMEOUT``
seconds without a request and ``PERMANENT_SESSION_LIFETIME`` after login, whatever the cookie's
own expiry says.
"""

from __future__ import annotations

import time

from flask import Flask, flash, request, session
from flask_login import login_user, logout_user

from ..extensions import db, login_manager
from ..models import User
from ..security import API_PREFIX

LOGGED_IN_AT = "qc_login_at"
SEEN_AT = "qc_seen_at"
# The last-seen time is rewritten at most this often, so the cookie is not re-signed per request.
SEEN_RESOLUTION = 15


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, generation = session_id.partition(":")
    if not (user_id.isdigit() and generation.isdigit()) or len(user_id) > 10:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or str(user.session_generation) != generation:
        return None
    return user


def start_session(user: User) -> None:
    """A fresh session for ``user``: nothing of the anonymous one is carried over."""
    session.clear()
    session.permanent = True
    login_user(user)
    now = int(time.time())
    session[LOGGED_IN_AT] = now
    session[SEEN_AT] = now


def end_session() -> None:
    """Forget this browser's login (the server-side end is ``User.end_sessions``)."""
    logout_user()
    session.clear()


def install_sessions(app: Flask) -> None:
    """End sessions that were idle too long or began too long ago, before any view runs."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page says enough

    @app.before_request
    def expire_sessions() -> None:
        if request.path.startswith(API_PREFIX) or "_user_id" not in session:
            return
        now = int(time.time())
        logged_in_at, seen_at = session.get(LOGGED_IN_AT), session.get(SEEN_AT)
        if not isinstance(logged_in_at, int) or not isinstance(seen_at, int):
            end_session()
            return
        lifetime = app.permanent_session_lifetime.total_seconds()
        if now - seen_at > app.config["SESSION_IDLE_TIMEOUT"] or now - logged_in_at > lifetime:
            end_session()
            flash("Your session ended; please log in again.", "info")
            return
        if now - seen_at >= SEEN_RESOLUTION:
            session[SEEN_AT] = now
