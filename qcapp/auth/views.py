"""Login and logout pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import TooManyRequests

from ..extensions import db, login_manager
from ..models import User
from ..services.accounts import authenticate, record_event, seconds_until_login_allowed
from ..services.queries import client_fingerprint
from . import bp
from .forms import LoginForm, LogoutForm


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def safe_next(target: str | None) -> str:
    """Only local paths may be redirected to after login."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        client = client_fingerprint(request.remote_addr)
        wait = seconds_until_login_allowed(username, client)
        if wait:
            error = TooManyRequests("Too many failed logins. Wait a minute and try again.")
            error.retry_after = wait
            raise error
        user = authenticate(username, form.password.data, client)
        if user is not None:
            session.clear()
            session.permanent = True
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
        flash("Wrong username or password.", "error")
        return render_template("auth/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    form = LogoutForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        record_event(current_user.username, "logout", "user", current_user.username)
        db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("home.index"))
