"""The review inbox in a real browser: an admin decides 30 items with the keyboard alone, then
the same journey by touch on a 375 px phone; every decision is an approved correction with its
audit event, and undo brings the last item back."""

from __future__ import annotations

import json
import sqlite3
import urllib.request
from contextlib import closing

import pytest
from e2e_support import ADMIN_RULES_OFF, ARTIFACTS, Tab, assert_accessible
from playwright.sync_api import Page, expect

from helpers import ADMIN_PASSWORD, ADMIN_USERNAME

pytestmark = pytest.mark.incremental

DECISIONS = 30
PHONE = {"width": 375, "height": 740}
# Varied questions nobody else in the browser tests asks, so no two are near-duplicates.
KEYBOARD_QUESTIONS = [
    "Which composer wrote the opera Turandot?",
    "How many moons does Neptune have?",
    "What language is spoken in Suriname?",
    "Who founded the city of Saint Petersburg?",
    "What does a cartographer make?",
    "When did the Berlin Wall fall?",
    "Which river flows through Budapest?",
    "What is the boiling point of ethanol?",
    "Who painted The Night Watch?",
    "What currency does Iceland use?",
    "How tall is the Eiffel Tower?",
    "What sport did Babe Ruth play?",
    "Where was the first Olympic Games held?",
    "What is the chemical symbol for tungsten?",
    "Who invented the phonograph?",
    "Which planet has the Great Red Spot?",
    "What is a haiku?",
    "How long is a marathon race?",
    "What animal is the symbol of the WWF?",
    "Which desert covers most of Botswana?",
    "Who was the first woman to fly solo across the Atlantic?",
    "What instrument did Jimi Hendrix play?",
    "How old was Mozart when he died?",
    "What gas do plants absorb from the air?",
    "Which country gave the Statue of Liberty to the United States?",
    "What is the longest bone in the human body?",
    "Who directed the film Vertigo?",
    "What does NATO stand for?",
    "In which year did the Titanic sink?",
    "What is the capital of New Zealand?",
    "Which mountain range separates Europe from Asia?",
]
TOUCH_QUESTIONS = [
    "What is the national flower of Japan?",
    "Who wrote the novel Moby Dick?",
    "How many strings does a cello have?",
    "Which metal is liquid at room temperature?",
    "What is the largest island in the Mediterranean?",
    "Who discovered the planet Uranus?",
    "What colour is a ruby?",
    "How many players are on a rugby union team?",
    "Which city hosts the Louvre museum?",
    "What is the main ingredient of guacamole?",
    "Who was the Roman god of war?",
    "What is the speed of sound in air?",
    "Which bird is known for mimicking human speech?",
    "What does a seismograph measure?",
    "Who was the first emperor of China?",
    "What is the hardest natural substance?",
    "Which ocean lies between Africa and Australia?",
    "What is the freezing point of seawater?",
    "Who composed the Four Seasons?",
    "What kind of animal is a Komodo dragon?",
    "Which country has the most volcanoes?",
    "How many bones are in the adult human hand?",
    "Who wrote the play Waiting for Godot?",
    "What is the smallest prime number?",
    "Which vitamin does sunlight help the body make?",
    "What is the tallest waterfall in the world?",
    "Who founded the Red Cross?",
    "What fruit is used to make cider?",
    "Which element has the atomic number one?",
    "What is the currency of Brazil?",
    "Who sculpted the statue of David?",
]


