"""The review inbox page and its record card.

Every card action is a plain form post that redirects, so the card works without JavaScript;
asked for JSON (``Accept: application/json`` or ``X-Requested-With``) the same endpoints answer
JSON instead, which the card's script uses to decide in the background while the next card,
already fetched from ``/cards``, is on screen.
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm

from ..services.review.discards import discard_item
from ..services.review.feedback import InvalidCorrection
from ..services.review.inbox import ranked_inbox
from ..services.review.inbox_decisions import (
    decide_item,
    find_item,
    last_decision,
    reject_item,
    split_question,
    undo_last_decision,
)
from ..services.review.inbox_filters import InvalidFilter, inbox_filter_from
from ..services.review.inbox_targets import check_unchanged
from ..services.review.label_picker import picker_entries
from .access import AdminAccessMixin
from .inbox_cards import card_context, card_fragment
from .inbox_list import InboxListMixin

MAX_PREFETCH = 10  # cards one /cards request returns
MAX_EXCLUDED = 500  # ids a client may name as already held or decided
# The card's own arguments; every other query-string argument is the inbox's filter.
CARD_ARGUMENTS = ("at", "item")


class InboxForm(FlaskForm):
    """Carries the CSRF token of every inbox action."""


def _inbox_args() -> dict[str, list[str]]:
    """The inbox's filter arguments of this request, kept on every URL the card builds."""
    return {
        key: values
        for key, values in request.args.to_dict(flat=False).items()
        if key not in CARD_ARGUMENTS
    }


def _ranking(args: dict[str, list[str]]) -> dict:
    """The ranking's options that the filter arguments set: the list page's filter, so the
    card walks the same items in the same order. InvalidFilter names a bad value."""
    return {"filters": inbox_filter_from({key: values[0] for key, values in args.items()})}


def _page_ranking(args: dict[str, list[str]]) -> dict:
    """``_ranking`` for a page: a bad filter value is a 400 page saying which and why."""
    try:
        return _ranking(args)
    except InvalidFilter as error:
        abort(400, description=error.message)


def _position() -> int:
    at = request.values.get("at", "0")
    if not at.isdigit() or int(at) > 1_000_000:
        abort(400, description="The position must be a whole number from 0.")
    return int(at)


def _ids_argument(name: str) -> list[int] | None:
    """A comma-separated list of query ids; None when malformed or too long."""
    parts = [part for part in request.args.get(name, "").split(",") if part]
    if len(parts) > MAX_EXCLUDED or not all(p.isdigit() and len(p) <= 10 for p in parts):
        return None
    return [int(part) for part in parts]


def _wants_json() -> bool:
    accept = request.accept_mimetypes
    return bool(request.headers.get("X-Requested-With")) or (accept.best == "application/json")


def _refused(message: str, code: str, status: int = 400):
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


# How each refusal of a decision reads over HTTP: a stale or conflicting card is a conflict.
REFUSAL_STATUS = {
    "not_found": 404,
    "changed": 409,
    "needs_confirmation": 409,
    "nothing_to_undo": 409,
    "already_trained": 409,
    "in_training_data": 409,
}


