"""ops/nginx/qcapp.conf started for real (ops/proxy.py), with TLS, in front of make run's
server with QC_TRUSTED_PROXIES=1: visitors behind it are counted apart, and what they forge is
not read.

Visitors connect from different loopback addresses (127.0.0.2, .3, .4), as different
machines would; the app only ever talks to nginx (127.0.0.1).
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import re
import shutil
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from functools import partial

import pytest
from e2e_support import ARTIFACTS, REPOSITORY_ROOT
from live_server import LiveServer, flask_command, free_port, served_instance

from helpers import ADMIN_PASSWORD, ADMIN_USERNAME

sys.path.insert(0, str(REPOSITORY_ROOT / "ops"))

from proxy import SITE_HOST as HOST  # noqa: E402  (ops/proxy.py)
from proxy import Nginx, nginx_binary  # noqa: E402


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int, int]]:
    """The app behind nginx: (server, nginx's HTTPS port, its HTTP port)."""
    if nginx_binary() is None or not shutil.which("openssl"):
        pytest.skip("needs Debian's nginx and openssl (.ci/run installs nginx)")
    with served_instance(
        tmp_path_factory.mktemp("instance"),
        ARTIFACTS / "proxied-server.log",
        QC_TRUSTED_PROXIES="1",
    ) as server:
        nginx = Nginx(
            tmp_path_factory.mktemp("nginx"), https_port=free_port(), http_port=free_port()
        )
        nginx.start([server.base_url.removeprefix("http://")])
        try:
            yield server, nginx.https_port, nginx.http_port
        finally:
            nginx.stop()


class Visitor:
    """One visitor's browser: its own address, its cookies, HTTPS to nginx, no redirects."""

    def __init__(self, address: str, port: int, scheme: str = "https"):
        self.base = f"{scheme}://127.0.0.1:{port}"
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the test's own throwaway certificate
        address_handler = SourceAddressHandler((address, 0), context)
        self.opener = urllib.request.build_opener(
            address_handler,
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            NoRedirects(),
        )

    def request(self, method: str, path: str, body: bytes | None = None, **headers: str):
        request = urllib.request.Request(self.base + path, data=body, method=method)
        request.add_header("Host", HOST)
        for name, value in headers.items():
            request.add_header(name.replace("_", "-"), value)
        try:
            with self.opener.open(request, timeout=10) as answer:
                return answer.status, answer.headers, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def get(self, path: str, **headers: str):
        return self.request("GET", path, **headers)

    def post_json(self, path: str, payload: dict, **headers: str):
        return self.request(
            "POST", path, json.dumps(payload).encode(), Content_Type="application/json", **headers
        )

    def log_in(self, password: str, **headers: str) -> int:
        _, _, page = self.get("/login", **headers)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"username": ADMIN_USERNAME, "password": password, "csrf_token": token}
        ).encode()
        status, _, _ = self.request(
            "POST",
            "/login",
            form,
            Content_Type="application/x-www-form-urlencoded",
            # What a browser sends on a same-origin form (Referrer-Policy: same-origin).
            Referer=f"https://{HOST}/login",
            **headers,
        )
        return status


class SourceAddressHandler(urllib.request.HTTPSHandler, urllib.request.HTTPHandler):
    """Connect from a given local address, as a visitor on another machine would."""

    def __init__(self, source: tuple[str, int], context: ssl.SSLContext):
        urllib.request.HTTPSHandler.__init__(self, context=context)
        self.source = source
        self.tls = context

    def https_open(self, request):
        connection = partial(
            http.client.HTTPSConnection, source_address=self.source, context=self.tls
        )
        return self.do_open(connection, request)

    def http_open(self, request):
        return self.do_open(
            partial(http.client.HTTPConnection, source_address=self.source), request
        )


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_plain_http_is_sent_to_https(proxied):
    _, _, http_port = proxied
    status, headers, _ = Visitor("127.0.0.2", http_port, scheme="http").get("/")
    assert status == 301 and headers["Location"] == f"https://{HOST}/"


def test_over_tls_the_session_cookie_is_secure_and_hsts_is_sent(proxied):
    _, https_port, _ = proxied
    status, headers, _ = Visitor("127.0.0.2", https_port).get("/login")
    assert status == 200
    assert "; Secure" in headers["Set-Cookie"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000"


def test_two_visitors_behind_the_proxy_are_throttled_apart(proxied):
    _, https_port, _ = proxied
    guesser = Visitor("127.0.0.2", https_port)
    # Each attempt also forges another X-Forwarded-For: nginx appends the real address.
    answers = [guesser.log_in(f"guess {n}", X_Forwarded_For=f"10.1.1.{n}") for n in range(7)]
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
    owner = Visitor("127.0.0.3", https_port)
    assert owner.log_in(ADMIN_PASSWORD) == 302


def test_a_consensus_of_three_visitors_behind_the_proxy_forms(proxied):
    server, https_port, _ = proxied
    question = "Which river flows through the city of Lyon?"
    for address in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
        visitor = Visitor(address, https_port)
        status, _, body = visitor.post_json("/api/v1/classify", {"question": question})
        assert status == 200, body
        token = json.loads(body)["id"]
        status, _, body = visitor.post_json(
            f"/api/v1/queries/{token}/corrections", {"coarse": "LOC", "fine": "LOC:other"}
        )
        assert status == 201, body
    listing = flask_command("qc", "inbox", "--json", environment=server.environment)
    items = json.loads(listing.strip().splitlines()[-1])
    mine = [item for item in items if item["question"] == question]
    assert mine and mine[0]["consensus"] == "LOC:other", mine