def send_traffic(base_url: str, questions: list[str]) -> None:
    """Ask every question through the API, as visitors' traffic."""
    for question in questions:
        request = urllib.request.Request(
            base_url + "/api/v1/classify",
            data=json.dumps({"question": question}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


def database(live_server) -> sqlite3.Connection:
    return sqlite3.connect(live_server.instance / "qcapp.db", timeout=30)


def approved_decisions(live_server) -> set[tuple[str, str, str, str]]:
    """Every approved correction as (question, label, reviewer, audit action recorded for it)."""
    with closing(database(live_server)) as connection:
        rows = connection.execute(
            """
            SELECT q.text, c.fine, u.username, e.action
            FROM corrections c
            JOIN queries q ON q.id = c.query_id
            LEFT JOIN users u ON u.id = c.reviewed_by_id
            LEFT JOIN audit_events e
              ON e.target_type = 'correction' AND e.target_id = CAST(c.id AS TEXT)
             AND e.action = 'correction_approved'
            WHERE c.status = 'approved'
            """
        ).fetchall()
    return set(rows)


def assert_stored(live_server, decided: dict[str, str]) -> None:
    stored = approved_decisions(live_server)
    for question, label in decided.items():
        assert (question, label, ADMIN_USERNAME, "correction_approved") in stored, question


def is_decided(live_server, question: str, label: str) -> bool:
    return (question, label, ADMIN_USERNAME, "correction_approved") in approved_decisions(
        live_server
    )


def log_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(ADMIN_USERNAME)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def card_question(page: Page) -> str:
    return page.locator("#card-question").inner_text().strip()


def chosen_label(page: Page, key: str) -> str:
    return page.locator(f'input[data-key="{key}"]').get_attribute("value")


def page_fits(page: Page, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{page.url} lays out {overflow} px wide on a {width} px screen"


def page_errors(tab: Tab) -> list[str]:
    """Console errors, less the browser's own favicon request (the site has no icon)."""
    return [error for error in tab.errors if "favicon.ico" not in error]


@pytest.fixture(scope="module")
def state() -> dict:
    return {}


def test_1_admin_decides_30_items_by_keyboard(open_tab, live_server, state):
    send_traffic(live_server.base_url, KEYBOARD_QUESTIONS)
    admin: Tab = open_tab("inbox-keyboard")
    page = admin.page
    log_in(page)
    page.goto("/admin/inbox/card?at=0")
    assert_accessible(admin, "inbox-card", ADMIN_RULES_OFF)
    keystrokes, decided = 0, {}
    for number in range(DECISIONS):
        question = card_question(page)
        assert question not in decided, f"{question!r} came back after its decision"
        # A label against the base dataset needs the override box: o ticks it.
        flagged = page.locator(".flag-warning").count() > 0
        # Every third item takes another label than the default: its number, then Enter.
        if number % 3 == 2 and not flagged and page.locator('input[data-key="2"]').count():
            page.keyboard.press("2")
            keystrokes += 1
            label = chosen_label(page, "2")
        else:
            label = page.locator("input[name=fine]:checked").get_attribute("value")
            if flagged:
                page.keyboard.press("o")
                keystrokes += 1
        with page.expect_navigation():
            page.keyboard.press("Enter")
        keystrokes += 1
        expect(page.locator(".alert-success", has_text="Labelled")).to_be_visible()
        decided[question] = label
    admin.screenshot("inbox-01-after-30-keyboard-decisions")
    (ARTIFACTS / "inbox-keystrokes.txt").write_text(f"{keystrokes} keys, {DECISIONS} decisions\n")
    assert keystrokes / DECISIONS <= 2, f"{keystrokes} keystrokes for {DECISIONS} decisions"
    assert_stored(live_server, decided)
    state["keyboard"] = decided

    # u undoes the last decision: its item is back on the card and leaves the stored decisions.
    last, last_label = list(decided.items())[-1]
    with page.expect_navigation():
        page.keyboard.press("u")
    expect(page.locator("#card-question")).to_have_text(last)
    assert not is_decided(live_server, last, last_label)
    # s skips and k goes back, without deciding anything.
    page.goto("/admin/inbox/card?at=0")
    first = card_question(page)
    with page.expect_navigation():
        page.keyboard.press("s")
    assert card_question(page) != first
    with page.expect_navigation():
        page.keyboard.press("k")
    assert card_question(page) == first
    assert page_errors(admin) == [], "console errors on the inbox card"


def test_2_the_same_journey_by_touch_at_375_px(open_tab, live_server, state):
    send_traffic(live_server.base_url, TOUCH_QUESTIONS)
    phone: Tab = open_tab("inbox-phone", viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.page
    log_in(page)
    page_fits(page, PHONE["width"])  # the dashboard
    page.goto("/admin/inbox/")
    page_fits(page, PHONE["width"])
    page.locator("#start-review").tap()
    page.wait_for_url("**/admin/inbox/card?at=*")
    page_fits(page, PHONE["width"])
    decided = {}
    while len(decided) < DECISIONS:
        question = card_question(page)
        assert question not in decided, f"{question!r} came back after its decision"
        flagged = page.locator(".flag-warning").count() > 0
        choice = (
            "2"
            if len(decided) % 3 == 2 and not flagged and page.locator("#choice-2").count()
            else page.locator("input[name=fine]:checked").get_attribute("data-key")
        )
        page.locator(f'label[for="choice-{choice}"]').tap()
        label = chosen_label(page, choice)
        if flagged:
            page.locator('label[for="confirm-override"]').tap()
        page.locator("#approve-button").tap()
        expect(page.locator(".alert-success", has_text="Labelled")).to_be_visible()
        decided[question] = label
    page_fits(page, PHONE["width"])
    phone.screenshot("inbox-02-phone-card")
    assert_stored(live_server, decided)
    last, last_label = list(decided.items())[-1]
    page.locator("#undo-button").tap()
    expect(page.locator("#card-question")).to_have_text(last)
    assert not is_decided(live_server, last, last_label)
    page.goto("/admin/review/")
    page_fits(page, PHONE["width"])
    assert page_errors(phone) == [], "console errors on the phone"
