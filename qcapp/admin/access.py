"""The access rules every admin page shares: a logged-in, active account, and its role.

A reviewer works the inbox, the review queue and the labels and reads the history; only an
admin retrains, activates, deletes, manages accounts and exports. Admin-only pages and actions
answer 403 to a reviewer, and their links and buttons are not shown to one (``is_admin()`` in
templates).
"""

from __future__ import annotations

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

from ..errors import error_response, wants_json
from ..services.accounts.roles import current_is_admin, current_user_is_admin

__all__ = ["AdminAccessMixin", "admin_only", "current_is_admin", "current_user_is_admin"]


def admin_only(view):
    """Decorate an admin action that a reviewer may not take: 403 for them."""

    @wraps(view)
    def checked(*args, **kwargs):
        if not current_is_admin():
            abort(403, description="Only an admin may do this.")
        return view(*args, **kwargs)

    return checked


class AdminAccessMixin:
    """Mixed into every admin view: anonymous visitors go to login, API clients get 401.

    A view with ``admin_only = True`` is hidden from reviewers, who get 403 when they open it.
    """

    admin_only = False

    def is_accessible(self) -> bool:
        if not current_user_is_admin():
            return False
        return current_is_admin() or not self.admin_only

    def inaccessible_callback(self, name, **kwargs):
        if current_user.is_authenticated and current_user.is_active:
            if wants_json():
                return error_response(403, "Only an admin may see this.")
            abort(403, description="Only an admin may see this.")
        if wants_json():
            return error_response(401, "You need to log in to do this.")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
