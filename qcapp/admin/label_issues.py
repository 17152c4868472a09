"""Label issues: doubtful training labels found by a scan, relabelled or dismissed one by one."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm

from training import taxonomy

from ..models import LabelIssue, RunTask
from ..runs import (
    RunInProgress,
    RunNotStarted,
    current_run,
    latest_run,
    run_outcome,
    start_run,
)
from ..services.data.datasets import active_dataset
from ..services.insight.label_issues import ScanSettings
from ..services.review.label_review import (
    LabelIssueError,
    dismiss_issue,
    latest_scan_at,
    open_issues,
    relabel_issue,
)
from .access import AdminAccessMixin, admin_only
from .paging import page_argument

PAGE_SIZE = 50


class IssueForm(FlaskForm):
    """Carries the CSRF token of every label-issue action."""


class LabelIssuesView(AdminAccessMixin, BaseView):
    @expose("/")
    def index(self):
        dataset = active_dataset()
        page = page_argument()
        kind = request.args.get("kind", "")
        kind = kind if kind in LabelIssue.KINDS else ""
        issues, total = [], 0
        if dataset is not None:
            issues, total = open_issues(
                dataset, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, kind=kind or None
            )
        running = current_run()
        return self.render(
            "admin/label_issues.html",
            dataset=dataset,
            issues=issues,
            total=total,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            kind=kind,
            first_rank=(page - 1) * PAGE_SIZE + 1,
            scanned_at=latest_scan_at(dataset) if dataset else None,
            running=running,
            last_scan=latest_run(RunTask.LABEL_SCAN),
            run_outcome=run_outcome,
            form=IssueForm(),
            taxonomy=taxonomy.as_dict(),
        )

    def _back(self):
        return redirect(url_for(".index", kind=request.form.get("kind") or None))

    @expose("/<int(max=2147483647):issue_id>/relabel", methods=["POST"])
    def relabel(self, issue_id: int):
        if not IssueForm().validate_on_submit():
            flash("The form expired; please try again.", "error")
            return self._back()
        fine = request.form.get("fine", "")
        try:
            relabel_issue(issue_id, fine.split(":", 1)[0], fine, actor=current_user.username)
        except LabelIssueError as error:
            flash(str(error), "error")
        else:
            flash(f"Relabelled the example of issue {issue_id} as {fine}.", "success")
        return self._back()

    @expose("/<int(max=2147483647):issue_id>/dismiss", methods=["POST"])
    def dismiss(self, issue_id: int):
        if not IssueForm().validate_on_submit():
            flash("The form expired; please try again.", "error")
            return self._back()
        try:
            dismiss_issue(issue_id, actor=current_user.username)
        except LabelIssueError as error:
            flash(str(error), "error")
        else:
            flash(f"Dismissed issue {issue_id}; later scans will not raise it again.", "success")
        return self._back()

    @expose("/scan", methods=["POST"])
    @admin_only
    def scan(self):
        """Start a scan as a run of its own (the training process, or a queued job): seconds
        of CPU that must not hold a web worker. One run at a time: 409 while one is under way."""
        if not IssueForm().validate_on_submit():
            flash("The form expired; please try again.", "error")
            return self._back()
        dataset = active_dataset()
        if dataset is None:
            flash("There is no active dataset to scan.", "error")
            return self._back()
        try:
            start_run(ScanSettings(dataset_id=dataset.id), actor=current_user.username)
        except RunInProgress as error:
            flash(f"{error} A scan can start when it has ended.", "error")
            return self.index(), 409
        except RunNotStarted as error:
            flash(str(error), "error")
            return self.index(), 503
        flash("The scan has started; its findings replace these when it ends.", "success")
        return self._back()
