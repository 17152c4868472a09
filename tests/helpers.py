"""Constants and helpers shared by the tests (conftest.py holds the fixtures)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASET = Path(
    os.environ.get("QC_SHARED_DATASET", REPOSITORY_ROOT.parent / "shared" / "data" / "dataset.csv")
)
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "correct horse battery"
# What only training needs: serving must never import these.
TRAINING_ONLY_MODULES = ("sentence_transformers", "torch", "transformers")


def csrf_token_from(html: str) -> str:
    """The first CSRF token of a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def correction_id(token: str) -> int:
    """The internal id of the correction the API named by ``token`` (its public handle)."""
    from sqlalchemy import select

    from qcapp.extensions import db
    from qcapp.models import Correction

    return db.session.scalar(select(Correction.id).where(Correction.token == token))


def batch_result(client, posted):
    """The labelled CSV of a batch upload posted without JavaScript: its job page is loaded
    until every slice is classified, as the browser's refreshes do, then the file downloaded."""
    assert posted.status_code == 303, posted.get_data(as_text=True)[:500]
    page = posted.headers["Location"]
    for _ in range(200):
        answer = client.get(page)
        assert answer.status_code == 200
        if 'http-equiv="refresh"' not in answer.get_data(as_text=True):
            return client.get(page + "/labels.csv")
    raise AssertionError("the batch job never finished")


def register_version(db, trained_artifact, name: str, artifact_path: Path | None = None):
    """A ModelVersion row for the session's trained artifact (or a copy of it at a path)."""
    from qcapp.models import ModelVersion

    info, result = trained_artifact
    version = ModelVersion(
        version=name,
        artifact_path=str(artifact_path or info.path),
        artifact_sha256=info.sha256,
        params=result.params,
        metrics=result.metrics,
    )
    db.session.add(version)
    db.session.commit()
    return version


def stored_query(db, token: str):
    """The stored Query behind a public id that the API or a page handed out."""
    from sqlalchemy import select

    from qcapp.models import Query

    return db.session.scalar(select(Query).where(Query.token == token))


def run_listing_training_modules(script: str) -> tuple[list[str], list[str]]:
    """Run ``script`` in a fresh interpreter from the repository root; return its output lines
    and the training-only modules it had imported by the end."""
    probe = script + (
        "\nimport json as _json, sys as _sys\n"
        f"print(_json.dumps(sorted(set({TRAINING_ONLY_MODULES!r}) & set(_sys.modules))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPOSITORY_ROOT, capture_output=True, text=True,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    return lines[:-1], json.loads(lines[-1])


def active_dataset_labelling(db, question: str, fine: str):
    """An active base dataset of one question, labelled ``fine``."""
    from qcapp.models import Dataset, Example
    from training.data.datasets import normalise_question

    dataset = Dataset(name="base", rows=1, is_active=True)
    db.session.add(dataset)
    db.session.flush()
    db.session.add(
        Example(
            dataset_id=dataset.id,
            text=question,
            normalized=normalise_question(question),
            coarse=fine.split(":")[0],
            fine=fine,
        )
    )
    db.session.commit()
    return dataset
