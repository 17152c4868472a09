"""The ``qc`` command group: ``flask --app qcapp qc ...``."""

from __future__ import annotations

from flask.cli import AppGroup

qc = AppGroup("qc", help="qcapp commands: stats, accounts, datasets, training, corrections.")

# The command modules attach their commands to ``qc`` when imported; they import ``qc`` from
# here, so this import comes after its definition.
from . import (  # noqa: E402,F401
    accounts,
    artifacts,
    corrections,
    datasets,
    flips,
    history,
    inbox,
    passwords,
    retraining,
    stats,
    training,
    worker,
)
