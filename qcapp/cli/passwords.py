"""``qc set-password``, ``qc disable-user``, ``qc enable-user``: each ends the sessions."""

from __future__ import annotations

import click
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..services.accounts.accounts import (
    AccountError,
    check_password_rules,
    record_event,
    set_active,
)
from . import qc
from .accounts import read_password


@qc.command("set-password")
@click.argument("username")
def set_password_command(username: str) -> None:
    """Give an account a new password (asked for, or one line on standard input)."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"There is no account named {username!r}.")
    password = read_password()
    try:
        check_password_rules(password)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    user.set_password(password)  # ends every session of the account (see User)
    record_event("cli", "password_changed", "user", username)
    db.session.commit()
    click.echo(f"Password of {username} changed; its sessions have ended.")


@qc.command("disable-user")
@click.argument("username")
def disable_user_command(username: str) -> None:
    """Disable an account: it cannot log in, and its open sessions end at once."""
    try:
        set_active(username, False, actor="cli")
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Disabled {username}; its sessions have ended.")


@qc.command("enable-user")
@click.argument("username")
def enable_user_command(username: str) -> None:
    """Enable a disabled account again (it has to log in anew)."""
    try:
        set_active(username, True, actor="cli")
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Enabled {username}.")
