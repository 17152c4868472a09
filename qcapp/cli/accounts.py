"""``qc create-admin``."""

from __future__ import annotations

import sys

import click

from ..services.accounts import AccountError, create_admin
from . import qc


def read_password() -> str:
    """Ask twice at a terminal; read one line from standard input otherwise."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    if not line:
        raise click.UsageError("No password on standard input.")
    return line.rstrip("\r\n")


@qc.command("create-admin")
@click.argument("username")
def create_admin_command(username: str) -> None:
    """Create an admin account; the password is asked for, never taken as an argument."""
    password = read_password()
    try:
        create_admin(username, password)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created admin {username}.")
