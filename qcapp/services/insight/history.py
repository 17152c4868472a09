"""The stored history as CSV exports, and synthetic history for demos and benchmarks."""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from training import normalise_question, taxonomy

from ...blocking import let_others_run
from ...database import read_only_connection
from ...extensions import db
from ...models import (
    Correction,
    CorrectionKind,
    CorrectionStatus,
    ModelVersion,
    Prediction,
    Query,
    utcnow,
)
from ..serving.batch import neutralise_cell

EXPORT_BATCH_SIZE = 2_000
SEED_BATCH_SIZE = 5_000
HISTORY_COLUMNS = (
    "id",
    "created_at",
    "question",
    "source",
    "coarse",
    "fine",
    "coarse_confidence",
    "fine_confidence",
    "model_version",
    "corrections",
)
TRAINING_COLUMNS = ("text", "coarse", "fine", "source", "split")


def write_csv_lines(columns: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """CSV text one record at a time, every cell neutralised against spreadsheet formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralise_cell(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def history_rows(batch_size: int = EXPORT_BATCH_SIZE) -> Iterator[tuple]:
    """One row per query with its prediction and corrections, in id order, batch by batch."""
    statement = (
        select(
            Query.id,
            Query.created_at,
            Query.text,
            Query.source,
            Prediction.coarse,
            Prediction.fine,
            Prediction.coarse_confidence,
            Prediction.fine_confidence,
            ModelVersion.version,
        )
        .outerjoin(Prediction, Prediction.query_id == Query.id)
        .outerjoin(ModelVersion, ModelVersion.id == Prediction.model_version_id)
        .order_by(Query.id)
        .limit(batch_size)
    )
    last_id = 0
    while True:
        # Keyset pagination: each batch is a short indexed range read, so no transaction or
        # cursor stays open while the client downloads.
        with read_only_connection() as connection:
            batch = connection.execute(statement.where(Query.id > last_id)).all()
            if not batch:
                return
            corrections = _corrections_by_query(connection, batch[0].id, batch[-1].id)
        for row in batch:
            yield (*row, "; ".join(corrections.get(row.id, ())))
        last_id = batch[-1].id
        let_others_run()  # 100,000 queries take 1.9 s: the worker's other requests go on


def _corrections_by_query(connection, first_id: int, last_id: int) -> dict[int, list[str]]:
    rows = connection.execute(
        select(Correction.query_id, Correction.status, Correction.coarse, Correction.fine)
        .where(Correction.query_id.between(first_id, last_id))
        .order_by(Correction.id)
    )
    found: dict[int, list[str]] = defaultdict(list)
    for query_id, status, coarse, fine in rows:
        found[query_id].append(f"{status}:{coarse}/{fine}")
    return found


def training_set_rows() -> Iterator[tuple[str, str, str, str, str]]:
    """What the next retrain would train and evaluate on, as (text, coarse, fine, source,
    split): the merged set of the active dataset and approved corrections (a correction
    replaces the base label of the same normalised question, duplicates removed), its
    training rows first, then the fixed held-out split."""
    from ..data.datasets import active_dataset
    from ..data.merge import merged_training_set

    dataset = active_dataset()
    if dataset is None:
        return
    merged = merged_training_set(dataset)
    for split, frame in (("train", merged.train), ("held_out", merged.held_out)):
        for text, coarse, fine, source in frame[["text", "coarse", "fine", "source"]].itertuples(
            index=False
        ):
            yield text, coarse, fine, source, split


# Question shapes per coarse class, so seeded history reads like real use.
_TEMPLATES = {
    "ABBR": ("What does {acronym} stand for?", "What is the abbreviation for {thing}?"),
    "DESC": ("What is {thing}?", "How does {thing} work?", "Why is {thing} important?"),
    "ENTY": ("What {thing} lives in {place}?", "What is {place} famous for?"),
    "HUM": ("Who invented {thing}?", "Who was the first person to visit {place}?"),
    "LOC": ("Where is {place}?", "What country borders {place}?", "Where was {thing} invented?"),
    "NUM": ("How many people live in {place}?", "When was {thing} invented?"),
}
_WORDS = {
    "acronym": ("NASA", "UNESCO", "CPU", "DNA", "NATO", "laser", "scuba", "UFO"),
    "thing": ("the telephone", "photosynthesis", "a comet", "the printing press", "jazz",
              "a volcano", "the bicycle", "insulin", "radar", "the compass"),
    "place": ("Peru", "Lake Baikal", "Kyoto", "the Sahara", "Iceland", "Tasmania", "Quebec",
              "Mount Kenya", "the Nile delta", "Patagonia"),
}  # fmt: skip
SOURCES = ("web", "api", "batch")


def _synthetic_question(rng: random.Random, coarse: str) -> str:
    template = rng.choice(_TEMPLATES[coarse])
    return template.format(**{key: rng.choice(words) for key, words in _WORDS.items()})


def _seed_model_version_id() -> int | None:
    """The newest registered version, or none: seeding never invents a model artifact."""
    return db.session.scalar(select(ModelVersion.id).order_by(ModelVersion.id.desc()).limit(1))


def seed_history(
    count: int,
    days: int = 30,
    correction_share: float = 0.03,
    seed: int | None = None,
) -> dict[str, int]:
    """Insert ``count`` synthetic queries with predictions (and a few corrections) spread over
    the last ``days`` days; returns how many rows of each kind were written."""
    rng = random.Random(seed)
    now = utcnow()
    span = max(days, 1) * 86_400
    moments = sorted(rng.random() * span for _ in range(count))
    version_id = _seed_model_version_id()
    fine_labels = taxonomy.FINE_LABELS
    written = {"queries": 0, "predictions": 0, "corrections": 0}
    for start in range(0, count, SEED_BATCH_SIZE):
        chunk = moments[start : start + SEED_BATCH_SIZE]
        fines = rng.choices(fine_labels, k=len(chunk))
        query_rows = []
        for offset, fine in zip(chunk, fines, strict=True):
            text = _synthetic_question(rng, fine.split(":", 1)[0])
            query_rows.append(
                {
                    "text": text,
                    "normalized": normalise_question(text)[:600],
                    "created_at": now - timedelta(seconds=span - offset),
                    "source": rng.choice(SOURCES),
                    "latency_ms": round(rng.uniform(1.0, 15.0), 3),
                }
            )
        connection = db.session.connection()
        ids = connection.scalars(
            insert(Query.__table__).returning(Query.id, sort_by_parameter_order=True), query_rows
        ).all()
        connection.execute(
            insert(Prediction.__table__),
            [
                _prediction_row(rng, query_id, fine, version_id)
                for query_id, fine in zip(ids, fines, strict=True)
            ],
        )
        corrections = [
            _correction_row(rng, query_id, fine, row["created_at"], now)
            for query_id, fine, row in zip(ids, fines, query_rows, strict=True)
            if rng.random() < correction_share
        ]
        if corrections:
            connection.execute(insert(Correction.__table__), corrections)
        db.session.commit()
        written["queries"] += len(ids)
        written["predictions"] += len(ids)
        written["corrections"] += len(corrections)
    return written


def _prediction_row(rng: random.Random, query_id: int, fine: str, version_id: int | None) -> dict:
    coarse_confidence = round(rng.betavariate(5, 1.5), 4)
    fine_confidence = round(coarse_confidence * rng.uniform(0.6, 1.0), 4)
    return {
        "query_id": query_id,
        "model_version_id": version_id,
        "coarse": fine.split(":", 1)[0],
        "fine": fine,
        "coarse_confidence": coarse_confidence,
        "fine_confidence": fine_confidence,
        "margin": round(fine_confidence * rng.uniform(0.0, 1.0), 4),
        "scores": {"label_source": "synthetic"},
    }


def _correction_row(
    rng: random.Random, query_id: int, predicted_fine: str, asked_at: datetime, now: datetime
) -> dict:
    confirms = rng.random() < 0.2
    fine = predicted_fine if confirms else rng.choice(taxonomy.FINE_LABELS)
    # A reverted correction needs a reviewer and a reason; seeded history has none.
    status = rng.choices(
        (CorrectionStatus.PENDING, CorrectionStatus.APPROVED, CorrectionStatus.REJECTED),
        weights=(5, 4, 1),
    )[0]
    return {
        "query_id": query_id,
        "kind": CorrectionKind.CONFIRMATION if confirms else CorrectionKind.CORRECTION,
        "coarse": fine.split(":", 1)[0],
        "fine": fine,
        "status": status,
        "created_at": min(asked_at + timedelta(minutes=rng.uniform(0.5, 30)), now),
        "reviewed_at": None if status == CorrectionStatus.PENDING else now,
    }
