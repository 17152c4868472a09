"""``qc stats``."""

from __future__ import annotations

import json

import click

from ..services.insight.stats import collect_stats
from . import qc


@qc.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object as the last line.")
def stats_command(as_json: bool) -> None:
    """Show how many queries, predictions, corrections, examples and versions are stored."""
    stats = collect_stats()
    if as_json:
        click.echo(json.dumps(stats, default=str))
        return
    width = max(len(key) for key in stats)
    for key, value in stats.items():
        if key != "active_model_metrics":
            click.echo(f"{key.ljust(width)}  {value}")
