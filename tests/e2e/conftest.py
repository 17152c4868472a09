"""Fixtures of the browser tests: a live server on a free port, Chromium driven by Playwright,
and artifacts (screenshots; on failure page HTML and console logs) kept in tests/e2e/artifacts/.

Run with `make e2e`; `make test` leaves this folder out (see addopts in pyproject.toml).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_support import ARTIFACTS, CHROMIUM, REPOSITORY_ROOT, Tab
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from helpers import ADMIN_PASSWORD, ADMIN_USERNAME

# No network chatter, no GPU and no sandbox (containers often lack the kernel features for it).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 30.0
PAGES_KEY = pytest.StashKey[list["Tab"]]()
FAILED_STEP_KEY = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "incremental: the tests of the module are steps; after a failure, skip the rest"
    )
    config.stash[PAGES_KEY] = []
    # Start each run with an empty folder so every file in it belongs to this run.
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed and call.when in ("setup", "call"):
        keep_failure_artifacts(item, item.config.stash[PAGES_KEY])
        if "incremental" in item.keywords:
            item.parent.stash[FAILED_STEP_KEY] = item.name
    return report


def pytest_runtest_setup(item: pytest.Item) -> None:
    if "incremental" in item.keywords:
        failed = item.parent.stash.get(FAILED_STEP_KEY, None)
        if failed:
            pytest.skip(f"an earlier step failed: {failed}")


def keep_failure_artifacts(item: pytest.Item, tabs: list[Tab]) -> None:
    """Save the HTML, a screenshot and the console log of every open page of the failed test."""
    folder = ARTIFACTS / "failures" / re.sub(r"[^\w.-]+", "_", item.name)
    folder.mkdir(parents=True, exist_ok=True)
    for tab in tabs:
        if tab.page.is_closed():
            continue
        stem = folder / tab.name
        stem.with_suffix(".console.log").write_text("\n".join(tab.console) + "\n")
        try:
            stem.with_suffix(".html").write_text(f"<!-- {tab.page.url} -->\n" + tab.page.content())
            tab.page.screenshot(path=str(stem.with_suffix(".png")), full_page=True)
        except Exception as error:  # a crashed page must not hide the original failure
            stem.with_suffix(".error.txt").write_text(repr(error))


# --- the live server -----------------------------------------------------------------------


@dataclass
class LiveServer:
    base_url: str
    instance: Path
    process: subprocess.Popen

    def url(self, path: str) -> str:
        return self.base_url + path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(instance: Path, port: int) -> dict[str, str]:
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
    return environment


def flask_command(*args: str, environment: dict[str, str], stdin: str | None = None) -> None:
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


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """gunicorn serving a fresh instance: migrated database, starter model and one admin."""
    instance = tmp_path_factory.mktemp("instance")
    port = free_port()
    environment = server_environment(instance, port)
    flask_command("db", "upgrade", environment=environment)
    flask_command("qc", "setup", environment=environment)
    flask_command(
        "qc", "create-admin", ADMIN_USERNAME, environment=environment, stdin=ADMIN_PASSWORD + "\n"
    )
    log = ARTIFACTS / "server.log"
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
        )
    server = LiveServer(f"http://127.0.0.1:{port}", instance, process)
    try:
        wait_until_healthy(server, log)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (see .ci/run)")
    with sync_playwright() as playwright:
        # launch() gives every browser a new temporary profile (user-data dir) of its own, removed
        # on close; we never use Playwright's downloaded browsers, only the system Chromium.
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def open_tab(browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest):
    """Open a page in a new browser context (its own cookies) named for the artifacts."""
    contexts: list[BrowserContext] = []
    tabs = request.config.stash[PAGES_KEY]

    def open_tab(name: str, **context_options) -> Tab:
        context = browser.new_context(base_url=live_server.base_url, **context_options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        tab = Tab(name, context.new_page())
        tabs.append(tab)
        return tab

    yield open_tab
    for context in contexts:
        context.close()
    tabs.clear()
