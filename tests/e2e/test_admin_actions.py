"""Finding 5: admin deletes ask first and bulk actions work, under the CSP, in a real browser."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from e2e_support import Tab
from playwright.sync_api import expect

from helpers import ADMIN_PASSWORD, ADMIN_USERNAME

PROBE = "Which probe of the admin delete test is number"
PROBES = [f"{PROBE} {n}?" for n in range(1, 5)]


def stored_probes(live_server) -> list[str]:
    with sqlite3.connect(live_server.instance / "qcapp.db") as connection:
        rows = connection.execute(
            "SELECT text FROM examples WHERE text LIKE ? ORDER BY text", (f"{PROBE}%",)
        )
        return [text for (text,) in rows]


def add_probes(live_server) -> None:
    """Examples outside every dataset, so deleting them changes nothing else the tests use."""
    now = datetime.now(UTC).isoformat(sep=" ")
    with sqlite3.connect(live_server.instance / "qcapp.db") as connection:
        connection.executemany(
            "INSERT INTO examples (text, normalized, coarse, fine, source, created_at, updated_at)"
            " VALUES (?, ?, 'NUM', 'NUM:count', 'base', ?, ?)",
            [(text, text.lower(), now, now) for text in PROBES],
        )


def log_in(tab: Tab) -> None:
    page = tab.page
    page.goto("/login")
    page.get_by_label("Username").fill(ADMIN_USERNAME)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def test_delete_asks_first_and_bulk_delete_works(open_tab, live_server):
    add_probes(live_server)
    admin = open_tab("admin-actions")
    page = admin.page
    log_in(admin)
    questions: list[str] = []
    page.goto(f"/admin/examples/?search={PROBE.replace(' ', '+')}")
    rows = page.locator("table.model-list tbody tr", has_text=PROBE)
    expect(rows).to_have_count(4)
    first = rows.filter(has_text=PROBES[0])

    # Cancel: the record stays, in the page and in the database.
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    first.locator("button.delete-row").click()
    expect(rows).to_have_count(4)
    page.reload()
    expect(rows).to_have_count(4)
    assert stored_probes(live_server) == PROBES
    assert questions == ["Delete this record? This cannot be undone."]

    # Confirm: the record is gone.
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    first.locator("button.delete-row").click()
    expect(page.locator(".alert", has_text="successfully deleted")).to_be_visible()
    expect(rows).to_have_count(3)
    assert stored_probes(live_server) == PROBES[1:]
    admin.screenshot("admin-delete-confirmed")

    # "With selected" → Delete with nothing ticked says so and deletes nothing.
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="With selected").click()
    page.locator("[data-bulk-action=delete]").click()
    assert questions[-1] == "Please select at least one record."
    assert stored_probes(live_server) == PROBES[1:]

    # Tick two of the three, cancel once, then confirm: exactly those two go.
    for text in PROBES[1:3]:
        rows.filter(has_text=text).locator("input.action-checkbox").check()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="With selected").click()
    page.locator("[data-bulk-action=delete]").click()
    assert stored_probes(live_server) == PROBES[1:]
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="With selected").click()
    page.locator("[data-bulk-action=delete]").click()
    expect(page.locator(".alert", has_text="successfully deleted")).to_be_visible()
    assert questions[-1] == "Are you sure you want to delete selected records?"
    expect(rows).to_have_count(1)
    assert stored_probes(live_server) == PROBES[3:]
    admin.screenshot("admin-bulk-deleted")

    # Nothing of this needed an inline handler: the CSP refused nothing.
    refused = [line for line in admin.console if "Content Security Policy" in line]
    assert refused == [] and admin.errors == []
