"""Time from approving a correction to every worker answering the corrected label.

Against a running server (`make run`) whose active version can be refitted (a full run on the
same base dataset, e.g. after `qc dataset import ... --name uiuc` and `qc train`):

    python bench/learn.py                 # idle
    python bench/learn.py --clients 8     # under 8 clients of classify load (wrk)

It asks a question and proposes another label for it, approves the correction with
`qc corrections approve`, and from that moment (the approval committed) starts a retrain with
`qc retrain` (a refit unless the server's state asks for a full run; the command's own start-up
counts) and asks the question again every 50 ms. The time counts
until STREAK answers in a row carry the corrected label: with sync workers every request may
reach any worker, so 20 in a row leave about one chance in a million that a worker still
answered with the old version unseen. With --clients, wrk runs for as long as that takes, after
an idle run of the same length for the p99 comparison, and every accepted request is checked to
have been stored. Run it from the repository root with the server's QC_* environment.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve import FLASK, LUA, question_file, run_wrk, stats, table  # noqa: E402

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


def qc(*arguments: str) -> str:
    done = subprocess.run(FLASK + ["qc", *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"qc {' '.join(arguments)} failed: {done.stderr[-500:]}")
    return done.stdout


def pick_question(url: str, attempt: int) -> tuple[str, dict]:
    """A question and its answer; each measurement uses a fresh one (with a suffix)."""
    question = QUESTIONS[attempt % len(QUESTIONS)]
    if attempt >= len(QUESTIONS):
        question = question.rstrip("?") + f" number {attempt}?"
    return question, post(url, "/api/v1/classify", {"question": question})


def learn_once(url: str, attempt: int, timeout: float = 600.0) -> dict:
    """One correction from approval to every worker's answer; returns the timings."""
    question, answer = pick_question(url, attempt)
    current = answer["fine"]["label"]
    target = "HUM:ind" if current != "HUM:ind" else "ENTY:instru"
    correction = post(
        url, f"/api/v1/queries/{answer['id']}/corrections",
        {"coarse": target.split(":")[0], "fine": target},
    )
    started = time.monotonic()
    qc("corrections", "approve", str(correction["id"]), "--actor", "bench")
    approved = time.monotonic()
    run_line = qc("retrain").strip().splitlines()[-1]
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
    run = json.loads(qc("stats", "--json").strip().splitlines()[-1])
    return {
        "question": question,
        "from": current,
        "to": target,
        "approve_s": approve_seconds,
        "seconds": first_right - started,
        "checks": checks,
        "run": run_line,
        "version": run.get("active_model_version"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default=f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}",
    )
    parser.add_argument("--clients", type=int, default=0, help="wrk connections during it")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    results, loads = [], []
    with tempfile.TemporaryDirectory() as directory:
        script = Path(directory) / "classify.lua"
        script.write_text(LUA % {"questions": question_file(Path(directory)), "seed": 11})
        for attempt in range(args.repeat):
            if not args.clients:
                results.append(learn_once(args.url, attempt))
                continue
            outcome: dict = {}
            finished = threading.Event()

            def measure(
                attempt: int = attempt, outcome: dict = outcome,
                finished: threading.Event = finished,
            ) -> None:
                try:
                    time.sleep(2)  # the load is under way before the clock starts
                    outcome.update(learn_once(args.url, attempt))
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
            before = stats()["queries"]
            idle = run_wrk(args.url, args.clients, seconds, script)
            time.sleep(0.5)
            idle["stored"] = stats()["queries"] - before
            idle["lost"] = idle["requests"] - idle["errors"] - idle["stored"]
            results.append(outcome)
            loads.append((idle, during))
    for result, load in zip(results, loads or [None] * len(results), strict=True):
        print(
            f"- {result['question']!r}: {result['from']} -> {result['to']}; approved in "
            f"{result['approve_s']:.1f} s; every worker answered {result['to']} after "
            f"{result['seconds']:.1f} s ({result['run']}; now {result['version']})"
        )
        if load:
            idle, during = load
            print(table([idle], f"{args.clients} clients, same load without a retrain"))
            print(table([during], f"{args.clients} clients, from approval to the last worker"))
            print(f"- p99 during / idle: {during['p99_ms'] / idle['p99_ms']:.2f}")


if __name__ == "__main__":
    main()
