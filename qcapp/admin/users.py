"""Accounts of the admin site, for admins: create, enable or disable, reset a password, change
a role. Each action calls the service ``qc`` calls (``services.accounts.accounts``), so both
audit it and end sessions alike; no page ever shows a password hash."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length

from ..extensions import db
from ..models import Role, User
from ..services.accounts.accounts import (
    AccountError,
    LockoutRefused,
    account_events,
    accounts,
    create_admin,
    generate_password,
    reset_password,
    set_active,
    set_role,
)
from .access import AdminAccessMixin

ROLE_CHOICES = [
    (Role.ADMIN.value, "admin: everything, including accounts, retraining and versions"),
    (Role.REVIEWER.value, "reviewer: reviews and labels"),
]
PASSWORD_CHOICES = [
    ("generate", "Generate one (shown once, on the next page)"),
    ("type", "Type one"),
]


class PasswordFields(FlaskForm):
    """A new password: generated, or typed twice."""

    password_choice = RadioField("Password", choices=PASSWORD_CHOICES, default="generate")
    password = PasswordField("New password", validators=[Length(max=256)])
    confirm_password = PasswordField("New password again", validators=[Length(max=256)])

    def chosen_password(self) -> str | None:
        """The typed password, or None to generate one; AccountError when the two differ."""
        if self.password_choice.data != "type":
            return None
        if not self.password.data:
            raise AccountError("Type the new password, or choose to generate one.")
        if self.password.data != self.confirm_password.data:
            raise AccountError("The two passwords differ.")
        return self.password.data


class NewUserForm(PasswordFields):
    username = StringField("Username", validators=[InputRequired(), Length(max=80)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.REVIEWER.value)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class ActionForm(FlaskForm):
    """Carries the CSRF token of the enable and disable buttons."""


def _status_of(error: AccountError) -> int:
    # Refusing a lockout is a conflict with the state of the site; anything else is bad input.
    return 409 if isinstance(error, LockoutRefused) else 400


class UsersView(AdminAccessMixin, BaseView):
    admin_only = True

    def _user_or_404(self, user_id: int) -> User:
        return db.get_or_404(User, user_id)

    @expose("/")
    def index(self):
        return self.render("admin/users.html", users=accounts())

    @expose("/new", methods=["GET", "POST"])
    def new(self):
        form = NewUserForm()
        if not form.is_submitted():
            return self.render("admin/user_new.html", form=form)
        if not form.validate():
            return self.render("admin/user_new.html", form=form, error=_form_error(form)), 400
        try:
            typed = form.chosen_password()
            password = typed if typed is not None else generate_password()
            user = create_admin(
                form.username.data, password, form.role.data, actor=current_user.username
            )
        except AccountError as error:
            return self.render("admin/user_new.html", form=form, error=str(error)), 400
        if typed is None:
            return self._show_password_once(user, password, created=True)
        flash(f"Created {user.role} {user.username}.", "success")
        return redirect(url_for(".details", user_id=user.id))

    @expose("/<int(max=2147483647):user_id>")
    def details(self, user_id: int):
        return self._details(self._user_or_404(user_id))

    def _details(self, user: User, error: str | None = None, password_form=None):
        return self.render(
            "admin/user_details.html",
            user=user,
            itself=user.id == current_user.id,
            role_form=RoleForm(role=user.role),
            action_form=ActionForm(),
            password_form=password_form or PasswordFields(),
            events=account_events(user.username),
            error=error,
        )

    def _refused(self, user: User, error: AccountError, password_form=None):
        db.session.rollback()
        page = self._details(db.session.get(User, user.id), str(error), password_form)
        return page, _status_of(error)

    @expose("/<int(max=2147483647):user_id>/role", methods=["POST"])
    def change_role(self, user_id: int):
        user = self._user_or_404(user_id)
        form = RoleForm()
        if not form.validate_on_submit():
            return self._details(user, _form_error(form)), 400
        try:
            set_role(user.username, form.role.data, current_user.username, acting=current_user)
        except AccountError as error:
            return self._refused(user, error)
        flash(f"{user.username} is now {_with_article(user.role)}.", "success")
        return redirect(url_for(".details", user_id=user.id))

    @expose("/<int(max=2147483647):user_id>/disable", methods=["POST"])
    def disable(self, user_id: int):
        return self._set_active(user_id, False)

    @expose("/<int(max=2147483647):user_id>/enable", methods=["POST"])
    def enable(self, user_id: int):
        return self._set_active(user_id, True)

    def _set_active(self, user_id: int, active: bool):
        user = self._user_or_404(user_id)
        if not ActionForm().validate_on_submit():
            return self._details(user, "The form expired; please try again."), 400
        try:
            set_active(user.username, active, current_user.username, acting=current_user)
        except AccountError as error:
            return self._refused(user, error)
        flash(
            f"Enabled {user.username}; it can log in again."
            if active
            else f"Disabled {user.username}: it cannot log in, and its sessions have ended.",
            "success",
        )
        return redirect(url_for(".details", user_id=user.id))

    @expose("/<int(max=2147483647):user_id>/password", methods=["POST"])
    def password(self, user_id: int):
        user = self._user_or_404(user_id)
        form = PasswordFields()
        if not form.validate_on_submit():
            return self._details(user, _form_error(form), form), 400
        try:
            typed = form.chosen_password()
            password = reset_password(
                user.username, typed, current_user.username, acting=current_user
            )
        except AccountError as error:
            return self._refused(user, error, form)
        if typed is None:
            return self._show_password_once(user, password, created=False)
        flash(f"Password of {user.username} changed; its sessions have ended.", "success")
        return redirect(url_for(".details", user_id=user.id))

    def _show_password_once(self, user: User, password: str, *, created: bool):
        # Shown in the answer to the POST and nowhere else: it is not stored, not flashed into
        # the session cookie, and the page is not cached (admin pages are sent no-store).
        return self.render(
            "admin/user_password.html", user=user, password=password, created=created
        )


def _with_article(role: str) -> str:
    return f"an {role}" if role == Role.ADMIN else f"a {role}"


def _form_error(form: FlaskForm) -> str:
    """One sentence for what is wrong with a submitted form."""
    if form.errors.get("csrf_token"):
        return "The form expired; please try again."
    for name, errors in form.errors.items():
        field = getattr(form, name, None)
        label = field.label.text if field is not None else name
        return f"{label}: {errors[0]}"
    return "The form is not valid; please check it and try again."
