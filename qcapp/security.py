"""Security headers on every response, with a per-request nonce for the few scripts we serve."""

from __future__ import annotations

import secrets

from flask import Flask, Request, g, has_request_context, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

from .services.accounts.redirects import relative_location

API_PREFIX = "/api/"
PRIVATE_PREFIXES = ("/admin", "/login", "/logout", "/account")


class StatelessApiSessions(SecureCookieSessionInterface):
    """The JSON API keeps no session: its requests neither read nor write the session cookie,
    which also spares every API call the cookie's signing work. Elsewhere the cookie is Secure
    whenever the request came over HTTPS (``SESSION_COOKIE_SECURE = "auto"``)."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if request.path.startswith(API_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        setting = app.config["SESSION_COOKIE_SECURE"]
        if setting == "auto":
            return has_request_context() and request.is_secure
        return bool(setting)


def trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` reverse proxies, read the client's address and the scheme
    from the headers the nearest proxies added, so the login throttle, the rate limit, client
    trust and consensus see each visitor apart. Werkzeug's ProxyFix takes the address that
    many entries from the end of X-Forwarded-For: whatever a client wrote in front of what
    the proxies appended is never read. Without trusted proxies the headers are ignored."""
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def csp_nonce() -> str:
    """The nonce of the current request, created on first use."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def install_security_headers(app: Flask) -> None:
    """Add CSP, framing, sniffing, referrer and cache headers; keep redirects on this site."""
    app.session_interface = StatelessApiSessions()
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def add_headers(response):
        nonce = csp_nonce()
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith(PRIVATE_PREFIXES):
            # Admin pages, exports and the login form must not stay in any cache or history.
            response.headers["Cache-Control"] = "no-store"
        elif response.mimetype == "text/html" and "Cache-Control" not in response.headers:
            # Pages carry this response's script nonce and, with a form, the visitor's CSRF
            # token: a shared cache must never hand one visitor's page to another.
            response.headers["Cache-Control"] = "private, no-cache"
        hsts = app.config["HSTS_MAX_AGE"]
        if hsts and request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
        if response.location:
            response.location = relative_location(response.location, request.host)
        return response
