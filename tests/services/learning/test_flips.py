"""Flip reports: stored by a retraining run, printed by ``qc versions diff``, shown in the admin."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from qcapp.models import (
    Correction,
    ModelVersion,
    Prediction,
    Query,
    TrainingRun,
    VersionFlip,
    utcnow,
)
from qcapp.services.learning.flips import served_model
from training.data.datasets import normalise_question

HOSTILE = "<script>alert(1)</script> Who wrote this?"


@pytest.fixture
def starter_in_db(app, db):
    from qcapp.services.data.datasets import import_dataset, starter_dataset_path

    dataset, _ = import_dataset(starter_dataset_path(), "starter")
    return dataset


@pytest.fixture(scope="module")
def subset_artifact(tmp_path_factory):
    """A quick model on every third starter question: it labels many questions differently."""
    from qcapp.services.data.datasets import starter_dataset_path
    from training.data.datasets import load_dataset
    from training.runtime.artifacts import save_version
    from training.tiers.train import train_model

    frame = load_dataset(starter_dataset_path()).frame.iloc[::3]
    result = train_model(frame, quick=True, with_metrics=False)
    return save_version(result, tmp_path_factory.mktemp("subset-model"), "test-subset")


def store_query(db, text: str, fine: str = "ENTY:other") -> Query:
    query = Query(text=text, normalized=normalise_question(text))
    query.prediction = Prediction(
        coarse=fine.split(":")[0], fine=fine, coarse_confidence=0.5, fine_confidence=0.4
    )
    db.session.add(query)
    db.session.commit()
    return query


def register(db, name: str, info) -> ModelVersion:
    version = ModelVersion(
        version=name,
        artifact_path=str(info.path),
        artifact_sha256=info.sha256,
        dataset_name="starter",
        status="retired",
    )
    db.session.add(version)
    db.session.commit()
    return version


QUESTIONS = [
    "Who painted the Mona Lisa?",
    "How many moons does Mars have?",
    "What is the capital of Peru?",
    "What does NASA stand for?",
    "Why is the sky blue?",
    "When did the Berlin Wall fall?",
]


@pytest.mark.slow
def test_retrain_stores_the_flip_report_with_the_decision(app, db, starter_in_db):
    from qcapp.runs.start import train_version

    first = train_version(quick=True, actor="setup")
    assert first.flip_summary["baseline"] is None
    assert first.flip_summary["decision"]["promoted"] is True
    for text in QUESTIONS + ["who painted the mona lisa"]:  # one normalised duplicate
        store_query(db, text)
    mirror = store_query(db, "Which metal do mirrors use for their reflective backing?")
    before = served_model(first).predict_labels([mirror.text]).fine[0]
    target = "LOC:city" if before != "LOC:city" else "LOC:country"
    db.session.add(
        Correction(query=mirror, coarse="LOC", fine=target, status="approved", reviewed_at=utcnow())
    )
    db.session.commit()

    second = train_version(quick=True, actor="alice")
    summary = second.flip_summary
    assert summary["baseline"] == first.version and summary["candidate"] == second.version
    assert summary["decision"]["by"] == "alice"
    assert summary["decision"]["promoted"] == second.is_active
    assert summary["decision"]["reason"] == second.evaluation["reason"]
    assert summary["held_out"]["compared"] == second.test_size > 0
    assert summary["queries"]["compared"] == len(QUESTIONS) + 1  # distinct normalised questions
    rows = db.session.scalars(select(VersionFlip).where(VersionFlip.candidate_id == second.id))
    rows = rows.all()
    by_source = {"held_out": 0, "query": 0}
    for row in rows:
        by_source[row.source] += 1
        assert row.old_fine != row.new_fine and row.baseline_id == first.id
    assert by_source == {
        "held_out": summary["held_out"]["flips"],
        "query": summary["queries"]["flips"],
    }
    # The approved correction is served by the candidate: that question flips to it.
    mirror_row = next(row for row in rows if row.query_id == mirror.id)
    assert (mirror_row.old_fine, mirror_row.new_fine) == (before, target)
    # Every stored question's row agrees with the two served models, and no other one flips.
    old, new = served_model(first), served_model(second)
    texts = db.session.scalars(
        select(Query.text).where(
            Query.id.in_(select(func.max(Query.id)).group_by(Query.normalized))
        )
    ).all()
    changed = {
        text
        for text, a, b in zip(
            texts, old.predict_labels(texts).fine, new.predict_labels(texts).fine, strict=True
        )
        if a != b
    }
    assert {row.text for row in rows if row.source == "query"} == changed
    classes = summary["per_class"]["query"]
    assert sum(c["out"] for c in classes.values()) == summary["queries"]["flips"]
    run = db.session.scalar(select(TrainingRun).order_by(TrainingRun.id.desc()))
    assert "flip report:" in run.log


@pytest.mark.slow
def test_a_failing_flip_report_is_logged_and_stored_not_fatal(app, db, starter_in_db, monkeypatch):
    from qcapp.runs.start import train_version
    from qcapp.services.learning import flips

    first = train_version(quick=True, actor="test")

    def broken(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(flips, "compare_labels", broken)
    second = train_version(quick=True, actor="test")
    run = db.session.scalar(select(TrainingRun).order_by(TrainingRun.id.desc()))
    assert run.status == "succeeded" and "flip report failed: OSError: disk on fire" in run.log
    assert second.flip_summary["error"] == "OSError: disk on fire"
    assert second.flip_summary["baseline"] == first.version
    assert "promoted" in second.flip_summary["decision"]
    assert db.session.scalar(select(func.count()).select_from(VersionFlip)) == 0


@pytest.fixture
def two_versions(db, starter_in_db, trained_artifact, subset_artifact):
    info, _result = trained_artifact
    for text in QUESTIONS:
        store_query(db, text)
    return register(db, "v-full", info), register(db, "v-subset", subset_artifact)


def test_diff_prints_summary_classes_and_rows(runner, two_versions):
    result = runner.invoke(args=["qc", "versions", "diff", "v-full", "v-subset", "--limit", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Flip report: baseline v-full -> candidate v-subset"
    assert lines[1].startswith("Held-out: ") and "change label (old right" in lines[1]
    assert lines[2].startswith("Stored questions: ") and f"of {len(QUESTIONS)} " in lines[2]
    assert lines[3].startswith("McNemar (exact binomial, two-sided) on held-out:")
    assert "held-out out" in result.output
    shown = lines[lines.index(next(x for x in lines if x.startswith("Rows: "))) + 1 :]
    assert len(shown) == 3 and all(" -> " in line for line in shown)


def test_diff_json_matches_the_models_and_filters(runner, two_versions):
    full, subset = two_versions
    result = runner.invoke(
        args=["qc", "versions", "diff", "v-full", "v-subset", "--json", "--limit", "0"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    summary, rows = report["summary"], report["rows"]
    assert report["total_rows"] == len(rows) > 0
    assert len(rows) == summary["held_out"]["flips"] + summary["queries"]["flips"]
    held = [row for row in rows if row["source"] == "held_out"]
    assert all(row["gold_fine"] and row["verdict"] for row in held)
    verdicts = [row["verdict"] for row in held]
    assert summary["mcnemar"]["old_right"] == verdicts.count("old right")
    assert summary["mcnemar"]["new_right"] == verdicts.count("new right")
    old, new = served_model(full), served_model(subset)
    changed = [
        text
        for text, a, b in zip(
            QUESTIONS,
            old.predict_labels(QUESTIONS).fine,
            new.predict_labels(QUESTIONS).fine,
            strict=True,
        )
        if a != b
    ]
    assert sorted(row["text"] for row in rows if row["source"] == "query") == sorted(changed)
    only = runner.invoke(
        args=["qc", "versions", "diff", "v-full", "v-subset", "--json", "--source", "query"]
    )
    assert {row["source"] for row in json.loads(only.output)["rows"]} <= {"query"}


def test_diff_errors(runner, two_versions, db):
    missing = runner.invoke(args=["qc", "versions", "diff", "v-full", "nope"])
    assert missing.exit_code == 1 and "no model version 'nope'" in missing.output
    bad_source = runner.invoke(
        args=["qc", "versions", "diff", "v-full", "v-subset", "--source", "x"]
    )
    assert bad_source.exit_code == 2 and "Invalid value for '--source'" in bad_source.output
    negative = runner.invoke(args=["qc", "versions", "diff", "v-full", "v-subset", "--limit", "-1"])
    assert negative.exit_code == 2
    two_versions[1].artifact_path = "/nonexistent/model"
    db.session.commit()
    broken = runner.invoke(args=["qc", "versions", "diff", "v-full", "v-subset"])
    assert broken.exit_code == 1 and "Cannot load a model" in broken.output
    assert "Traceback" not in broken.output
