"""``qc dataset import|list|fetch``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from training.io import DatasetError

from ..services.datasets import FetchError, fetch_uiuc, import_dataset, list_datasets
from . import qc


@qc.group("dataset")
def dataset_group() -> None:
    """Base datasets: import, list, fetch."""


@dataset_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="Dataset name; importing a name again replaces it.")
@click.option("--skip-bad", is_flag=True, help="Skip and count broken rows instead of refusing.")
def import_command(path: Path, name: str, skip_bad: bool) -> None:
    """Import a tutorial CSV or UIUC label file and make it the active base dataset."""
    try:
        dataset, loaded = import_dataset(path, name, skip_bad=skip_bad, actor="cli")
    except (DatasetError, OSError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Imported {dataset.rows} questions into dataset {dataset.name!r} ({loaded.format} format; "
        f"{loaded.duplicates_dropped} duplicates dropped, {loaded.skipped} bad rows skipped). "
        "It is now the active dataset."
    )


@dataset_group.command("list")
def list_command() -> None:
    """Show datasets, their sizes and which one is active."""
    rows = list_datasets()
    if not rows:
        click.echo("No datasets. Import one with `qc dataset import PATH --name NAME`.")
        return
    click.echo(f"{'':2}{'name':<24}{'examples':>10}  imported")
    for dataset, count in rows:
        marker = "* " if dataset.is_active else "  "
        click.echo(f"{marker}{dataset.name:<24}{count:>10}  {dataset.imported_at:%Y-%m-%d %H:%M}")
    click.echo("(* active)")


@dataset_group.command("fetch")
@click.argument("name", type=click.Choice(["uiuc"]))
@click.option(
    "--url", help="Download from this address instead (a mirror); the checksum still applies."
)
def fetch_command(name: str, url: str | None) -> None:
    """Download a public dataset, verify its sha256 and import it (only `uiuc` for now)."""
    config = current_app.config
    try:
        dataset, loaded = fetch_uiuc(
            url or config["UIUC_TRAIN_URL"], config["UIUC_TRAIN_SHA256"], actor="cli"
        )
    except (FetchError, DatasetError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Downloaded and verified the UIUC training set: {dataset.rows} questions in "
        f"dataset {dataset.name!r} ({loaded.duplicates_dropped} duplicates dropped). "
        "It is now the active dataset."
    )
