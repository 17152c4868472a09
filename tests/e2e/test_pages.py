"""The visitor pages on a phone-sized screen, with the keyboard alone, and under axe-core."""

from __future__ import annotations

import re

import pytest
from e2e_support import Tab, assert_accessible
from playwright.sync_api import expect

PHONE = {"width": 375, "height": 740}


def assert_fits_width(tab: Tab, width: int) -> None:
    """Nothing sticks out sideways: no horizontal scrolling on a narrow screen."""
    scroll_width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{tab.page.url} is {scroll_width}px wide"


def assert_inside_viewport(tab: Tab, selector: str) -> None:
    box = tab.page.locator(selector).bounding_box()
    assert box, f"{selector} is not shown"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (selector, box)


def test_visitor_pages_fit_a_phone_screen(open_tab):
    """Every visitor page at 375 px, and classify then correct by touch alone."""
    phone = open_tab("phone", viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.page
    for path in ("/", "/batch", "/taxonomy", "/login", "/api/v1/docs"):
        page.goto(path)
        assert_fits_width(phone, PHONE["width"])
    page.goto("/")
    assert_inside_viewport(phone, "textarea#question")
    assert_inside_viewport(phone, ".ask button[type=submit]")
    phone.screenshot("phone-home")

    page.locator("button.example").last.tap()
    page.wait_for_url(re.compile(r"/q/[A-Za-z0-9_-]{24}$"))
    expect(page.locator("#fine-label")).to_be_visible()
    page.locator("#correct-panel > summary").tap()
    expect(page.locator("select#fine")).to_be_visible()
    assert_fits_width(phone, PHONE["width"])
    for selector in ("#coarse-label", "#fine-label", "select#coarse", "select#fine"):
        assert_inside_viewport(phone, selector)
    phone.screenshot("phone-result")

    # The visitor's whole part of the journey works by touch: choose a label, send it.
    coarse_select = page.locator("select#coarse")
    other = next(
        value
        for value in coarse_select.locator("option").evaluate_all("os => os.map(o => o.value)")
        if value and value != coarse_select.input_value()
    )
    coarse_select.select_option(other)
    fine_choice = page.locator(f'#fine option[data-coarse="{other}"]').first.get_attribute("value")
    page.locator("select#fine").select_option(fine_choice)
    assert_inside_viewport(phone, "#submit-correction")
    page.locator("#submit-correction").tap()
    page.wait_for_url(re.compile(r"/q/[A-Za-z0-9_-]{24}$"))
    expect(page.locator(".flash-success")).to_contain_text("waiting for review")
    expect(page.locator(".feedback-history")).to_contain_text(fine_choice)
    assert_fits_width(phone, PHONE["width"])
    phone.screenshot("phone-correction-sent")


def test_keyboard_reaches_the_question_box_and_submits(open_tab):
    keyboard = open_tab("keyboard")
    page = keyboard.page
    page.goto("/")
    # The question box has focus on arrival, so typing can start at once.
    expect(page.locator("textarea#question")).to_be_focused()

    # From the start of the page: the skip link comes first and leads into the main content.
    page.locator(".skip-link").focus()
    page.keyboard.press("Shift+Tab")  # nothing before it but the browser itself
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    expect(page.locator(".skip-link")).to_be_in_viewport()  # visible while focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator("textarea#question")).to_be_focused()

    # Without the skip link, Tab walks the navigation and then reaches the box.
    page.locator(".skip-link").focus()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "question":
            break
    expect(page.locator("textarea#question")).to_be_focused()

    page.keyboard.type("Who wrote the novel Don Quixote?")
    page.keyboard.press("Tab")
    classify = page.get_by_role("button", name="Classify", exact=True)
    expect(classify).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/q/[A-Za-z0-9_-]{24}$"))
    expect(page.locator(".question")).to_have_text("Who wrote the novel Don Quixote?")

    # The correction panel opens from the keyboard, and its fields have labels.
    page.locator("#correct-panel > summary").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#correct-panel")).to_have_attribute("open", "")
    for name in ("Right coarse class", "Right fine class"):
        expect(page.get_by_label(name, exact=True)).to_be_visible()
    keyboard.screenshot("keyboard-result")


@pytest.mark.parametrize("path, name", [("/batch", "batch"), ("/taxonomy", "taxonomy")])
def test_page_is_accessible(open_tab, path: str, name: str):
    visitor = open_tab(f"axe-{name}")
    visitor.page.goto(path)
    expect(visitor.page.locator("main h1")).to_be_visible()
    assert_accessible(visitor, name)
    assert visitor.errors == [], "console errors"
