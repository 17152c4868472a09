"""Slow and malicious clients against a running server, beside normal classify load.

Holds ``--slow`` connections open for the whole window: half send a request's headers one byte
a second, half send complete headers announcing a body and then only its first byte. Whenever
the server closes one, it is opened again at once, as an attacker would. Meanwhile ``--clients``
normal clients classify with wrk. The same wrk load runs first without the slow connections, so
the two p99s compare on the same server and machine; afterwards `qc stats --json` must count
one stored query for every answered request.

    python bench/slow_clients.py --url http://127.0.0.1:5000 --slow 200 --clients 32 --duration 60

An https URL (nginx in front, e.g. `make cluster`'s balancer) is accepted with any certificate.

Needs `wrk` (Debian package). Run it from the repository root with the server's QC_*
environment, so the stats command reads the server's database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve import LUA, question_file, run_wrk, stats  # noqa: E402

BODY = b'{"question": "Who wrote the book called Slow Reading?"}'


@dataclass
class SlowTally:
    """What the slow connections met, counted across all of them."""

    opened: int = 0
    refused: int = 0
    closed_by_server: int = 0
    answered: dict[str, int] = field(default_factory=dict)
    open_now: int = 0
    most_open: int = 0


def slow_request(host: str, kind: str) -> bytes:
    """The bytes one slow connection means to send: a request it never finishes in time."""
    headers = (
        f"POST /api/v1/classify HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(BODY)}\r\n"
        "User-Agent: slow-client\r\n"
    )
    # A header long enough that one byte a second never completes it within the window.
    padding = "X-Padding: " + "a" * 200 + "\r\n\r\n"
    if kind == "headers":
        return (headers + padding).encode()
    return (headers + "\r\n").encode() + BODY[:1]


async def hold_one(
    host: str, port: int, tls: ssl.SSLContext | None, kind: str, stop: asyncio.Event,
    tally: SlowTally,
) -> None:
    """Keep one slow connection open until ``stop``; reopen it whenever the server closes it."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(host, port, ssl=tls)
        except OSError:
            tally.refused += 1
            await asyncio.sleep(0.5)
            continue
        tally.opened += 1
        tally.open_now += 1
        tally.most_open = max(tally.most_open, tally.open_now)
        payload = slow_request(host, kind)
        reading = asyncio.ensure_future(reader.read(4096))
        try:
            if kind == "body":
                writer.write(payload)
                await writer.drain()
                await asyncio.wait({reading, asyncio.ensure_future(stop.wait())},
                                   return_when=asyncio.FIRST_COMPLETED)
            else:
                for index in range(len(payload)):
                    writer.write(payload[index:index + 1])
                    await writer.drain()
                    done, _ = await asyncio.wait(
                        {reading, asyncio.ensure_future(stop.wait())},
                        timeout=1.0, return_when=asyncio.FIRST_COMPLETED,
                    )
                    if done:
                        break
            if reading.done() and not reading.cancelled():
                answer = reading.result()
                status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "eof"
                tally.answered[status] = tally.answered.get(status, 0) + 1
                tally.closed_by_server += 1
        except (OSError, asyncio.IncompleteReadError):
            tally.closed_by_server += 1
        finally:
            reading.cancel()
            tally.open_now -= 1
            writer.close()


async def hold_all(url: str, count: int, stop: asyncio.Event, tally: SlowTally) -> None:
    parts = urllib.parse.urlsplit(url)
    tls = None
    if parts.scheme == "https":  # a test server's self-signed certificate, as wrk accepts it
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    host, port = parts.hostname, parts.port or (443 if tls else 80)
    kinds = ["headers", "body"]
    await asyncio.gather(
        *(hold_one(host, port, tls, kinds[i % 2], stop, tally) for i in range(count))
    )


def healthz_latency(url: str) -> float | None:
    """Seconds for one GET /healthz, or None when it got no answer within 10 s."""
    started = time.monotonic()
    unverified = ssl._create_unverified_context()  # noqa: SLF001  (a test certificate)
    try:
        with urllib.request.urlopen(
            url.rstrip("/") + "/healthz", timeout=10, context=unverified
        ) as answer:
            answer.read()
    except OSError:
        return None
    return time.monotonic() - started


