"""Label issues after a scan: list them, relabel the example or dismiss the finding."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ...extensions import db
from ...models import AuditEvent, Dataset, IssueStatus, LabelIssue, utcnow
from ..accounts.accounts import record_event
from .feedback import InvalidCorrection, check_labels


class LabelIssueError(ValueError):
    """An issue cannot be acted on as asked; the message says why."""


def open_issues(
    dataset: Dataset, *, limit: int | None = None, offset: int = 0, kind: str | None = None
) -> tuple[list[LabelIssue], int]:
    """Open findings of ``dataset``, highest score first, and how many there are in all."""
    where = [LabelIssue.dataset_id == dataset.id, LabelIssue.status == IssueStatus.OPEN]
    if kind:
        where.append(LabelIssue.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(LabelIssue).where(*where))
    issues = db.session.scalars(
        select(LabelIssue)
        .where(*where)
        .order_by(LabelIssue.score.desc(), LabelIssue.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return list(issues), int(total or 0)


def latest_scan_at(dataset: Dataset) -> datetime | None:
    """When ``dataset`` was last scanned (from the page or the command line, finding something
    or not), or None before any scan."""
    return db.session.scalar(
        select(func.max(AuditEvent.created_at)).where(
            AuditEvent.action == "label_issues_scanned",
            AuditEvent.target_type == "dataset",
            AuditEvent.target_id == dataset.name,
        )
    )


def _open_issue(issue_id: int) -> LabelIssue:
    issue = db.session.get(LabelIssue, issue_id) if 0 < issue_id < 2**31 else None
    if issue is None:
        raise LabelIssueError(f"No label issue with id {issue_id}.")
    if issue.status != IssueStatus.OPEN:
        raise LabelIssueError(f"Label issue {issue_id} is already {issue.status}.")
    return issue


def _resolve(issue: LabelIssue, status: str, actor: str | None) -> None:
    issue.status = status
    issue.resolved_by = actor
    issue.resolved_at = utcnow()


def relabel_issue(issue_id: int, coarse: object, fine: object, *, actor: str | None) -> LabelIssue:
    """Give the issue's example the chosen labels and close the issue, audited."""
    issue = _open_issue(issue_id)
    try:
        coarse, fine = check_labels(coarse, fine)
    except InvalidCorrection as error:
        raise LabelIssueError(error.message) from None
    example = issue.example
    if example is None:
        correction = issue.details.get("correction_id")
        raise LabelIssueError(
            f"This label comes from approved correction #{correction}, not from the dataset; "
            "change that correction instead, or dismiss the issue."
        )
    before = {"coarse": example.coarse, "fine": example.fine}
    if before["fine"] == fine:
        raise LabelIssueError(f"The example is already labelled {fine}; dismiss the issue instead.")
    example.coarse, example.fine = coarse, fine
    _resolve(issue, IssueStatus.RELABELLED, actor)
    issue.details = {**issue.details, "relabelled_to": fine}
    record_event(
        actor,
        "label_issue_relabelled",
        "example",
        example.id,
        {
            "issue": issue.id,
            "kind": issue.kind,
            "before": before,
            "after": {"coarse": coarse, "fine": fine},
        },
    )
    db.session.commit()
    return issue


def dismiss_issue(issue_id: int, *, actor: str | None) -> LabelIssue:
    """Keep the label as it is and close the issue, audited; later scans do not raise it again."""
    issue = _open_issue(issue_id)
    _resolve(issue, IssueStatus.DISMISSED, actor)
    record_event(
        actor,
        "label_issue_dismissed",
        "label_issue",
        issue.id,
        {
            "kind": issue.kind,
            "example": issue.example_id,
            "label": issue.given_fine,
            "before": {"status": IssueStatus.OPEN},
            "after": {"status": IssueStatus.DISMISSED},
        },
    )
    db.session.commit()
    return issue


def issue_dict(issue: LabelIssue, rank: int | None = None) -> dict:
    """A finding as plain data, for JSON output."""
    return {
        "rank": rank,
        "id": issue.id,
        "kind": issue.kind,
        "score": issue.score,
        "question": issue.text,
        "given": issue.given_fine,
        "suggested": issue.suggested_fine,
        "example_id": issue.example_id,
        "other_question": issue.details.get("other_text"),
        "status": issue.status,
    }
