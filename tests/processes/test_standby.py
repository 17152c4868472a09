"""The standby training process: one per instance, takes one run, leaves a successor."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qcapp.runs import launchers
from qcapp.runs.processes import process_alive
from qcapp.runs.records import run_left_for
from qcapp.runs.spawn import start_standby
from qcapp.runs.standby import (
    CODE_ROOTS,
    CodeWatch,
    code_fingerprint,
    hand_over,
    listen,
    next_run,
    socket_path,
    take_lock,
    waiting_standby,
)
from qcapp.runs.start import start_run, wait_for_run
from qcapp.services.learning.settings import RunSettings


def wait_for(condition, seconds: float = 90.0, what: str = "the condition"):
    """Poll until ``condition()`` is truthy; its value. A standby imports the app first,
    which takes a few seconds, more on a busy CI machine."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def stop(pid: int | None) -> None:
    if pid and process_alive(pid):
        os.kill(pid, signal.SIGTERM)


@pytest.fixture
def standby(app):
    """Start a standby for this test process; yields a function returning the waiting pid.
    Every standby of the instance is stopped afterwards."""
    instance = app.instance_path
    os.makedirs(instance, exist_ok=True)

    def listening() -> int | None:
        pid = waiting_standby(instance)
        return pid if pid and socket_path(instance).exists() else None

    start_standby(app, os.getpid())
    yield listening
    stop(waiting_standby(instance))


@pytest.fixture
def starter_in_db(app, db):
    from qcapp.services.data.datasets import import_dataset, starter_dataset_path

    return import_dataset(starter_dataset_path(), "starter")[0]


def test_without_a_standby_nobody_takes_a_run(tmp_path):
    assert hand_over(tmp_path, 1) is None
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(socket_path(tmp_path)))  # a socket file nobody listens on any more
    stale.close()
    assert hand_over(tmp_path, 1) is None
    assert waiting_standby(tmp_path) is None


@pytest.mark.slow
def test_the_standby_runs_the_next_run_and_leaves_a_successor(app, db, standby, starter_in_db):
    first = wait_for(standby, what="the standby to listen")
    # A hand-over the worker never confirms (it gave up waiting) is not run.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(30)
        connection.connect(str(socket_path(app.instance_path)))
        connection.sendall(b"RUN 999999\n")
        assert connection.makefile("rb").readline() == f"PID {first}\n".encode()
    assert wait_for(standby, what="the standby to listen again") == first

    with app.test_request_context("/admin/runs/start", method="POST"):
        run = start_run(RunSettings(quick=True), actor="test")
    assert (run.runner, run.pid) == ("process", first)
    run = wait_for_run(run.id, timeout=300)
    assert run.status == "succeeded", run.error
    assert run.model_version.is_active
    # Its output has a log of its own, as a process started for the run would.
    assert (Path(app.instance_path) / "training-logs" / f"run-{run.id}.log").exists()

    successor = wait_for(standby, what="a successor")
    assert successor != first
    wait_for(lambda: not process_alive(first), 30, "the first standby to exit")


@pytest.mark.slow
def test_one_standby_per_instance_and_none_without_its_server(app, standby):
    first = wait_for(standby, what="the standby to listen")
    second = start_standby(app, os.getpid())
    wait_for(lambda: not process_alive(second), 60, "the second standby to give up")
    assert standby() == first

    # A standby whose server has gone exits, and takes its socket with it.
    stop(first)
    wait_for(lambda: not process_alive(first), 30, "the first standby to stop")
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        orphan = start_standby(app, server.pid)
        wait_for(lambda: standby() == orphan, what="the new standby to listen")
    finally:
        server.kill()
        server.wait()
    wait_for(lambda: not process_alive(orphan), 30, "the standby of a stopped server to exit")
    assert not socket_path(app.instance_path).exists()
    assert waiting_standby(app.instance_path) is None


def test_a_run_queued_while_the_standby_starts_is_left_for_it(app, db, monkeypatch):
    """A standby that holds the lock but does not listen yet gets the run through the database,
    and no second process is started beside it."""
    instance = app.instance_path
    os.makedirs(instance, exist_ok=True)

    def no_process(*_args):
        raise AssertionError("a training process was started beside the standby")

    monkeypatch.setattr(launchers, "spawn_training_process", no_process)
    lock = take_lock(instance)  # this process plays the starting standby: no socket yet
    try:
        assert not socket_path(instance).exists()
        with app.test_request_context("/admin/runs/start", method="POST"):
            run = start_run(RunSettings(quick=True), actor="test")
        assert (run.status, run.runner, run.pid) == ("queued", "process", os.getpid())
        assert run_left_for(os.getpid()) == run.id
        assert run_left_for(os.getpid() + 1) is None

        # Once it listens, the standby takes that run before any hand-over comes.
        listener = listen(instance)
        try:
            assert next_run(listener, os.getpid(), lambda: run_left_for(os.getpid())) == run.id
        finally:
            listener.close()
    finally:
        os.close(lock)
    # Without the lock nobody is starting: a worker would start a process of its own.
    assert waiting_standby(instance) is None


