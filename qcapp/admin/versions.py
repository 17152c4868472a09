"""Model versions (activate, delete) and training runs (start, watch)."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..models import ModelVersion, TrainingRun
from ..runs import (
    RunInProgress,
    RunNotStarted,
    current_run,
    mark_stale_runs,
    nothing_new_since,
    remaining_seconds,
    run_outcome,
    start_run,
)
from ..services.learning.flips import stored_flips
from ..services.learning.provenance import corrections_used
from ..services.learning.settings import RunSettings
from ..services.learning.versions import (
    activate_model_version,
    activation_history,
    active_version,
    delete_version,
    newer_or_older,
    served_version_ids,
)
from .access import AdminAccessMixin, admin_only
from .paging import page_argument
from .review import ReviewForm

FLIPS_PER_PAGE = 50


class ActivateForm(FlaskForm):
    """Switching the version every worker serves needs a reason, kept in the history."""

    reason = TextAreaField(
        "Reason",
        validators=[
            DataRequired("Give a reason: it is kept in the history and the audit log."),
            Length(max=200, message="Keep the reason under 200 characters."),
        ],
    )
FLIP_SOURCES = ("held_out", "query")


def _version_or_404(version_id: int) -> ModelVersion:
    return db.get_or_404(ModelVersion, version_id)


def _flip_filters() -> tuple[str | None, int]:
    """The flip table's ``source`` and ``page`` arguments; 400 when they make no sense."""
    source = request.args.get("source") or None
    if source is not None and source not in FLIP_SOURCES:
        abort(400, description="The source must be held_out or query.")
    return source, page_argument()


class ModelVersionsView(AdminAccessMixin, BaseView):
    @expose("/")
    def index(self):
        versions = db.session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc())).all()
        return self.render(
            "admin/versions.html",
            versions=versions,
            served=served_version_ids(),
            form=ReviewForm(),
            activations=activation_history(),
        )

    @expose("/<int(max=2147483647):version_id>")
    def details(self, version_id: int):
        version = _version_or_404(version_id)
        source, page = _flip_filters()
        flips, total = stored_flips(
            version, source, offset=(page - 1) * FLIPS_PER_PAGE, limit=FLIPS_PER_PAGE
        )
        used, used_total = corrections_used(version)
        return self.render(
            "admin/version_details.html",
            version=version,
            form=ReviewForm(),
            flips=flips,
            flip_total=total,
            flip_source=source,
            flip_page=page,
            flip_pages=max(1, -(-total // FLIPS_PER_PAGE)),
            corrections_used=used,
            corrections_used_total=used_total,
        )

    @expose("/<int(max=2147483647):version_id>/activate", methods=["GET", "POST"])
    @admin_only
    def activate(self, version_id: int):
        """Ask first: a confirmation page that needs a reason, then the switch."""
        version = _version_or_404(version_id)
        if version.is_active:
            flash(f"Version {version.version} is already the active one.", "info")
            return redirect(url_for(".details", version_id=version.id))
        form = ActivateForm()
        if not form.is_submitted():
            return self._confirm_activation(version, form)
        if not form.validate():
            return self._confirm_activation(version, form), 400
        activation = activate_model_version(
            version, actor=current_user.username, reason=form.reason.data
        )
        db.session.commit()
        if activation is not None:
            flash(
                f"Version {version.version} is now active; workers switch within seconds.",
                "success",
            )
        return redirect(url_for(".index"))

    def _confirm_activation(self, version: ModelVersion, form: ActivateForm):
        active = active_version()
        return self.render(
            "admin/version_activate.html",
            version=version,
            active=active,
            direction=newer_or_older(version, active),
            form=form,
        )

    @expose("/<int(max=2147483647):version_id>/delete", methods=["POST"])
    @admin_only
    def delete(self, version_id: int):
        version = _version_or_404(version_id)
        if ReviewForm().validate_on_submit():
            try:
                delete_version(version, actor=current_user.username)
            except ValueError as error:
                flash(str(error), "error")
            else:
                flash(f"Deleted version {version.version}.", "success")
        return redirect(url_for(".index"))


class TrainingRunsView(AdminAccessMixin, BaseView):
    @expose("/")
    def index(self):
        mark_stale_runs()  # a run whose worker died shows as failed on every host
        runs = db.session.scalars(
            select(TrainingRun).order_by(TrainingRun.id.desc()).limit(50)
        ).all()
        return self.render("admin/runs.html", runs=runs, running=current_run(), form=ReviewForm())

    @expose("/start", methods=["POST"])
    @admin_only
    def start(self):
        if not ReviewForm().validate_on_submit():
            flash("The form expired; please try again.", "error")
            return redirect(url_for(".index"))
        try:
            settings = RunSettings(
                select=bool(request.form.get("select")), force=bool(request.form.get("force"))
            )
            run = start_run(settings, actor=current_user.username)
        except RunInProgress as error:
            flash(f"{error} Wait for it to finish.", "error")
            return redirect(url_for(".index"))
        except RunNotStarted as error:
            flash(str(error), "error")
            return redirect(url_for(".index"))
        # No "started" banner: the run's page shows its state and, at the end, its outcome.
        return redirect(url_for(".details", run_id=run.id))

    @expose("/<int(max=2147483647):run_id>")
    def details(self, run_id: int):
        mark_stale_runs()
        run = db.get_or_404(TrainingRun, run_id)
        return self.render(
            "admin/run_details.html",
            run=run,
            remaining=remaining_seconds(run),
            outcome=run_outcome(run),
            nothing_new=nothing_new_since(run),
        )

    @expose("/<int(max=2147483647):run_id>/status.json")
    def status(self, run_id: int):
        mark_stale_runs()
        run = db.get_or_404(TrainingRun, run_id)
        version = run.model_version
        remaining = remaining_seconds(run)
        return jsonify(
            id=run.id,
            status=run.status,
            kind=run.kind,
            kind_reason=run.kind_reason,
            progress=run.progress,
            remaining_seconds=round(remaining) if remaining is not None else None,
            message=run.message,
            log=run.log,
            error=run.error,
            outcome=run_outcome(run),
            version=version.version if version else None,
            version_status=version.status if version else None,
            nothing_new_since=nothing_new_since(run),
        )