def measured_load(url: str, clients: int, duration: int, script: Path) -> dict:
    before = stats()["queries"]
    result = run_wrk(url, clients, duration, script)
    time.sleep(1.0)
    result["stored"] = stats()["queries"] - before
    # wrk does not count the requests still in flight when it stops, which may be stored too.
    result["lost"] = max(0, result["requests"] - result["errors"] - result["stored"])
    return result


class HealthProbe(threading.Thread):
    """GET /healthz once a second until stopped: the latencies, None for no answer."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.latencies: list[float | None] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            self.latencies.append(healthz_latency(self.url))

    def summary(self) -> str:
        answered = [value for value in self.latencies if value is not None]
        slowest = f", slowest {max(answered) * 1000:.1f} ms" if answered else ""
        return f"{len(answered)} of {len(self.latencies)} answered{slowest}"


def under_attack(url: str, slow: int, clients: int, duration: int, script: Path) -> tuple:
    tally = SlowTally()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def run_attack() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(hold_all(url, slow, stop, tally))

    attacker = threading.Thread(target=run_attack, daemon=True)
    attacker.start()
    deadline = time.monotonic() + 10
    while tally.open_now < slow and time.monotonic() < deadline:
        time.sleep(0.1)
    opened_before_load = tally.open_now
    health = healthz_latency(url)
    probe = HealthProbe(url)
    probe.start()
    result = measured_load(url, clients, duration, script)
    probe.stopped.set()
    result["health"] = probe.summary()
    open_at_end = tally.open_now
    loop.call_soon_threadsafe(stop.set)
    attacker.join(timeout=10)
    return result, tally, opened_before_load, open_at_end, health


def row(name: str, r: dict) -> str:
    return (
        f"| {name} | {r['requests']} | {r['throughput']:.0f} | {r['p50_ms']:.1f} | "
        f"{r['p99_ms']:.1f} | {r['max_ms']:.1f} | {r['errors']} | {r['stored']} | {r['lost']} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default=f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}",
    )
    parser.add_argument("--slow", type=int, default=200, help="slow connections held open")
    parser.add_argument("--clients", type=int, default=32, help="normal wrk connections")
    parser.add_argument("--duration", type=int, default=60, help="seconds of each load window")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as directory:
        questions = question_file(Path(directory))
        script = Path(directory) / "classify.lua"
        script.write_text(LUA % {"questions": questions, "seed": 11})
        quiet = measured_load(args.url, args.clients, args.duration, script)
        attacked, tally, opened, still_open, health = under_attack(
            args.url, args.slow, args.clients, args.duration, script
        )
    print(f"### {args.clients} clients classifying, {args.duration} s, without and with "
          f"{args.slow} slow connections\n")
    print("| window | requests | req/s | p50 ms | p99 ms | max ms | errors | stored | lost |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(row("without slow clients", quiet))
    print(row(f"with {args.slow} slow connections", attacked))
    ratio = attacked["p99_ms"] / quiet["p99_ms"] if quiet["p99_ms"] else float("inf")
    print(f"\n- p99 with / without: {ratio:.2f}")
    print(f"- slow connections open when the load started: {opened}; at its end: {still_open}; "
          f"most at once: {tally.most_open}")
    print(f"- slow connections opened in all: {tally.opened}; closed by the server: "
          f"{tally.closed_by_server} (answers: {tally.answered or 'none'}); refused: {tally.refused}")
    health_text = "no answer within 10 s" if health is None else f"{health * 1000:.1f} ms"
    print(f"- GET /healthz with the slow connections open, before the load: {health_text}; "
          f"once a second during it: {attacked['health']}")
    verdict = (
        attacked["requests"] > 0 and attacked["errors"] == 0 and attacked["lost"] == 0
        and quiet["lost"] == 0 and ratio <= 2
    )
    print(f"- target (0 failed, every answer stored, p99 at most 2x): {'met' if verdict else 'NOT met'}")


if __name__ == "__main__":
    main()
