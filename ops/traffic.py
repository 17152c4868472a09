"""Classify traffic against one or more hosts from client threads, keeping every answer's id.

Each question is unique, so each 200 is one stored query whose public id the caller can look
for in the database afterwards; anything else (an error status, a refused or dropped
connection, a timeout) counts as a failed request.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

QUESTIONS = (
    "What is the capital of {}?",
    "Who founded {}?",
    "How many people live in {}?",
    "When was {} built?",
)


@dataclass
class TrafficResult:
    """What a run of traffic did: answers by host, failures with their reasons, ids stored."""

    seconds: float = 0.0
    ok: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


class Traffic:
    """Client threads that post questions to the hosts in turn until stopped."""

    def __init__(self, urls: list[str], clients: int = 4, timeout: float = 30.0):
        self.urls = urls
        self.clients = clients
        self.timeout = timeout
        self.result = TrafficResult()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = 0.0

    def start(self) -> Traffic:
        self._started = time.monotonic()
        for number in range(self.clients):
            thread = threading.Thread(target=self._client, args=(number,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> TrafficResult:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)
        self.result.seconds = time.monotonic() - self._started
        return self.result

    def run_for(self, seconds: float) -> TrafficResult:
        self.start()
        time.sleep(seconds)
        return self.stop()

    def _client(self, number: int) -> None:
        connections: dict[str, http.client.HTTPConnection] = {}
        hosts = itertools.cycle(self.urls[number % len(self.urls):] + self.urls)
        counter = itertools.count()
        while not self._stop.is_set():
            url = next(hosts)
            place = f"place-{uuid.uuid4().hex[:10]}"
            question = QUESTIONS[next(counter) % len(QUESTIONS)].format(place)
            body = json.dumps({"question": question})
            began = time.monotonic()
            try:
                connection = connections.get(url)
                if connection is None:
                    parts = urlsplit(url)
                    connection = http.client.HTTPConnection(
                        parts.hostname, parts.port, timeout=self.timeout
                    )
                    connections[url] = connection
                connection.request(
                    "POST", "/api/v1/classify", body, {"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                payload = response.read()
                # Sync workers close each connection after the answer.
                connection.close()
                connections.pop(url, None)
                if response.status != 200:
                    self._fail(f"{url}: HTTP {response.status} {payload[:200]!r}")
                    continue
                answer = json.loads(payload)
            except (OSError, http.client.HTTPException, ValueError) as error:
                connections.pop(url, None)
                self._fail(f"{url}: {type(error).__name__}: {error}")
                continue
            with self._lock:
                self.result.ok += 1
                self.result.tokens.append(answer["id"])
                self.result.latencies.append(time.monotonic() - began)
                version = str(answer.get("model_version"))
                self.result.versions[version] = self.result.versions.get(version, 0) + 1

    def _fail(self, reason: str) -> None:
        with self._lock:
            self.result.failed += 1
            if len(self.result.failures) < 20:
                self.result.failures.append(reason)
