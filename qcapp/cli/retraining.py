"""``qc retrain``, ``qc run-training`` and ``qc versions``."""

from __future__ import annotations

import os

import click
from flask import current_app

from ..extensions import db
from ..models import Runner, RunStatus, TrainingRun
from ..runs import (
    RunNotStarted,
    execute_run,
    lower_training_priority,
    nothing_new_since,
    start_next_standby,
    start_run,
    wait_for_run,
)
from ..runs.standby import SERVER_PID_VARIABLE
from ..services.learning.settings import RunSettings
from ..services.learning.versions import (
    activate_model_version,
    activation_history,
    active_version,
    describe_activation,
    get_version,
)
from . import qc


@qc.command("retrain")
@click.option("--wait", is_flag=True, help="Wait for the run; exit non-zero when it fails.")
@click.option("--quick", is_flag=True, help="Fixed settings, no model selection.")
@click.option(
    "--select", is_flag=True,
    help="Run model selection again (a full retrain) instead of refitting the active choice.",
)
@click.option(
    "--force", is_flag=True,
    help="Train even when nothing is new since the last version (it registers none otherwise).",
)
def retrain_command(wait: bool, quick: bool, select: bool, force: bool) -> None:
    """Start a training run on the base dataset plus approved corrections.

    By default a refit: the active version's model choice fitted on the merged set, which takes
    seconds. A full retrain runs when --select asks for it, or when the choice cannot be reused
    (no active version, another base dataset or feature set). When the training rows, the
    approved corrections and the settings are those of the active version (or of the newest
    one), the run ends without registering a version, unless --force.
    """
    if quick and select:
        raise click.UsageError("--quick and --select exclude each other.")
    try:
        run = start_run(RunSettings(quick=quick, select=select, force=force), actor="cli")
    except RunNotStarted as error:
        raise click.ClickException(str(error)) from None
    where = "queued for a worker" if run.runner == Runner.QUEUE else f"process {run.pid}"
    click.echo(f"Started training run {run.id} ({where}).")
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
    if run.status != RunStatus.SUCCEEDED:
        first_line = (run.error or "unknown error").splitlines()[0]
        raise click.ClickException(f"Training run {run.id} failed: {first_line}")
    if nothing_new_since(run):
        click.echo(f"Training run {run.id} registered no version: {run.message}.")
        return
    version = run.model_version
    click.echo(f"Training run {run.id} succeeded: version {version.version} is {version.status}.")
    if version.status_reason:
        click.echo(f"Not promoted: {version.status_reason}")


@qc.command("run-training", hidden=True)
@click.argument("run_id", type=int)
def run_training_command(run_id: int) -> None:
    """Execute a queued training run in this process (started by `qc retrain` or the admin)."""
    lower_training_priority(current_app.config)
    server = os.environ.get(SERVER_PID_VARIABLE, "")
    app = current_app._get_current_object()
    run = execute_run(
        run_id,
        after_finish=lambda: start_next_standby(app, int(server) if server.isdigit() else None),
    )
    if run.status != RunStatus.SUCCEEDED:
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
@click.option("--reason", help="Why; kept in the history and the audit log.")
@click.option("--actor", default="cli", show_default=True, help="Who the history names.")
def activate_command(version: str, reason: str | None, actor: str) -> None:
    """Make a model version the active one (a rollback to an older one included)."""
    row = get_version(version)
    if row is None:
        raise click.ClickException(f"There is no model version {version!r}.")
    replaced = active_version()
    activation = activate_model_version(row, actor=actor, reason=reason)
    if activation is None:
        click.echo(f"Model version {row.version} is already active.")
        return
    db.session.commit()
    sentence = describe_activation(row, replaced, activation.reason)
    click.echo(f"{sentence[0].upper()}{sentence[1:]}: model version {row.version} is now active.")


@versions_group.command("history")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
def history_command(limit: int) -> None:
    """Which version served from when to when, who switched and why; newest first."""
    periods = activation_history(limit)
    if not periods:
        click.echo("No version has been activated yet.")
        return
    click.echo(f"{'version':<22} {'from':<16} {'until':<16} {'by':<12} {'previous':<22} reason")
    for period in periods:
        row = period.activation
        until = f"{period.until:%Y-%m-%d %H:%M}" if period.until else "now"
        click.echo(
            f"{row.version:<22} {row.activated_at:%Y-%m-%d %H:%M} {until:<16} "
            f"{row.activated_by or '-':<12} {row.previous_version or '-':<22} {row.reason or ''}"
        )
