"""The one access rule every admin page shares: a logged-in, active admin."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_login import current_user

from ..errors import error_response, wants_json


def current_user_is_admin() -> bool:
    """True when the request comes from a logged-in, active admin."""
    return bool(current_user.is_authenticated and current_user.is_active)


class AdminAccessMixin:
    """Mixed into every admin view: anonymous visitors go to login, API clients get 401."""

    def is_accessible(self) -> bool:
        return current_user_is_admin()

    def inaccessible_callback(self, name, **kwargs):
        if wants_json():
            return error_response(401, "You need to log in to do this.")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
