"""The ``qc`` command group: ``flask --app qcapp qc ...``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

qc = AppGroup("qc", help="qcapp commands: stats, accounts, datasets, training.")


def register_commands() -> None:
    from . import accounts, datasets, history, retraining, stats, training  # noqa: F401  (commands attach themselves to qc)


register_commands()

__all__ = ["qc", "click"]
