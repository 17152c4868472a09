"""``qc dataset import|list|fetch|issues``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app

from training import DatasetError

from ..models import IssueKind
from ..services.data.datasets import (
    FetchError,
    active_dataset,
    fetch_uiuc,
    import_dataset,
    list_datasets,
)
from ..services.insight.label_issues import scan_label_issues
from ..services.review.label_review import issue_dict, latest_scan_at, open_issues
from . import qc


@qc.group("dataset")
def dataset_group() -> None:
    """Base datasets: import, list, fetch, label issues."""


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


@dataset_group.command("issues")
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many findings to print.",
)
@click.option(
    "--rescan/--no-rescan",
    default=True,
    show_default=True,
    help="Scan the current labels first, or show the findings of the last scan.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON object.")
def issues_command(top: int, rescan: bool, as_json: bool) -> None:
    """Training labels that look wrong in the active dataset, most doubtful first."""
    dataset = active_dataset()
    if dataset is None:
        raise click.ClickException("No active dataset. Import one with `qc dataset import`.")
    summary = scan_label_issues(dataset, actor="cli") if rescan else None
    issues, total = open_issues(dataset, limit=top)
    if as_json:
        findings = [issue_dict(issue, rank) for rank, issue in enumerate(issues, 1)]
        click.echo(json.dumps({"scan": summary, "open": total, "issues": findings}))
        return
    if summary:
        click.echo(
            f"Scanned {summary['rows']} rows of {dataset.name!r} in {summary['seconds']:.1f}s: "
            f"{summary['doubtful']} doubtful labels, {summary['near_duplicates']} near-duplicates"
            f" ({summary['dismissed_not_raised']} dismissed earlier, not raised again)."
        )
    if not issues:
        if summary is None and latest_scan_at(dataset) is None:
            click.echo(
                f"Dataset {dataset.name!r} has not been scanned yet: nothing has been looked "
                "for. Scan it with `qc dataset issues` (without --no-rescan)."
            )
        else:
            click.echo("No open label issues.")
        return
    click.echo(f"{'rank':>4}  {'score':>5}  {'kind':<14}  {'given → suggested':<30}  question")
    for rank, issue in enumerate(issues, 1):
        labels = f"{issue.given_fine} → {issue.suggested_fine}"
        click.echo(f"{rank:>4}  {issue.score:5.3f}  {issue.kind:<14}  {labels:<30}  {issue.text}")
        if issue.kind == IssueKind.NEAR_DUPLICATE:
            click.echo(f"{'':>48}  ~ {issue.details.get('other_text')}")
    click.echo(f"({len(issues)} of {total} open; review them on the admin page Label issues)")
