"""One training run at a time across hosts, and the heartbeat a queued run writes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import text, update

from ..extensions import db
from ..models import TrainingRun, utcnow

# The advisory lock's key: any 64-bit number no other part of the database uses.
TRAINING_LOCK_KEY = 0x7163_7472_6169_6E00  # "qctrain"


class TrainingLocked(RuntimeError):
    """Another host's training run holds the lock."""


@contextmanager
def training_lock() -> Iterator[None]:
    """Hold the database's training lock for the block; TrainingLocked when another has it.

    On PostgreSQL a session advisory lock on a connection of its own: the server drops it
    when that connection ends, so a killed worker never leaves it behind. SQLite is one
    machine's database, where the unique ``in_progress`` column already allows one run.
    """
    if db.engine.dialect.name != "postgresql":
        yield
        return
    connection = db.engine.connect()
    try:
        taken = connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": TRAINING_LOCK_KEY}
        )
        connection.commit()
        if not taken:
            raise TrainingLocked("Another training run holds the training lock.")
        try:
            yield
        finally:
            connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": TRAINING_LOCK_KEY}
            )
            connection.commit()
    finally:
        connection.close()


class Heartbeat:
    """Writes ``heartbeat_at`` on a run every few seconds from a thread, until stopped."""

    def __init__(self, app: Flask, run_id: int, every: float):
        self.app = app
        self.run_id = run_id
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="run-heartbeat")

    def __enter__(self) -> Heartbeat:
        self.beat()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 5)

    def beat(self) -> None:
        """One heartbeat now, in a transaction of its own."""
        with self.app.app_context():
            db.session.execute(
                update(TrainingRun)
                .where(TrainingRun.id == self.run_id, TrainingRun.in_progress.is_(True))
                .values(heartbeat_at=utcnow())
            )
            db.session.commit()

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.beat()
            except Exception:  # noqa: BLE001  (a database hiccup must not end the training)
                continue
