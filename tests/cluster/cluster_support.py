"""Clients of the cluster's hosts and small helpers shared by the cluster tests."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import re
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from functools import partial
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "ops"))

from cluster import Cluster  # noqa: E402,F401  (ops/cluster.py, for the fixtures)
from traffic import Traffic  # noqa: E402,F401  (ops/traffic.py, for the load)

ADMIN_PASSWORD = "cluster " + secrets.token_urlsafe(9)


class Client:
    """A browser-like client of one host: cookies, CSRF tokens from forms, JSON helpers."""

    def __init__(
        self, base: str, jar: http.cookiejar.CookieJar | None = None, source: str | None = None
    ):
        """``source``: the local address to connect from, as a visitor on another machine."""
        self.base = base
        self.jar = jar if jar is not None else http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect]
        if source is not None or base.startswith("https:"):
            handlers.append(_FromAddress(source))
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, method: str, path: str, *, form=None, body=None, timeout=30.0):
        """(status, text) of one request; a redirect is returned, not followed."""
        data, headers = None, {}
        if form is not None:
            data = urllib.parse.urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def json(self, method: str, path: str, body=None) -> tuple[int, dict]:
        status, payload = self.request(method, path, body=body)
        return status, json.loads(payload) if payload.startswith("{") else {}

    def csrf(self, path: str) -> str:
        status, page = self.request("GET", path)
        assert status == 200, (path, status)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert match, f"{path} has no CSRF token"
        return match.group(1)

    def login(self, username: str, password: str) -> int:
        token = self.csrf("/login")
        status, _ = self.request(
            "POST", "/login",
            form={"csrf_token": token, "username": username, "password": password},
        )
        return status


class _FromAddress(urllib.request.HTTPSHandler, urllib.request.HTTPHandler):
    """Connect from a given loopback address; HTTPS to the cluster's self-signed balancer."""

    def __init__(self, source: str | None):
        self.tls = ssl.create_default_context()
        self.tls.check_hostname = False
        self.tls.verify_mode = ssl.CERT_NONE  # the cluster's throwaway certificate
        urllib.request.HTTPSHandler.__init__(self, context=self.tls)
        self.source = (source, 0) if source else None

    def https_open(self, request):
        return self.do_open(
            partial(http.client.HTTPSConnection, source_address=self.source, context=self.tls),
            request,
        )

    def http_open(self, request):
        return self.do_open(
            partial(http.client.HTTPConnection, source_address=self.source), request
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def scalar(database, sql: str, **params):
    with database.connect() as connection:
        return connection.execute(text(sql), params).scalar()


def admin(cluster, host: str, jar=None) -> Client:
    """A client of ``host`` signed in as the cluster's admin (the session works on both)."""
    client = Client(cluster.url(host), jar)
    if jar is None:
        assert client.login("admin", ADMIN_PASSWORD) == 302
    return client


def wait_for(check, timeout: float, poll: float = 0.2, what: str = "condition"):
    """Poll ``check`` until it returns a true value; that value, or a TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not met in {timeout:.0f} s")
        time.sleep(poll)
