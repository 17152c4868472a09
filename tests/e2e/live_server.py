"""A live gunicorn server on a fresh instance, for the tests that need a real one."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_support import REPOSITORY_ROOT

from helpers import ADMIN_PASSWORD, ADMIN_USERNAME

SERVER_START_TIMEOUT = 30.0


@dataclass
class LiveServer:
    base_url: str
    instance: Path
    process: subprocess.Popen
    environment: dict[str, str]

    def url(self, path: str) -> str:
        return self.base_url + path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(instance: Path, port: int, **settings: str) -> dict[str, str]:
    # Inherited QC_* settings (a developer's database URL, say) must not leak into the test.
    environment = {key: value for key, value in os.environ.items() if not key.startswith("QC_")}
    environment.update(
        QC_INSTANCE_PATH=str(instance),
        QC_SECRET_KEY=secrets.token_hex(32),
        # Workers notice a newly activated model within half a second.
        QC_MODEL_CHECK_INTERVAL="0.5",
        QC_LOG_LEVEL="WARNING",
        QC_LOG_FORMAT="text",
        # Two workers, so the retrained model must reach a process that did not train it.
        QC_WORKERS="2",
        HOST="127.0.0.1",
        PORT=str(port),
    )
    environment.update(settings)
    return environment


def flask_command(*args: str, environment: dict[str, str], stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "qcapp", *args],
        cwd=REPOSITORY_ROOT,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def wait_until_healthy(server: LiveServer, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"the server exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url("/healthz"), timeout=2) as response:
                if json.load(response).get("status") == "ok":
                    return
        except (OSError, urllib.error.URLError, ValueError):
            pass
        time.sleep(0.2)
    pytest.fail(f"the server did not become healthy:\n{log.read_text()[-3000:]}")


@contextmanager
def served_instance(
    instance: Path, log: Path, stop_with: int = signal.SIGTERM, **settings: str
) -> Iterator[LiveServer]:
    """gunicorn (make run's configuration) on ``instance``: migrated, the starter model
    trained, one admin; ``settings`` are more QC_* variables. Stopped on leaving with
    ``stop_with``: SIGTERM to the arbiter as a service manager does, or SIGINT to the whole
    process group as Ctrl-C in the terminal of `make run` does."""
    port = free_port()
    environment = server_environment(instance, port, **settings)
    flask_command("db", "upgrade", environment=environment)
    flask_command("qc", "setup", environment=environment)
    flask_command(
        "qc", "create-admin", ADMIN_USERNAME, environment=environment, stdin=ADMIN_PASSWORD + "\n"
    )
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "gunicorn.conf.py",
                "qcapp:create_app()",
            ],
            cwd=REPOSITORY_ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", instance, process, environment)
    try:
        wait_until_healthy(server, log)
        yield server
    finally:
        if stop_with == signal.SIGINT:
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(stop_with)
        try:
            process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # Workers end cleanly too: nothing left for the interpreter's teardown to trip over.
    text = log.read_text(errors="replace")
    assert "Exception ignored" not in text, text[-3000:]
    if stop_with == signal.SIGINT:
        assert "Traceback" not in text, text[-3000:]
