"""A training process started ahead of time, waiting for the server's next run.

A new ``flask qc run-training`` process spends about four seconds of CPU on the interpreter,
the imports and the app before the run's first step. At idle priority beside a busy server that
took 15 to 30 seconds of the time from an approval to the new version (bench/RESULTS.md,
"From approval to every worker"). So
each server keeps one process that has done all of that already: it waits on a Unix socket in
the instance folder, takes one run, and once the run is over starts its own successor.

The hand-over has three steps, so a run never has two processes: the worker sends ``RUN <id>``,
the standby answers ``PID <pid>``, and only after the worker's ``GO`` does it execute the run.
A worker that hears nothing within ``HAND_OVER_SECONDS`` hangs up; the standby then sees the
connection end without ``GO`` and keeps waiting. A lock file keeps one standby per instance, and
the standby exits when the server it belongs to has gone.

A standby that holds the lock but does not listen yet is still starting (a successor, just after
a run). Starting another process then would only put two imports side by side on a busy
machine, so the worker leaves the run queued with the standby's pid, and the standby takes it
from the database once it is ready: it looks for such a run before it listens and every
``SERVER_CHECK_SECONDS`` while it waits. Only a worker that finds no standby at all starts a
process of its own.

A standby runs the code it imported. After a deploy (new files, then a gunicorn HUP) that code
is old, so the standby watches the files (``CodeWatch``): once they change it stops listening
and starts a successor that imports the new code, and a hand-over that comes before it noticed
gets ``STALE`` instead of ``PID``, upon which the worker starts a process of its own.

The process itself is ``qcapp.server.training_standby`` (started by ``spawn.start_standby``); this
module, standard library only, holds the lock, the socket and both sides of the hand-over.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import select
import socket
import sysconfig
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from .processes import process_alive

SOCKET_NAME = "training-standby.sock"
LOCK_NAME = "training-standby.lock"
HAND_OVER_SECONDS = 5.0
# How often a waiting standby checks that its server still runs.
SERVER_CHECK_SECONDS = 1.0
# The environment variable that names the server (the gunicorn arbiter) a process belongs to.
SERVER_PID_VARIABLE = "QC_STANDBY_SERVER_PID"
# How often a waiting standby looks whether its code changed on disk (about 2 ms each time).
CODE_CHECK_SECONDS = 5.0
_REPOSITORY = Path(__file__).resolve().parents[2]
# What a run executes: the app and the training code (and the installed libraries).
CODE_ROOTS = (_REPOSITORY / "qcapp", _REPOSITORY / "training")


class StandbyOutdated(Exception):
    """The standby's code is older than the files on disk: it declined the run."""


def code_fingerprint(roots: Iterable[Path] = CODE_ROOTS) -> str:
    """What identifies the code on disk: each Python file's path, size and modification time,
    and the installed distributions with their versions."""
    digest = hashlib.blake2b(digest_size=16)
    for path in (path for root in roots for path in sorted(root.rglob("*.py"))):
        try:
            stat = path.stat()
        except FileNotFoundError:  # removed while being listed: the next look sees the change
            continue
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    libraries = sysconfig.get_paths()["purelib"]
    try:
        installed = sorted(name for name in os.listdir(libraries) if name.endswith(".dist-info"))
    except OSError:
        installed = []
    digest.update("\n".join(installed).encode())
    return digest.hexdigest()


class CodeWatch:
    """Whether the code on disk is still the code this process started with."""

    def __init__(self, roots: Iterable[Path] = CODE_ROOTS, every: float = CODE_CHECK_SECONDS):
        self.roots = tuple(roots)
        self.every = every
        self.started = code_fingerprint(self.roots)
        self.checked = time.monotonic()
        self.changed = False

    def current(self, now: bool = False) -> bool:
        """False once the files differ; looked at again at most every ``every`` seconds,
        unless ``now``."""
        if not self.changed and (now or time.monotonic() - self.checked >= self.every):
            self.checked = time.monotonic()
            self.changed = code_fingerprint(self.roots) != self.started
        return not self.changed


