"""``qc corrections``, ``qc retrain``, ``qc run-training`` and ``qc versions``."""

from __future__ import annotations

import click
from flask import current_app

from ..extensions import db
from ..models import TrainingRun
from ..services.feedback import (
    InvalidCorrection,
    approve_all_pending,
    review_corrections,
    review_queue,
)
from ..services.retraining import (
    RunInProgress,
    execute_run,
    lower_priority,
    start_run,
    wait_for_run,
)
from ..services.versions import activate_model_version, get_version
from . import qc


@qc.group("corrections")
def corrections_group() -> None:
    """Review corrections: list, approve, reject."""


@corrections_group.command("list")
@click.option("--limit", default=50, show_default=True)
def list_corrections(limit: int) -> None:
    """Pending corrections, lowest model confidence first."""
    items, total = review_queue(limit=limit)
    if not items:
        click.echo("No pending corrections.")
        return
    click.echo(
        f"{'id':>6}  {'kind':<12} {'predicted':<16} {'proposed':<16} {'conf':>5} {'same':>4}"
        "  question"
    )
    for item in items:
        correction = item.correction
        prediction = correction.query.prediction
        predicted = prediction.fine if prediction else "-"
        confidence = f"{prediction.fine_confidence:.2f}" if prediction else "-"
        flag = "  (conflicting proposals)" if item.conflicting else ""
        click.echo(
            f"{correction.id:>6}  {correction.kind:<12} {predicted:<16} {correction.fine:<16} "
            f"{confidence:>5} {item.agreeing:>4}  {correction.query.text[:80]}{flag}"
        )
    click.echo(f"{total} pending.")


def _review(ids: tuple[int, ...], status: str, note: str | None) -> None:
    try:
        done = review_corrections(ids, status, actor="cli", note=note)
    except InvalidCorrection as error:
        raise click.ClickException(error.message) from None
    click.echo(f"{status.capitalize()} {len(done)} correction(s).")


@corrections_group.command("approve")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "approve_all", is_flag=True, help="Approve every pending correction.")
def approve_command(ids: tuple[int, ...], approve_all: bool) -> None:
    """Approve corrections by id (or --all)."""
    if approve_all:
        click.echo(f"Approved {len(approve_all_pending(actor='cli'))} correction(s).")
        return
    if not ids:
        raise click.UsageError("Give correction ids, or --all.")
    _review(ids, "approved", None)


@corrections_group.command("reject")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--note", help="Why they were rejected.")
def reject_command(ids: tuple[int, ...], note: str | None) -> None:
    """Reject corrections by id."""
    _review(ids, "rejected", note)


@qc.command("retrain")
@click.option("--wait", is_flag=True, help="Wait for the run; exit non-zero when it fails.")
@click.option("--quick", is_flag=True, help="Skip model selection.")
def retrain_command(wait: bool, quick: bool) -> None:
    """Start a training run on the base dataset plus approved corrections."""
    try:
        run = start_run(actor="cli", quick=quick)
    except RunInProgress as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Started training run {run.id} (process {run.pid}).")
    if not wait:
        return
    shown = 0

    def show_log(current: TrainingRun) -> None:
        nonlocal shown
        log = current.log or ""
        click.echo(log[shown:], nl=False, err=True)
        shown = len(log)

    run = wait_for_run(run.id, poll=1.0, on_poll=show_log)
    show_log(run)
    if run.status != "succeeded":
        first_line = (run.error or "unknown error").splitlines()[0]
        raise click.ClickException(f"Training run {run.id} failed: {first_line}")
    version = run.model_version
    click.echo(f"Training run {run.id} succeeded: version {version.version} is {version.status}.")
    if version.status_reason:
        click.echo(f"Not promoted: {version.status_reason}")


@qc.command("run-training", hidden=True)
@click.argument("run_id", type=int)
def run_training_command(run_id: int) -> None:
    """Execute a queued training run in this process (started by `qc retrain` or the admin)."""
    lower_priority(current_app.config["TRAINING_NICE"])
    run = execute_run(run_id)
    if run.status != "succeeded":
        raise SystemExit(1)


@qc.group("versions")
def versions_group() -> None:
    """Model versions."""


@versions_group.command("list")
def list_versions_command() -> None:
    """Every model version, newest first, with held-out accuracy and status."""
    from sqlalchemy import select

    from ..models import ModelVersion

    versions = db.session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc())).all()
    if not versions:
        click.echo("No model versions. Run `qc train`.")
        return
    click.echo(f"  {'version':<22} {'status':<10} {'coarse':>7} {'fine':>7} {'rows':>6}  dataset")
    for version in versions:
        metrics = version.metrics or {}
        coarse, fine = metrics.get("coarse_accuracy"), metrics.get("fine_accuracy")
        click.echo(
            f"{'*' if version.is_active else ' '} {version.version:<22} {version.status:<10} "
            f"{coarse if coarse is None else f'{coarse:.3f}':>7} "
            f"{fine if fine is None else f'{fine:.3f}':>7} {version.train_size:>6}  "
            f"{version.dataset_name or '-'}"
        )
        if version.status_reason:
            click.echo(f"    {version.status_reason}")


@versions_group.command("activate")
@click.argument("version")
def activate_command(version: str) -> None:
    """Make a model version the active one (rollback included)."""
    row = get_version(version)
    if row is None:
        raise click.ClickException(f"There is no model version {version!r}.")
    activate_model_version(row, actor="cli")
    db.session.commit()
    click.echo(f"Model version {row.version} is now active.")
