"""Time from approving a correction to every worker answering the corrected label.

Against a running server (`make run`) whose active version can be refitted (a full run on the
same base dataset, e.g. after `qc dataset import ... --name uiuc` and `qc train`):

    python bench/learn.py                 # idle
    python bench/learn.py --clients 8     # under 8 clients of classify load (wrk)

It asks a question and proposes another label for it; then, as an admin does in the browser,
it approves the correction on the review queue and presses "Retrain now" on the training runs
page (with --cli: `qc corrections approve` and `qc retrain`, each a new Python process). From
the moment the approval is committed it asks the question again every 50 ms; the retrain is a
refit unless the server's state asks for a full run. The benchmark creates an admin account of
its own for this. The time counts
until STREAK answers in a row carry the corrected label: with sync workers every request may
reach any worker, so 20 in a row leave about one chance in a million that a worker still
answered with the old version unseen. With --clients, wrk runs for as long as that takes;
then, once the run has ended (it has steps after the new version is active) and the next
standby listens, the same load runs as long again without a retrain, for the p99 comparison,
and every accepted request is checked to have been stored. Run it from the repository root
with the server's QC_* environment.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve import (  # noqa: E402
    FLASK,
    LUA,
    percentile_ms,
    question_file,
    run_wrk,
    stats,
    table,
)

from qcapp.runs.standby import socket_path  # noqa: E402

STREAK = 20
QUESTIONS = (
    "Which instrument did Jimi Hendrix make famous?",
    "Which fabric do parachutes use for their canopy?",
    "What kind of tree gives us maple syrup?",
    "Which metal do mirrors use for their reflective backing?",
)


def post(url: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        url + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


class AdminBrowser:
    """An admin's session on the server: logs in, approves, starts a retrain (with CSRF)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.username = f"bench-{secrets.token_hex(3)}"
        password = secrets.token_urlsafe(16)
        subprocess.run(
            FLASK + ["qc", "create-admin", self.username, "--role", "admin"],
            input=password + "\n", text=True, check=True, capture_output=True,
        )
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.post_form("/login", "/login", {"username": self.username, "password": password})

    def post_form(self, page: str, action: str, fields: dict) -> str:
        html = self.opener.open(self.url + page, timeout=10).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        body = urllib.parse.urlencode({**fields, "csrf_token": token}).encode()
        return self.opener.open(self.url + action, data=body, timeout=30).read().decode()

    def approve(self, correction_id: int) -> None:
        self.post_form("/admin/review/", "/admin/review/review",
                       {"action": "approve", "ids": str(correction_id)})

    def retrain(self) -> str:
        page = self.post_form("/admin/runs/", "/admin/runs/start", {})
        match = re.search(r"Training run #(\d+)", page)
        if match is None:  # refused, e.g. while the last run still measures its corrections
            raise RuntimeError("the server did not start a training run")
        return f"training run {match.group(1)}"

    def run_status(self, run_id: int) -> str:
        with self.opener.open(f"{self.url}/admin/runs/{run_id}/status.json", timeout=10) as page:
            return json.loads(page.read())["status"]


