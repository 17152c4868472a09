"""The visitor's side: the scope message, the question box and its limit, batch files, the API
reference, the correction form (with and without JavaScript) and a correction by one tap on a
phone."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.request

from e2e_support import Tab
from playwright.sync_api import expect

from qcapp.services.serving.user_text import clean_text

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
    count = page.locator("#question-count")
    expect(count).to_have_text("0 / 500 characters")
    box.type("Who wrote")
    box.press("Shift+Enter")
    box.type("Hamlet?")
    assert box.input_value() == "Who wrote\nHamlet?"
    assert page.url.endswith("/")  # Shift+Enter did not send it
    expect(count).to_have_text("17 / 500 characters")
    # Counted as the server counts: line breaks as one space, the ends trimmed, code points.
    tricky = "  Who\u202e wrote\n\nHamlet? 🎭\u3000 "
    box.fill(tricky)
    expect(count).to_have_text(f"{len(clean_text(tricky).strip())} / 500 characters")
    assert visitor.errors == [], "console errors"
    box.fill("Who wrote Hamlet?")
    box.press("Enter")
    page.wait_for_url(RESULT_URL)
    expect(page.locator(".question")).to_have_text("Who wrote Hamlet?")
    expect(page.locator("#fine-label .definition")).not_to_be_empty()
    assert visitor.errors == [], "console errors"


def test_over_long_question_is_refused_whole_and_the_counter_warns_first(open_tab, live_server):
    visitor = open_tab("question-too-long")
    page = visitor.page
    page.goto("/")
    box, count = page.locator("textarea#question"), page.locator("#question-count")
    expect(box).not_to_have_attribute("maxlength", re.compile(".*"))
    question = ("Which of the rivers of Europe flows through the most capital cities " * 15)[:999]
    question += "?"
    box.fill(question)  # as a paste: nothing is cut
    assert box.input_value() == question
    warning = "1,000 / 500 characters: 500 over the limit. Shorten the question to send it."
    expect(count).to_have_text(warning)
    expect(count).to_have_class(re.compile(r"\bover-limit\b"))
    expect(box).to_have_attribute("aria-invalid", "true")
    visitor.screenshot("question-too-long-warning")
    stored_before = stored_queries(live_server)

    with page.expect_response(re.compile(r"/classify$")) as answer:
        box.press("Enter")
    assert answer.value.status == 400
    expect(page.locator("#question-error")).to_have_text(
        "A question may be at most 500 characters long; this one has 1000."
    )
    assert page.locator("textarea#question").input_value() == question  # kept, to shorten
    expect(count).to_have_text(warning)
    assert stored_queries(live_server) == stored_before  # nothing classified or stored
    visitor.screenshot("question-too-long-refused")

    page.locator("textarea#question").fill(question[:480] + "?")
    expect(count).to_have_text("481 / 500 characters")
    expect(count).to_have_class(re.compile(r"\bnear-limit\b"))
    page.locator("textarea#question").press("Enter")
    page.wait_for_url(RESULT_URL)
    assert stored_queries(live_server) == stored_before + 1
    # The browser notes the refusal it was shown (a 400 page); nothing else went wrong.
    assert [error for error in visitor.errors if "status of 400" not in error] == []


def stored_queries(live_server) -> int:
    """How many queries the live server's database holds."""
    import sqlite3

    with sqlite3.connect(live_server.instance / "qcapp.db") as connection:
        return connection.execute("SELECT count(*) FROM queries").fetchone()[0]


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
    # The correction form stays short: only the chosen class's definition is shown.
    page.locator("#correct-panel > summary").tap()
    expect(page.locator(".fine-help:visible")).to_have_count(0)  # nothing chosen yet
    page.locator("select#fine").select_option(chosen)
    expect(page.locator(".fine-help:visible")).to_have_count(1)
    height = page.locator("#correction-form").bounding_box()["height"]
    assert height < 900, f"the correction form is {height}px tall"
    page.locator("#correct-panel > summary").tap()

    pick.tap()
    page.wait_for_url(RESULT_URL)
    expect(page.locator(".flash-success")).to_contain_text("waiting for review")
    expect(page.locator(".feedback-history")).to_contain_text(chosen)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot("phone-one-tap")
    assert phone.errors == [], "console errors"


