"""Who the current request's account is: any account of the admin site (a reviewer or an
admin), or an admin. Pages outside the admin site ask too, for what they show staff."""

from __future__ import annotations

from flask import has_request_context
from flask_login import current_user


def current_user_is_admin() -> bool:
    """True when the request comes from a logged-in, active account of the admin site (any role)."""
    return bool(current_user.is_authenticated and current_user.is_active)


def current_is_admin() -> bool:
    """Whether the logged-in account has the admin role (False outside a request)."""
    if not has_request_context():
        return False
    return bool(current_user.is_authenticated and getattr(current_user, "is_admin", False))