def wait_until_trained(admin: AdminBrowser, run_line: str, timeout: float = 300.0) -> None:
    """Until the run has ended (some of its steps come after the new version is active) and
    the next standby listens: the idle window that follows must hold no training work."""
    match = re.search(r"(\d+)", run_line)
    deadline = time.monotonic() + timeout
    while match and admin.run_status(int(match.group(1))) in ("queued", "running"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{run_line} did not end within {timeout:.0f} s")
        time.sleep(1)
    instance = os.environ.get("QC_INSTANCE_PATH")
    standby = socket_path(instance) if instance else None
    while standby and not standby.exists() and time.monotonic() < deadline:
        time.sleep(0.5)  # none when QC_TRAINING_STANDBY is false: the deadline ends the wait
    time.sleep(1)


def qc(*arguments: str) -> str:
    done = subprocess.run(FLASK + ["qc", *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"qc {' '.join(arguments)} failed: {done.stderr[-500:]}")
    return done.stdout


def correction_id(token: str) -> int:
    """The internal id of the correction the API named by ``token`` (the server's database)."""
    from sqlalchemy import select

    from qcapp import create_app
    from qcapp.extensions import db
    from qcapp.models import Correction

    with create_app().app_context():
        return db.session.scalar(select(Correction.id).where(Correction.token == token))


def pick_question(url: str, attempt: int) -> tuple[str, dict]:
    """A question and its answer; each measurement uses a fresh one (with a suffix)."""
    question = QUESTIONS[attempt % len(QUESTIONS)]
    if attempt >= len(QUESTIONS):
        question = question.rstrip("?") + f" number {attempt}?"
    return question, post(url, "/api/v1/classify", {"question": question})


def learn_once(
    url: str, attempt: int, admin: AdminBrowser | None, timeout: float = 600.0
) -> dict:
    """One correction from approval to every worker's answer; returns the timings."""
    question, answer = pick_question(url, attempt)
    current = answer["fine"]["label"]
    target = "HUM:ind" if current != "HUM:ind" else "ENTY:instru"
    correction = post(
        url, f"/api/v1/queries/{answer['id']}/corrections",
        {"coarse": target.split(":")[0], "fine": target},
    )
    internal_id = correction_id(correction["id"])
    started = time.monotonic()
    if admin is None:
        qc("corrections", "approve", str(internal_id), "--actor", "bench")
    else:
        admin.approve(internal_id)
    approved = time.monotonic()
    run_line = qc("retrain").strip().splitlines()[-1] if admin is None else admin.retrain()
    started, approve_seconds = approved, approved - started
    streak, first_right, checks = 0, None, 0
    while time.monotonic() - started < timeout:
        reply = post(url, "/api/v1/classify", {"question": question})
        checks += 1
        if reply["fine"]["label"] == target:
            if streak == 0:
                first_right = time.monotonic()
            streak += 1
            if streak >= STREAK:
                break
        else:
            streak = 0
        time.sleep(0.05)
    else:
        raise RuntimeError(f"the corrected label was not served within {timeout:.0f} s")
    # The version comes from the last answer: a `qc stats` process here would still fall
    # inside the measured load (it ends when this returns) and take a core for seconds.
    return {
        "question": question,
        "from": current,
        "to": target,
        "approve_s": approve_seconds,
        "seconds": first_right - started,
        "checks": checks,
        "run": run_line,
        "version": reply["model_version"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default=f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}",
    )
    parser.add_argument("--clients", type=int, default=0, help="wrk connections during it")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cli", action="store_true", help="approve and retrain with qc commands")
    args = parser.parse_args()
    admin = None if args.cli else AdminBrowser(args.url)
    # Under load the idle window waits for the end of each run, read on the admin pages.
    watcher = admin or (AdminBrowser(args.url) if args.clients else None)
    results, loads = [], []
    with tempfile.TemporaryDirectory() as directory:
        script = Path(directory) / "classify.lua"
        script.write_text(LUA % {"questions": question_file(Path(directory)), "seed": 11})
        for attempt in range(args.repeat):
            if not args.clients:
                results.append(learn_once(args.url, attempt, admin))
                if admin is not None:  # the next approval must not find this run still going
                    wait_until_trained(admin, results[-1]["run"])
                continue
            outcome: dict = {}
            finished = threading.Event()

            def measure(
                attempt: int = attempt, outcome: dict = outcome,
                finished: threading.Event = finished,
            ) -> None:
                try:
                    time.sleep(2)  # the load is under way before the clock starts
                    outcome.update(learn_once(args.url, attempt, admin))
                finally:
                    finished.set()

            before = stats()["queries"]
            worker = threading.Thread(target=measure)
            worker.start()
            during = run_wrk(args.url, args.clients, 3600, script, stop=finished)
            worker.join()
            time.sleep(0.5)
            # Stored queries also count the benchmark's own questions (one per check).
            during["stored"] = stats()["queries"] - before - outcome.get("checks", 0) - 1
            during["lost"] = during["requests"] - during["errors"] - during["stored"]
            seconds = max(5, round(during["requests"] / max(during["throughput"], 1)))
            wait_until_trained(watcher, outcome.get("run", ""))
            before = stats()["queries"]
            idle = run_wrk(args.url, args.clients, seconds, script)
            time.sleep(0.5)
            idle["stored"] = stats()["queries"] - before
            idle["lost"] = idle["requests"] - idle["errors"] - idle["stored"]
            results.append(outcome)
            loads.append((idle, during))
    for result, load in zip(results, loads or [None] * len(results), strict=True):
        print(
            f"- {result['question']!r}: {result['from']} -> {result['to']}; approving "
            f"took {result['approve_s']:.1f} s; from approval, every worker answered "
            f"{result['to']} after {result['seconds']:.1f} s ({result['run']} "
            f"now {result['version']})"
        )
        if load:
            idle, during = load
            print(table([idle], f"{args.clients} clients, same load without a retrain"))
            print(table([during], f"{args.clients} clients, from approval to the last worker"))
            print(f"- p99 during / idle: {during['p99_ms'] / idle['p99_ms']:.2f}")
    if len(loads) > 1:
        # One window's p99 rests on its slowest 1 %; pooled over every run it rests on many
        # more requests, so it moves far less from one run to the next.
        pooled = {"idle": Counter(), "during": Counter()}
        for idle, during in loads:
            pooled["idle"].update(idle["histogram"])
            pooled["during"].update(during["histogram"])
        p99 = {name: percentile_ms(counts, 99) for name, counts in pooled.items()}
        print(
            f"- pooled over {len(loads)} runs: p99 {p99['idle']:.1f} ms without a retrain "
            f"({sum(pooled['idle'].values()):,} requests), {p99['during']:.1f} ms from approval "
            f"to the last worker ({sum(pooled['during'].values()):,}); "
            f"during / idle {p99['during'] / p99['idle']:.2f}"
        )


if __name__ == "__main__":
    main()
