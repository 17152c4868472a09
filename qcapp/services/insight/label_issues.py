"""Label issues: scan the merged training set for doubtful labels and store the findings.

The method lives in ``training.label_issues``; this module feeds it the merged training set
(active base dataset plus approved corrections) and keeps the findings as LabelIssue rows;
``label_review`` lists them and acts on them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import delete, func, select

from training import find_doubtful_labels, near_duplicates, normalise_question

from ...extensions import db
from ...models import (
    Correction,
    CorrectionStatus,
    Dataset,
    Example,
    IssueKind,
    IssueStatus,
    LabelIssue,
    RunTask,
)
from ..accounts.accounts import record_event
from ..data.merge import approved_corrections, merged_training_set


@dataclass(frozen=True)
class ScanSettings:
    """What a label scan was asked for, stored with its run (``TrainingRun.params``)."""

    task: ClassVar[RunTask] = RunTask.LABEL_SCAN

    dataset_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {"dataset_id": self.dataset_id}

    @classmethod
    def from_json(cls, stored: Mapping[str, Any] | None) -> ScanSettings:
        """The settings of a recorded scan."""
        return cls(dataset_id=(stored or {}).get("dataset_id"))


@dataclass
class ScanRow:
    """One labelled question of the scanned set and where its label lives."""

    text: str
    coarse: str
    fine: str
    example_id: int | None = None
    correction_id: int | None = None
    in_training: bool = True

    @property
    def subject(self) -> str:
        """A stable name for the labelled row, for recognising dismissed findings."""
        if self.example_id is not None:
            return f"example:{self.example_id}"
        return f"correction:{self.correction_id}"


def scan_rows(dataset: Dataset) -> list[ScanRow]:
    """The merged training set's rows, then base rows the merge dropped as duplicates."""
    examples = db.session.execute(
        select(Example.id, Example.text, Example.normalized, Example.coarse, Example.fine)
        .where(Example.dataset_id == dataset.id)
        .order_by(Example.id)
    ).all()
    first_example: dict[str, int] = {}
    for example_id, _text, normalized, _coarse, _fine in examples:
        first_example.setdefault(normalized, example_id)
    correction_of_text = {text: cid for cid, _kind, text, *_rest in approved_corrections()}
    merged = merged_training_set(dataset).all_rows
    rows = []
    for text, coarse, fine, source in merged[["text", "coarse", "fine", "source"]].itertuples(
        index=False
    ):
        if source == "base":
            example_id = first_example[normalise_question(text)[:600]]
            rows.append(ScanRow(text, coarse, fine, example_id=example_id))
        else:
            rows.append(ScanRow(text, coarse, fine, correction_id=correction_of_text[text]))
    overridden = {normalise_question(row.text)[:600] for row in rows if row.example_id is None}
    # Same question, another label, skipped by the merge: exactly what near-duplicates are for.
    for example_id, text, normalized, coarse, fine in examples:
        if first_example[normalized] != example_id and normalized not in overridden:
            rows.append(ScanRow(text, coarse, fine, example_id=example_id, in_training=False))
    return rows


def scan_size(dataset: Dataset) -> int:
    """Roughly how many rows a scan of ``dataset`` reads (base examples plus approvals)."""
    examples = db.session.scalar(
        select(func.count()).select_from(Example).where(Example.dataset_id == dataset.id)
    )
    approved = db.session.scalar(
        select(func.count())
        .select_from(Correction)
        .where(Correction.status == CorrectionStatus.APPROVED)
    )
    return int(examples or 0) + int(approved or 0)


def _finding_key(kind: str, sides: list[tuple[str, str]]) -> tuple:
    """What identifies a finding across scans: its kind, rows and their labels at the time."""
    return (kind, tuple(sorted(sides)))


def _issue_key(issue: LabelIssue) -> tuple:
    sides = [(issue.details.get("subject", ""), issue.given_fine)]
    if issue.kind == IssueKind.NEAR_DUPLICATE:
        sides.append((issue.details.get("other_subject", ""), issue.details.get("other_fine", "")))
    return _finding_key(issue.kind, sides)


