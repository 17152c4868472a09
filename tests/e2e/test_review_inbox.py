"""The review inbox card in a real browser: an admin decides by keyboard alone without a page
load, any class through the picker (words or a two-letter code), discards a non-question that
the next refit's scope check then refuses, reads the keys overlay, sees a concurrent decision's
refusal on the card with nothing lost, then works by touch on a 375 x 812 phone; every
decision is an approved correction with its audit event, and undo stays in the queue."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.request
from contextlib import closing

import pytest
from e2e_support import ADMIN_RULES_OFF, ARTIFACTS, Tab, assert_accessible
from live_server import flask_command
from playwright.sync_api import Page, expect

from helpers import ADMIN_PASSWORD, ADMIN_USERNAME

pytestmark = pytest.mark.incremental

DECISIONS = 20
TOUCH_DECISIONS = 10
PHONE = {"width": 375, "height": 812}
JUNK = "test test"  # the shipped scope check takes it for a question
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


def send_traffic(base_url: str, questions: list[str]) -> list[dict]:
    """Ask every question through the API, as visitors' traffic; the answers."""
    answers = []
    for question in questions:
        request = urllib.request.Request(
            base_url + "/api/v1/classify",
            data=json.dumps({"question": question}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            answers.append(json.load(response))
    return answers


def database(live_server) -> sqlite3.Connection:
    return sqlite3.connect(live_server.instance / "qcapp.db", timeout=30)


def query_id(live_server, question: str) -> int:
    with closing(database(live_server)) as connection:
        return connection.execute(
            "SELECT max(id) FROM queries WHERE text = ?", (question,)
        ).fetchone()[0]


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


def is_decided(live_server, question: str, label: str) -> bool:
    return (question, label, ADMIN_USERNAME, "correction_approved") in approved_decisions(
        live_server
    )


def eventually(check, what: str, seconds: float = 10.0) -> None:
    """Decisions are posted in the background: wait for the database to show them."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def assert_stored(live_server, decided: dict[str, str]) -> None:
    def all_stored() -> bool:
        stored = approved_decisions(live_server)
        return all(
            (question, label, ADMIN_USERNAME, "correction_approved") in stored
            for question, label in decided.items()
        )

    eventually(all_stored, f"not every decision was stored: {decided}")


def log_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(ADMIN_USERNAME)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def card_question(page: Page) -> str:
    return page.locator("#card-question").inner_text().strip()


def next_card(page: Page, question: str) -> None:
    """Wait until the card shows another question than ``question``."""
    expect(page.locator("#card-question")).not_to_have_text(question)


def goto(page: Page, url: str) -> None:
    """Leave the card once every background decision was answered (the card asks before
    leaving with one still on its way)."""
    page.wait_for_function(
        "() => !document.getElementById('inbox-card')"
        " || (document.getElementById('inbox-card').dataset.pending || '0') === '0'"
    )
    page.goto(url)


def chosen_label(page: Page, key: str) -> str:
    return page.locator(f'input[data-key="{key}"]').get_attribute("value")


def needs_override(page: Page, label: str) -> bool:
    base = page.locator(".qc-card-item").get_attribute("data-base-label")
    return bool(base) and base != label


def page_fits(page: Page, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{page.url} lays out {overflow} px wide on a {width} px screen"


def page_errors(tab: Tab) -> list[str]:
    """Console errors, less the browser's own favicon request and the refusals a step asks
    for on purpose (a 409 is logged by the browser as a failed resource)."""
    return [error for error in tab.errors if "favicon.ico" not in error and "409" not in error]


@pytest.fixture(scope="module")
def state() -> dict:
    return {}


def test_1_admin_decides_by_keyboard_without_page_loads(open_tab, live_server, state):
    send_traffic(live_server.base_url, KEYBOARD_QUESTIONS)
    admin: Tab = open_tab("inbox-keyboard", viewport={"width": 1280, "height": 800})
    page = admin.page
    log_in(page)
    page.goto("/admin/inbox/card?at=0")
    assert_accessible(admin, "inbox-card", ADMIN_RULES_OFF)
    page.evaluate("window.stillTheSamePage = true")
    keystrokes, decided = 0, {}
    for number in range(DECISIONS):
        question = card_question(page)
        assert question not in decided, f"{question!r} came back after its decision"
        # Every third item takes another label than the preselected one: its number, then Enter.
        if number % 3 == 2 and page.locator('input[data-key="2"]').count():
            page.keyboard.press("2")
            keystrokes += 1
            label = chosen_label(page, "2")
        else:
            label = page.locator("input[name=fine]:checked").get_attribute("value")
        if needs_override(page, label):
            page.keyboard.press("Enter")  # shows the one override message; Enter confirms
            expect(page.locator(".qc-override")).to_be_visible()
            keystrokes += 1
        page.keyboard.press("Enter")
        keystrokes += 1
        next_card(page, question)
        decided[question] = label
    assert page.evaluate("window.stillTheSamePage") is True, "a decision loaded a page"
    admin.screenshot("inbox-01-after-keyboard-decisions")
    (ARTIFACTS / "inbox-keystrokes.txt").write_text(f"{keystrokes} keys, {DECISIONS} decisions\n")
    assert keystrokes / DECISIONS <= 2, f"{keystrokes} keystrokes for {DECISIONS} decisions"
    assert_stored(live_server, decided)
    expect(page.locator("#card-status")).to_contain_text("Labelled 1 question(s)")
    state["keyboard"] = decided

    # u undoes the last decision and stays in the queue: the item is the current card again,
    # s skips on from it and k comes back to it.
    last, last_label = list(decided.items())[-1]
    page.keyboard.press("u")
    expect(page.locator("#card-question")).to_have_text(last)
    eventually(lambda: not is_decided(live_server, last, last_label), "the undo was not stored")
    page.keyboard.press("s")
    next_card(page, last)
    page.keyboard.press("k")
    expect(page.locator("#card-question")).to_have_text(last)
    assert page.evaluate("window.stillTheSamePage") is True
    assert page_errors(admin) == [], "console errors on the inbox card"
    state["admin"] = admin


def test_2_any_class_by_words_or_by_its_two_letter_code(live_server, state):
    lion, peak = "Which is bigger, a lion or a tiger?", "Which peak is the highest in the Alps?"
    send_traffic(live_server.base_url, [lion, peak])
    page = state["admin"].page
    goto(page, f"/admin/inbox/card?item={query_id(live_server, lion)}")
    expect(page.locator("#card-question")).to_have_text(lion)
    page.keyboard.press("/")
    expect(page.locator("#picker-input")).to_be_focused()
    page.keyboard.type("anim")
    expect(page.locator('#picker-list [aria-selected="true"]')).to_have_attribute(
        "data-label", "ENTY:animal"
    )
    assert_accessible(state["admin"], "inbox-picker", ADMIN_RULES_OFF)
    page.keyboard.press("Enter")
    next_card(page, lion)
    eventually(lambda: is_decided(live_server, lion, "ENTY:animal"), "ENTY:animal not stored")

    # `l`, two letters, Enter: LOC:mount is "lm" whatever the card offers.
    goto(page, f"/admin/inbox/card?item={query_id(live_server, peak)}")
    expect(page.locator("#card-question")).to_have_text(peak)
    for key in ("l", "l", "m", "Enter"):
        page.keyboard.press(key)
    next_card(page, peak)
    eventually(lambda: is_decided(live_server, peak, "LOC:mount"), "LOC:mount not stored")

    # Escape closes the picker without deciding; the card's keys work again at once.
    question = card_question(page)
    page.keyboard.press("/")
    page.keyboard.press("x")  # typed into the picker, not a rejection
    page.keyboard.press("Escape")
    expect(page.locator("#picker")).to_be_hidden()
    expect(page.locator("#card-question")).to_have_text(question)


def test_3_the_keys_overlay(state):
    page = state["admin"].page
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keys of the card")
    expect(dialog).to_be_visible()
    expect(page.locator("#keys-close")).to_be_focused()
    for key in ("Enter", "/", "x", "d", "u"):
        expect(dialog.locator("kbd", has_text=key).first).to_be_visible()
    assert_accessible(state["admin"], "inbox-keys", ADMIN_RULES_OFF)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("#keys-button")).to_be_visible()


def test_4_a_concurrent_decision_is_shown_on_the_card_and_nothing_is_lost(live_server, state):
    question = "Which ocean is the deepest?"
    send_traffic(live_server.base_url, [question])
    page = state["admin"].page
    goto(page, f"/admin/inbox/card?item={query_id(live_server, question)}")
    expect(page.locator("#card-question")).to_have_text(question)
    # Another reviewer decides the same item meanwhile (the same session, by a plain post).
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    other = page.request.post(
        "/admin/inbox/decide",
        form={
            "csrf_token": token,
            "query_ids": str(query_id(live_server, question)),
            "fine": "LOC:other",
        },
        headers={"Accept": "application/json"},
    )
    assert other.ok, other.text()
    label = page.locator("input[name=fine]:checked").get_attribute("value")
    if needs_override(page, label):
        page.keyboard.press("o")
    page.keyboard.press("Enter")
    error = page.locator(".qc-card-error")
    expect(error).to_contain_text("changed since its card was shown")
    expect(page.locator("#card-question")).to_have_text(question)
    # Retrying decides it: the card now carries the fresh state.
    page.keyboard.press("Enter")
    next_card(page, question)
    eventually(lambda: is_decided(live_server, question, label), "the retry was not stored")


def test_5_discard_and_the_next_refit_refuses_the_same_input(live_server, state):
    [answer] = send_traffic(live_server.base_url, [JUNK])
    assert answer["in_scope"] is True
    page = state["admin"].page
    goto(page, f"/admin/inbox/card?item={query_id(live_server, JUNK)}")
    expect(page.locator("#card-question")).to_have_text(JUNK)
    page.keyboard.press("d")
    next_card(page, JUNK)
    expect(page.locator("#card-status")).to_contain_text("Discarded as not a question")

    def discarded() -> bool:
        with closing(database(live_server)) as connection:
            return (
                connection.execute(
                    "SELECT count(*) FROM discarded_questions WHERE text = ?", (JUNK,)
                ).fetchone()[0]
                == 1
            )

    eventually(discarded, "the discard was not stored")
    flask_command("qc", "retrain", "--quick", "--wait", environment=live_server.environment)
    deadline = time.monotonic() + 15
    while True:  # each worker swaps to the new version within half a second or so
        [answer] = send_traffic(live_server.base_url, [JUNK])
        if answer["in_scope"] is False or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert answer["in_scope"] is False, answer
    assert page_errors(state["admin"]) == [], "console errors on the inbox card"


def test_6_by_touch_on_a_375_by_812_phone(open_tab, live_server, state):
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
    # The choices and Approve are on the first screen, without scrolling.
    assert page.evaluate("window.scrollY") == 0
    approve = page.locator("#approve-button").bounding_box()
    assert approve["y"] + approve["height"] <= PHONE["height"], approve
    for choice in page.locator(".qc-choice label").all():
        box = choice.bounding_box()
        assert box["y"] + box["height"] <= approve["y"] + 1, (box, approve)
    phone.screenshot("inbox-02-phone-card")
    assert_accessible(phone, "inbox-card-phone", ADMIN_RULES_OFF)
    decided = {}
    while len(decided) < TOUCH_DECISIONS:
        question = card_question(page)
        assert question not in decided, f"{question!r} came back after its decision"
        choice = (
            "2"
            if len(decided) % 3 == 2 and page.locator("#choice-2").count()
            else page.locator("input[name=fine]:checked").get_attribute("data-key")
        )
        page.locator(f'label[for="choice-{choice}"]').tap()
        label = chosen_label(page, choice)
        if needs_override(page, label):
            page.locator('label[for="confirm-override"]').tap()
        page.locator("#approve-button").tap()
        next_card(page, question)
        decided[question] = label
    # The picker by touch: tap it open, type a code, tap the class.
    question = card_question(page)
    page.locator("#picker-button").tap()
    page.locator("#picker-input").fill("ea")
    page.locator("#pick-ea").tap()
    if needs_override(page, "ENTY:animal"):  # the one message shows; confirming approves
        expect(page.locator(".qc-override")).to_be_visible()
        page.locator('label[for="confirm-override"]').tap()
        page.locator("#approve-button").tap()
    next_card(page, question)
    decided[question] = "ENTY:animal"
    page_fits(page, PHONE["width"])
    assert_stored(live_server, decided)
    page.locator("#undo-button").tap()
    expect(page.locator("#card-question")).to_have_text(question)
    eventually(lambda: not is_decided(live_server, question, "ENTY:animal"), "undo not stored")
    page.locator("#skip-link").tap()
    next_card(page, question)
    goto(page, "/admin/review/")
    page_fits(page, PHONE["width"])
    assert page_errors(phone) == [], "console errors on the phone"
