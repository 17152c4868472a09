"""Several processes writing queries and corrections at once: nothing locked, nothing lost."""

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from qcapp.models import Correction, Prediction, Query

from helpers import REPOSITORY_ROOT

WRITERS, QUERIES, EVERY = 4, 60, 5


def test_parallel_writers_store_every_row(app, db, model_version):
    script = Path(__file__).with_name("concurrent_writer.py")
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY_ROOT)}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                app.config["SQLALCHEMY_DATABASE_URI"],
                app.config["MODELS_DIR"],
                str(QUERIES),
                str(EVERY),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for _ in range(WRITERS)
    ]
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        report = json.loads(out.strip().splitlines()[-1])
        assert report["failures"] == [], report["failures"][:3]
        assert "database is locked" not in err
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    assert count(Query) == WRITERS * QUERIES
    assert count(Prediction) == WRITERS * QUERIES
    assert count(Correction) == WRITERS * (QUERIES // EVERY)


def test_server_workers_checkpoint_the_wal_in_the_background(app, db):
    """Commits in a server worker leave the WAL alone; a thread copies it into the file."""
    import time

    import pytest

    from qcapp.database import checkpoint_in_background

    if db.engine.dialect.name != "sqlite":
        pytest.skip("checkpoints are a SQLite matter")
    db.engine.dispose()  # connections opened from here on get the worker's settings
    stop = checkpoint_in_background(app, interval=0.2)
    try:
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        database_file = Path(db.engine.url.database)
        time.sleep(0.5)  # whatever the schema setup left in the WAL is copied first
        size_before = database_file.stat().st_size
        for number in range(300):
            db.session.add(Query(text=f"question {number} " + "x" * 400, normalized=f"q{number}"))
            db.session.commit()
        # Far fewer than SQLite's 1,000-page threshold: only the thread can move these pages.
        deadline = time.monotonic() + 5
        while database_file.stat().st_size == size_before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert database_file.stat().st_size > size_before
    finally:
        stop.set()


def _other_process_can_lock(path: str) -> bool:
    code = (
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try:\n"
        "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError:\n"
        "    sys.exit(1)\n"
    )
    return subprocess.run([sys.executable, "-c", code, path]).returncode == 0


def test_sqlite_writers_queue_across_processes_and_reenter_in_a_thread(app, db):
    """The write queue holds other processes back for a whole transaction, and only then."""
    import pytest

    if db.engine.dialect.name != "sqlite":
        pytest.skip("the write queue is a SQLite matter")
    queue = app.extensions["qc_sqlite"].write_queue
    assert queue is not None and queue.path.endswith("-writers")
    connection = db.session.connection()  # begins a transaction that so far only reads
    connection.exec_driver_sql("SELECT count(*) FROM queries")
    assert _other_process_can_lock(queue.path)
    connection.exec_driver_sql(  # the first write: now this process holds the queue
        "INSERT INTO queries (token, text, normalized, created_at, source) "
        "VALUES ('concurrent-writer-first', 'p?', 'p', '2026-11-27 00:00:00', 'api')"
    )
    assert not _other_process_can_lock(queue.path)
    queue.acquire()  # the same thread again (a second connection) does not wait on itself
    queue.release()
    assert not _other_process_can_lock(queue.path)
    connection.exec_driver_sql(
        "INSERT INTO queries (token, text, normalized, created_at, source) "
        "VALUES ('concurrent-writer-token', 'q?', 'q', '2026-11-27 00:00:00', 'api')"
    )
    db.session.commit()
    assert _other_process_can_lock(queue.path)
    assert db.session.scalar(select(func.count()).select_from(Query)) == 2
    db.session.connection()
    db.session.rollback()
    assert _other_process_can_lock(queue.path)
