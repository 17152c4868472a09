"""The ?page= argument of admin lists, read the same way everywhere."""

from __future__ import annotations

from flask import abort, request

# Far beyond any real list, and small enough that page × page size fits the database's integers.
MAX_PAGE = 1_000_000


def page_argument(first: int = 1) -> int:
    """?page= as a whole number from ``first`` to MAX_PAGE; a 400 with a message otherwise."""
    raw = request.args.get("page")
    if raw is None or raw == "":
        return first
    if not raw.isascii() or not raw.isdigit() or not first <= int(raw) <= MAX_PAGE:
        abort(400, description=f"The page must be a whole number from {first} to {MAX_PAGE}.")
    return int(raw)
