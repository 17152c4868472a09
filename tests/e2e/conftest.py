"""Fixtures of the browser tests: a live server on a free port, Chromium driven by Playwright,
and artifacts (screenshots; on failure page HTML and console logs) kept in tests/e2e/artifacts/.

Run with `make e2e`; `make test` leaves this folder out (see addopts in pyproject.toml).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from e2e_support import ARTIFACTS, CHROMIUM, Tab
from live_server import LiveServer, served_instance
from playwright.sync_api import Browser, BrowserContext, sync_playwright

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


# --- the live server ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """gunicorn serving a fresh instance: migrated database, starter model and one admin."""
    with served_instance(tmp_path_factory.mktemp("instance"), ARTIFACTS / "server.log") as server:
        yield server


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
