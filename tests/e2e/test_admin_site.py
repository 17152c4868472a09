"""The admin site in a real browser, on a server of its own: every admin page passes axe with no
serious or critical violation, the keyboard finds a skip link first, the menu keeps to one line
at 1280 px and wide tables scroll in their own box at 375 px; users are created, disabled and
given another role from the site, and a version is activated with a reason. The tests are
steps of one story, run in order; after a failed step the later ones are skipped."""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.request
from contextlib import closing
from dataclasses import dataclass, field

import pytest
from e2e_support import ARTIFACTS, Tab, assert_accessible
from live_server import LiveServer, flask_command, served_instance
from playwright.sync_api import Page, expect

from helpers import ADMIN_PASSWORD, ADMIN_USERNAME

pytestmark = pytest.mark.incremental

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
QUESTIONS = [
    "Who painted the ceiling of the Sistine Chapel?",
    "How far is the Moon from the Earth?",
    "What is the capital of Australia?",
    "Which gas makes up most of the air we breathe?",
    "When was the printing press invented?",
]
REVIEWER_PASSWORD = "a reviewer's password"
REASON = "the candidate labels cities better"


@dataclass
class Story:
    """What one step learns and a later step needs."""

    admin: Tab | None = None
    ids: dict[str, int] = field(default_factory=dict)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> LiveServer:
    """A server of this module's own: it registers a second version and changes accounts,
    which the other browser tests' shared server must not see."""
    with served_instance(
        tmp_path_factory.mktemp("admin-site"), ARTIFACTS / "admin-site-server.log"
    ) as server:
        # A second version, registered but not active: something to activate.
        flask_command("qc", "train", "--quick", "--no-activate", environment=server.environment)
        yield server


@pytest.fixture(scope="module")
def story() -> Story:
    return Story()


