"""Where the app may send a browser: paths on this site only, never a host taken from a request."""

from __future__ import annotations

from urllib.parse import urlsplit


def local_target(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (``//host``, ``/\\host``, schemes)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(character) < 32 or character == "\\" for character in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def relative_location(location: str, request_host: str) -> str:
    """A Location header without the scheme and host when it points back at this site.

    Werkzeug builds some redirects (``/admin`` → ``/admin/``) from the request's Host header;
    a relative Location goes to the same place without trusting that header.
    """
    parts = urlsplit(location)
    if parts.netloc and parts.netloc.lower() == request_host.lower():
        path = parts.path or "/"
        return path + (f"?{parts.query}" if parts.query else "") + (
            f"#{parts.fragment}" if parts.fragment else ""
        )
    return location
