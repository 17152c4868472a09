"""Processes a training run uses on this machine: starting one detached, whether one runs, and
where its output goes.

Standard library only, so the standby process can use it before it pays for the app's imports.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
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


def run_log_name(run_id: int) -> str:
    """The file in ``training-logs`` that holds a run's output, whichever process runs it."""
    return f"run-{run_id}.log"


def training_log(instance_path: str | os.PathLike, name: str) -> Path:
    """A training process's log file in the instance folder."""
    return Path(instance_path) / "training-logs" / name