@pytest.mark.slow
def test_a_starting_standby_runs_the_run_queued_meanwhile(app, db, starter_in_db):
    instance = app.instance_path
    os.makedirs(instance, exist_ok=True)
    standby = start_standby(app, os.getpid())
    try:
        # It takes the lock before its imports, seconds before it listens.
        wait_for(lambda: waiting_standby(instance) == standby, 30, "the standby's lock")
        with app.test_request_context("/admin/runs/start", method="POST"):
            run = start_run(RunSettings(quick=True), actor="test")
        assert run.pid == standby
        run = wait_for_run(run.id, timeout=300)
        assert run.status == "succeeded", run.error
        assert run.pid == standby  # executed by the standby, not by a process of its own
    finally:
        stop(standby)
        stop(waiting_standby(instance))


def test_the_code_fingerprint_follows_the_files(tmp_path, monkeypatch):
    libraries = tmp_path / "site-packages"
    (libraries / "numpy-2.4.6.dist-info").mkdir(parents=True)
    monkeypatch.setattr(
        "qcapp.runs.standby.sysconfig.get_paths", lambda: {"purelib": libraries}
    )
    (tmp_path / "package").mkdir()
    module = tmp_path / "package" / "module.py"
    module.write_text("VALUE = 1\n")
    (tmp_path / "notes.txt").write_text("not code")
    first = code_fingerprint([tmp_path])
    assert code_fingerprint([tmp_path]) == first
    (tmp_path / "notes.txt").write_text("still not code")
    assert code_fingerprint([tmp_path]) == first

    stat = module.stat()
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a deploy
    touched = code_fingerprint([tmp_path])
    assert touched != first
    (tmp_path / "package" / "added.py").write_text("")
    added = code_fingerprint([tmp_path])
    assert added not in (first, touched)

    # An upgraded library is new code too; what Python caches beside it is not.
    (libraries / "__pycache__").mkdir()
    assert code_fingerprint([tmp_path]) == added
    (libraries / "numpy-2.4.6.dist-info").rename(libraries / "numpy-2.4.7.dist-info")
    assert code_fingerprint([tmp_path]) != added


def test_a_standby_stops_waiting_once_its_code_changes(tmp_path):
    (tmp_path / "module.py").write_text("VALUE = 1\n")
    watch = CodeWatch([tmp_path], every=0)
    listener = listen(tmp_path)
    try:
        (tmp_path / "module.py").write_text("VALUE = 2\n")
        assert next_run(listener, os.getpid(), code=watch) is None
    finally:
        listener.close()
    assert watch.changed


def test_a_standby_with_old_code_declines_the_run_and_a_process_takes_it(
    app, db, monkeypatch, tmp_path
):
    """After a deploy, a run is not handed to the standby that imported the old code, nor left
    for it: the worker starts a process of its own, and the standby gives way."""
    instance = app.instance_path
    os.makedirs(instance, exist_ok=True)
    (tmp_path / "module.py").write_text("VALUE = 1\n")
    # Only a hand-over makes this standby look at the files again.
    watch = CodeWatch([tmp_path], every=3600)
    started = []

    def process_of_its_own(_app, run_id):
        started.append(run_id)
        return 424242

    monkeypatch.setattr(launchers, "spawn_training_process", process_of_its_own)
    lock = take_lock(instance)
    listener = listen(instance)
    outcome = []
    waiting = threading.Thread(
        target=lambda: outcome.append(next_run(listener, os.getpid(), code=watch))
    )
    waiting.start()
    try:
        (tmp_path / "module.py").write_text("VALUE = 2\n")
        with app.test_request_context("/admin/runs/start", method="POST"):
            run = start_run(RunSettings(quick=True), actor="test")
        waiting.join(30)
    finally:
        listener.close()
        os.close(lock)
    assert outcome == [None] and watch.changed
    assert started == [run.id]
    assert (run.runner, run.pid) == ("process", 424242)


@pytest.mark.slow
def test_a_waiting_standby_gives_way_to_one_with_the_new_code(app, standby):
    first = wait_for(standby, what="the standby to listen")
    module = Path(CODE_ROOTS[0]) / "server" / "training_standby.py"
    stat = module.stat()
    try:
        os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a deploy
        wait_for(lambda: not process_alive(first), 60, "the old standby to give way")
    finally:
        os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    successor = wait_for(standby, what="a standby with the new code")
    assert successor != first


def test_a_waiting_standby_does_its_idle_work_and_sees_a_worker_waiting(tmp_path):
    from qcapp.runs.standby import connection_waiting

    listener = listen(tmp_path)
    turns = []
    try:
        # ``idle`` runs once a turn while nothing is handed over.
        run = next_run(
            listener, os.getpid(), assigned=lambda: 7 if len(turns) >= 2 else None,
            idle=lambda: turns.append(connection_waiting(listener)),
        )
        assert run == 7 and turns == [False, False]
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as worker:
            worker.connect(str(socket_path(tmp_path)))
            assert wait_for(lambda: connection_waiting(listener), 5, "the pending connection")
    finally:
        listener.close()
