"""Where the CPU goes while a benchmark runs: the server's workers, training processes and wrk.

It samples every thread's scheduler counters (`/proc/<pid>/task/<tid>/schedstat`: time on the
CPU, time waiting for one, time slices; context switches from `status`) every 100 ms, then
reports each wrk run (one window of load) as shares of one CPU per kind of process:

    python bench/schedstat.py record samples.jsonl --seconds 240 &
    python bench/learn.py --clients 8
    python bench/schedstat.py report samples.jsonl

`bench/learn.py --clients` runs wrk twice: the first window is the one with the retrain, the
second the one without. Linux only.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from pathlib import Path

COUNTERS = ("cpu", "waiting", "slices", "voluntary", "involuntary")


def kind_of(command: str) -> str | None:
    """Which kind of process a command line is, or None for those not followed."""
    if "training_standby" in command or "run-training" in command:
        return "training"
    if "gunicorn" in command:
        return "workers"
    if command.startswith("wrk"):
        return "wrk"
    return None


def threads() -> list[tuple[str, int, int, list[int]]]:
    """(kind, pid, tid, counters) for every followed thread right now."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            kind = kind_of(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " "))
            if kind is None:
                continue
            for tid in os.listdir(f"/proc/{pid}/task"):
                task = Path(f"/proc/{pid}/task/{tid}")
                cpu, waiting, slices = map(int, (task / "schedstat").read_text().split()[:3])
                status = dict(
                    line.split(":\t", 1) for line in (task / "status").read_text().splitlines()
                )
                switches = [
                    int(status[f"{name}_ctxt_switches"]) for name in ("voluntary", "nonvoluntary")
                ]
                found.append((kind, int(pid), int(tid), [cpu, waiting, slices, *switches]))
        except (OSError, ValueError, KeyError):  # the thread ended while being read
            continue
    return found


def record(path: Path, seconds: float, interval: float = 0.1) -> None:
    with path.open("w") as out:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.monotonic()
            out.write(json.dumps([time.time(), threads()]) + "\n")
            time.sleep(max(0.0, interval - (time.monotonic() - started)))


def report(path: Path) -> None:
    samples = [json.loads(line) for line in path.read_text().splitlines() if line]
    windows: dict[int, list[float]] = {}
    for moment, rows in samples:
        for kind, pid, _tid, _counters in rows:
            if kind == "wrk":
                windows.setdefault(pid, []).append(moment)
    print(
        "| wrk window | seconds | process | CPU | waiting for a CPU | slices/s | voluntary/s | involuntary/s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for number, moments in enumerate(windows.values(), 1):
        # Half a second in from each end: wrk's own start and finish are not load.
        first = min(samples, key=lambda sample: abs(sample[0] - moments[0] - 0.5))
        last = min(samples, key=lambda sample: abs(sample[0] - moments[-1] + 0.5))
        seconds = last[0] - first[0]
        before = {(pid, tid): counters for _kind, pid, tid, counters in first[1]}
        totals: dict[str, list[int]] = defaultdict(lambda: [0] * len(COUNTERS))
        for kind, pid, tid, counters in last[1]:
            start = before.get((pid, tid), [0] * len(COUNTERS))
            for index, (now, then) in enumerate(zip(counters, start, strict=True)):
                totals[kind][index] += now - then
        for kind, (cpu, waiting, slices, voluntary, involuntary) in sorted(totals.items()):
            print(
                f"| {number} | {seconds:.1f} | {kind} | {cpu / 1e9 / seconds:.1%} "
                f"| {waiting / 1e9 / seconds:.1%} | {slices / seconds:.0f} "
                f"| {voluntary / seconds:.0f} | {involuntary / seconds:.0f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    recording = commands.add_parser("record", help="sample every 100 ms into a file")
    recording.add_argument("file", type=Path)
    recording.add_argument("--seconds", type=float, default=240.0)
    reporting = commands.add_parser("report", help="the shares per wrk window")
    reporting.add_argument("file", type=Path)
    args = parser.parse_args()
    if args.command == "record":
        record(args.file, args.seconds)
    else:
        report(args.file)


if __name__ == "__main__":
    main()
