"""The gunicorn worker that serves qcapp: reads each request whole, within deadlines, before the
app sees it, so a slow or malicious client costs a waiting greenlet, never a busy worker.

gunicorn's sync worker gives each connection the whole process until its request has arrived:
two sockets that send a header and one byte of a body kept both workers of a 2-core server
waiting, and nothing else was answered (docs/design.md, "The web server"). This is gunicorn's
gevent worker with three additions:

- the request line and headers must arrive within ``REQUEST_HEADER_TIMEOUT`` seconds of the
  connection, and the body within ``REQUEST_BODY_TIMEOUT`` seconds of the headers (checked
  once a second); otherwise the client gets 408 and the connection is closed;
- the body is read into memory before the app runs (as nginx's request buffering does), up to
  the largest body the app accepts; a larger one is left to the app, which refuses it with 413
  without reading it, and the client is given a few seconds to read that answer;
- ``100 Continue`` is sent before that read, so a client that waits for it is not held up.

Each connection is closed after its response (gunicorn's ``keepalive = 0``): every request
then comes through the shared listening socket to whichever worker is free, as with sync
workers, instead of staying with the worker that accepted the connection.
"""

from __future__ import annotations

import io
import json
import socket
import time

import gevent
from gunicorn import util
from gunicorn.http.body import Body
from gunicorn.workers.ggevent import GeventWorker

from ..blocking import let_others_run

CHUNK = 64 * 1024
LINGER_SECONDS = 5.0


class RequestTimeout(Exception):
    """A part of the request did not arrive within its deadline."""

    def __init__(self, part: str, seconds: float):
        super().__init__(f"The request's {part} did not arrive within {seconds:g} seconds.")


class BodyTooLarge(Exception):
    """A chunked body grew past the largest body the app accepts."""


def refuse(
    sock, status: int, reason: str, code: str, message: str, *, linger: bool = False
) -> None:
    """Answer with a JSON error, as the app's own errors are, before the connection closes.

    ``linger``: the client may still be sending (a body too large). Closing with its bytes
    unread would reset the connection before it reads the answer, so the rest of what it
    sends is read and dropped first, for at most ``LINGER_SECONDS``.
    """
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    try:
        util.write_nonblock(sock, head + body)
    except OSError:  # the client has gone: nothing to tell it
        return
    if linger:
        _linger(sock)


def _linger(sock) -> None:
    """Stop writing, and read and drop what the client still sends (at most
    ``LINGER_SECONDS``), so it can read the answer before the connection closes."""
    try:
        sock.shutdown(socket.SHUT_WR)
        with gevent.Timeout(LINGER_SECONDS, False):
            while sock.recv(CHUNK):
                pass
    except OSError:
        pass


def _content_length(req) -> int | None:
    return next(
        (int(value) for name, value in req.headers if name == "CONTENT-LENGTH"), None
    )


def _chunked(req) -> bool:
    return any(name == "TRANSFER-ENCODING" for name, _ in req.headers)


def _buffered(req) -> int:
    """Bytes of the body the parser already read along with the headers."""
    return req.unreader.buf.seek(0, io.SEEK_END)


