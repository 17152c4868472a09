"""The standby training process: one per instance, takes one run, leaves a successor."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from qcapp.services.learning import retraining
from qcapp.services.learning.processes import process_alive
from qcapp.services.learning.retraining import (
    run_left_for,
    start_run,
    start_standby,
    wait_for_run,
)
from qcapp.services.learning.standby import (
    hand_over,
    listen,
    next_run,
    socket_path,
    take_lock,
    waiting_standby,
)


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
        run = start_run(actor="test", quick=True)
    assert (run.runner, run.pid) == ("process", first)
    run = wait_for_run(run.id, timeout=300)
    assert run.status == "succeeded", run.error
    assert run.model_version.is_active

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

    monkeypatch.setattr(retraining, "spawn_training_process", no_process)
    lock = take_lock(instance)  # this process plays the starting standby: no socket yet
    try:
        assert not socket_path(instance).exists()
        with app.test_request_context("/admin/runs/start", method="POST"):
            run = start_run(actor="test", quick=True)
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
            run = start_run(actor="test", quick=True)
        assert run.pid == standby
        run = wait_for_run(run.id, timeout=300)
        assert run.status == "succeeded", run.error
        assert run.pid == standby  # executed by the standby, not by a process of its own
    finally:
        stop(standby)
        stop(waiting_standby(instance))
