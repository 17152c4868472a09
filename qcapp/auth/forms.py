"""The login, logout and password forms."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=256)])


class LogoutForm(FlaskForm):
    """Logging out changes state, so it is a POST that carries a CSRF token."""


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[InputRequired(), Length(max=256)]
    )
    new_password = PasswordField(
        "New password", validators=[InputRequired(), Length(min=8, max=256)]
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[InputRequired(), EqualTo("new_password", message="The passwords differ.")],
    )