class BufferingGeventWorker(GeventWorker):
    """gunicorn's gevent worker with deadlines for the request and its body read up front."""

    header_timeout = 10.0
    body_timeout = 30.0
    body_limit = 4 * 1024 * 1024

    def load_wsgi(self) -> None:
        super().load_wsgi()
        config = getattr(self.wsgi, "config", None) or {}
        self.header_timeout = float(config.get("REQUEST_HEADER_TIMEOUT", self.header_timeout))
        self.body_timeout = float(config.get("REQUEST_BODY_TIMEOUT", self.body_timeout))
        limits = [config.get("MAX_CONTENT_LENGTH"), config.get("MAX_BATCH_UPLOAD_BYTES")]
        known = [int(limit) for limit in limits if limit]
        if known:
            # The batch form adds a multipart envelope around its file (predict/uploads.py).
            self.body_limit = max(known) + 64 * 1024

    def run(self) -> None:
        self.reading: dict = {}  # greenlet -> (deadline, part) while it reads a request
        gevent.spawn(self._end_late_reads)
        super().run()

    def handle_quit(self, sig, frame) -> None:
        """Ctrl-C (SIGINT to the whole terminal group) or SIGQUIT: stop now. gunicorn's own
        version sleeps in a new greenlet and then raises SystemExit there; the worker's loop
        has usually ended by then, so it ran during interpreter shutdown and printed a
        traceback. Ending the loop is enough: the arbiter's fork exits when run() returns."""
        self.alive = False
        gevent.spawn(self.cfg.worker_int, self)

    def _end_late_reads(self) -> None:
        """Once a second, end the reads that are past their deadline (at most a second late):
        cheaper than a timer per connection, which cost more than the rest of the worker's
        additions together on a request of a few milliseconds."""
        loop = gevent.get_hub().loop
        while self.alive:
            gevent.sleep(1.0)
            now = time.monotonic()
            for greenlet, (deadline, part) in list(self.reading.items()):
                if deadline < now:
                    loop.run_callback(self._expire, greenlet, part)

    def _expire(self, greenlet, part: str) -> None:
        # Run by the hub while ``greenlet`` waits; it may have finished reading meanwhile.
        entry = self.reading.pop(greenlet, None)
        if entry is not None and entry[1] == part:
            seconds = self.header_timeout if part == "headers" else self.body_timeout
            greenlet.throw(RequestTimeout(part, seconds))

    def handle(self, listener, client, addr) -> None:
        current = gevent.getcurrent()
        self.reading[current] = (time.monotonic() + self.header_timeout, "headers")
        try:
            super().handle(listener, client, addr)
        finally:
            self.reading.pop(current, None)

    def handle_request(self, listener_name, req, sock, addr):
        current = gevent.getcurrent()
        self.reading.pop(current, None)
        length = _content_length(req)
        if length is not None and length > self.body_limit:
            # The app refuses it (413) without reading it; the client is then given the time
            # to stop sending and read that answer before the connection closes.
            try:
                return super().handle_request(listener_name, req, sock, addr)
            finally:
                _linger(sock)
        if length is not None and 0 < length <= _buffered(req):
            # The whole body came with the headers (nearly every API call): nothing to wait for.
            req.body = Body(io.BytesIO(req.body.read(length)))
        elif length or _chunked(req):
            self.reading[current] = (time.monotonic() + self.body_timeout, "body")
            try:
                self.read_body(req, sock, length)
            except RequestTimeout as error:
                refuse(sock, 408, "Request Timeout", "request_timeout", str(error))
                raise StopIteration from None  # the caller closes the connection
            except BodyTooLarge:
                refuse(sock, 413, "Content Too Large", "payload_too_large",
                       "The request is too large.", linger=True)
                raise StopIteration from None
            finally:
                self.reading.pop(current, None)
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            # On a kept-alive connection the next request is often in the socket already, and
            # reading it would not wait: the greenlet would go on without the loop ever looking
            # at the other connections. A few were then served over and over and the rest
            # waited (p99 1.2 s at 32 clients). Waiting for the loop to go idle gives every
            # ready connection its turn first (p99 64 ms).
            let_others_run()

    def read_body(self, req, sock, length: int | None) -> None:
        """Read the request's body into memory (up to ``body_limit``), answering an
        ``Expect: 100-continue`` first; a larger announced body is left unread."""
        if length is not None and length > self.body_limit:
            return  # the app refuses it with 413 without reading it
        if req._expected_100_continue:  # noqa: SLF001  (gunicorn sends it too late for us)
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            req._expected_100_continue = False  # noqa: SLF001
        if length is not None:
            data = req.body.read(length)
        else:  # chunked: as long as it stays within the limit
            buffer = io.BytesIO()
            while chunk := req.body.read(CHUNK):
                buffer.write(chunk)
                if buffer.tell() > self.body_limit:
                    raise BodyTooLarge()
            data = buffer.getvalue()
        req.body = Body(io.BytesIO(data))

    def handle_error(self, req, client, addr, exc) -> None:
        if isinstance(exc, RequestTimeout):
            refuse(client, 408, "Request Timeout", "request_timeout", str(exc))
            return
        super().handle_error(req, client, addr, exc)