def open_wrong_panel(page, question: str) -> str:
    """Ask ``question``, open "No, it is wrong" and return the model's fine label."""
    page.goto("/")
    page.locator("textarea#question").fill(question)
    page.locator(".ask button[type=submit]").click()
    page.wait_for_url(RESULT_URL)
    predicted = page.locator("#fine-label .label-name code").inner_text().strip()
    page.locator("#correct-panel > summary").click()
    return predicted


def test_wrong_starts_empty_requires_a_choice_and_offers_no_model_label(open_tab):
    visitor = open_tab("wrong-form")
    page = visitor.page
    predicted = open_wrong_panel(page, "Who wrote the novel Dracula?")
    coarse, fine = page.locator("select#coarse"), page.locator("select#fine")
    expect(coarse).to_have_value("")
    expect(fine).to_have_value("")
    own = page.locator(f'select#fine option[value="{predicted}"]')
    expect(own).to_be_disabled()
    expect(own).to_contain_text("(the model's answer)")

    # Sent with nothing chosen: the browser keeps it, with our words for what is missing.
    url = page.url
    page.locator("#submit-correction").click()
    assert page.url == url
    assert coarse.evaluate("select => select.validationMessage") == "Choose the right coarse class."
    assert fine.evaluate("select => select.validationMessage") == (
        "Choose the class the question asks for."
    )
    expect(page.locator(".feedback-history")).to_have_count(0)

    # Another class of the same coarse class: choosing it fills in the coarse class.
    other = page.locator(
        f'select#fine option[data-coarse="{predicted.split(":")[0]}"]:not([disabled])'
    ).first.get_attribute("value")
    fine.select_option(other)
    expect(coarse).to_have_value(predicted.split(":")[0])
    visitor.screenshot("wrong-form-chosen")
    page.locator("#submit-correction").click()
    expect(page.locator(".flash-success")).to_have_text(
        "Thank you: your correction is waiting for review."
    )
    history = page.locator(".feedback-history li")
    expect(history).to_have_count(1)
    expect(history).to_contain_text(f"Corrected to {other}")
    expect(history).not_to_contain_text("Confirmed")
    assert visitor.errors == [], "console errors"


def test_wrong_form_works_and_refuses_without_javascript(open_tab):
    visitor = open_tab("wrong-form-no-js", java_script_enabled=False)
    page = visitor.page
    predicted = open_wrong_panel(page, "Which city is the capital of Kenya?")
    coarse, fine = page.locator("select#coarse"), page.locator("select#fine")
    expect(coarse).to_have_value("")
    expect(fine).to_have_value("")
    expect(page.locator(f'select#fine option[value="{predicted}"]')).to_be_disabled()
    url = page.url
    page.locator("#submit-correction").click()  # the browser's own check of required fields
    page.wait_for_timeout(300)
    assert page.url == url
    expect(page.locator(".feedback-history")).to_have_count(0)

    # A fine class of another coarse class with the model's coarse class: the server refuses it,
    # 400 with the page, its reason and the panel open at the visitor's choice.
    wrong_coarse = "NUM" if not predicted.startswith("NUM") else "HUM"
    coarse.select_option(wrong_coarse)
    fine.select_option("ENTY:animal" if wrong_coarse != "ENTY" else "HUM:ind")
    with page.expect_response(re.compile(r"/correct$")) as answer:
        page.locator("#submit-correction").click()
    assert answer.value.status == 400
    expect(page.locator("#feedback-error")).to_contain_text("is not a fine class of")
    expect(page.locator("details#correct-panel")).to_have_attribute("open", "")
    expect(coarse).to_have_value(wrong_coarse)

    chosen = "LOC:country" if predicted != "LOC:country" else "LOC:state"
    coarse.select_option("LOC")
    fine.select_option(chosen)
    page.locator("#submit-correction").click()
    page.wait_for_url(re.compile(r"/q/[A-Za-z0-9_-]{24}#feedback$"))
    expect(page.locator(".flash-success")).to_have_text(
        "Thank you: your correction is waiting for review."
    )
    expect(page.locator(".feedback-history li")).to_contain_text(f"Corrected to {chosen}")
    visitor.screenshot("wrong-form-no-js")
