"""The review queue: approve, reject or edit pending corrections, one at a time or in bulk."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm

from training import taxonomy

from ..models import CorrectionStatus
from ..services.review.feedback import (
    InvalidCorrection,
    edit_correction,
    find_corrections,
    review_corrections,
)
from ..services.review.merge_guard import describe_flags, needs_confirmation
from ..services.review.review_queue import review_queue
from .access import AdminAccessMixin
from .paging import page_argument

# What each button makes of a correction.
REVIEW_ACTIONS = {"approve": CorrectionStatus.APPROVED, "reject": CorrectionStatus.REJECTED}

PAGE_SIZE = 100


class ReviewForm(FlaskForm):
    """Carries the CSRF token of every review action."""


class ReviewQueueView(AdminAccessMixin, BaseView):
    @expose("/")
    def index(self):
        page = page_argument()
        items, total = review_queue(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        return self.render(
            "admin/review_queue.html",
            items=items,
            total=total,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            form=ReviewForm(),
            taxonomy=taxonomy.as_dict(),
            describe_flags=describe_flags,
            needs_confirmation=needs_confirmation,
        )

    @expose("/review", methods=["POST"])
    def review(self):
        form = ReviewForm()
        if not form.validate_on_submit():
            flash("The form expired; please try again.", "error")
            return redirect(url_for(".index"))
        if request.form.get("row"):
            return self._review_row(request.form["row"])
        action = request.form.get("action", "")
        ids = request.form.getlist("ids", type=int)
        status = REVIEW_ACTIONS.get(action)
        if status is None or not ids:
            flash("Choose corrections and an action.", "error")
            return redirect(url_for(".index"))
        try:
            done = _review_from_form(ids, status)
        except InvalidCorrection as error:
            flash(error.message, "error")
        else:
            flash(f"{status.capitalize()} {len(done)} correction(s).", "success")
        return redirect(url_for(".index"))

    def _review_row(self, row: str):
        """One row's Approve (with the label its menu shows, the proposal unless changed) or
        Reject button."""
        action, _, raw = row.partition(":")
        status = REVIEW_ACTIONS.get(action)
        if status is None or not raw.isdigit():
            flash("Choose a correction and an action.", "error")
            return redirect(url_for(".index"))
        correction_id = int(raw)
        fine = request.form.get(f"fine_{correction_id}", "")
        try:
            [correction] = find_corrections([correction_id])
            if status == CorrectionStatus.APPROVED and fine and fine != correction.fine:
                edit_correction(
                    correction_id, fine.split(":", 1)[0], fine, actor=current_user.username
                )
            _review_from_form([correction_id], status)
        except InvalidCorrection as error:
            flash(error.message, "error")
        else:
            label = f" as {correction.fine}" if status == CorrectionStatus.APPROVED else ""
            flash(f"{status.capitalize()} correction {correction_id}{label}.", "success")
        return redirect(url_for(".index"))

    @expose("/<int(max=2147483647):correction_id>/edit", methods=["POST"])
    def edit(self, correction_id: int):
        # Without JavaScript the form posts to /0/edit and names the correction in a field.
        correction_id = correction_id or request.form.get("correction_id", 0, type=int)
        form = ReviewForm()
        if not form.validate_on_submit():
            flash("The form expired; please try again.", "error")
            return redirect(url_for(".index"))
        fine = request.form.get("fine", "")
        coarse = fine.split(":", 1)[0]
        try:
            edit_correction(correction_id, coarse, fine, actor=current_user.username)
            if request.form.get("approve"):
                review_corrections(
                    [correction_id],
                    CorrectionStatus.APPROVED,
                    actor=current_user.username,
                    confirm_override=bool(request.form.get("confirm_override")),
                )
        except InvalidCorrection as error:
            flash(error.message, "error")
        else:
            flash(f"Correction {correction_id} now proposes {fine}.", "success")
        return redirect(url_for(".index"))


def _review_from_form(ids: list[int], status: str) -> list:
    """Approve or reject corrections with the note and the override the form carries."""
    return review_corrections(
        ids,
        status,
        actor=current_user.username,
        note=request.form.get("note") or None,
        confirm_override=bool(request.form.get("confirm_override")),
    )
