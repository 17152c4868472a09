"""``qc seed-history``: fill the database with synthetic history for demos and benchmarks."""

from __future__ import annotations

import time

import click

from ..services.insight.history import seed_history
from . import qc


@qc.command("seed-history")
@click.argument("count", type=click.IntRange(min=1))
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Spread the queries over this many past days.",
)
@click.option(
    "--corrections",
    "correction_share",
    type=click.FloatRange(0, 1),
    default=0.03,
    show_default=True,
    help="Share of queries that get a correction or confirmation.",
)
@click.option("--seed", type=int, default=None, help="Random seed, for repeatable data.")
def seed_history_command(count: int, days: int, correction_share: float, seed: int | None) -> None:
    """Insert COUNT synthetic queries with predictions and a few corrections."""
    started = time.perf_counter()
    written = seed_history(count, days=days, correction_share=correction_share, seed=seed)
    click.echo(
        f"Inserted {written['queries']:,} queries, {written['predictions']:,} predictions and "
        f"{written['corrections']:,} corrections in {time.perf_counter() - started:.1f} s."
    )
