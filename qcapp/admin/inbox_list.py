"""The inbox list: search and filters, a client's page, and decisions on many items at once.

Every action that changes many rows first shows a confirmation page with the count and the
filter in words; the confirming form carries the ids it showed, so what arrives meanwhile is
not swept in. Reviewers may take these actions as well as admins: each is the reviewer's own
one-item decision repeated, audited as one event and undoable, and nothing reaches a model
before an admin retrains.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm

from training import SCOPE_REASONS, taxonomy

from ..services.review.bulk import (
    ACTIONS,
    MAX_BULK,
    bulk_targets,
    consensus_count,
    consensus_preview,
    parse_items,
    run_bulk,
)
from ..services.review.client_actions import (
    client_summary,
    clients_of,
    reject_client_pending,
    resolve_client,
    short,
    undo_client_rejection,
)
from ..services.review.feedback import InvalidCorrection
from ..services.review.inbox import ranked_inbox
from ..services.review.inbox_decisions import approve_consensus
from ..services.review.inbox_filters import (
    REASON_WORDS,
    SCOPES,
    STATES,
    InboxFilter,
    InvalidFilter,
    driving_reason,
    inbox_filter_from,
)
from .paging import page_argument

PAGE_SIZE = 50
SHOWN_IN_CONFIRMATION = 20


class ListForm(FlaskForm):
    """Carries the CSRF token of the list's actions."""


def _list_context(filters: InboxFilter) -> dict:
    return {
        "filters": filters,
        "filter_args": filters.as_args(),
        "reasons": REASON_WORDS,
        "scopes": SCOPES,
        "states": STATES,
        "scope_words": SCOPE_REASONS,
        "coarse_labels": taxonomy.COARSE_LABELS,
        "fine_labels": taxonomy.FINE_LABELS,
        "driving_reason": driving_reason,
        "short": short,
    }


class InboxListMixin:
    """The list page and its many-item actions, mixed into the inbox view."""

    @expose("/")
    def index(self):
        page = page_argument()
        try:
            filters = inbox_filter_from(request.args)
        except InvalidFilter as error:
            return self._render_list(InboxFilter(), page, error=error.message), 400
        return self._render_list(filters, page)

    def _render_list(self, filters: InboxFilter, page: int, error: str | None = None):
        if error is None:
            items, total = ranked_inbox(
                limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, filters=filters
            )
            consensus, flagged = consensus_count()
        else:
            items, total, consensus, flagged = [], 0, 0, 0
        return self.render(
            "admin/inbox.html",
            items=items,
            total=total,
            page=page,
            first=(page - 1) * PAGE_SIZE,
            pages=max(1, -(-total // PAGE_SIZE)),
            error=error,
            clients=clients_of(items),
            consensus_count=consensus,
            consensus_flagged=flagged,
            form=ListForm(),
            actions=ACTIONS,
            **_list_context(filters),
        )

    @expose("/consensus", methods=["GET", "POST"])
    def consensus(self):
        if request.method == "GET" or not request.form.get("confirmed"):
            items, flagged = consensus_preview()
            return self.render(
                "admin/inbox_confirm.html",
                what="consensus",
                items=items[:SHOWN_IN_CONFIRMATION],
                count=len(items),
                flagged=flagged,
                form=ListForm(),
                **_list_context(InboxFilter()),
            )
        if not ListForm().validate_on_submit():
            flash("The form expired; please try again.", "error")
            return redirect(url_for(".index"))
        done, skipped = approve_consensus(actor=current_user.username)
        flash(f"Approved {done} consensus item(s); {skipped} left for a closer look.", "success")
        return redirect(url_for(".index"))

    @expose("/bulk", methods=["POST"])
    def bulk(self):
        if not ListForm().validate_on_submit():
            flash("The form expired; please try again.", "error")
            return redirect(url_for(".index"))
        try:
            filters = inbox_filter_from(request.form)
        except InvalidFilter as error:
            flash(error.message, "error")
            return redirect(url_for(".index"))
        action = request.form.get("action", "")
        label = request.form.get("to_label", "")
        if action not in ACTIONS:
            flash("Choose what to do with the items.", "error")
            return redirect(url_for(".index", **filters.as_args()))
        if action == "label" and label not in taxonomy.FINE_CLASSES:
            flash("Choose the fine label to give the items.", "error")
            return redirect(url_for(".index", **filters.as_args()))
        if not request.form.get("confirmed"):
            items, total = bulk_targets(filters)
            return self.render(
                "admin/inbox_confirm.html",
                what="bulk",
                action=action,
                action_words=ACTIONS[action],
                label=label,
                items=items,
                shown=SHOWN_IN_CONFIRMATION,
                count=len(items),
                total=total,
                max_bulk=MAX_BULK,
                description=filters.describe(),
                form=ListForm(),
                **_list_context(filters),
            )
        try:
            items = parse_items(request.form.getlist("items"))
            result = run_bulk(
                action, items, label=label, filters=filters, actor=current_user.username
            )
        except InvalidCorrection as error:
            flash(error.message, "error")
        else:
            verb = {"label": f"labelled {label}", "reject": "rejected", "discard": "discarded"}
            flash(result.sentence(verb[action]), "success" if result.done else "warning")
        return redirect(url_for(".index", **filters.as_args()))

    @expose("/client/<client>")
    def client(self, client: str):
        try:
            full = resolve_client(client)
        except InvalidCorrection as error:
            abort(404 if error.code == "not_found" else 400, description=error.message)
        if full != client:
            return redirect(url_for(".client", client=full))
        return self.render(
            "admin/inbox_client.html", summary=client_summary(full), form=ListForm(), short=short
        )

    @expose("/client/<client>/reject", methods=["POST"])
    def client_reject(self, client: str):
        try:
            full = resolve_client(client)
        except InvalidCorrection as error:
            abort(404 if error.code == "not_found" else 400, description=error.message)
        if not ListForm().validate_on_submit():
            flash("The form expired; please try again.", "error")
            return redirect(url_for(".client", client=full))
        if not request.form.get("confirmed"):
            summary = client_summary(full)
            return self.render(
                "admin/inbox_confirm.html",
                what="client",
                summary=summary,
                count=len(summary.pending_ids),
                form=ListForm(),
                short=short,
            )
        ids = request.form.getlist("ids", type=int)
        try:
            event = reject_client_pending(full, ids, actor=current_user.username)
        except InvalidCorrection as error:
            flash(error.message, "error")
        else:
            left = len(event.details["left"])
            flash(
                f"Rejected {len(event.details['rejected'])} proposal(s) from client {short(full)}"
                + (f"; {left} left: reviewed meanwhile." if left else ".")
                + " Undo puts them back in review.",
                "success",
            )
        return redirect(url_for(".client", client=full))

    @expose("/client/undo/<int(max=2147483647):event_id>", methods=["POST"])
    def client_undo(self, event_id: int):
        if not ListForm().validate_on_submit():
            flash("The form expired; please try again.", "error")
            return redirect(url_for(".index"))
        try:
            restored = undo_client_rejection(event_id, actor=current_user.username)
        except InvalidCorrection as error:
            if error.code == "not_found":
                abort(404, description=error.message)
            flash(error.message, "error")
        else:
            flash(f"Undone: {len(restored)} proposal(s) wait for review again.", "success")
        client = request.form.get("client", "")
        if client:
            return redirect(url_for(".client", client=client))
        return redirect(url_for(".index"))
