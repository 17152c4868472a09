"""Latency of the first answers after the active version changes, on a running server.

    python bench/swap.py VERSION_B [--back VERSION_A]

One client asks questions back to back (a fresh question each time) while `qc versions
activate VERSION_B` runs; it records each answer's latency and the version that gave it, until
STREAK answers in a row come from VERSION_B (every worker has swapped). Workers load and warm
a version in a background thread before swapping it in, so no answer should wait for a load:
the report gives the first answer from the new version, the slowest answer of the whole
window, and how long the switch took. With --back the old version is activated again after.
Run it from the repository root with the server's QC_* environment.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from learn import post  # noqa: E402
from serve import FLASK  # noqa: E402

STREAK = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version")
    parser.add_argument("--back", help="activate this version again afterwards")
    parser.add_argument(
        "--url",
        default=f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}",
    )
    args = parser.parse_args()
    answers: list[tuple[float, float, str]] = []
    stop = threading.Event()

    def ask() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            question = f"Which river flows through the city number {number}?"
            started = time.monotonic()
            reply = post(args.url, "/api/v1/classify", {"question": question})
            answers.append((started, time.monotonic() - started, reply["model_version"]))

    client = threading.Thread(target=ask)
    client.start()
    time.sleep(2)
    switched = time.monotonic()
    subprocess.run(FLASK + ["qc", "versions", "activate", args.version, "--reason", "bench"],
                   check=True, capture_output=True)
    activated = time.monotonic()
    deadline = activated + 60
    while time.monotonic() < deadline:
        recent = answers[-STREAK:]
        if len(recent) == STREAK and all(version == args.version for *_, version in recent):
            break
        time.sleep(0.05)
    stop.set()
    client.join()
    window = [a for a in answers if a[0] >= switched]
    new = [a for a in window if a[2] == args.version]
    before = [a for a in answers if a[0] < switched]
    print(f"- answers before the switch: {len(before)}, slowest {max(a[1] for a in before) * 1000:.1f} ms")
    print(f"- the activate command took {activated - switched:.2f} s (its commit comes before it exits)")
    if new:
        print(f"- first answer from {args.version}: {new[0][1] * 1000:.1f} ms, "
              f"{new[0][0] - activated:.2f} s after activation")
        last_old = max((a[0] for a in window if a[2] != args.version), default=activated)
        print(f"- last answer from the old version {last_old - activated:.2f} s after activation")
    latencies = sorted(a[1] for a in window)
    print(f"- {len(window)} answers from the switch on: p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
          f"slowest {latencies[-1] * 1000:.1f} ms")
    if args.back:
        subprocess.run(FLASK + ["qc", "versions", "activate", args.back, "--reason", "bench"],
                       check=True, capture_output=True)


if __name__ == "__main__":
    main()
