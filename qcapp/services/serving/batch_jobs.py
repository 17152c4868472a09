"""A batch file classified without JavaScript, one slice per page load.

Classifying a 10,000-row file at once took 7.2 s of a web worker, during which it answered
nobody else. Here the upload is read and stored as slices of ``PART_ROWS`` rows; each load of
the job's page classifies the next slice (about a quarter of a second) and reloads itself
until all are done, then offers the labelled CSV. The visitor's browser paces the work, so no
request holds a worker for long and nothing queues up behind a visitor who left. With
JavaScript the page classifies through the API in chunks instead (static/js/batch.js).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import delete, select, update

from ...extensions import db
from ...models import BatchJob, BatchPart, utcnow
from .batch import BatchRow, BatchTable, classify_rows, write_csv
from .classifier import LoadedModel
from .queries import TOKEN_SHAPE

# Rows classified per page load: about 0.25 s of a worker on a 2-core machine.
PART_ROWS = 250
# A job's files and results are kept this long, then removed with the next upload.
KEEP_FOR = timedelta(hours=24)
# A slice claimed by a request that never finished (its worker was killed) is taken again.
CLAIM_EXPIRES = timedelta(seconds=60)
# Problems listed on the page (all of them are in the CSV's error column).
PROBLEMS_SHOWN = 200


def create_batch_job(table: BatchTable, filename: str, client_hash: str | None) -> BatchJob:
    """Store the upload's rows as slices to classify; returns the job (committed). Jobs older
    than ``KEEP_FOR`` are removed meanwhile."""
    job = BatchJob(
        filename=filename[:255],
        client_hash=client_hash,
        columns=table.columns,
        output_columns=table.output_columns,
        total_rows=len(table.rows),
        done_rows=0,
    )
    for position, start in enumerate(range(0, len(table.rows), PART_ROWS)):
        rows = table.rows[start : start + PART_ROWS]
        job.parts.append(
            BatchPart(
                position=position,
                rows=[[row.line, row.cells, row.question, row.error] for row in rows],
            )
        )
    db.session.add(job)
    db.session.commit()
    old = select(BatchJob.id).where(BatchJob.created_at < utcnow() - KEEP_FOR)
    db.session.execute(delete(BatchPart).where(BatchPart.job_id.in_(old)))
    db.session.execute(delete(BatchJob).where(BatchJob.id.in_(old)))
    db.session.commit()
    return job


def get_batch_job(token: str) -> BatchJob | None:
    """The job behind a public token, or None."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    return db.session.scalar(select(BatchJob).where(BatchJob.token == token))


def advance_batch_job(job: BatchJob, model: LoadedModel) -> bool:
    """Classify the job's next slice, if it has one this request may take; whether it did.

    A slice is claimed in one UPDATE first, so two loads of the page at once never classify
    (and store) the same rows twice.
    """
    now = utcnow()
    part_id = db.session.scalar(
        select(BatchPart.id)
        .where(
            BatchPart.job_id == job.id,
            BatchPart.output.is_(None),
            (BatchPart.claimed_at.is_(None)) | (BatchPart.claimed_at < now - CLAIM_EXPIRES),
        )
        .order_by(BatchPart.position)
        .limit(1)
    )
    if part_id is None:
        return False
    claimed = db.session.execute(
        update(BatchPart)
        .where(
            BatchPart.id == part_id,
            BatchPart.output.is_(None),
            (BatchPart.claimed_at.is_(None)) | (BatchPart.claimed_at < now - CLAIM_EXPIRES),
        )
        .values(claimed_at=now)
    ).rowcount
    db.session.commit()
    if not claimed:
        return False
    part = db.session.get(BatchPart, part_id)
    table = BatchTable(
        list(job.columns),
        [BatchRow(line, question, error, cells) for line, cells, question, error in part.rows],
    )
    outputs = list(classify_rows(table, model, job.client_hash))
    error = table.output_columns[-1]
    lines = write_csv(table, outputs)
    next(lines)  # the header: the download writes it once
    part.output = "".join(lines)
    part.problems = [output[error] for output in outputs if output.get(error)]
    job.done_rows = BatchJob.done_rows + len(table.rows)  # one UPDATE: parts may end at once
    db.session.commit()
    db.session.refresh(job)
    if job.done_rows >= job.total_rows and job.finished_at is None:
        job.finished_at = utcnow()
        db.session.commit()
    return True


def batch_job_problems(job: BatchJob, limit: int = PROBLEMS_SHOWN) -> list[str]:
    """The first rows of the finished slices that got no label, "line N: why"."""
    problems: list[str] = []
    for part_problems in db.session.scalars(
        select(BatchPart.problems)
        .where(BatchPart.job_id == job.id, BatchPart.problems.is_not(None))
        .order_by(BatchPart.position)
    ):
        problems.extend(part_problems)
        if len(problems) >= limit:
            break
    return problems[:limit]


def batch_job_csv(job: BatchJob) -> Iterator[str]:
    """The labelled CSV of a finished job: the header, then every slice's lines in order."""
    yield next(write_csv(BatchTable(list(job.columns), []), []))
    for output in db.session.scalars(
        select(BatchPart.output).where(BatchPart.job_id == job.id).order_by(BatchPart.position)
    ):
        yield output or ""
