"""Processes a training run uses on this machine: starting one detached, and whether one runs.

Standard library only, so the standby process can use it before it pays for the app's imports.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def process_alive(pid: int | None) -> bool:
    """Whether the process ``pid`` of this machine runs (a zombie does not)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A finished child that nobody reaped yet is a zombie: dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


def start_detached(
    command: list[str], environment: dict[str, str], log_file: Path, name: str, **session
) -> subprocess.Popen:
    """Start ``command`` with its output appended to ``log_file``; ``session`` says where it
    lives (``process_group=0`` or ``start_new_session=True``).

    Its parent must collect the exit status, or the finished process stays a zombie of the
    web worker for as long as the worker lives: a thread named ``name`` that only waits does.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as output:
        process = subprocess.Popen(
            command,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            close_fds=True,
            **session,
        )
    threading.Thread(target=process.wait, name=name, daemon=True).start()
    return process


def write_output_to(log_file: Path) -> None:
    """From here on, this process's output goes to ``log_file`` (appended), as the output of a
    process ``start_detached`` started does."""
    sys.stdout.flush()
    sys.stderr.flush()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as output:
        os.dup2(output.fileno(), sys.stdout.fileno())
        os.dup2(output.fileno(), sys.stderr.fileno())


@contextmanager
def on_one_cpu(enabled: bool = True) -> Iterator[None]:
    """Within the block the calling thread runs only on the last CPU it may use (Linux; with
    fewer than two CPUs, or when ``enabled`` is false, nothing changes); its set is restored
    after, so the processes it starts later are not confined.

    A low-priority single-threaded job free to move takes whichever core a busy web worker
    leaves for a moment, and the worker then waits for a core; kept on one, it takes only that
    core's idle time.
    """
    allowed = os.sched_getaffinity(0) if enabled and hasattr(os, "sched_setaffinity") else set()
    if len(allowed) < 2:
        yield
        return
    os.sched_setaffinity(0, {max(allowed)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


# Set by gunicorn.conf.py in each web worker it keeps on a CPU of its own: the CPUs of the whole
# server, which the training processes the worker starts inherit in their environment.
SERVER_CPUS_VARIABLE = "QC_SERVER_CPUS"


def worker_cpu(cpus: set[int], taken: list[int | None], workers: int) -> int | None:
    """The CPU a new web worker keeps to, or None to leave it free to move.

    Each worker gets a CPU of its own while the server has no more workers than CPUs (and two
    CPUs at least): the least used of ``cpus`` by the live workers' ``taken`` ones, the lowest
    first, so a replacement takes the CPU its predecessor left.
    """
    if len(cpus) < 2 or workers > len(cpus):
        return None
    return min(sorted(cpus), key=lambda cpu: sum(1 for other in taken if other == cpu))


def keep_worker_on(cpu: int) -> None:
    """In a freshly forked web worker, before it starts any thread: run on ``cpu`` only, and
    tell the training processes it starts which CPUs the server has."""
    os.environ[SERVER_CPUS_VARIABLE] = ",".join(map(str, sorted(os.sched_getaffinity(0))))
    os.sched_setaffinity(0, {cpu})


def server_cpus() -> set[int] | None:
    """The CPUs of the server whose pinned web worker started this process (directly or
    through another training process), or None when its workers are free to move."""
    try:
        cpus = {int(cpu) for cpu in os.environ.get(SERVER_CPUS_VARIABLE, "").split(",") if cpu}
    except ValueError:
        return None
    return cpus or None


def run_on(cpus: set[int], pid: int = 0) -> None:
    """Every thread of process ``pid`` (this one by default) may run on any of ``cpus``; a
    process started by a pinned worker would otherwise share that worker's CPU alone."""
    for thread in os.listdir(f"/proc/{pid or 'self'}/task"):
        try:
            os.sched_setaffinity(int(thread), cpus)
        except ProcessLookupError:  # a thread that has just ended
            pass