class InboxView(InboxListMixin, AdminAccessMixin, BaseView):
    @expose("/card")
    def card(self):
        args = _inbox_args()
        item_id = request.args.get("item", "")
        if item_id:
            # An item named by its query (after an undo): shown first, the queue goes on.
            if not item_id.isdigit() or len(item_id) > 10:
                abort(400, description="The item must be a query id.")
            try:
                item = find_item(int(item_id))
            except InvalidCorrection:
                abort(404)
            _items, total = ranked_inbox(limit=1, **_page_ranking(args))
            return self._render_card(item, 0, total, args)
        at = _position()
        items, total = ranked_inbox(limit=1, offset=at, **_page_ranking(args))
        if not items:
            if at and total:
                return redirect(url_for(".card", at=min(at, total) - 1, **args))
            return self._render_card(None, at, total, args)
        return self._render_card(items[0], at, total, args)

    @expose("/query/<int(max=2147483647):query_id>")
    def query(self, query_id: int):
        try:
            item = find_item(query_id)
        except InvalidCorrection:
            abort(404)
        return self._render_card(item, None, None, _inbox_args())

    @expose("/cards")
    def cards(self):
        """The next cards as JSON fragments: ``n`` of them, leaving out the ``exclude``d query
        ids the client holds or decided; or the items of ``ids`` (after an undo)."""
        args = _inbox_args()
        wanted = request.args.get("n", "3")
        if not wanted.isdigit() or not 1 <= int(wanted) <= MAX_PREFETCH:
            return _refused(f"n must be a whole number from 1 to {MAX_PREFETCH}.", "bad_request")
        named, excluded = _ids_argument("ids"), _ids_argument("exclude")
        if named is None or excluded is None:
            return _refused(
                f"ids and exclude list at most {MAX_EXCLUDED} query ids, comma-separated.",
                "bad_request",
            )
        options = {k: v for k, v in args.items() if k not in ("n", "exclude", "ids")}
        try:
            ranking = _ranking(options)
        except InvalidFilter as error:
            return _refused(error.message, error.code)
        total = None
        if named:
            try:
                items = [find_item(query_id) for query_id in named[:MAX_PREFETCH]]
            except InvalidCorrection as error:
                return _refused(error.message, error.code, 404)
            _ranked, total = ranked_inbox(limit=1, **ranking)
        else:
            count = int(wanted)
            ranked, total = ranked_inbox(limit=count + len(excluded), **ranking)
            items = [i for i in ranked if not set(excluded).intersection(i.query_ids)][:count]
        form = InboxForm()
        return jsonify(
            total=total,
            cards=[
                {
                    "query_id": item.query_id,
                    "query_ids": item.query_ids,
                    "html": card_fragment(card_context(item, None, total, options), form),
                }
                for item in items
            ],
        )

    def _render_card(self, item, at: int | None, total: int | None, args: dict):
        return self.render(
            "admin/inbox_card.html",
            form=InboxForm(),
            can_undo=last_decision(current_user.username) is not None,
            picker=picker_entries(),
            **card_context(item, at, total, args),
        )

    def _after(self, at: int | None, query_id: int | None = None):
        args = _inbox_args()
        if at is None and query_id:
            return redirect(url_for(".query", query_id=query_id, **args))
        return redirect(url_for(".card", at=at or 0, **args))

    def _checked(self) -> tuple[list[int], int | None] | None:
        if not InboxForm().validate_on_submit():
            return None
        ids = request.form.getlist("query_ids", type=int)
        at = request.form.get("at")
        return ids, (int(at) if at and at.isdigit() else None)

    def _expired(self):
        message = "The form expired; please try again."
        if _wants_json():
            return _refused(message, "csrf_expired")
        flash(message, "error")
        return redirect(url_for(".card", **_inbox_args()))

    def _decided(self, action, ids: list[int], at: int | None, *args, **kwargs):
        """Run one decision; answer JSON or flash and redirect."""
        try:
            if not ids:
                raise InvalidCorrection("Name the questions to decide.", "missing_field")
            check_unchanged(ids, request.form.get("state"))
            decision = action(ids, *args, actor=current_user.username, **kwargs)
        except InvalidCorrection as error:
            if _wants_json():
                return _refused(error.message, error.code, REFUSAL_STATUS.get(error.code, 400))
            flash(error.message, "error")
            return self._after(at, ids[0] if ids else None)
        if _wants_json():
            return jsonify(
                message=decision.summary,
                decision={"query_id": decision.query_id, "label": decision.label},
                can_undo=True,
            )
        flash(decision.summary, "success")
        return self._after(at, ids[0] if ids else None)

    @expose("/decide", methods=["POST"])
    def decide(self):
        checked = self._checked()
        if checked is None:
            return self._expired()
        ids, at = checked
        fine = request.form.get("other_fine") or request.form.get("fine") or ""
        return self._decided(
            decide_item,
            ids,
            at,
            fine,
            confirm_override=bool(request.form.get("confirm_override")),
        )

    @expose("/reject", methods=["POST"])
    def reject(self):
        checked = self._checked()
        if checked is None:
            return self._expired()
        return self._decided(reject_item, *checked)

    @expose("/discard", methods=["POST"])
    def discard(self):
        checked = self._checked()
        if checked is None:
            return self._expired()
        return self._decided(discard_item, *checked)

    @expose("/undo", methods=["POST"])
    def undo(self):
        if not InboxForm().validate_on_submit():
            return self._expired()
        try:
            query_id = undo_last_decision(current_user.username)
        except InvalidCorrection as error:
            if _wants_json():
                return _refused(error.message, error.code, REFUSAL_STATUS.get(error.code, 400))
            flash(error.message, "error")
            return redirect(url_for(".card", **_inbox_args()))
        message = "Undone: the item is back in the inbox."
        if _wants_json():
            return jsonify(
                message=message,
                query_id=query_id,
                can_undo=last_decision(current_user.username) is not None,
            )
        flash(message, "success")
        # Back in the queue: the undone item is the current card, Skip and Next go on from it.
        return redirect(url_for(".card", item=query_id, **_inbox_args()))

    @expose("/split", methods=["POST"])
    def split(self):
        checked = self._checked()
        if checked is None:
            return self._expired()
        ids, at = checked
        try:
            split_question(ids[0] if ids else 0, actor=current_user.username)
        except InvalidCorrection as error:
            flash(error.message, "error")
        else:
            flash("Split out of its group.", "success")
        return self._after(at)