def call_api(server: LiveServer, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        server.url(path), data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.load(response)


def one_value(server: LiveServer, sql: str, *args):
    with closing(sqlite3.connect(server.instance / "qcapp.db", timeout=30)) as connection:
        return connection.execute(sql, args).fetchone()[0]


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_1_every_admin_page_passes_axe(open_tab, live_server, story: Story):
    answers = [call_api(live_server, "/api/v1/classify", {"question": q}) for q in QUESTIONS]
    call_api(
        live_server, f"/api/v1/queries/{answers[0]['id']}/corrections",
        {"coarse": "HUM", "fine": "HUM:ind"},
    )
    story.ids = {
        "version": one_value(live_server, "SELECT id FROM model_versions WHERE is_active"),
        "run": one_value(live_server, "SELECT max(id) FROM training_runs"),
        "admin": one_value(live_server, "SELECT id FROM users WHERE username = ?", ADMIN_USERNAME),
    }
    admin = story.admin = open_tab("admin-site", viewport=DESKTOP)
    page = admin.page
    log_in(page, ADMIN_USERNAME, ADMIN_PASSWORD)
    page.wait_for_url("**/admin/")
    pages = {
        "dashboard": "/admin/",
        "inbox": "/admin/inbox/",
        "inbox-card": "/admin/inbox/card?at=0",
        "review-queue": "/admin/review/",
        "queries": "/admin/queries/",
        "corrections": "/admin/corrections/",
        "examples": "/admin/examples/",
        "label-issues": "/admin/label-issues/",
        "versions": "/admin/versions/",
        "version-details": f"/admin/versions/{story.ids['version']}",
        "runs": "/admin/runs/",
        "run-details": f"/admin/runs/{story.ids['run']}",
        "users": "/admin/users/",
        "user-new": "/admin/users/new",
        "user-details": f"/admin/users/{story.ids['admin']}",
        "audit-log": "/admin/audit/",
        "password": "/account/password",
    }
    for name, path in pages.items():
        page.goto(path)
        expect(page.locator("h1")).to_have_count(1)
        assert page.evaluate("document.documentElement.lang") == "en", name
        if path.startswith("/admin"):
            expect(page.locator("main#content")).to_have_count(1)
        assert_accessible(admin, f"admin-{name}")
    expect(page.locator("main h1")).to_have_text("Change password")
    assert admin.errors == [], "console errors on the admin pages"


def test_2_the_keyboard_finds_the_skip_link_first_and_the_menu_keeps_to_one_line(
    story: Story,
):
    page = story.admin.page
    page.goto("/admin/queries/")
    page.locator("body").focus()
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("Skip to content")
    expect(skip).to_be_in_viewport()  # visible while it has focus
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    # The next stop is inside the main content, past the whole menu.
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")

    # At 1280 px every menu entry sits on the navigation bar's one line.
    tops = page.locator("#admin-navbar-collapse > ul > li").evaluate_all(
        "items => items.map(item => Math.round(item.getBoundingClientRect().top))"
    )
    assert len(tops) >= 5 and len(set(tops)) == 1, tops
    story.admin.screenshot("admin-site-menu-1280")
    # The grouped entries open from the keyboard.
    data_menu = page.get_by_role("button", name="Data")
    data_menu.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Examples")).to_be_visible()
    page.keyboard.press("Escape")


def test_3_wide_tables_scroll_in_their_own_box_on_a_phone(open_tab):
    phone = open_tab("admin-site-phone", viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.page
    log_in(page, ADMIN_USERNAME, ADMIN_PASSWORD)
    page.wait_for_url("**/admin/")
    for path, table in (
        ("/admin/queries/", "table.model-list"), ("/admin/versions/", "#versions-table")
    ):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width} px wide"
        box = page.locator(table).evaluate(
            """table => {
                const box = table.closest('.table-responsive');
                return box && {scrolls: box.scrollWidth > box.clientWidth,
                               overflow: getComputedStyle(box).overflowX};
            }"""
        )
        assert box and box["overflow"] == "auto", (path, box)
        assert box["scrolls"], f"the table of {path} fits: nothing to scroll"
        # The last column is reached by scrolling the box, not the page.
        last_cell = page.locator(table).locator("tbody tr").first.locator("td").last
        last_cell.scroll_into_view_if_needed()
        assert page.evaluate("window.scrollX") == 0
        phone.screenshot(f"admin-site-phone-{path.strip('/').replace('/', '-')}")
    # The menu folds behind its button on a phone and opens by touch.
    page.get_by_role("button", name="Toggle navigation").tap()
    expect(page.get_by_role("link", name="Users")).to_be_visible()
    assert phone.errors == []


def test_4_users_are_created_disabled_and_given_another_role(open_tab, story: Story):
    page = story.admin.page
    page.goto("/admin/users/")
    page.get_by_role("link", name="New user").click()
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Role").select_option("reviewer")
    page.get_by_label("Type one").check()
    page.get_by_label("New password", exact=True).fill(REVIEWER_PASSWORD)
    page.get_by_label("New password again").fill(REVIEWER_PASSWORD)
    page.get_by_role("button", name="Create user").click()
    expect(page.locator(".alert-success")).to_contain_text("Created reviewer rita")
    expect(page.locator("#user-role")).to_have_text("reviewer")
    rita_page = page.url

    # A second account with a generated password, shown once.
    page.goto("/admin/users/new")
    page.get_by_label("Username").fill("victor")
    page.get_by_role("button", name="Create user").click()
    victor_password = page.locator("#new-password").input_value()
    assert len(victor_password) == 24

    rita = open_tab("admin-site-rita")
    log_in(rita.page, "rita", REVIEWER_PASSWORD)
    rita.page.wait_for_url("**/admin/")
    expect(rita.page.get_by_role("link", name="Users")).to_have_count(0)  # a reviewer's menu

    # Disabled from the site: rita's open session ends and her login is refused.
    page.goto(rita_page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Disable rita").click()
    expect(page.locator(".alert-success")).to_contain_text("Disabled rita")
    expect(page.locator("#user-status")).to_have_text("disabled")
    rita.page.goto("/admin/review/")
    expect(rita.page).to_have_url(re.compile(r"/login\?next="))
    log_in(rita.page, "rita", REVIEWER_PASSWORD)
    expect(rita.page.locator(".flash-error, .error, [role=alert]").first).to_contain_text(
        "Wrong username or password"
    )

    # victor, a reviewer, becomes an admin: the Users page opens for him.
    victor = open_tab("admin-site-victor")
    log_in(victor.page, "victor", victor_password)
    victor.page.wait_for_url("**/admin/")
    assert victor.page.goto("/admin/users/").status == 403
    page.goto("/admin/users/")
    page.get_by_role("link", name="victor").click()
    page.get_by_label("Role of victor").select_option("admin")
    page.get_by_role("button", name="Change role").click()
    expect(page.locator("#user-role")).to_have_text("admin")
    assert victor.page.goto("/admin/users/").status == 200

    # My own account: no button to lock myself out.
    page.goto(f"/admin/users/{story.ids['admin']}")
    expect(page.locator("#own-account")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Disable"))).to_have_count(0)
    story.admin.screenshot("admin-site-users")


def test_5_a_version_is_activated_with_a_reason(live_server, story: Story):
    page = story.admin.page
    page.goto("/admin/versions/")
    candidate = page.locator("#versions-table tbody tr", has_text="candidate")
    expect(candidate).to_have_count(1)
    name = candidate.get_attribute("data-version")
    active = page.locator("#versions-table .badge", has_text="active")
    expect(active).to_have_count(1)
    before = active.locator("xpath=ancestor::tr").get_attribute("data-version")
    candidate.get_by_role("link", name=re.compile("^Activate")).click()
    expect(page.locator("h1")).to_contain_text(f"Activate version {name}?")
    expect(page.locator("#activation-summary")).to_contain_text("newer")
    # The reason is required: the browser will not send the form without it.
    page.get_by_role("button", name=f"Activate {name}").click()
    assert page.evaluate("document.querySelector('#reason').validity.valueMissing")
    assert one_value(live_server, "SELECT version FROM model_versions WHERE is_active") == before
    page.get_by_label(re.compile("^Reason")).fill(REASON)
    page.get_by_role("button", name=f"Activate {name}").click()
    expect(page.locator(".alert-success")).to_contain_text(f"Version {name} is now active")
    assert one_value(live_server, "SELECT version FROM model_versions WHERE is_active") == name

    page.goto("/admin/audit/?search=" + name)
    expect(page.locator("table.model-list")).to_contain_text(
        f"activated newer version {name} (replacing {before}) because {REASON}"
    )
    story.admin.screenshot("admin-site-audit-activation")
    assert story.admin.errors == []
