"""``qc create-admin``, and reading a password at the terminal or from standard input."""

from __future__ import annotations

import sys

import click

from ..models import Role
from ..services.accounts.accounts import AccountError, create_admin
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
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.ADMIN.value,
    show_default=True,
    help="A reviewer labels and reviews; an admin also retrains, activates, deletes and exports.",
)
def create_admin_command(username: str, role: str) -> None:
    """Create an account of the admin site; the password is asked for, never an argument."""
    password = read_password()
    try:
        create_admin(username, password, role=role, actor="cli")
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {role} {username}.")
