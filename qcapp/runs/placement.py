"""Where a process runs and at what priority: each web worker on a CPU of its own, the
training beside them on what the workers leave.

Standard library only: gunicorn's arbiter imports it (gunicorn.conf.py) and must never import
the app, and the standby uses it before it pays for the app's imports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

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


def lower_priority(nice: int, pid: int = 0, idle: bool = False) -> None:
    """Let a training process (this one by default) run only on CPU time the web workers leave.

    Linux first shares the CPU between sessions' autogroups, and only then by the nice values
    and policies of the processes inside each group. A process started by a web worker stays in
    the server's session (see ``spawn.spawn_training_process``): there SCHED_IDLE (``idle``)
    means a worker that wakes up takes the core at once, and nice 19 the smallest share. A
    process that leads a session of its own (started by ``qc retrain``) competes with the
    server's group as a whole, so that group's nice value is set too; a process in someone
    else's session never touches it, since that would slow every process of the session, web
    workers included. ``nice`` is the value to reach, never a step down from a lower priority
    already set, so the parent and the process itself may both apply it.
    """
    if nice > 0:
        if os.getpriority(os.PRIO_PROCESS, pid) < nice:
            os.setpriority(os.PRIO_PROCESS, pid, nice)
        if os.getsid(pid) == (pid or os.getpid()):
            try:
                Path(f"/proc/{pid or 'self'}/autogroup").write_text(str(min(nice, 19)))
            except OSError:  # not Linux, or autogroups disabled: the nice value still applies
                pass
    if idle and hasattr(os, "SCHED_IDLE"):
        # Threads started afterwards (BLAS, ONNX Runtime) inherit the policy.
        os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))


def lower_training_priority(config: Mapping, pid: int = 0) -> None:
    """Place a training process (this one by default) beside the server's web workers.

    Workers free to move (no ``QC_SERVER_CPUS``): nice ``TRAINING_NICE`` and SCHED_IDLE
    (``TRAINING_IDLE``), so it runs on what they leave. Workers kept each on a CPU of its own
    (gunicorn.conf.py): it may run on all the server's CPUs again, at the plain policy and nice
    ``TRAINING_NICE_BESIDE_PINNED_WORKERS``. There a worker never waits for a core while the
    training runs on another, and the training takes a small, steady share of the core it
    shares with one worker, where SCHED_IDLE would leave it almost none under load
    (bench/RESULTS.md, "From approval to every worker").
    """
    cpus = server_cpus()
    if cpus is None:
        lower_priority(config["TRAINING_NICE"], pid, config["TRAINING_IDLE"])
        return
    try:
        run_on(cpus, pid)
    except OSError:  # CPUs taken away from this process since the server started
        pass
    lower_priority(config["TRAINING_NICE_BESIDE_PINNED_WORKERS"], pid)
