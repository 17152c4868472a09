"""The visitor's side: the scope message, the question box, batch files, the API reference,
and a correction by one tap on a phone."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.request

from e2e_support import Tab
from playwright.sync_api import expect

PHONE = {"width": 375, "height": 740}
RESULT_URL = re.compile(r"/q/[A-Za-z0-9_-]{24}$")


def ask_with_enter(tab: Tab, question: str) -> None:
    page = tab.page
    page.goto("/")
    page.locator("textarea#question").fill(question)
    page.locator("textarea#question").press("Enter")
    page.wait_for_url(RESULT_URL)


def test_non_english_input_gets_the_scope_message_and_no_label(open_tab):
    visitor = open_tab("scope")
    ask_with_enter(visitor, "¿Quién pintó la Mona Lisa?")
    page = visitor.page
    expect(page.locator("#scope-message")).to_contain_text(
        "This doesn't look like an English question"
    )
    expect(page.locator("#fine-label")).to_have_count(0)
    expect(page.locator(".bar")).to_have_count(0)  # no confidence shown as an answer
    expect(page.locator("#confirm-button")).to_have_count(0)
    visitor.screenshot("scope-message")
    assert visitor.errors == [], "console errors"


def test_enter_submits_and_shift_enter_adds_a_line(open_tab):
    visitor = open_tab("question-box")
    page = visitor.page
    page.goto("/")
    box = page.locator("textarea#question")
    expect(box).to_have_attribute("maxlength", "500")
    expect(page.locator("#question-count")).to_have_text("0 / 500 characters")
    box.type("Who wrote")
    box.press("Shift+Enter")
    box.type("Hamlet?")
    assert box.input_value() == "Who wrote\nHamlet?"
    assert page.url.endswith("/")  # Shift+Enter did not send it
    expect(page.locator("#question-count")).to_have_text("17 / 500 characters")
    box.fill("x" * 600)  # maxlength: the browser keeps the first 500
    assert len(box.input_value()) == 500
    box.fill("Who wrote Hamlet?")
    box.press("Enter")
    page.wait_for_url(RESULT_URL)
    expect(page.locator(".question")).to_have_text("Who wrote Hamlet?")
    expect(page.locator("#fine-label .definition")).not_to_be_empty()
    assert visitor.errors == [], "console errors"


def test_batch_keeps_columns_reports_lines_and_downloads_in_one_click(open_tab, tmp_path):
    visitor = open_tab("batch", accept_downloads=True)
    page = visitor.page
    page.goto("/batch")
    upload = (
        "id,question,topic\n"
        "a1,Who painted the Mona Lisa?,art\n"
        ",,\n"  # line 3: empty row
        "a3," + "z" * 600 + ",too long\n"  # line 4: refused
        "a4,How far is Paris from Rome?,travel\n"
    )
    page.locator("input#file").set_input_files(
        {"name": "questions.csv", "mimeType": "text/csv", "buffer": upload.encode()}
    )
    with page.expect_download() as waiting:
        page.get_by_role("button", name="Classify and download").click()
    path = tmp_path / "labels.csv"
    waiting.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert list(rows[0])[:4] == ["id", "question", "topic", "coarse"]
    assert [row["id"] for row in rows] == ["a1", "", "a3", "a4"]
    assert rows[0]["topic"] == "art" and rows[0]["fine"].startswith("HUM:")
    assert rows[3]["fine"].startswith("NUM:")
    reported = [row["error"] for row in rows if row["error"]]
    assert len(reported) == 2
    assert reported[0] == "line 3: empty row, skipped"
    assert reported[1].startswith("line 4: A question may be at most 500 characters")
    expect(page.locator("#batch-reported li")).to_have_count(2)
    expect(page.locator("#batch-status")).to_contain_text("4 rows, 2 classified, 2 reported")
    visitor.screenshot("batch-done")
    assert visitor.errors == [], "console errors"


def test_bad_file_shows_the_servers_message(open_tab):
    visitor = open_tab("batch-bad")
    page = visitor.page
    page.goto("/batch")
    cases = [
        ("picture.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Only .csv and .txt files"),
        ("latin1.txt", "Qui a peint la Joconde ?\n".encode("latin-1") + b"\xe9\xff", "not UTF-8"),
        ("empty.csv", b"", "The file holds no questions."),
    ]
    for name, content, message in cases:
        page.locator("input#file").set_input_files(
            {"name": name, "mimeType": "application/octet-stream", "buffer": content}
        )
        page.get_by_role("button", name="Classify and download").click()
        expect(page.locator("#batch-status")).to_contain_text(message)
        expect(page.locator("#batch-status")).not_to_contain_text("JSON")
        expect(page.locator("#batch-download")).to_be_hidden()
    visitor.screenshot("batch-bad-file")


def test_docs_page_renders_every_operation(open_tab, live_server):
    visitor = open_tab("api-docs")
    page = visitor.page
    with urllib.request.urlopen(live_server.url("/api/v1/openapi.json")) as response:
        document = json.load(response)
    operations = [
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    ]
    page.goto("/api/v1/docs")
    expect(page.get_by_role("heading", name="Quick start")).to_be_visible()
    expect(page.locator("#api-reference .opblock")).to_have_count(len(operations))
    for method, path in operations:
        block = page.locator(f'.opblock-summary-path[data-path="{path}"]')
        expect(block.first).to_be_visible()
        expect(
            page.locator(f".opblock-{method.lower()} .opblock-summary-path[data-path='{path}']")
        ).to_have_count(1)
    # The reference comes after the hand-written quick start.
    quick_start = page.get_by_role("heading", name="Quick start").bounding_box()
    reference = page.locator("#api-reference .opblock").first.bounding_box()
    assert quick_start["y"] < reference["y"]
    # Opening classify shows its request example and the response fields.
    page.locator('.opblock-post .opblock-summary-path[data-path="/api/v1/classify"]').click()
    expect(page.locator(".opblock-body").first).to_contain_text("Who painted the Mona Lisa?")
    expect(page.locator(".opblock-body").first).to_contain_text("in_scope")
    visitor.screenshot("api-docs")
    assert visitor.errors == [], f"console errors (CSP?): {visitor.errors}"


def test_phone_correction_by_one_tap_on_an_alternative(open_tab):
    phone = open_tab("phone-one-tap", viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.page
    page.goto("/")
    page.locator("textarea#question").fill("What do bees make?")
    page.locator(".ask button[type=submit]").tap()
    page.wait_for_url(RESULT_URL)
    pick = page.locator("#quick-picks button.pick").first
    expect(pick).to_be_visible()
    box = pick.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert box["height"] >= 40  # big enough for a finger
    chosen = pick.locator("code").inner_text()
    # The correction form stays short: only the selected class's definition is shown.
    page.locator("#correct-panel > summary").tap()
    height = page.locator("#correction-form").bounding_box()["height"]
    assert height < 900, f"the correction form is {height}px tall"
    expect(page.locator(".fine-help:visible")).to_have_count(1)
    page.locator("#correct-panel > summary").tap()

    pick.tap()
    page.wait_for_url(RESULT_URL)
    expect(page.locator(".flash-success")).to_contain_text("waiting for review")
    expect(page.locator(".feedback-history")).to_contain_text(chosen)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot("phone-one-tap")
    assert phone.errors == [], "console errors"
