"""The gunicorn worker that serves qcapp: reads each request whole, within deadlines, before the
app sees it, so a slow or malicious client costs a waiting greenlet, never a busy worker.

gunicorn's sync worker gives each connection the whole process until its request has arrived:
two sockets that send a header and one byte of a body kept both workers of a 2-core server
waiting, and nothing else was answered (bench/RESULTS.md). This is gunicorn's gevent worker
with three additions:

- the request line and headers must arrive within ``REQUEST_HEADER_TIMEOUT`` seconds of the
  connection, and the body within ``REQUEST_BODY_TIMEOUT`` seconds of the headers; otherwise
  the client gets 408 and the connection is closed;
- the body is read into memory before the app runs (as nginx's request buffering does), up to
  the largest body the app accepts; a larger one is left to the app, which refuses it with 413
  without reading it;
- ``100 Continue`` is sent before that read, so a client that waits for it is not held up.

Each connection is closed after its response (gunicorn's ``keepalive = 0``): every request
then comes through the shared listening socket to whichever worker is free, as with sync
workers, instead of staying with the worker that accepted the connection.
"""

from __future__ import annotations

import io
import json

import gevent
from gunicorn import util
from gunicorn.http.body import Body
from gunicorn.workers.ggevent import GeventWorker

CHUNK = 64 * 1024


class RequestTimeout(Exception):
    """A part of the request did not arrive within its deadline."""

    def __init__(self, part: str, seconds: float):
        super().__init__(f"The request's {part} did not arrive within {seconds:g} seconds.")


class BodyTooLarge(Exception):
    """A chunked body grew past the largest body the app accepts."""


def refuse(sock, status: int, reason: str, code: str, message: str) -> None:
    """Answer with a JSON error, as the app's own errors are, and close the connection."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    try:
        util.write_nonblock(sock, head + body)
    except OSError:  # the client has gone: nothing to tell it
        pass


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

    def handle(self, listener, client, addr) -> None:
        deadline = gevent.Timeout(
            self.header_timeout, RequestTimeout("headers", self.header_timeout)
        )
        gevent.getcurrent().qc_header_deadline = deadline
        deadline.start()
        try:
            super().handle(listener, client, addr)
        finally:
            deadline.close()

    def handle_request(self, listener_name, req, sock, addr):
        header_deadline = getattr(gevent.getcurrent(), "qc_header_deadline", None)
        if header_deadline is not None:
            header_deadline.cancel()
        try:
            with gevent.Timeout(self.body_timeout, RequestTimeout("body", self.body_timeout)):
                self.read_body(req, sock)
        except RequestTimeout as error:
            refuse(sock, 408, "Request Timeout", "request_timeout", str(error))
            raise StopIteration from None  # the caller closes the connection
        except BodyTooLarge:
            refuse(sock, 413, "Content Too Large", "payload_too_large",
                   "The request is too large.")
            raise StopIteration from None
        return super().handle_request(listener_name, req, sock, addr)

    def read_body(self, req, sock) -> None:
        """Read the request's body into memory (up to ``body_limit``), answering an
        ``Expect: 100-continue`` first; a larger announced body is left unread."""
        length = next((value for name, value in req.headers if name == "CONTENT-LENGTH"), None)
        if length is not None and int(length) > self.body_limit:
            return  # the app refuses it with 413 without reading it
        if length is not None and int(length) == 0:
            return
        if req._expected_100_continue:  # noqa: SLF001  (gunicorn sends it too late for us)
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            req._expected_100_continue = False  # noqa: SLF001
        buffer = io.BytesIO()
        while chunk := req.body.read(CHUNK):
            buffer.write(chunk)
            if buffer.tell() > self.body_limit:
                raise BodyTooLarge()
        buffer.seek(0)
        req.body = Body(buffer)

    def handle_error(self, req, client, addr, exc) -> None:
        if isinstance(exc, RequestTimeout):
            refuse(client, 408, "Request Timeout", "request_timeout", str(exc))
            return
        super().handle_error(req, client, addr, exc)
