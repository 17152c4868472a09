"""The review inbox page and its record card; every action is a plain form post."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm

from training import taxonomy

from ..extensions import db
from ..models import Correction
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
from ..services.review.inbox_items import InboxItem
from ..services.review.label_help import labels_with_help
from ..services.review.merge_guard import contradicted_base_label, describe_flags
from ..services.review.neighbours import training_neighbours
from .access import AdminAccessMixin
from .inbox_list import InboxListMixin

MAX_CHOICES = 9  # keys 1 to 9


class InboxForm(FlaskForm):
    """Carries the CSRF token of every inbox action."""


def _position() -> int:
    at = request.values.get("at", "0")
    if not at.isdigit() or int(at) > 1_000_000:
        abort(400, description="The position must be a whole number from 0.")
    return int(at)


def _base_label(item: InboxItem) -> str | None:
    base = contradicted_base_label(item.normalized, "")
    return base["fine"] if base else None


def _choices(item: InboxItem) -> list[str]:
    """The labels offered as one-key choices: proposals, the training label, the model's
    label and its alternatives."""
    labels = [p.fine for p in item.proposals]
    base = _base_label(item)
    if base:
        labels.append(base)
    if item.model_label:
        labels.append(item.model_label)
    labels += [a["fine"] for a in item.alternatives]
    return list(dict.fromkeys(label for label in labels if label in taxonomy.FINE_CLASSES))[
        :MAX_CHOICES
    ]


def _default_choice(item: InboxItem, choices: list[str]) -> str | None:
    """What Enter approves: the consensus, else the most supported proposal, else the
    training set's label of the question (approving it needs no override), else the model's."""
    if item.consensus:
        return item.consensus
    if item.proposals:
        return item.proposals[0].fine
    return _base_label(item) or item.model_label or (choices[0] if choices else None)


def _help_by_label() -> dict[str, dict]:
    found = {}
    for coarse in labels_with_help():
        for fine in coarse["fine"]:
            found[fine["label"]] = fine
    return found


def _flags(item: InboxItem) -> list[str]:
    """The merge guard's sentences for the item's proposals and the base dataset's label."""
    ids = [i for p in item.proposals for i in p.correction_ids]
    sentences = []
    if ids:
        for correction in db.session.query(Correction).filter(Correction.id.in_(ids)):
            sentences += describe_flags(correction.flags or {})
    base = contradicted_base_label(item.normalized, "")
    if base is not None:
        sentences.append(
            f"The base dataset {base['dataset']} labels this question {base['fine']}; choosing"
            " another label overrides it and needs the override box."
        )
    return list(dict.fromkeys(sentences))


class InboxView(InboxListMixin, AdminAccessMixin, BaseView):
    @expose("/card")
    def card(self):
        at = _position()
        items, total = ranked_inbox(limit=1, offset=at)
        if not items:
            if at and total:
                return redirect(url_for(".card", at=min(at, total) - 1))
            return self._render_card(None, at, total)
        return self._render_card(items[0], at, total)

    @expose("/query/<int(max=2147483647):query_id>")
    def query(self, query_id: int):
        try:
            item = find_item(query_id)
        except InvalidCorrection:
            abort(404)
        return self._render_card(item, None, None)

    def _render_card(self, item: InboxItem | None, at: int | None, total: int | None):
        choices = _choices(item) if item else []
        index = training_neighbours() if item else None
        nearest = index.nearest_of_classes(item.question, choices, 2) if index else {}
        return self.render(
            "admin/inbox_card.html",
            item=item,
            at=at,
            total=total,
            choices=choices,
            default=_default_choice(item, choices) if item else None,
            base_label=_base_label(item) if item else None,
            help=_help_by_label(),
            nearest=nearest,
            flags=_flags(item) if item else [],
            taxonomy=taxonomy.as_dict(),
            form=InboxForm(),
            can_undo=last_decision(current_user.username) is not None,
        )

    def _after(self, at: int | None, query_id: int | None = None):
        if at is None and query_id:
            return redirect(url_for(".query", query_id=query_id))
        return redirect(url_for(".card", at=at or 0))

    def _checked(self) -> tuple[list[int], int | None] | None:
        if not InboxForm().validate_on_submit():
            flash("The form expired; please try again.", "error")
            return None
        ids = request.form.getlist("query_ids", type=int)
        at = request.form.get("at")
        return ids, (int(at) if at and at.isdigit() else None)

    @expose("/decide", methods=["POST"])
    def decide(self):
        checked = self._checked()
        if checked is None:
            return redirect(url_for(".card"))
        ids, at = checked
        fine = request.form.get("other_fine") or request.form.get("fine") or ""
        try:
            decide_item(
                ids,
                fine,
                actor=current_user.username,
                confirm_override=bool(request.form.get("confirm_override")),
            )
        except InvalidCorrection as error:
            flash(error.message, "error")
            return self._after(at, ids[0] if ids else None)
        flash(f"Labelled {len(ids)} question(s) {fine}.", "success")
        return self._after(at, ids[0] if ids else None)

    @expose("/reject", methods=["POST"])
    def reject(self):
        checked = self._checked()
        if checked is None:
            return redirect(url_for(".card"))
        ids, at = checked
        try:
            reject_item(ids, actor=current_user.username)
        except InvalidCorrection as error:
            flash(error.message, "error")
        else:
            flash("Rejected.", "success")
        return self._after(at, ids[0] if ids else None)

    @expose("/discard", methods=["POST"])
    def discard(self):
        checked = self._checked()
        if checked is None:
            return redirect(url_for(".card"))
        ids, at = checked
        try:
            discard_item(ids, actor=current_user.username)
        except InvalidCorrection as error:
            flash(error.message, "error")
        else:
            flash(
                "Discarded as not a question: it leaves the inbox, and the next retrain's"
                " scope check refuses it.",
                "success",
            )
        return self._after(at, ids[0] if ids else None)

    @expose("/undo", methods=["POST"])
    def undo(self):
        if not InboxForm().validate_on_submit():
            flash("The form expired; please try again.", "error")
            return redirect(url_for(".card"))
        try:
            query_id = undo_last_decision(current_user.username)
        except InvalidCorrection as error:
            flash(error.message, "error")
            return redirect(url_for(".card"))
        flash("Undone: the item is back in the inbox.", "success")
        return redirect(url_for(".query", query_id=query_id))

    @expose("/split", methods=["POST"])
    def split(self):
        checked = self._checked()
        if checked is None:
            return redirect(url_for(".card"))
        ids, at = checked
        try:
            split_question(ids[0] if ids else 0, actor=current_user.username)
        except InvalidCorrection as error:
            flash(error.message, "error")
        else:
            flash("Split out of its group.", "success")
        return self._after(at)
