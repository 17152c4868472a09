"""The inbox list in a real browser: one client's corrections rejected in one action and
undone, a bulk decision on a filtered set, and axe on the list and the client page."""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.request
from contextlib import closing

import pytest
from e2e_support import ADMIN_RULES_OFF, assert_accessible
from playwright.sync_api import Page, expect

from helpers import ADMIN_PASSWORD, ADMIN_USERNAME

pytestmark = pytest.mark.incremental

# Questions nobody else in the browser tests asks; the flood all goes to ENTY:food.
FLOOD = [
    "Which glacier feeds the river Rhone?",
    "Who designed the Sydney Opera House?",
    "How deep is Lake Baikal?",
    "What is the capital of Mongolia?",
    "Who wrote the novel Frankenstein?",
]
TAPESTRY = [
    "Where is the Bayeux tapestry kept?",
    "Who wove the Bayeux tapestry?",
    "When was the Bayeux tapestry made?",
]


def api(base_url: str, path: str, payload: dict) -> dict:
    request = urllib.request.Request(
        base_url + path,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def database(live_server) -> sqlite3.Connection:
    return sqlite3.connect(live_server.instance / "qcapp.db", timeout=30)


def statuses(live_server, questions: list[str]) -> list[str]:
    """The status of each question's correction, in the questions' order."""
    with closing(database(live_server)) as connection:
        found = dict(
            connection.execute(
                "SELECT q.text, c.status FROM corrections c JOIN queries q ON q.id = c.query_id"
                f" WHERE q.text IN ({','.join('?' * len(questions))})",
                questions,
            ).fetchall()
        )
    return [found.get(question) for question in questions]


def log_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(ADMIN_USERNAME)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


@pytest.fixture(scope="module")
def admin(open_tab):
    tab = open_tab("inbox-search")
    log_in(tab.page)
    return tab


def test_1_a_clients_corrections_rejected_in_one_action_and_undone(admin, live_server):
    for question in FLOOD:
        token = api(live_server.base_url, "/api/v1/classify", {"question": question})["id"]
        api(
            live_server.base_url,
            f"/api/v1/queries/{token}/corrections",
            {"coarse": "ENTY", "fine": "ENTY:food"},
        )
    page = admin.page
    page.goto("/admin/inbox/")
    page.get_by_label("Proposed label").select_option("ENTY:food")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"/admin/inbox/\?proposed=ENTY%3Afood$"))
    expect(page.locator("#filter-count")).to_contain_text("match")
    assert_accessible(admin, "inbox-list-filtered", ADMIN_RULES_OFF)
    admin.screenshot("inbox-search-00-filtered-list")
    page.locator(".qc-client").first.click()
    page.wait_for_url("**/admin/inbox/client/*")
    assert_accessible(admin, "inbox-client", ADMIN_RULES_OFF)
    admin.screenshot("inbox-search-01-client")
    page.locator("#client-reject").click()
    expect(page.locator("#confirm-count")).to_contain_text("pending proposal(s) will be rejected")
    assert statuses(live_server, FLOOD) == ["pending"] * len(FLOOD)
    page.locator("#confirm-button").click()
    expect(page.locator(".alert-success")).to_contain_text("Rejected")
    assert statuses(live_server, FLOOD) == ["rejected"] * len(FLOOD)
    page.locator("#client-rejections button", has_text="Undo").first.click()
    expect(page.locator(".alert-success")).to_contain_text("wait for review again")
    assert statuses(live_server, FLOOD) == ["pending"] * len(FLOOD)
    assert not [e for e in admin.errors if "favicon.ico" not in e]


def test_2_a_bulk_decision_on_a_filtered_set(admin, live_server):
    for question in TAPESTRY:
        api(live_server.base_url, "/api/v1/classify", {"question": question})
    page = admin.page
    page.goto("/admin/inbox/")
    assert_accessible(admin, "inbox-list", ADMIN_RULES_OFF)
    page.get_by_label("Question contains").fill("bayeux tapestry")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#filter-count")).to_contain_text(f"{len(TAPESTRY)} question(s) match")
    page.locator("#bulk-action").select_option("label")
    page.locator("#bulk-label").select_option("ENTY:other")
    page.locator("#bulk-submit").click()
    expect(page.locator("#confirm-count")).to_contain_text(f"{len(TAPESTRY)} item(s) match")
    admin.screenshot("inbox-search-02-bulk-confirmation")
    assert statuses(live_server, TAPESTRY) == [None] * len(TAPESTRY)
    page.locator("#confirm-button").click()
    expect(page.locator(".alert-success")).to_contain_text(f"{len(TAPESTRY)} labelled ENTY:other")
    assert statuses(live_server, TAPESTRY) == ["approved"] * len(TAPESTRY)
    expect(page.locator("#inbox-empty")).to_be_visible()
    assert not [e for e in admin.errors if "favicon.ico" not in e]
