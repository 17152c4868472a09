"""``qc versions diff A B``: the flip report between any two model versions."""

from __future__ import annotations

import json

import click

from ..services.learning.flips import FlipReportError, diff_versions
from ..services.learning.versions import get_version
from .retraining import versions_group


def format_summary(summary: dict) -> list[str]:
    """The report's summary, per-class counts and McNemar's test as text lines."""
    held, asked, test = summary["held_out"], summary["queries"], summary["mcnemar"]
    lines = [
        f"Flip report: baseline {summary.get('baseline')} -> candidate {summary.get('candidate')}",
        f"Held-out: {held['flips']} of {held['compared']} questions change label "
        f"(old right {held['old_right']}, new right {held['new_right']}, "
        f"neither {held['neither']})",
        f"Stored questions: {asked['flips']} of {asked['compared']} change label ({asked['rows']})",
        f"McNemar ({test['method']}) on held-out: old right {test['old_right']}, "
        f"new right {test['new_right']}, p = {test['p_value']:.4g}",
    ]
    per_class = summary["per_class"]
    labels = sorted(set(per_class["held_out"]) | set(per_class["query"]))
    if labels:
        lines.append(f"{'class':<16}{'held-out out':>13}{'in':>5}{'stored out':>12}{'in':>5}")
        empty = {"out": 0, "in": 0}
        for label in labels:
            held_counts = per_class["held_out"].get(label, empty)
            asked_counts = per_class["query"].get(label, empty)
            lines.append(
                f"{label:<16}{held_counts['out']:>13}{held_counts['in']:>5}"
                f"{asked_counts['out']:>12}{asked_counts['in']:>5}"
            )
    return lines


def format_row(row: dict) -> str:
    """One flip as a line: source, old and new labels with confidence, gold, question."""
    gold = f"{row['gold_fine']} ({row['verdict']})" if row["gold_fine"] else "-"
    return (
        f"{row['source']:<9} {row['old_fine']:<15} {row['old_confidence']:>5.2f} -> "
        f"{row['new_fine']:<15} {row['new_confidence']:>5.2f}  {gold:<28} {row['text']}"
    )


@versions_group.command("diff")
@click.argument("baseline")
@click.argument("candidate")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Most rows to print (0 for all).",
)
@click.option(
    "--source", type=click.Choice(["held_out", "query"]), help="Only rows from this source."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def diff_command(
    baseline: str, candidate: str, limit: int, source: str | None, as_json: bool
) -> None:
    """Questions whose label changes from version BASELINE to version CANDIDATE."""
    versions = []
    for name in (baseline, candidate):
        version = get_version(name)
        if version is None:
            raise click.ClickException(f"There is no model version {name!r}.")
        versions.append(version)
    try:
        report = diff_versions(*versions)
    except FlipReportError as error:
        raise click.ClickException(str(error)) from None
    rows = [row.to_dict() for row in report.rows if source is None or row.source == source]
    shown = rows if limit == 0 else rows[:limit]
    if as_json:
        click.echo(json.dumps({"summary": report.summary, "total_rows": len(rows), "rows": shown}))
        return
    for line in format_summary(report.summary):
        click.echo(line)
    click.echo(f"Rows: {len(rows)}{f' {source}' if source else ''}, showing {len(shown)}")
    for row in shown:
        click.echo(format_row(row))
