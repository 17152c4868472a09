"""The live server's processes: each web worker on a CPU of its own, the training beside them."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

TWO_CPUS = hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) >= 2


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in children.read_text().split()] if children.exists() else []


def _standby_of(server) -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or not ours
            continue
        if b"qcapp.server.training_standby" in command and (
            f"QC_INSTANCE_PATH={server.instance}".encode() in environment
        ):
            return int(entry.name)
    return None


def _cpus_of_every_thread(pid: int) -> set[frozenset[int]]:
    return {
        frozenset(os.sched_getaffinity(int(thread))) for thread in os.listdir(f"/proc/{pid}/task")
    }


@pytest.mark.skipif(not TWO_CPUS, reason="needs Linux CPU affinity and two CPUs")
def test_each_worker_keeps_to_a_cpu_and_the_standby_may_use_all_of_them(live_server):
    server_cpus = frozenset(os.sched_getaffinity(live_server.process.pid))
    workers = _children(live_server.process.pid)
    assert len(workers) == 2  # QC_WORKERS=2
    worker_cpus = [_cpus_of_every_thread(worker) for worker in workers]
    assert all(len(cpus) == 1 and len(next(iter(cpus))) == 1 for cpus in worker_cpus)
    assert worker_cpus[0] != worker_cpus[1]

    deadline = time.monotonic() + 60
    while (standby := _standby_of(live_server)) is None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert standby is not None, "no standby training process waits beside the server"
    assert _cpus_of_every_thread(standby) == {server_cpus}
    assert os.sched_getscheduler(standby) == os.SCHED_OTHER
    # TRAINING_NICE_BESIDE_PINNED_WORKERS
    assert os.getpriority(os.PRIO_PROCESS, standby) == max(os.nice(0), 10)
