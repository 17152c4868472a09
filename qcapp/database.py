"""Engine settings that the ORM cannot express: SQLite's journal mode, busy timeout and locking."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from .extensions import db

log = logging.getLogger(__name__)


@dataclass
class SqliteTuning:
    """Per-app SQLite choices that the connect hook reads when it opens a connection."""

    background_checkpoints: bool = False


def configure_engines(app: Flask) -> None:
    """Give every SQLite connection WAL mode, a busy timeout and immediate write transactions."""
    tuning = app.extensions["qc_sqlite"] = SqliteTuning()
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                _configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"], tuning)


def checkpoint_in_background(app: Flask, interval: float = 1.0) -> threading.Event | None:
    """Move SQLite's WAL checkpoints off the request path (a server worker calls this first).

    By default the commit that lets the write-ahead log pass 1,000 pages also copies it into
    the database file, so about one request in a hundred waits several milliseconds for that.
    Here connections opened from now on never checkpoint on commit; a thread checkpoints every
    ``interval`` seconds instead, and the driver releases the GIL while it does. Other
    processes (commands, the training process) keep SQLite's automatic checkpoints.
    """
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return None
    app.extensions["qc_sqlite"].background_checkpoints = True
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(interval):
            try:
                with app.app_context():
                    # The driver's own connection, outside any transaction: a checkpoint
                    # cannot run inside one.
                    connection = db.engine.raw_connection()
                    try:
                        connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
                    finally:
                        connection.close()
            except Exception:  # noqa: BLE001  (a busy or missing database must not end the thread)
                log.exception("checkpointing the SQLite write-ahead log failed")

    threading.Thread(target=run, daemon=True, name="wal-checkpoint").start()
    return stop  # set it to end the thread


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, tuning: SqliteTuning) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin (see on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        if tuning.background_checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint = 0")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # A deferred transaction that reads and then writes can fail at once with "database is
        # locked" when another worker wrote in between; taking the write lock up front makes
        # the busy timeout apply instead. Connections opened by ``read_only_connection`` only
        # read, so they begin deferred and never wait for writers (WAL mode).
        if connection.get_execution_options().get("qc_read_only"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def read_only_connection() -> Iterator[Connection]:
    """A connection for reads only: on SQLite it does not take the write lock."""
    with db.engine.connect() as connection:
        yield connection.execution_options(qc_read_only=True)
