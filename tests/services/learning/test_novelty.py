"""A retrain with nothing new since the last version registers none, unless forced: the service,
the run's record and outcome, the admin button and ``qc retrain``."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select

from qcapp.models import AuditEvent, Dataset, ModelVersion, TrainingRun
from qcapp.runs.execute import execute_run
from qcapp.runs.reporting import run_outcome
from qcapp.runs.start import start_run, train_version
from qcapp.services.data.merge import MergedSet
from qcapp.services.learning.novelty import what_changed
from qcapp.services.learning.plan import RunPlan
from qcapp.services.learning.settings import RunSettings

from helpers import csrf_token_from

CHOICE = {"family": "linear_svc", "params": {"C": 1.0}}
ROWS = [("Who wrote Hamlet?", "HUM", "HUM:ind", "base"), ("Where is Rome?", "LOC", "LOC:city",
        "base")]


def merged(rows=ROWS, correction_ids=(1, 2)) -> MergedSet:
    frame = pd.DataFrame(rows, columns=["text", "coarse", "fine", "source"])
    return MergedSet(train=frame, held_out=frame.iloc[:0], correction_ids=list(correction_ids))


def trained_on(merged_set: MergedSet, **fields) -> ModelVersion:
    values = {
        "version": "v1",
        "feature_set": "default",
        "dataset_name": "starter",
        "params": {"coarse_model": CHOICE, "fine_model": CHOICE, "run": {"kind": "full"}},
        "data_sources": merged_set.describe(),
    }
    return ModelVersion(**{**values, **fields})


REFIT = RunPlan("refit", "", "default", reuse={"coarse_model": CHOICE, "fine_model": CHOICE})
DATASET = Dataset(name="starter")


@pytest.mark.parametrize(
    ("plan", "now", "version", "change"),
    [
        (REFIT, merged(), {}, None),
        (RunPlan("full", "", "default"), merged(), {}, None),
        (REFIT, merged(correction_ids=(1, 2, 3)), {}, "1 approved correction(s) added"),
        (REFIT, merged(correction_ids=(1,)), {}, "1 withdrawn"),
        (REFIT, merged(ROWS[:1]), {}, "training rows changed"),
        (REFIT, merged(), {"dataset_name": "uiuc"}, "base dataset is starter"),
        (REFIT, merged(), {"feature_set": "embeddings"}, "feature set is default"),
        (RunPlan("quick", "", "default"), merged(), {}, "a quick run was asked for"),
        (RunPlan("refit", "", "default", reuse={"coarse_model": {"family": "other"},
                                                 "fine_model": CHOICE}),
         merged(), {}, "other model choices"),
        (REFIT, merged(), {"data_sources": {}}, "does not record what trained it"),
        (REFIT, merged(), {"data_sources": {**merged().describe(), "discarded": "ab12"}},
         "texts discarded as not questions changed"),
    ],
)
def test_what_changed_since_a_version(plan, now, version, change):
    found = what_changed(trained_on(merged(), **version), plan, DATASET, now)
    assert found == change if change is None else change in found


@pytest.fixture
def starter_dataset(app, db):
    from qcapp.services.data.datasets import import_dataset, starter_dataset_path

    return import_dataset(starter_dataset_path(), "starter")[0]


def approve_correction(db, text: str, fine: str) -> None:
    from qcapp.models import Correction, Prediction, Query, utcnow
    from training.data.datasets import normalise_question

    query = Query(text=text, normalized=normalise_question(text))
    query.prediction = Prediction(
        coarse="NUM", fine="NUM:date", coarse_confidence=0.5, fine_confidence=0.4
    )
    db.session.add(query)
    db.session.add(
        Correction(query=query, coarse=fine.split(":")[0], fine=fine, status="approved",
                   reviewed_at=utcnow())
    )
    db.session.commit()


def versions(db) -> int:
    return db.session.scalar(select(func.count()).select_from(ModelVersion))


@pytest.mark.slow
def test_a_retrain_with_nothing_new_registers_no_version_unless_forced(
    app, db, starter_dataset
):
    first = train_version(quick=True, actor="setup")
    run = execute_run(start_run(RunSettings(quick=True), actor="alice", spawn=False).id)
    assert run.status == "succeeded" and run.model_version is None
    assert run.message == (
        f"nothing new since version {first.version} (same training rows, same approved "
        "corrections, same settings); use --force to train anyway"
    )
    assert run.log.strip().splitlines()[-1].endswith(f"finished: {run.message}")
    assert versions(db) == 1 and db.session.get(ModelVersion, first.id).is_active
    assert f"nothing is new since version {first.version}" in run_outcome(run)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retrain_skipped"))
    assert (event.actor, event.details) == ("alice", {"nothing_new_since": first.version})

    # Forced, the same run trains and registers a version, as before.
    forced = execute_run(
        start_run(RunSettings(quick=True, force=True), actor="alice", spawn=False).id
    )
    assert forced.status == "succeeded" and forced.model_version is not None
    assert versions(db) == 2

    # A new approved correction is something new.
    approve_correction(db, "Which city hosted the games in 1936?", "LOC:city")
    again = execute_run(start_run(RunSettings(quick=True), actor="alice", spawn=False).id)
    assert again.model_version is not None and versions(db) == 3
    assert "approved correction" not in (again.message or "")

    # So is a text discarded as not a question: the next version's scope check learns it.
    from qcapp.models import Query
    from qcapp.services.review.discards import discard_item

    junk = Query(text="qwerty qwerty", normalized="qwerty qwerty")
    db.session.add(junk)
    db.session.commit()
    discard_item([junk.id], actor="alice")
    after_discard = execute_run(
        start_run(RunSettings(quick=True), actor="alice", spawn=False).id
    )
    assert after_discard.model_version is not None and versions(db) == 4
    unchanged = execute_run(start_run(RunSettings(quick=True), actor="alice", spawn=False).id)
    assert unchanged.model_version is None and versions(db) == 4


def test_the_admin_button_asks_for_force_when_ticked(app, db, admin_client, monkeypatch):
    from qcapp.runs import launchers

    monkeypatch.setattr(launchers, "spawn_training_process", lambda app, run_id: None)
    page = admin_client.get("/admin/runs/").get_data(as_text=True)
    assert 'name="force"' in page and "train anyway" in page
    admin_client.post("/admin/runs/start", data={"csrf_token": csrf_token_from(page)})
    run = db.session.scalar(select(TrainingRun).order_by(TrainingRun.id.desc()))
    assert "force" not in run.params
    run.status, run.in_progress = "failed", None
    db.session.commit()
    admin_client.post(
        "/admin/runs/start", data={"csrf_token": csrf_token_from(page), "force": "1"}
    )
    run = db.session.scalar(select(TrainingRun).order_by(TrainingRun.id.desc()))
    assert run.params["force"] is True


def test_the_run_page_says_nothing_was_new(app, db, admin_client):
    run = TrainingRun(
        status="succeeded", kind="refit", params={"nothing_new_since": "v7"},
        message="nothing new since version v7 (...); use --force to train anyway",
    )
    db.session.add(run)
    db.session.flush()
    run.in_progress = None
    db.session.commit()
    html = admin_client.get(f"/admin/runs/{run.id}").get_data(as_text=True)
    assert "registered no version: nothing is new since version v7" in html
    assert "alert alert-info" in html and "train anyway" in html
    status = admin_client.get(f"/admin/runs/{run.id}/status.json").get_json()
    assert status["nothing_new_since"] == "v7" and status["version"] is None


@pytest.mark.slow
def test_qc_retrain_says_nothing_is_new_and_force_trains(runner, db, starter_dataset, monkeypatch):
    from qcapp.cli import retraining

    def start_and_execute(settings, *, actor):
        # The run in this process (a spawned one costs seconds of imports); --wait then finds
        # it finished, as it would a process's.
        run = start_run(settings, actor=actor, spawn=False)
        execute_run(run.id)
        return run

    monkeypatch.setattr(retraining, "start_run", start_and_execute)
    first = train_version(quick=True, actor="setup")
    result = runner.invoke(args=["qc", "retrain", "--quick", "--wait"])
    assert result.exit_code == 0, result.output
    assert (
        f"registered no version: nothing new since version {first.version}" in result.output
    )
    assert "use --force to train anyway" in result.output
    assert versions(db) == 1
    result = runner.invoke(args=["qc", "retrain", "--quick", "--wait", "--force"])
    assert result.exit_code == 0, result.output
    assert "succeeded: version" in result.output and versions(db) == 2
