"""``qc setup``, ``qc train``, ``qc evaluate`` and ``qc predict``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app

from training import SCOPE_REASONS as REASONS
from training import (
    ArtifactError,
    DatasetError,
    evaluate,
    format_metrics_table,
    load_dataset,
    load_version,
    load_version_scope,
)

from ..runs import TrainingError, mark_abandoned_runs, train_version
from ..services.data.artifacts import local_version
from ..services.data.datasets import (
    STARTER_DATASET,
    active_dataset,
    import_dataset,
    starter_dataset_path,
)
from ..services.learning.versions import active_version, get_version
from ..services.serving.scope import check_scope, ensure_scope_model, scope_dict
from . import qc


def echo_progress(message: str, fraction: float) -> None:
    """Progress on standard error; a negative fraction marks a log line."""
    prefix = "" if fraction < 0 else f"[{fraction * 100:5.1f}%] "
    click.echo(f"{prefix}{message}", err=True)


@qc.command("setup")
def setup_command() -> None:
    """Import the starter dataset and train a quick model, each only when missing."""
    failed = mark_abandoned_runs(grace_seconds=0)
    if failed:
        click.echo(f"Marked abandoned training runs as failed: {failed}.")
    if active_dataset() is None:
        dataset, loaded = import_dataset(starter_dataset_path(), STARTER_DATASET)
        click.echo(f"Imported dataset {dataset.name!r}: {dataset.rows} questions.")
    if active_version() is None:
        click.echo("No active model: training the default model (quick mode)...")
        version = train_version(quick=True, actor="setup", progress=echo_progress)
        click.echo(f"Trained and activated model version {version.version}.")
    else:
        click.echo(f"Model version {active_version().version} is active.")
    ensure_scope_model(current_app.config["MODELS_DIR"])
    click.echo("The scope check is ready.")


@qc.command("train")
@click.option(
    "--dataset", "dataset_name", help="Base dataset to train on (default: the active one)."
)
@click.option("--quick", is_flag=True, help="Skip model selection; use tuned defaults.")
@click.option("--features", default="default", show_default=True, help="Feature set.")
@click.option("--no-activate", is_flag=True, help="Register the version without activating it.")
def train_command(dataset_name: str | None, quick: bool, features: str, no_activate: bool) -> None:
    """Train a model version on a base dataset, register it and activate it."""
    try:
        version = train_version(
            dataset_name,
            quick=quick,
            features=features,
            actor="cli",
            progress=echo_progress,
            activate=not no_activate,
        )
    except (TrainingError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(format_metrics_table(version.metrics))
    state = "activated" if version.is_active else "registered (not active)"
    click.echo(f"Model version {version.version} {state}.")
    if version.status_reason:
        click.echo(version.status_reason)


def load_classifier(version_name: str | None):
    """The classifier of a named version, or of the active one."""
    version = get_version(version_name) if version_name else active_version()
    if version is None:
        raise click.ClickException(
            f"There is no model version {version_name!r}."
            if version_name
            else "There is no active model version. Run `qc train` first."
        )
    try:
        return version, load_version(local_version(version))
    except (ArtifactError, OSError) as error:
        raise click.ClickException(f"Cannot load version {version.version}: {error}") from None


@qc.command("evaluate")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--version", "version_name", help="Model version (default: the active one).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object as the last line.")
@click.option("--skip-bad", is_flag=True, help="Skip broken rows instead of refusing the file.")
def evaluate_command(path: Path, version_name: str | None, as_json: bool, skip_bad: bool) -> None:
    """Evaluate a model version on a labelled file (tutorial CSV or UIUC label format)."""
    try:
        loaded = load_dataset(path, skip_bad=skip_bad)
    except (DatasetError, OSError) as error:
        raise click.ClickException(str(error)) from None
    version, classifier = load_classifier(version_name)
    metrics = evaluate(classifier, loaded.frame)
    if as_json:
        metrics = {"version": version.version, **metrics}
        click.echo(json.dumps(metrics, default=float))
    else:
        click.echo(f"Model version {version.version} on {path} ({metrics['n']} questions)")
        click.echo(format_metrics_table(metrics))


@qc.command("predict")
@click.argument("question")
@click.option("--version", "version_name", help="Model version (default: the active one).")
@click.option("--json", "as_json", is_flag=True, help="Print the prediction as JSON.")
def predict_command(question: str, version_name: str | None, as_json: bool) -> None:
    """Classify one question without storing it."""
    if not question.strip():
        raise click.BadParameter("the question is empty", param_hint="QUESTION")
    version, classifier = load_classifier(version_name)
    prediction = classifier.predict(question)
    try:
        scope = load_version_scope(local_version(version))
    except (ArtifactError, OSError) as error:
        raise click.ClickException(f"Cannot load version {version.version}: {error}") from None
    [verdict] = check_scope([question], scope)
    if as_json:
        scope = scope_dict(verdict.in_scope, None if verdict.in_scope else verdict.reason)
        click.echo(json.dumps({"model_version": version.version, **prediction.to_dict(), **scope}))
        return
    if not verdict.in_scope:
        click.echo(f"Not an English question ({verdict.reason}): {REASONS[verdict.reason]}")
    click.echo(
        f"{prediction.coarse} ({prediction.coarse_confidence:.0%})  "
        f"{prediction.fine} ({prediction.fine_confidence:.0%})  [{version.version}]"
    )
    for alternative in prediction.alternatives:
        click.echo(f"  or {alternative['fine']} ({alternative['confidence']:.0%})")