def socket_path(instance_path: str | os.PathLike) -> Path:
    return Path(instance_path) / SOCKET_NAME


def hand_over(instance_path: str | os.PathLike, run_id: int) -> int | None:
    """Give a queued run to the waiting standby; its pid, or None when no standby took it.
    StandbyOutdated when the standby declined it because the code on disk changed (it is
    giving way to a successor).

    The whole exchange fits in ``HAND_OVER_SECONDS``, and the standby waits three times as long
    for the ``GO``: a ``GO`` that is sent always arrives while the standby still listens for it.
    """
    path = socket_path(instance_path)
    if not path.exists():
        return None
    deadline = time.monotonic() + HAND_OVER_SECONDS

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the standby did not answer in time")
        return left

    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(remaining())
            connection.connect(str(path))
            connection.sendall(f"RUN {run_id}\n".encode())
            connection.settimeout(remaining())
            reply = connection.makefile("rb").readline().decode("ascii", "replace").split()
            if reply == ["STALE"]:
                raise StandbyOutdated
            if len(reply) != 2 or reply[0] != "PID" or not reply[1].isdigit():
                return None
            remaining()
            connection.sendall(b"GO\n")
            return int(reply[1])
    except OSError:  # no listener, a stale socket, a timeout: start a process instead
        return None


def waiting_standby(instance_path: str | os.PathLike) -> int | None:
    """The pid of the instance's standby while one holds the lock, else None."""
    try:
        descriptor = os.open(Path(instance_path) / LOCK_NAME, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            written = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
            return int(written) if written.isdigit() else None
        return None  # nobody holds it (the shared lock ends with the descriptor)
    finally:
        os.close(descriptor)


def take_lock(instance_path: str) -> int | None:
    """The instance's standby lock (a descriptor), with this pid written in; None when taken."""
    descriptor = os.open(Path(instance_path) / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
    return descriptor


def listen(instance_path: str) -> socket.socket:
    """The standby's socket, listening, readable and writable by this user only."""
    path = socket_path(instance_path)
    path.unlink(missing_ok=True)  # left by a standby that was killed; the lock says none waits
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)  # only this user may hand it runs
    try:
        listener.bind(str(path))
    finally:
        os.umask(previous)
    listener.listen(4)
    listener.settimeout(SERVER_CHECK_SECONDS)
    return listener


def connection_waiting(listener: socket.socket) -> bool:
    """Whether a worker is waiting to hand a run over (without taking the connection)."""
    readable, _, _ = select.select([listener], [], [], 0)
    return bool(readable)


def next_run(
    listener: socket.socket,
    server_pid: int,
    assigned: Callable[[], int | None] = lambda: None,
    code: CodeWatch | None = None,
    idle: Callable[[], None] | None = None,
) -> int | None:
    """Wait for a worker's hand-over, or for a run ``assigned()`` finds left for this process;
    the run id, or None once the server has gone or the code on disk has changed (``code``).
    ``idle()`` is called once a turn, between looks for a hand-over."""
    while process_alive(server_pid):
        # A run left for this process while it started is its own, even if the files changed
        # since: nobody else would take it.
        run_id = assigned()
        if run_id is not None:
            return run_id
        if code is not None and not code.current():
            return None
        if idle is not None:
            idle()
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        with connection:
            connection.settimeout(HAND_OVER_SECONDS)
            try:
                reader = connection.makefile("rb")
                request = reader.readline().decode("ascii", "replace").split()
                if len(request) != 2 or request[0] != "RUN" or not request[1].isdigit():
                    continue
                if code is not None and not code.current(now=True):
                    connection.sendall(b"STALE\n")
                    return None
                connection.sendall(f"PID {os.getpid()}\n".encode())
                connection.settimeout(3 * HAND_OVER_SECONDS)  # longer than the worker waits
                if reader.readline().strip() == b"GO":
                    return int(request[1])
            except OSError:  # the worker gave up or went away: the run is not ours
                continue
    return None
