"""Load-test POST /api/v1/classify on a running server (e.g. `make run`) with wrk.

For each concurrency level it runs wrk for a fixed time with questions drawn from a file, then
checks with `qc stats --json` that every answered request's query was stored.

    python bench/serve.py --url http://127.0.0.1:5000 --connections 1,8,32 --duration 20
    python bench/serve.py --retrain   # 8 clients: idle run, then a run during a refit + activation
    python bench/serve.py --retrain --select   # the same during a full retrain

Needs `wrk` (Debian package). Run it from the repository root with the same QC_* environment
as the server, so the stats command reads the server's database.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "qcapp"]

LUA = r"""
local questions = {}
for line in io.lines("%(questions)s") do questions[#questions + 1] = line end
math.randomseed(%(seed)d)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local function escape(s) return (s:gsub('\\', '\\\\'):gsub('"', '\\"')) end
request = function()
  local q = questions[math.random(#questions)]
  return wrk.format(nil, "/api/v1/classify", nil, '{"question": "' .. escape(q) .. '"}')
end
done = function(summary, latency, requests)
  local path = os.getenv("WRK_HISTOGRAM")
  if path then  -- every recorded latency (microseconds) and how often it occurred
    local out = io.open(path, "w")
    for i = 1, #latency do
      local value, count = latency(i)
      if count > 0 then out:write(value, " ", count, "\n") end
    end
    out:close()
  end
  io.write(string.format("JSON {\"requests\": %%d, \"duration_us\": %%d, \"p50_us\": %%d, \"p90_us\": %%d, \"p99_us\": %%d, \"max_us\": %%d, \"errors_connect\": %%d, \"errors_read\": %%d, \"errors_write\": %%d, \"errors_status\": %%d, \"errors_timeout\": %%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout))
end
"""


def stats() -> dict:
    """The server database's counts, through the same command an operator would use."""
    output = subprocess.run(
        FLASK + ["qc", "stats", "--json"], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def question_file(directory: Path) -> Path:
    """Questions to send: the starter dataset's, one a line."""
    source = ROOT / "training" / "data" / "starter.csv"
    with open(source, newline="", encoding="utf-8") as handle:
        rows = [row["Questions"].strip() for row in csv.DictReader(handle)]
    path = directory / "questions.txt"
    path.write_text("\n".join(q for q in rows if q and "\n" not in q) + "\n", encoding="utf-8")
    return path


def run_wrk(
    url: str, connections: int, duration: int, script: Path, stop: threading.Event | None = None
) -> dict:
    """One wrk run for ``duration`` seconds, or until ``stop`` is set; summary in ms, with
    every latency wrk recorded under ``histogram`` ({microseconds: count}) for pooling.

    wrk counts answers other than 2xx/3xx in ``errors_status``, so no Lua response callback
    is needed (one would make wrk parse every response and take CPU from the server).
    """
    histogram_file = script.with_name(f"histogram-{time.monotonic_ns()}.txt")
    threads = max(1, min(2, connections))
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "WRK_HISTOGRAM": str(histogram_file)},
    )
    if stop is not None:
        while process.poll() is None and not stop.wait(0.2):
            pass
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # wrk stops and prints its summary
    output, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}")
    summary = json.loads(re.search(r"^JSON (.*)$", output, re.M).group(1))
    histogram: Counter[int] = Counter()
    for line in histogram_file.read_text().splitlines():
        value, count = line.split()
        histogram[int(float(value))] += int(float(count))
    histogram_file.unlink()
    errors = sum(v for k, v in summary.items() if k.startswith("errors_"))
    return {
        "connections": connections,
        "requests": summary["requests"],
        "throughput": summary["requests"] / (summary["duration_us"] / 1e6),
        "p50_ms": summary["p50_us"] / 1000,
        "p90_ms": summary["p90_us"] / 1000,
        "p99_ms": summary["p99_us"] / 1000,
        "max_ms": summary["max_us"] / 1000,
        "errors": errors,
        "histogram": histogram,
    }


def percentile_ms(histogram: Counter[int], percent: float) -> float:
    """The latency (ms) below which ``percent`` % of the histogram's requests fall."""
    total = sum(histogram.values())
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= total * percent / 100:
            return value / 1000
    return 0.0


def measured(url: str, connections: int, duration: int, script: Path) -> dict:
    before = stats()["queries"]
    result = run_wrk(url, connections, duration, script)
    time.sleep(0.5)
    stored = stats()["queries"] - before
    # wrk counts requests that completed; each answered 200 must have stored exactly one query.
    result["stored"] = stored
    result["lost"] = result["requests"] - result["errors"] - stored
    return result


def table(rows: list[dict], title: str) -> str:
    lines = [
        f"### {title}",
        "",
        "| clients | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | stored "
        "| lost |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['connections']} | {r['requests']} | {r['throughput']:.0f} | {r['p50_ms']:.1f} | "
            f"{r['p90_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | {r['errors']} | "
            f"{r['stored']} | {r['lost']} |"
        )
    return "\n".join(lines)


def worker_memory() -> list[float]:
    """Resident memory (MB) of each gunicorn worker serving qcapp on this machine."""
    processes = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
            command = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "gunicorn" in command and "qcapp" in command:
            processes[int(status.parent.name)] = (
                int(fields["PPid"]), int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
            )
    return [rss for parent, rss in processes.values() if parent in processes]


def retrain_scenario(url: str, duration: int, script: Path, select: bool) -> str:
    """8 clients idle, then 8 clients while a retrain runs and a version is activated."""
    idle = measured(url, 8, duration, script)
    previous = stats()["active_model_version"]
    events: list[str] = []

    def retrain_and_activate() -> None:
        started = time.monotonic()
        command = FLASK + ["qc", "retrain", "--wait"] + (["--select"] if select else [])
        done = subprocess.run(command, capture_output=True, text=True)
        events.append(
            f"retrain exit {done.returncode} after {time.monotonic() - started:.1f} s: "
            f"{done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-200:]}"
        )
        subprocess.run(
            FLASK + ["qc", "versions", "activate", previous], check=True, capture_output=True
        )
        events.append(f"activated {previous} again at {time.monotonic() - started:.1f} s")

    finished = threading.Event()

    def run_then_signal() -> None:
        try:
            retrain_and_activate()
        finally:
            time.sleep(2)  # the workers switch back within the check interval
            finished.set()

    worker = threading.Thread(target=run_then_signal)
    before = stats()["queries"]
    worker.start()
    # The load lasts exactly as long as the retrain and the activation, however long that is.
    during = run_wrk(url, 8, 3600, script, stop=finished)
    worker.join()
    time.sleep(0.5)
    during["stored"] = stats()["queries"] - before
    during["lost"] = during["requests"] - during["errors"] - during["stored"]
    return "\n".join(
        [
            table([idle], "8 clients, idle"),
            "",
            table([during], "8 clients, during retrain and activation"),
            "",
            *[f"- {event}" for event in events],
            f"- p99 during / idle: {during['p99_ms'] / idle['p99_ms']:.2f}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default=f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}",
    )
    parser.add_argument("--connections", default="1,8,32")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--retrain", action="store_true", help="run the retrain scenario")
    parser.add_argument(
        "--select", action="store_true", help="a full retrain (model selection), not a refit"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as directory:
        questions = question_file(Path(directory))
        script = Path(directory) / "classify.lua"
        script.write_text(LUA % {"questions": questions, "seed": 7})
        if args.retrain:
            print(retrain_scenario(args.url, args.duration, script, select=args.select))
            return
        rows = [
            measured(args.url, int(c), args.duration, script) for c in args.connections.split(",")
        ]
        print(table(rows, f"POST /api/v1/classify, {args.duration} s per level"))
        memory = ", ".join(f"{rss:.0f} MB" for rss in sorted(worker_memory()))
        print(f"\nresident memory per worker after the runs: {memory or 'no worker found'}")


if __name__ == "__main__":
    main()
