"""The corrections list and details: flags, the versions trained with each, and revert."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..models import Correction
from ..services.learning.provenance import correction_history, revert_correction
from ..services.learning.versions import active_version
from ..services.review.feedback import InvalidCorrection
from ..services.review.merge_guard import describe_flags
from .review import ReviewForm
from .views import ReadOnlyModelView


class RevertForm(FlaskForm):
    """Withdraw an approval; the reason goes into the correction and the audit log."""

    reason = TextAreaField("Reason", validators=[DataRequired("Give a reason."), Length(max=1000)])


def _flags_text(_view, _context, model, _name) -> str:
    # A plain string, so the template escapes it.
    return " ".join(describe_flags(model.flags or {}))


def _versions_text(_view, _context, model, _name) -> str:
    return ", ".join(
        f"{v.version} (active)" if v.is_active else v.version for v in model.model_versions
    )


class CorrectionView(ReadOnlyModelView):
    column_list = ("id", "created_at", "query.text", "kind", "coarse", "fine", "status", "flags")
    column_details_list = (
        "id",
        "created_at",
        "query.text",
        "kind",
        "coarse",
        "fine",
        "status",
        "note",
        "flags",
        "reviewed_by.username",
        "reviewed_at",
        "reverted_by.username",
        "reverted_at",
        "revert_reason",
        "model_versions",
    )
    column_labels = {
        "query.text": "Question",
        "reviewed_by.username": "Reviewed by",
        "reverted_by.username": "Reverted by",
        "model_versions": "Trained into",
    }
    column_formatters = {"flags": _flags_text}
    column_formatters_detail = {"flags": _flags_text, "model_versions": _versions_text}
    column_filters = ("status", "kind", "coarse", "fine", "created_at")
    column_default_sort = ("id", True)
    details_template = "admin/correction_details.html"

    def render(self, template, **kwargs):
        # The details page also shows the versions, the audit trail and the revert form.
        if template == self.details_template and kwargs.get("model") is not None:
            correction = kwargs["model"]
            kwargs.update(
                versions=list(correction.model_versions),
                active=active_version(),
                history=correction_history(correction),
                revert_form=RevertForm(),
                retrain_form=ReviewForm(),
            )
        return super().render(template, **kwargs)

    @expose("/<int(max=2147483647):correction_id>/revert", methods=["POST"])
    def revert(self, correction_id: int):
        db.get_or_404(Correction, correction_id)
        form = RevertForm()
        details = url_for(".details_view", id=correction_id)
        if not form.validate_on_submit():
            for errors in form.errors.values():
                for error in errors:
                    flash(str(error), "error")
            return redirect(details)
        try:
            result = revert_correction(
                correction_id, actor=current_user.username, reason=form.reason.data
            )
        except InvalidCorrection as error:
            flash(error.message, "error")
            return redirect(details)
        active = result.active_version
        if active is not None:
            flash(
                f"Reverted correction {correction_id}. The active version {active.version} still "
                "contains it until a retrain replaces it.",
                "warning",
            )
        else:
            flash(
                f"Reverted correction {correction_id}; the next retrain leaves it out.", "success"
            )
        return redirect(details)
