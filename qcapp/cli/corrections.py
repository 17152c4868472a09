"""``qc corrections``: list, approve, reject and revert."""

from __future__ import annotations

import click

from ..models import CorrectionStatus
from ..services.learning.provenance import revert_correction
from ..services.review.feedback import (
    InvalidCorrection,
    approve_all_pending,
    review_corrections,
)
from ..services.review.review_queue import review_queue
from . import qc


@qc.group("corrections")
def corrections_group() -> None:
    """Review corrections: list, approve, reject, revert."""


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
        notes = []
        if item.conflicting:
            notes.append("conflicting proposals")
        flags = correction.flags or {}
        if flags.get("contradicts_base"):
            notes.append(f"base label {flags['contradicts_base'].get('fine')}")
        if flags.get("bulk_client"):
            notes.append("bulk client")
        flag = f"  ({'; '.join(notes)})" if notes else ""
        click.echo(
            f"{correction.id:>6}  {correction.kind:<12} {predicted:<16} {correction.fine:<16} "
            f"{confidence:>5} {item.agreeing:>4}  {correction.query.text[:80]}{flag}"
        )
    click.echo(f"{total} pending.")


def _review(ids: tuple[int, ...], status: str, note: str | None, **options) -> None:
    try:
        done = review_corrections(ids, status, note=note, **options)
    except InvalidCorrection as error:
        hint = (
            " Add --confirm-override to approve them." if error.code == "needs_confirmation" else ""
        )
        raise click.ClickException(error.message + hint) from None
    click.echo(f"{status.capitalize()} {len(done)} correction(s).")


actor_option = click.option(
    "--actor", default="cli", show_default=True, help="Who the audit log names."
)


@corrections_group.command("approve")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "approve_all", is_flag=True, help="Approve every unflagged pending one.")
@click.option(
    "--confirm-override",
    is_flag=True,
    help="Approve even corrections that contradict the base dataset's label.",
)
@actor_option
def approve_command(
    ids: tuple[int, ...], approve_all: bool, confirm_override: bool, actor: str
) -> None:
    """Approve corrections by id (or --all, which leaves flagged ones for review)."""
    if approve_all:
        if ids:
            raise click.UsageError("Give correction ids or --all, not both.")
        approved, skipped = approve_all_pending(actor=actor)
        click.echo(f"Approved {len(approved)} correction(s).")
        if skipped:
            click.echo(
                f"Skipped {skipped} flagged correction(s); review them one by one "
                "(`qc corrections list`)."
            )
        return
    if not ids:
        raise click.UsageError("Give correction ids, or --all.")
    _review(ids, CorrectionStatus.APPROVED, None, actor=actor, confirm_override=confirm_override)


@corrections_group.command("reject")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--note", help="Why they were rejected.")
@actor_option
def reject_command(ids: tuple[int, ...], note: str | None, actor: str) -> None:
    """Reject corrections by id."""
    _review(ids, CorrectionStatus.REJECTED, note, actor=actor)


@corrections_group.command("revert")
@click.argument("correction_id", type=int)
@click.option("--reason", required=True, help="Why the approval is withdrawn.")
@actor_option
def revert_command(correction_id: int, reason: str, actor: str) -> None:
    """Withdraw an approved correction from future training sets."""
    try:
        result = revert_correction(correction_id, actor=actor, reason=reason)
    except InvalidCorrection as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Reverted correction {correction_id}; the next retrain leaves it out.")
    active = result.active_version
    if active is not None:
        click.echo(
            f"The active version {active.version} was trained with it and keeps serving its "
            "label until a new version is active: run `qc retrain`."
        )
