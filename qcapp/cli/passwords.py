"""``qc set-password``, ``qc set-role``, ``qc disable-user``, ``qc enable-user``.

The admin site's Users page calls the same services; a new password or a disabled account ends
the account's sessions either way.
"""

from __future__ import annotations

import click

from ..models import Role
from ..services.accounts.accounts import (
    AccountError,
    account,
    active_admins,
    reset_password,
    set_active,
    set_role,
)
from . import qc
from .accounts import read_password


def _no_admin_left_warning() -> None:
    # The command line is the way back in, so it may leave the site without an admin; it says so.
    if not active_admins():
        click.echo(
            "No active admin is left: create one with `qc create-admin` or enable one with "
            "`qc enable-user`.",
            err=True,
        )


@qc.command("set-password")
@click.argument("username")
@click.option(
    "--generate", is_flag=True, help="Generate a random password and print it once."
)
def set_password_command(username: str, generate: bool) -> None:
    """Give an account a new password (asked for, or one line on standard input)."""
    try:
        account(username)  # before asking for a password that would have nowhere to go
        password = reset_password(username, None if generate else read_password(), actor="cli")
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    if generate:
        click.echo(f"New password of {username} (shown only now): {password}")
    click.echo(f"Password of {username} changed; its sessions have ended.")


@qc.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice([role.value for role in Role]))
def set_role_command(username: str, role: str) -> None:
    """Make an account an admin or a reviewer; it applies from the account's next request."""
    try:
        set_role(username, role, actor="cli")
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{username} is now {'an' if role == Role.ADMIN else 'a'} {role}.")
    _no_admin_left_warning()


@qc.command("disable-user")
@click.argument("username")
def disable_user_command(username: str) -> None:
    """Disable an account: it cannot log in, and its open sessions end at once."""
    try:
        set_active(username, False, actor="cli")
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Disabled {username}; its sessions have ended.")
    _no_admin_left_warning()


@qc.command("enable-user")
@click.argument("username")
def enable_user_command(username: str) -> None:
    """Enable a disabled account again (it has to log in anew)."""
    try:
        set_active(username, True, actor="cli")
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Enabled {username}.")
