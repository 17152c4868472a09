"""Refit or full run: which one a retrain is and why, what a refit reuses, what it records,
and the run page's progress as an admin sees it."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from qcapp.models import Dataset, ModelVersion, TrainingRun
from qcapp.runs.execute import execute_run
from qcapp.runs.start import start_run, train_version
from qcapp.services.learning.plan import RunPlan, plan_run
from qcapp.services.learning.settings import RunSettings

from helpers import csrf_token_from

SELECTION = {
    "feature_set": "default",
    "seed": 0,
    "quick": False,
    "coarse_model": {"family": "linear_svc", "params": {"C": 0.6}},
    "fine_model": {"family": "linear_svc", "params": {"C": 2.0}},
}


def version(**fields) -> ModelVersion:
    values = {
        "version": "v1",
        "feature_set": "default",
        "params": dict(SELECTION),
        "dataset_name": "uiuc",
        "dataset_fingerprint": "abc",
    }
    return ModelVersion(**{**values, **fields})


DATASET = Dataset(name="uiuc", fingerprint="abc", rows=10)


@pytest.mark.parametrize(
    ("settings", "active", "kind", "why"),
    [
        ({}, version(), "refit", "reusing the model selection of version v1"),
        ({"select": True}, version(), "full", "model selection was asked for"),
        ({"quick": True}, version(), "quick", "quick run was asked for"),
        ({}, None, "full", "no active version"),
        ({}, version(params={**SELECTION, "quick": True}), "full", "no model selection"),
        ({}, version(params={"feature_set": "default"}), "full", "no model selection"),
        ({"features": "embeddings"}, version(), "full", "feature set changes"),
        ({}, version(dataset_name="starter"), "full", "base dataset changed"),
        ({}, version(dataset_fingerprint="old"), "full", "base dataset changed"),
    ],
)
def test_plan_chooses_the_kind_and_says_why(settings, active, kind, why):
    plan = plan_run(RunSettings(**settings), active, DATASET)
    assert plan.kind == kind and why in plan.reason
    if kind == "refit":
        assert plan.reuse["selection_version"] == "v1" and plan.reuse["refit_of"] == "v1"
        assert plan.features == "default"


def test_a_refit_of_a_refit_names_the_original_selection():
    refitted = version(version="v2", params={**SELECTION, "selection_version": "v1"})
    plan = plan_run(RunSettings(), refitted, DATASET)
    assert plan.kind == "refit" and "version v1" in plan.reason
    assert plan.reuse["selection_version"] == "v1" and plan.reuse["refit_of"] == "v2"


@pytest.fixture
def selected_version(app, db, starter_dataset):
    """An active version whose params record a model selection (as a full run leaves them)."""
    first = train_version(quick=True, actor="test")
    first.params = {**first.params, **SELECTION}
    db.session.commit()
    return first


@pytest.fixture
def starter_dataset(app, db):
    from qcapp.services.data.datasets import import_dataset, starter_dataset_path

    dataset, _ = import_dataset(starter_dataset_path(), "starter")
    return dataset


@pytest.mark.slow
def test_refit_reuses_the_selection_and_records_kind_steps_and_a_readable_log(
    app, db, selected_version, monkeypatch
):
    from qcapp.services.learning import flips

    # Nothing is new since the selected version: these runs are forced, to see what refits do.
    forced = RunSettings(force=True)
    run = execute_run(start_run(forced, actor="test", spawn=False).id)
    assert run.status == "succeeded", run.error
    assert run.kind == "refit" and selected_version.version in run.kind_reason
    new = run.model_version
    assert new.params["run"]["kind"] == "refit"
    assert new.params["selection_version"] == selected_version.version
    assert new.params["fine_model"]["params"] == {"C": 2.0}
    assert {"training set", "train", "evaluate", "flip report", "save", "train/final fit"} <= set(
        run.step_seconds
    )
    lines = [line.split(" ", 1)[1] for line in run.log.strip().splitlines()]
    assert len(lines) == len(set(lines)), run.log  # no line twice
    assert not any(re.search(r"[{}\[\]]|\w+=\{", line) for line in lines), run.log  # no reprs
    assert any(line.startswith("training set: 2,") for line in lines), run.log
    assert sum("flip report:" in line for line in lines) == 1

    # The next run compares with this version without loading it: its labels are on disk.
    def must_not_load(version):
        raise AssertionError(f"loaded {version.version} although its labels were known")

    monkeypatch.setattr(flips, "version_model", must_not_load)
    again = execute_run(start_run(forced, actor="test", spawn=False).id)
    assert again.status == "succeeded", again.error
    assert again.model_version.flip_summary["held_out"]["compared"] > 0
    assert "error" not in again.model_version.flip_summary


@pytest.mark.slow
def test_run_page_progress_only_moves_forward_and_ends_with_the_outcome(
    app, db, admin_client, selected_version
):
    page = admin_client.get("/admin/runs/").get_data(as_text=True)
    assert 'name="select"' in page  # the full-retrain checkbox
    # Nothing is new since the selected version: "train anyway" makes the run train.
    response = admin_client.post(
        "/admin/runs/start", data={"csrf_token": csrf_token_from(page), "force": "1"}
    )
    assert response.status_code == 302
    run_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    seen, deadline = [], time.monotonic() + 240
    while time.monotonic() < deadline:
        status = admin_client.get(f"/admin/runs/{run_id}/status.json").get_json()
        # Requests share the test's app context and session: end its transaction, as a real
        # request's teardown would, so the training process can write.
        db.session.rollback()
        seen.append(status["progress"])
        if status["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.05)
    assert status["status"] == "succeeded", status["error"]
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert len(set(seen)) > 2  # it was watched moving, not only at its start and end
    assert status["kind"] == "refit" and status["remaining_seconds"] is None
    assert status["outcome"].startswith(f"Training run {run_id} succeeded: version")
    details = admin_client.get(f"/admin/runs/{run_id}").get_data(as_text=True)
    assert status["outcome"] in details and "started." not in details
    assert "refit" in details


def test_admin_checkbox_asks_for_a_full_run(app, db, admin_client, starter_dataset, monkeypatch):
    from qcapp.runs import launchers

    monkeypatch.setattr(launchers, "spawn_training_process", lambda app, run_id: None)
    page = admin_client.get("/admin/runs/").get_data(as_text=True)
    admin_client.post(
        "/admin/runs/start", data={"csrf_token": csrf_token_from(page), "select": "1"}
    )
    run = db.session.scalar(select(TrainingRun).order_by(TrainingRun.id.desc()))
    assert run.params["select"] is True


def test_retrain_rejects_quick_with_select(runner, db):
    result = runner.invoke(args=["qc", "retrain", "--quick", "--select"])
    assert result.exit_code == 2 and "exclude each other" in result.output


def test_progress_weights_and_estimate_come_from_runs_of_the_same_feature_set(app, db):
    from datetime import timedelta

    from qcapp.models import utcnow
    from qcapp.runs.reporting import remaining_seconds
    from qcapp.services.learning.run_history import last_duration, previous_step_seconds

    now = utcnow()
    for number, (features, seconds) in enumerate([("finetune", 300), ("default", 80)], 1):
        produced = version(version=f"v{number}", feature_set=features,
                           artifact_path="x", artifact_sha256="0" * 64)
        db.session.add(produced)
        db.session.flush()
        finished = TrainingRun(
            status="succeeded", kind="full", model_version_id=produced.id,
            started_at=now - timedelta(seconds=seconds), finished_at=now,
            step_seconds={"train": float(seconds), f"train/{features}": 1.0},
        )
        db.session.add(finished)
        db.session.flush()
        finished.in_progress = None  # as a finished run leaves it
        db.session.flush()
    db.session.commit()
    # The newest full run trained the light model; a fine-tuning run must not take its shares.
    assert previous_step_seconds("full", "finetune") == {"train": 300.0, "train/finetune": 1.0}
    assert previous_step_seconds("full", "default")["train"] == 80.0
    assert previous_step_seconds("full", "embeddings") == {}
    # Before any fine-tuning run has measured its steps, a refit of one still takes minutes.
    first = RunPlan("refit", "", "finetune")
    assert "fine-tune" in first.train_weights({})
    assert first.run_weights({})["train"] == sum(first.train_weights({}).values())
    assert last_duration("full", "finetune") == pytest.approx(300, abs=1)
    running = TrainingRun(
        status="running", in_progress=True, kind="full", params={"features": "finetune"},
        started_at=now - timedelta(seconds=100), progress=0.0,
    )
    db.session.add(running)
    db.session.commit()
    assert remaining_seconds(running) == pytest.approx(200, abs=2)


def approve_corrections(db, count: int) -> None:
    """``count`` approved corrections of distinct stored questions."""
    from qcapp.models import Correction, Prediction, Query, utcnow
    from training.data.datasets import normalise_question

    for index in range(count):
        text = f"Which city hosted the games in year {1900 + index}?"
        query = Query(text=text, normalized=normalise_question(text))
        query.prediction = Prediction(
            coarse="NUM", fine="NUM:date", coarse_confidence=0.5, fine_confidence=0.4
        )
        db.session.add(query)
        db.session.add(
            Correction(
                query=query, coarse="LOC", fine="LOC:city", status="approved", reviewed_at=utcnow()
            )
        )
    db.session.commit()


@pytest.mark.slow
def test_corrections_are_cross_validated_after_the_run_has_ended(
    app, db, selected_version, monkeypatch
):
    """A retrain asked for while the corrections are cross-validated is not refused: the run
    has ended, and the measure gives way to the newer run."""
    from qcapp.services.learning import cross_validation

    approve_corrections(db, cross_validation.MIN_CORRECTIONS_FOR_CV)
    seen = {}

    def after_finish():
        current = db.session.get(TrainingRun, seen["run"])
        db.session.refresh(current)
        seen["status"], seen["in_progress"] = current.status, current.in_progress
        seen["evaluation"] = dict(current.model_version.evaluation)

    seen["run"] = start_run(actor="test", spawn=False).id
    run = execute_run(seen["run"], after_finish=after_finish)
    assert run.status == "succeeded", run.error
    # Ended, with its version's evaluation still unmeasured, before the cross-validation.
    assert (seen["status"], seen["in_progress"]) == ("succeeded", None)
    assert seen["evaluation"]["corrections_cv"] is None
    scores = run.model_version.evaluation["corrections_cv"]
    assert scores["n"] == cross_validation.MIN_CORRECTIONS_FOR_CV
    assert 0.0 <= scores["fine_accuracy"] <= 1.0
    lines = run.log.strip().splitlines()
    assert "finished: version" in lines[-3] and "cross-validating the 10" in lines[-2]
    assert "user-labelled rows, cross-validated" in lines[-1]
    assert run.message.startswith("finished: version")
    assert "corrections" not in run.step_seconds  # not part of the run's progress

    # A newer run during the measure: it is accepted, and the measure stops before its folds.
    # (Nothing is new since the first run's version: this one is forced to train.)
    def newer_run():
        seen["newer"] = start_run(actor="test", spawn=False).id

    forced = RunSettings(force=True)
    run = execute_run(start_run(forced, actor="test", spawn=False).id, after_finish=newer_run)
    assert run.status == "succeeded", run.error
    assert run.model_version.evaluation["corrections_cv"] is None
    assert run.log.strip().splitlines()[-1].endswith("stopped: a newer run started")
    assert db.session.get(TrainingRun, seen["newer"]).status == "queued"


@pytest.mark.slow
def test_a_prepared_standby_refits_without_loading_or_transforming_again(
    app, db, selected_version, monkeypatch
):
    """What a waiting standby finds ahead (``prepare_refit``) is all a refit without new
    questions reads: the active model is not loaded again, no question's features are found
    again, and the fit runs on one CPU."""
    import os

    from qcapp.runs.prepare import prepare_refit
    from qcapp.services.learning import flips
    from training.question_features import rows as feature_rows
    from training.tiers import refit

    allowed = os.sched_getaffinity(0)
    approve_corrections(db, 3)
    prepared = prepare_refit()
    assert prepared and f"version {selected_version.version}" in prepared, prepared
    kept = flips.version_model(selected_version)
    rows = feature_rows.kept_rows(kept.features)
    assert rows is not None and len(rows.rows) >= 3

    def must_not_load(*args, **kwargs):
        raise AssertionError("the prepared model was loaded again")

    monkeypatch.setattr(flips, "load_version", must_not_load)
    found_in_run = []
    add = feature_rows.FeatureRows.add
    monkeypatch.setattr(
        feature_rows.FeatureRows, "add",
        lambda self, texts: found_in_run.append(add(self, texts)) or found_in_run[-1],
    )
    cpus_in_fit = []
    fit = refit.fit_classifier
    monkeypatch.setattr(
        refit, "fit_classifier",
        lambda *args, **kwargs: cpus_in_fit.append(os.sched_getaffinity(0)) or fit(*args, **kwargs),
    )

    run = execute_run(start_run(actor="test", spawn=False).id)
    assert run.status == "succeeded", run.error
    assert "features kept from the active version" in run.log
    assert found_in_run and not any(found_in_run), found_in_run  # every row was found ahead
    assert run.model_version.params["features_rows"] == selected_version.params["rows"]
    assert len(cpus_in_fit) == 1
    if len(allowed) > 1:
        assert cpus_in_fit[0] == {max(allowed)}
    assert os.sched_getaffinity(0) == allowed  # restored once the run is done


def test_prepare_refit_says_when_there_is_nothing_to_prepare(app, db, starter_dataset):
    from qcapp.runs.prepare import prepare_refit

    assert prepare_refit() is None  # no active version
    train_version(quick=True, actor="test")
    assert prepare_refit() is None  # a quick version: the next run selects the model


def test_a_failed_preparation_is_logged_and_the_standby_goes_on(app, db, monkeypatch, caplog):
    from qcapp.runs import prepare

    def broken(stop):
        raise OSError("artifact unreadable")

    monkeypatch.setattr(prepare, "prepare_refit", broken)
    with caplog.at_level("ERROR", logger=prepare.__name__):
        assert prepare.prepare_quietly()  # does not raise; done for this version
    assert "preparing the next refit failed" in caplog.text
    assert "artifact unreadable" in caplog.text


@pytest.mark.slow
def test_a_waiting_standby_prepares_again_for_a_newly_active_version(
    app, db, selected_version, monkeypatch
):
    from qcapp.runs import prepare
    from qcapp.runs.prepare import Preparation
    from qcapp.services.learning import flips
    from qcapp.services.learning.versions import activate_model_version
    from training.question_features import rows as feature_rows

    preparation = Preparation(every=0)
    preparation.refresh(stop=lambda: True)  # a run handed over at once: nothing kept as done
    assert preparation.prepared_for is None
    preparation.refresh()
    assert preparation.prepared_for == selected_version.id
    first = flips.version_model(selected_version)
    assert feature_rows.kept_rows(first.features) is not None

    # Another version becomes active outside this process: the next look prepares for it.
    # (Nothing is new since the selected version: the run is forced to make another one.)
    run = execute_run(start_run(RunSettings(force=True), actor="test", spawn=False).id)
    assert run.status == "succeeded", run.error
    other = run.model_version
    if not other.is_active:
        activate_model_version(other, actor="test", reason="by hand")
        db.session.commit()
    preparation.refresh()
    assert preparation.prepared_for == other.id
    kept = flips.version_model(other)
    assert kept is flips.version_model(other)  # loaded once, kept
    assert feature_rows.kept_rows(kept.features) is not None

    # Nothing new: a look finds the same version and prepares nothing.
    monkeypatch.setattr(
        prepare, "prepare_quietly", lambda stop: pytest.fail("prepared twice for one version")
    )
    preparation.refresh()
    # A slower look waits its turn.
    later = Preparation(every=3600)
    later.looked_at = time.monotonic()
    later.refresh()
    assert later.prepared_for is None
