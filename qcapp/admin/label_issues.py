"""Label issues: doubtful training labels found by a scan, relabelled or dismissed one by one."""

from __future__ import annotations

import secrets

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm

from training import taxonomy

from ..models import LabelIssue
from ..services.data.datasets import active_dataset
from ..services.insight.label_issues import IN_PROCESS_SCAN_MAX_ROWS, scan_label_issues, scan_size
from ..services.learning.queue import enqueue, queue_enabled
from ..services.review.label_review import (
    LabelIssueError,
    dismiss_issue,
    latest_scan_at,
    open_issues,
    relabel_issue,
)
from .access import AdminAccessMixin
from .paging import page_argument

PAGE_SIZE = 50
# A queued scan of a large dataset may take this long before the worker stops it.
SCAN_JOB_TIMEOUT = 3600


class IssueForm(FlaskForm):
    """Carries the CSRF token of every label-issue action."""


class LabelIssuesView(AdminAccessMixin, BaseView):
    @expose("/")
    def index(self):
        dataset = active_dataset()
        page = page_argument()
        kind = request.args.get("kind", "")
        kind = kind if kind in LabelIssue.KINDS else ""
        issues, total, size = [], 0, 0
        if dataset is not None:
            issues, total = open_issues(
                dataset, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, kind=kind or None
            )
            size = scan_size(dataset)
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
            can_scan_here=0 < size <= IN_PROCESS_SCAN_MAX_ROWS,
            scan_limit=IN_PROCESS_SCAN_MAX_ROWS,
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
    def scan(self):
        if not IssueForm().validate_on_submit():
            flash("The form expired; please try again.", "error")
            return self._back()
        dataset = active_dataset()
        if dataset is None:
            flash("There is no active dataset to scan.", "error")
            return self._back()
        if scan_size(dataset) > IN_PROCESS_SCAN_MAX_ROWS:
            if not queue_enabled():
                flash("This dataset is too large to scan here; run `qc dataset issues`.", "error")
                return self._back()
            # Too long for a web request: a worker on any host runs it.
            try:
                enqueue(
                    "qcapp.services.learning.jobs.run_label_issue_scan",
                    dataset.id, current_user.username,
                    job_id=f"qc-label-scan-{dataset.id}-{secrets.token_hex(4)}",
                    timeout=SCAN_JOB_TIMEOUT,
                )
            except Exception as error:  # noqa: BLE001  (Redis down: say so, store nothing)
                flash(f"The job queue cannot be reached: {error}", "error")
            else:
                flash("The scan is queued; its findings appear here when a worker has run it.",
                      "success")
            return self._back()
        summary = scan_label_issues(dataset, actor=current_user.username)
        flash(
            f"Scanned {summary['rows']} rows in {summary['seconds']:.1f}s: "
            f"{summary['doubtful']} doubtful labels, {summary['near_duplicates']} near-duplicates.",
            "success",
        )
        return self._back()
