"""Classify throughput of two gunicorn fronts side by side: the sync workers qcapp served with
before, and the gevent worker it serves with now (qcapp/server/worker.py).

Starts the server with each front in turn, in the order A B B A A B B A ..., lets it settle,
and runs the same wrk load as bench/serve.py against it; every answered request must have
stored its query. Besides throughput and p99 it reports the workers' CPU time per request
(from /proc), which other load on the machine moves far less than it moves throughput. Every run starts from a fresh copy of the instance (QC_INSTANCE_PATH, which
should hold a trained model), so no run pays for the rows the runs before it stored. No
standby training process is started (QC_TRAINING_STANDBY=false): after each start it prepares
the next refit for several seconds of CPU, which would land in some windows and not others.

    QC_INSTANCE_PATH=/dev/shm/qcb python bench/fronts.py --rounds 3 --duration 20

Needs `wrk` (Debian package).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve import LUA, measured, question_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FRONTS = {
    "sync (before)": "--worker-class sync --keep-alive 5",
    "gevent (now)": "",
}


def start(front_arguments: str, port: int, log: Path, instance: Path) -> subprocess.Popen:
    environment = {
        **os.environ, "PORT": str(port), "GUNICORN_CMD_ARGS": front_arguments,
        "QC_TRAINING_STANDBY": "false", "QC_INSTANCE_PATH": str(instance),
    }
    with log.open("ab") as output:
        return subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py",
             "qcapp:create_app()"],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_healthy(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the server at {url} did not become healthy")


def worker_cpu_seconds(arbiter: int) -> float:
    """CPU time (user + system) the arbiter's workers have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5311)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after healthy")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    url = f"http://127.0.0.1:{args.port}"
    results: dict[str, list[dict]] = {name: [] for name in FRONTS}
    source = Path(os.environ.get("QC_INSTANCE_PATH", ROOT / "instance"))
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as directory:
        script = Path(directory) / "classify.lua"
        script.write_text(LUA % {"questions": question_file(Path(directory)), "seed": 7})
        log = Path(directory) / "server.log"
        instance = Path(directory) / "instance"
        names = list(FRONTS)
        for round_number in range(1, args.rounds + 1):
            order = names if round_number % 2 else names[::-1]
            for name in order:
                shutil.rmtree(instance, ignore_errors=True)
                shutil.copytree(source, instance, ignore=shutil.ignore_patterns(
                    "*.sock", "*.lock", "training-logs"))
                os.environ["QC_INSTANCE_PATH"] = str(instance)  # what `qc stats` reads
                process = start(FRONTS[name], args.port, log, instance)
                try:
                    wait_healthy(url)
                    time.sleep(args.settle)
                    cpu_before = worker_cpu_seconds(process.pid)
                    result = measured(url, args.connections, args.duration, script)
                    used = worker_cpu_seconds(process.pid) - cpu_before
                    result["cpu_ms"] = 1000 * used / max(1, result["requests"])
                finally:
                    stop(process)
                results[name].append(result)
                print(f"round {round_number}, {name}: {result['throughput']:.0f} req/s, "
                      f"p99 {result['p99_ms']:.1f} ms, worker CPU {result['cpu_ms']:.2f} ms a request, errors {result['errors']}, "
                      f"lost {max(0, result['lost'])}", flush=True)
    print(f"\n### {args.connections} clients classifying, {args.duration} s per run, "
          f"fronts alternated, {args.rounds} rounds\n")
    print("| front | req/s per run | median req/s | p99 ms per run | median p99 ms "
          "| worker CPU ms a request (median) | errors | lost |")
    print("|---|---|---|---|---|---|---|---|")
    for name, runs in results.items():
        rates = [r["throughput"] for r in runs]
        p99s = [r["p99_ms"] for r in runs]
        cpu = statistics.median(r["cpu_ms"] for r in runs)
        print(f"| {name} | {', '.join(f'{x:.0f}' for x in rates)} | {statistics.median(rates):.0f} "
              f"| {', '.join(f'{x:.1f}' for x in p99s)} | {statistics.median(p99s):.1f} "
              f"| {cpu:.2f} | {sum(r['errors'] for r in runs)} | {sum(max(0, r['lost']) for r in runs)} |")


if __name__ == "__main__":
    main()
