"""``qc artifacts``: where model artifacts are stored, and the retention rule that prunes them."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import ModelVersion
from ..services.data.artifacts import artifact_available, prune_artifacts, store_kind
from ..services.learning.versions import get_version
from . import qc


@qc.group("artifacts")
def artifacts_group() -> None:
    """Model artifacts: list, pin, prune."""


@artifacts_group.command("list")
def list_command() -> None:
    """Each version's artifact: sha256, status, pinned, whether it can still be loaded."""
    click.echo(f"store: {store_kind()}")
    for version in db.session.scalars(select(ModelVersion).order_by(ModelVersion.id)):
        flags = " pinned" if version.pinned else ""
        here = "stored" if artifact_available(version) else "pruned"
        click.echo(
            f"{version.version}  {version.artifact_sha256[:12]}  {version.status}{flags}  {here}"
        )


def _set_pin(name: str, pinned: bool) -> None:
    version = get_version(name)
    if version is None:
        raise click.ClickException(f"There is no model version {name!r}.")
    version.pinned = pinned
    db.session.commit()
    click.echo(f"Version {version.version} is {'pinned' if pinned else 'no longer pinned'}.")


@artifacts_group.command("pin")
@click.argument("version")
def pin_command(version: str) -> None:
    """Keep a version's artifact whatever the retention rule says."""
    _set_pin(version, True)


@artifacts_group.command("unpin")
@click.argument("version")
def unpin_command(version: str) -> None:
    """Let the retention rule prune a version's artifact again."""
    _set_pin(version, False)


@artifacts_group.command("prune")
@click.option(
    "--keep-retired", type=click.IntRange(min=0), default=None,
    help="Retired versions to keep, newest first (default: ARTIFACT_KEEP_RETIRED, 3).",
)
@click.option("--dry-run", is_flag=True, help="Say what would go; remove nothing.")
def prune_command(keep_retired: int | None, dry_run: bool) -> None:
    """Remove artifacts of versions that are not active, candidates, pinned or recently retired.

    The versions' rows, history and stored answers stay; only their model files go.
    """
    if keep_retired is None:
        keep_retired = int(current_app.config["ARTIFACT_KEEP_RETIRED"])
    plan = prune_artifacts(keep_retired, dry_run=dry_run)
    verb = "Would remove" if dry_run else "Removed"
    click.echo(f"Kept {len(plan.kept)} version(s): {', '.join(plan.kept) or '-'}")
    click.echo(
        f"{verb} the artifacts of {len(plan.pruned)} version(s): {', '.join(plan.pruned) or '-'}"
        f" ({len(plan.blobs)} stored blob(s), {len(plan.folders)} local folder(s))."
    )
