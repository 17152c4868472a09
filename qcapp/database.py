"""Engine settings that the ORM cannot express: SQLite's journal mode, busy timeout and locking."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from .extensions import db


def configure_engines(app: Flask) -> None:
    """Give every SQLite connection WAL mode, a busy timeout and immediate write transactions."""
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                _configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin (see on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
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