def scan_label_issues(
    dataset: Dataset,
    *,
    actor: str | None = None,
    folds: int = 5,
    seed: int = 0,
    progress: Callable[[float, str], None] | None = None,
) -> dict:
    """Replace the open findings of ``dataset`` with a fresh scan; dismissed ones stay down.

    Seconds of CPU on a dataset of thousands of rows: the web pages start it as a run in the
    training process or a queued job (``start_run(ScanSettings(...))``), never in a request.
    """
    step = progress or (lambda _fraction, _message: None)
    started = time.perf_counter()
    step(0.02, "reading the training rows")
    rows = scan_rows(dataset)
    training = [row for row in rows if row.in_training]
    step(0.1, f"scoring {len(training)} labels with models that never saw them ({folds} folds)")
    doubtful, self_confidence = find_doubtful_labels(
        [row.text for row in training], [row.fine for row in training], folds=folds, seed=seed
    )
    confidence = {
        id(row): float(value) for row, value in zip(training, self_confidence, strict=True)
    }
    step(0.85, "looking for near-duplicates")
    pairs = near_duplicates([row.text for row in rows], [row.fine for row in rows])
    step(0.95, "storing the findings")
    dismissed = {
        _issue_key(issue)
        for issue in db.session.scalars(
            select(LabelIssue).where(
                LabelIssue.dataset_id == dataset.id, LabelIssue.status == IssueStatus.DISMISSED
            )
        )
    }
    db.session.execute(
        delete(LabelIssue).where(
            LabelIssue.dataset_id == dataset.id, LabelIssue.status == IssueStatus.OPEN
        )
    )
    found, skipped = [], 0
    for item in doubtful:
        row = training[item.index]
        issue = LabelIssue(
            kind=IssueKind.DOUBTFUL,
            dataset_id=dataset.id,
            example_id=row.example_id,
            text=row.text,
            given_coarse=row.coarse,
            given_fine=row.fine,
            suggested_coarse=item.suggested.split(":", 1)[0],
            suggested_fine=item.suggested,
            score=round(item.margin, 6),
            details={
                "subject": row.subject,
                "correction_id": row.correction_id,
                "self_confidence": round(item.self_confidence, 6),
                "suggested_probability": round(item.suggested_probability, 6),
            },
        )
        found.append(issue)
    for pair in pairs:
        first, second = rows[pair.first], rows[pair.second]
        # Show the row the model believes less (rows outside training count as believed least).
        if confidence.get(id(first), 0.0) < confidence.get(id(second), 0.0):
            first, second = second, first
        row, other = second, first
        issue = LabelIssue(
            kind=IssueKind.NEAR_DUPLICATE,
            dataset_id=dataset.id,
            example_id=row.example_id,
            other_example_id=other.example_id,
            text=row.text,
            given_coarse=row.coarse,
            given_fine=row.fine,
            suggested_coarse=other.coarse,
            suggested_fine=other.fine,
            score=round(pair.similarity, 6),
            details={
                "subject": row.subject,
                "correction_id": row.correction_id,
                "other_subject": other.subject,
                "other_text": other.text,
                "other_fine": other.fine,
                "similarity": round(pair.similarity, 6),
            },
        )
        found.append(issue)
    kept = []
    for issue in found:
        if _issue_key(issue) in dismissed:
            skipped += 1
        else:
            kept.append(issue)
    db.session.add_all(kept)
    summary = {
        "dataset": dataset.name,
        "rows": len(training),
        "doubtful": sum(issue.kind == IssueKind.DOUBTFUL for issue in kept),
        "near_duplicates": sum(issue.kind == IssueKind.NEAR_DUPLICATE for issue in kept),
        "dismissed_not_raised": skipped,
        "seconds": round(time.perf_counter() - started, 2),
    }
    record_event(actor, "label_issues_scanned", "dataset", dataset.name, summary)
    db.session.commit()
    return summary
