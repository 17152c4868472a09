"""``qc inbox``: the ranked review inbox, and decisions on its items."""

from __future__ import annotations

import json

import click

from ..services.review.feedback import InvalidCorrection
from ..services.review.inbox import ranked_inbox
from ..services.review.inbox_decisions import decide_item, find_item
from . import qc


@qc.group("inbox", invoke_without_command=True)
@click.option("--top", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="End with the items as one JSON line.")
@click.pass_context
def inbox_group(context: click.Context, top: int, as_json: bool) -> None:
    """The review inbox, highest priority first (ITEM is the first column)."""
    if context.invoked_subcommand is not None:
        return
    items, total = ranked_inbox(limit=top)
    if not items:
        click.echo("The inbox is empty.")
    else:
        click.echo(f"{total} question(s) wait; the first {len(items)}:")
        click.echo(f"{'item':>7}  {'priority':>8} {'asked':>5} {'model':<14} question")
    for item in items:
        click.echo(
            f"{item.query_id:>7}  {item.priority:>8.3f} {item.asked:>5} "
            f"{item.model_label or '-':<14} {item.question}"
        )
        for proposal in item.proposals:
            click.echo(
                f"{'':>24}proposed {proposal.fine} by {proposal.clients} client(s)"
                f" (trust {proposal.trust:.2f})"
            )
        for reason in item.reasons:
            click.echo(f"{'':>24}- {reason}")
    if as_json:
        click.echo(json.dumps([item.as_dict() for item in items], ensure_ascii=False))


@inbox_group.command("decide")
@click.argument("item", type=int)
@click.argument("label")
@click.option("--actor", default="cli", show_default=True, help="The name the audit log records.")
@click.option("--confirm-override", is_flag=True, help="Approve even against the base dataset.")
def decide_command(item: int, label: str, actor: str, confirm_override: bool) -> None:
    """Label every question of inbox item ITEM as LABEL (e.g. LOC:city): approved corrections."""
    try:
        found = find_item(item)
        decision = decide_item(
            found.query_ids, label, actor=actor, confirm_override=confirm_override
        )
    except InvalidCorrection as error:
        raise click.ClickException(error.message) from None
    click.echo(
        f"Labelled {len(found.query_ids)} question(s) {label}: approved "
        f"{len(decision.approved)} correction(s), rejected {len(decision.rejected)}."
    )
