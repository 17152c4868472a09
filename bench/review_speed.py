"""The review card's speed in a real browser: keypress to the next card, and keys per decision.

A fresh instance is served by gunicorn with `make run`'s configuration (tests/e2e/live_server.py
starts it: migrated database, the starter dataset, a quick model, one admin); 100 varied
questions are sent through ``POST /api/v1/classify``; system Chromium, driven by Playwright,
logs in and decides 50 cards on /admin/inbox/card with the keyboard alone: every fifth with a
class outside the five offered, through the picker (`/`, the class's two-letter code, Enter),
the others with Enter on the preselected label (a label against the training data takes its
second Enter, counted). Between decisions the reviewer reads for ``--think`` seconds.

Keypress to next card: from the decision's last keydown (seen on the window before the page's
own handlers) to the first animation frame after the card's question changed, measured in the
page with ``performance.now()``. Afterwards the database must hold every decision, an approved
correction by the admin with its audit event and one inbox decision event each; otherwise the
bench fails.

    PYTHONPATH=$PWD .venv/bin/python bench/review_speed.py [--think 0.5] [--decisions 50]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# tests/e2e first: its conftest (the browser's flags) and not the unit tests' one.
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "e2e"), str(ROOT / "tests")]

from conftest import CHROMIUM_ARGS  # noqa: E402
from e2e_support import CHROMIUM  # noqa: E402
from live_server import served_instance  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from helpers import ADMIN_PASSWORD, ADMIN_USERNAME  # noqa: E402

SUBJECTS = [
    "the Amazon",
    "Mount Kenya",
    "the Danube",
    "Lake Baikal",
    "the Sahara",
    "Iceland",
    "Tasmania",
    "the Andes",
    "Madagascar",
    "the Nile",
    "Greenland",
    "the Alps",
    "Borneo",
    "the Gobi",
    "Sicily",
    "the Rhine",
    "Patagonia",
    "Crete",
    "the Urals",
    "Lake Victoria",
]
TEMPLATES = [
    "How long is {}?",
    "Who first mapped {}?",
    "What animals live in {}?",
    "When was {} first explored?",
    "Why is {} famous?",
]
# Classes the picker reaches by code, taken in turn when the card does not offer them.
OUTSIDE = [
    "LOC:mount",
    "ENTY:animal",
    "NUM:dist",
    "HUM:gr",
    "ENTY:plant",
    "NUM:date",
    "DESC:reason",
    "LOC:other",
    "ENTY:event",
    "NUM:period",
]

MEASURE = """
() => {
  window.qcBench = { last: 0, shown: [] };
  window.addEventListener("keydown", () => { window.qcBench.last = performance.now(); }, true);
  const slot = document.getElementById("card-slot");
  let question = document.getElementById("card-question").textContent;
  new MutationObserver(() => {
    const heading = document.getElementById("card-question");
    if (!heading || heading.textContent === question) { return; }
    question = heading.textContent;
    const pressed = window.qcBench.last;
    requestAnimationFrame(() => { window.qcBench.shown.push(performance.now() - pressed); });
  }).observe(slot, { childList: true, subtree: true });
}
"""


def questions() -> list[str]:
    """100 distinct questions of varied kinds that the training data does not hold."""
    return [template.format(subject) for subject in SUBJECTS for template in TEMPLATES]


def ask(base_url: str, question: str) -> None:
    request = urllib.request.Request(
        base_url + "/api/v1/classify",
        data=json.dumps({"question": question}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


options_verbose = os.environ.get("QC_BENCH_VERBOSE") == "1"


def decide_all(page, decisions: int, think: float) -> tuple[list[tuple[str, str]], int]:
    """Decide ``decisions`` cards by keyboard; (question, label) each and the keys pressed."""
    codes = {
        option.get_attribute("data-label"): option.get_attribute("data-code")
        for option in page.locator("#picker-list [role=option]").all()
    }
    decided, keys, outside = [], 0, iter(OUTSIDE * 5)
    for number in range(decisions):
        time.sleep(think)
        question = page.locator("#card-question").inner_text()
        card = page.locator(".qc-card-item")
        offered = [radio.get_attribute("value") for radio in card.locator("input[name=fine]").all()]
        if number % 5 == 4:
            label = next(label for label in outside if label not in offered)
            for key in ("/", *codes[label], "Enter"):
                page.keyboard.press(key)
                keys += 1
        else:
            label = card.locator("input[name=fine]:checked").get_attribute("value")
        base = card.get_attribute("data-base-label")
        if number % 5 != 4 or (base and base != label):
            if base and base != label:
                page.keyboard.press("Enter")  # the override message; the next Enter confirms
                keys += 1
            page.keyboard.press("Enter")
            keys += 1
        page.wait_for_function(
            "q => { const h = document.getElementById('card-question'); return h && h.textContent !== q; }",
            arg=question,
        )
        decided.append((question, label))
        if options_verbose:
            print(number, question, label, page.locator("#card-status").inner_text())
    return decided, keys


def check_stored(database: Path, decided: list[tuple[str, str]]) -> None:
    """Every decision stored with its audit events; SystemExit otherwise."""
    deadline = time.monotonic() + 30
    while True:
        with closing(sqlite3.connect(database, timeout=30)) as connection:
            approved = set(
                connection.execute(
                    """
                    SELECT q.text, c.fine FROM corrections c
                    JOIN queries q ON q.id = c.query_id
                    JOIN users u ON u.id = c.reviewed_by_id AND u.username = ?
                    JOIN audit_events e ON e.target_type = 'correction'
                     AND e.target_id = CAST(c.id AS TEXT) AND e.action = 'correction_approved'
                    WHERE c.status = 'approved'
                    """,
                    (ADMIN_USERNAME,),
                )
            )
            events = connection.execute(
                "SELECT count(*) FROM audit_events WHERE action = 'inbox_decided' AND actor = ?",
                (ADMIN_USERNAME,),
            ).fetchone()[0]
        missing = [pair for pair in decided if pair not in approved]
        if not missing and events == len(decided):
            return
        if time.monotonic() > deadline:
            with closing(sqlite3.connect(database, timeout=30)) as connection:
                for question, _label in missing:
                    print(
                        question,
                        connection.execute(
                            "SELECT c.fine, c.status FROM corrections c JOIN queries q"
                            " ON q.id = c.query_id WHERE q.text = ?",
                            (question,),
                        ).fetchall(),
                    )
            raise SystemExit(
                f"FAILED: {len(missing)} decision(s) not stored ({missing[:3]}), "
                f"{events} inbox_decided events for {len(decided)} decisions"
            )
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=50)
    parser.add_argument("--think", type=float, default=0.5, help="seconds read per card")
    options = parser.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="qc-review-speed-") as folder:
        instance = Path(folder) / "instance"
        instance.mkdir()
        with served_instance(instance, Path(folder) / "server.log") as server:
            for question in questions():
                ask(server.base_url, question)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                page = browser.new_page(
                    base_url=server.base_url, viewport={"width": 1280, "height": 800}
                )
                page.goto("/login")
                page.get_by_label("Username").fill(ADMIN_USERNAME)
                page.get_by_label("Password").fill(ADMIN_PASSWORD)
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url("**/admin/")
                served: dict[str, list[float]] = {"cards": [], "decide": []}

                def note_timing(request) -> None:
                    for name in served:
                        if f"/admin/inbox/{name}" in request.url:
                            timing = request.timing
                            served[name].append(timing["responseEnd"] - timing["requestStart"])

                page.on("requestfinished", note_timing)
                refused: list[str] = []
                page.on(
                    "response",
                    lambda response: (
                        response.status >= 400
                        and refused.append(f"{response.status} {response.url} {response.text()}")
                    ),
                )
                page.goto("/admin/inbox/card?at=0")
                page.evaluate(MEASURE)
                started = time.monotonic()
                decided, keys = decide_all(page, options.decisions, options.think)
                # Every decision answered before the browser goes (data-pending is 0 then).
                page.wait_for_function(
                    "() => document.getElementById('inbox-card').dataset.pending === '0'"
                )
                elapsed = time.monotonic() - started
                shown = page.evaluate("window.qcBench.shown")
                browser.close()
            if refused:
                print("refused requests:", *refused, sep="\n  ")
            check_stored(instance / "qcapp.db", decided)
    shown = shown[: len(decided)]
    quantiles = statistics.quantiles(shown, n=20)
    result = {
        "commit": commit,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "decisions": len(decided),
        "outside_the_offered": sum(1 for n in range(len(decided)) if n % 5 == 4),
        "keys_per_decision": round(keys / len(decided), 2),
        "next_card_ms": {
            "median": round(statistics.median(shown), 1),
            "p95": round(quantiles[18], 1),
            "max": round(max(shown), 1),
        },
        "server_ms_median": {
            name: round(statistics.median(times), 1) for name, times in served.items() if times
        },
        "slowest_next_cards_ms": sorted(round(t) for t in shown)[-5:],
        "think_s": options.think,
        "seconds": round(elapsed, 1),
        "stored": "every decision approved, with its audit events",
    }
    print(json.dumps(result, indent=2))
    ok = (
        result["next_card_ms"]["median"] <= 150
        and result["next_card_ms"]["p95"] <= 400
        and result["keys_per_decision"] <= 2.5
    )
    print(
        "targets (median <= 150 ms, p95 <= 400 ms, <= 2.5 keys a decision):",
        "met" if ok else "MISSED",
    )
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
