"""What columns fill in by themselves: the time of a row, and the public token of a handle."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored time as aware UTC (SQLite hands back naive datetimes)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def new_public_token() -> str:
    """An unguessable public handle (a query's, a correction's): 144 random bits, URL-safe."""
    while True:
        token = secrets.token_urlsafe(18)
        # A leading "-" would make spreadsheets read the exported cell as a formula.
        if token[0].isalnum():
            return token
