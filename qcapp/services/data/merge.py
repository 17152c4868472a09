"""The merged training set: the active base dataset plus approved corrections and confirmations."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import select

from training import dataset_fingerprint

from ...extensions import db
from ...models import (
    Correction,
    CorrectionKind,
    CorrectionStatus,
    Dataset,
    DiscardedQuestion,
    Example,
    Query,
)

HOLDOUT_PERCENT = 20


def is_held_out(normalized: str) -> bool:
    """Whether a base question belongs to the fixed held-out split (by a hash of its text)."""
    digest = hashlib.sha256(normalized.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HOLDOUT_PERCENT


@dataclass
class MergedSet:
    """Rows to train on, the fixed held-out base rows, and where every row came from."""

    train: pd.DataFrame
    held_out: pd.DataFrame
    correction_ids: list[int] = field(default_factory=list)
    overrides: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def user_rows(self) -> pd.DataFrame:
        """The training rows people labelled (corrections, confirmations), not the base's."""
        return self.train[self.train["source"] != "base"]

    @property
    def all_rows(self) -> pd.DataFrame:
        return pd.concat([self.train, self.held_out], ignore_index=True)

    @property
    def fingerprint(self) -> str:
        return dataset_fingerprint(self.all_rows[["text", "coarse", "fine"]])

    def describe(self) -> dict:
        """What went into a version: counts by source, fingerprints, correction ids."""
        return {
            **self.counts,
            "fingerprint": self.fingerprint,
            "holdout_fingerprint": dataset_fingerprint(self.held_out[["text", "coarse", "fine"]]),
            "correction_ids": self.correction_ids,
            "overrides": self.overrides,
        }


def approved_corrections() -> list[tuple[int, str, str, str, str, str]]:
    """Approved corrections and confirmations, oldest review first: id, kind, text, norm, labels.

    A text a reviewer discarded as not a question is never trained on, whatever was approved
    on it before."""
    return db.session.execute(
        select(
            Correction.id,
            Correction.kind,
            Query.text,
            Query.normalized,
            Correction.coarse,
            Correction.fine,
        )
        .join(Query, Correction.query_id == Query.id)
        .where(
            Correction.status == CorrectionStatus.APPROVED,
            Query.normalized.not_in(select(DiscardedQuestion.normalized)),
        )
        .order_by(Correction.reviewed_at.asc().nulls_first(), Correction.id)
    ).all()


def merged_training_set(dataset: Dataset) -> MergedSet:
    """Merge rules: a correction overrides the base label of the same normalised question,
    the latest approved review wins among corrections, and each question appears once."""
    base = db.session.execute(
        select(Example.text, Example.normalized, Example.coarse, Example.fine)
        .where(Example.dataset_id == dataset.id)
        .order_by(Example.id)
    ).all()
    labelled: dict[str, tuple[int, str, str, str, str]] = {}
    for correction_id, kind, text, normalized, coarse, fine in approved_corrections():
        labelled[normalized] = (correction_id, kind, text, coarse, fine)

    train_rows, held_rows, seen = [], [], set()
    overridden = duplicates = 0
    for text, normalized, coarse, fine in base:
        if normalized in seen:
            duplicates += 1
            continue
        seen.add(normalized)
        if normalized in labelled:
            overridden += 1
            continue  # the correction's row below replaces it
        row = (text, coarse, fine, "base")
        (held_rows if is_held_out(normalized) else train_rows).append(row)
    kinds = dict.fromkeys(CorrectionKind, 0)
    for _normalized, (_id, kind, text, coarse, fine) in labelled.items():
        kinds[kind] += 1
        train_rows.append((text, coarse, fine, kind))
    columns = ["text", "coarse", "fine", "source"]
    return MergedSet(
        train=pd.DataFrame(train_rows, columns=columns),
        held_out=pd.DataFrame(held_rows, columns=columns),
        correction_ids=sorted(item[0] for item in labelled.values()),
        overrides={normalized: [item[3], item[4]] for normalized, item in labelled.items()},
        counts={
            "dataset": dataset.name,
            "base": len(train_rows) + len(held_rows) - len(labelled),
            "held_out": len(held_rows),
            "corrections": kinds[CorrectionKind.CORRECTION],
            "confirmations": kinds[CorrectionKind.CONFIRMATION],
            "base_overridden": overridden,
            "duplicates_removed": duplicates,
        },
    )
