"""The live server's worker (qcapp/server/worker.py) against slow and odd clients: requests are
read whole within their deadlines before the app sees them, and nobody else waits meanwhile."""

from __future__ import annotations

import json
import signal
import socket
import statistics
import time
import urllib.request
from collections.abc import Iterator

import pytest
from e2e_support import ARTIFACTS
from live_server import LiveServer, served_instance

BODY = b'{"question": "Who wrote Hamlet?"}'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """make run's server with deadlines short enough to watch: 2 s each; stopped as Ctrl-C
    stops `make run`, which must leave no traceback."""
    with served_instance(
        tmp_path_factory.mktemp("instance"),
        ARTIFACTS / "slow-clients-server.log",
        stop_with=signal.SIGINT,
        QC_REQUEST_HEADER_TIMEOUT="2",
        QC_REQUEST_BODY_TIMEOUT="2",
    ) as live:
        yield live


def connect(server: LiveServer) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def answer_of(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body of the one answer on ``sock``: read until its body is
    whole (Content-Length) or the server closes the connection."""
    data = b""
    while True:
        head, found, body = data.partition(b"\r\n\r\n")
        if found:
            lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            length = headers.get("Content-Length")
            if length is not None and len(body) >= int(length):
                return int(lines[0].split()[1]), headers, body
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


def healthz_seconds(server: LiveServer) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(server.url("/healthz"), timeout=5) as answer:
        assert answer.status == 200
    return time.monotonic() - started


def classify_request(body: bytes = BODY, length: int | None = None) -> bytes:
    return (
        "POST /api/v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\n\r\n"
    ).encode() + body


def test_many_stalled_requests_leave_everyone_else_served(server):
    stalled = []
    for n in range(40):  # far more than the two workers
        sock = connect(server)
        sock.sendall(classify_request(b"{", length=len(BODY)) if n % 2 else b"POST /api/v1/c")
        stalled.append(sock)
    try:
        assert max(healthz_seconds(server) for _ in range(5)) < 1.0
    finally:
        for sock in stalled:
            sock.close()


def test_headers_that_never_end_get_408(server):
    with connect(server) as sock:
        sock.sendall(b"POST /api/v1/classify HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        status, headers, body = answer_of(sock)
    assert status == 408 and headers["Connection"] == "close"
    assert json.loads(body)["error"]["code"] == "request_timeout"
    assert 1.5 < time.monotonic() - started < 5  # the deadline, checked once a second


def test_a_body_cut_short_gets_408(server):
    with connect(server) as sock:
        sock.sendall(classify_request(b'{"question": "Who', length=len(BODY)))
        status, _, body = answer_of(sock)
    assert status == 408
    assert "body did not arrive within 2 seconds" in json.loads(body)["error"]["message"]


def test_a_body_sent_slowly_within_its_deadline_is_answered(server):
    with connect(server) as sock:
        sock.sendall(classify_request(b"", length=len(BODY)))
        for part in (BODY[:10], BODY[10:20], BODY[20:]):
            time.sleep(0.3)
            sock.sendall(part)
        status, _, body = answer_of(sock)
    assert status == 200 and json.loads(body)["coarse"]["label"] == "HUM"


def test_expect_100_continue_is_answered_before_the_body_is_read(server):
    with connect(server) as sock:
        sock.sendall(
            b"POST /api/v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(BODY)}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        assert sock.recv(64).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(BODY)
        status, _, _ = answer_of(sock)
    assert status == 200


def test_a_chunked_body_beyond_every_limit_gets_413(server):
    with connect(server) as sock:
        sock.sendall(
            b"POST /api/v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"a" * 65536
        try:
            for _ in range(100):  # 6.4 MiB, past the 4 MiB batch upload and its envelope
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        except OSError:  # the server answered and closed while we were still sending
            pass
        status, _, body = answer_of(sock)
    assert status == 413 and json.loads(body)["error"]["code"] == "payload_too_large"


def test_an_announced_body_too_large_is_refused_without_being_read(server):
    with connect(server) as sock:
        sock.sendall(classify_request(b"", length=50 * 1024 * 1024))
        try:  # a client that goes on sending still gets to read the answer
            for _ in range(40):
                sock.sendall(b"a" * 65536)
        except OSError:
            pass
        status, _, body = answer_of(sock)
    assert status == 413 and json.loads(body)["error"]["code"] == "payload_too_large"


def test_kept_alive_connections_are_served_in_turn(server):
    """Clients that keep their connection and send the next request at once are each served:
    none waits while a few others are answered over and over."""
    import http.client
    import threading

    host, port = server.base_url.removeprefix("http://").split(":")
    counts = [0] * 16
    slowest = [0.0] * 16
    stop = time.monotonic() + 4

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        while time.monotonic() < stop:
            started = time.monotonic()
            connection.request(
                "POST", "/api/v1/classify", body=BODY, headers={"Content-Type": "application/json"}
            )
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200
            counts[index] += 1
            slowest[index] = max(slowest[index], time.monotonic() - started)
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(len(counts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert min(counts) > 0, counts
    assert max(slowest) < 2.0, slowest
    assert min(counts) >= 0.25 * statistics.median(counts), counts
