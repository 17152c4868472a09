"""Login, logout and the password change page."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import TooManyRequests

from ..models import User
from ..services.accounts.accounts import AccountError, authenticate, change_password, end_sessions
from ..services.accounts.login_throttle import seconds_until_login_allowed
from ..services.accounts.redirects import local_target
from ..services.serving.queries import client_fingerprint
from . import bp
from .forms import LoginForm, LogoutForm, PasswordForm
from .sessions import end_session, start_session


def safe_next(target: str | None) -> str:
    """Only a path on this site may be redirected to after login."""
    return local_target(target) or url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        client = client_fingerprint(request.remote_addr)
        wait = seconds_until_login_allowed(username, client)
        if wait:
            error = TooManyRequests(
                f"Too many failed logins. Try again in {wait} second{'s' if wait != 1 else ''}."
            )
            error.retry_after = wait
            raise error
        user = authenticate(username, form.password.data, client)
        if user is not None:
            start_session(user)
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
        # Every copy of this user's session cookie stops working, not only this browser's.
        end_sessions(current_user, current_user.username, "logout")
    end_session()
    return redirect(url_for("home.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        user: User = current_user._get_current_object()
        try:
            change_password(user, form.current_password.data, form.new_password.data)
        except AccountError as error:
            form.current_password.errors = [str(error)]
        else:
            start_session(user)  # this browser stays logged in; every other session has ended
            flash("Password changed. Every other session of yours has ended.", "success")
            return redirect(url_for("admin.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status
