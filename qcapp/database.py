"""Engine settings that the ORM cannot express: SQLite's journal mode, busy timeout and locking."""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from .blocking import in_native_thread
from .extensions import db

log = logging.getLogger(__name__)


@dataclass
class SqliteTuning:
    """Per-app SQLite choices that the connect hook reads when it opens a connection."""

    background_checkpoints: bool = False
    last_checkpoint: float = 0.0
    write_queue: WriteQueue | None = None


class WriteQueue:
    """Queues this machine's SQLite writers on a lock file before they ask SQLite for its lock.

    A writer that finds SQLite's lock taken sleeps in SQLite's busy handler (1, 2, 5, 10 ms and
    more) before it tries again, so a request that arrives while another worker's two-INSERT
    transaction (a fraction of a millisecond) runs waits a millisecond or more, with its CPU
    idle. Waiting on ``flock`` instead wakes it as soon as the lock is released. This is only a
    queue in front of SQLite's own lock, which still guards the data; writers that do not use
    it (other programs) are handled by the busy timeout as before.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._pid: int | None = None
        self._descriptor: int | None = None
        # flock excludes other processes only; threads of one process queue on this lock.
        # Re-entrant, so a thread that opens a second writing connection meets SQLite's busy
        # timeout as it always did, rather than waiting on itself forever.
        self._threads = threading.RLock()
        self._depth = threading.local()

    def _file(self) -> int:
        # One descriptor per process: after fork, a shared descriptor would share the lock.
        if self._pid != os.getpid():
            self._descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._descriptor

    def acquire(self) -> None:
        """Wait for this machine's other writers to finish."""
        self._threads.acquire()
        depth = getattr(self._depth, "value", 0)
        if depth == 0:
            try:
                fcntl.flock(self._file(), fcntl.LOCK_EX)
            except BaseException:
                self._threads.release()
                raise
        self._depth.value = depth + 1

    def release(self) -> None:
        """Let the next writer in."""
        self._depth.value -= 1
        try:
            if self._depth.value == 0:
                fcntl.flock(self._file(), fcntl.LOCK_UN)
        finally:
            self._threads.release()


def configure_engines(app: Flask) -> None:
    """Give every SQLite connection WAL mode, a busy timeout and immediate write transactions."""
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                tuning = SqliteTuning()
                database = engine.url.database or ""
                if database and database != ":memory:" and "mode=memory" not in database:
                    tuning.write_queue = WriteQueue(f"{database}-writers")
                app.extensions.setdefault("qc_sqlite", tuning)
                _configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"], tuning)


def checkpoint_in_background(app: Flask, interval: float = 1.0) -> threading.Event | None:
    """Move SQLite's WAL checkpoints off the request path (a server worker calls this first).

    By default the commit that lets the write-ahead log pass 1,000 pages also copies it into
    the database file, so about one request in a hundred waits several milliseconds for that.
    Here connections opened from now on never checkpoint on commit; a thread checkpoints every
    ``interval`` seconds instead, on a connection of its own, and the driver releases the GIL
    while it copies. Under the gevent worker the copy runs on a native thread, so the worker's
    requests go on meanwhile. Other processes (commands, the training process) keep SQLite's
    automatic checkpoints.
    """
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return None
        database = db.engine.url.database or ""
    if not database or database == ":memory:" or "mode=memory" in database:
        return None
    app.extensions["qc_sqlite"].background_checkpoints = True
    stop = threading.Event()

    def checkpoint() -> None:
        # Outside any transaction (a checkpoint cannot run inside one), and PASSIVE: it copies
        # what no reader still needs and never waits for a lock.
        connection = sqlite3.connect(database, timeout=0)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()

    def run() -> None:
        while not stop.wait(interval):
            try:
                in_native_thread(checkpoint)
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
        # SQLite's automatic checkpoint runs inside the COMMIT that passes 1,000 pages, so the
        # committing process would still hold the write queue while it copies the log: every
        # other writer would wait for that copy. Checkpoints run after the queue is left
        # instead (see on_commit), or in a server worker's background thread.
        cursor.execute("PRAGMA wal_autocheckpoint = 0")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # A transaction that may write begins only at its first write. Until then each read
        # runs on its own, as a statement of PostgreSQL's read committed does: a request that
        # reads (an admin page, the login check, a classification before its INSERT) neither
        # holds the write lock nor keeps a snapshot open while it works (the training process
        # held one between two progress lines); while a snapshot is open, no checkpoint can
        # copy the log past it. ``read_only_connection`` reads from one snapshot.
        if connection.get_execution_options().get("qc_read_only"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.info["qc_may_write"] = True

    @event.listens_for(engine, "before_cursor_execute")
    def before_first_write(connection, _cursor, statement, _parameters, _context, _many):
        # The first statement that may write begins the transaction as BEGIN IMMEDIATE, which
        # queues for the lock (a deferred transaction that read first would fail at once with
        # "database is locked" when another connection wrote in between). Everything from the
        # first write on is serialised with other writers.
        if not connection.info.get("qc_may_write") or _only_reads(statement):
            return
        del connection.info["qc_may_write"]
        driver = connection.connection.dbapi_connection
        queue = tuning.write_queue
        if queue is not None:
            queue.acquire()
            connection.info["qc_queued"] = True
        try:
            driver.execute("BEGIN IMMEDIATE")
        except BaseException:
            _end(connection)
            raise

    def _end(connection) -> None:
        # The transaction is over (or never began): forget its state, let the next writer in.
        connection.info.pop("qc_may_write", None)
        if connection.info.pop("qc_queued", False):
            tuning.write_queue.release()

    @event.listens_for(engine, "commit")
    def on_commit(connection):
        # This event comes before the driver's commit: commit here, so the next writer is let
        # in only once this one's data is written (the driver's commit then has nothing to do).
        if connection.info.get("qc_queued"):
            driver = connection.connection.dbapi_connection
            try:
                driver.execute("COMMIT")
            finally:
                _end(connection)
            _checkpoint_now_and_then(driver)
        else:
            _end(connection)

    def _checkpoint_now_and_then(driver) -> None:
        # Processes without the background thread (commands, the training process) copy the
        # log after their own commits, at most once a second, outside the write queue.
        now = time.monotonic()
        if tuning.background_checkpoints or now - tuning.last_checkpoint < 1.0:
            return
        tuning.last_checkpoint = now
        try:
            driver.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # noqa: BLE001  (a checkpoint is housekeeping: the commit stands)
            log.exception("checkpointing the SQLite write-ahead log failed")

    @event.listens_for(engine, "rollback")
    def on_rollback(connection):
        _end(connection)


def _only_reads(statement: str) -> bool:
    """Whether a statement cannot write (a SELECT); anything else may, savepoints included."""
    return statement.lstrip()[:6].upper() == "SELECT"


@contextmanager
def read_only_connection() -> Iterator[Connection]:
    """A connection for reads only: on SQLite it does not take the write lock."""
    with db.engine.connect() as connection:
        yield connection.execution_options(qc_read_only=True)
