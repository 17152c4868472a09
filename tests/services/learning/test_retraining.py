"""Merge rules, the promotion gate, one run at a time, failures, rollback and hot swap."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from qcapp.models import Correction, Dataset, Example, ModelVersion, Prediction, Query, TrainingRun
from qcapp.runs.execute import execute_run
from qcapp.runs.health import mark_abandoned_runs
from qcapp.runs.records import RunInProgress
from qcapp.runs.start import start_run
from qcapp.services.data.merge import is_held_out, merged_training_set
from qcapp.services.learning.gate import decide
from qcapp.services.learning.settings import RunSettings
from training.data.datasets import normalise_question

from helpers import correction_id


def add_dataset(db, rows, name="base") -> Dataset:
    dataset = Dataset(name=name, rows=len(rows), is_active=True)
    db.session.add(dataset)
    db.session.flush()
    for text, coarse, fine in rows:
        db.session.add(
            Example(
                dataset_id=dataset.id,
                text=text,
                normalized=normalise_question(text),
                coarse=coarse,
                fine=fine,
            )
        )
    db.session.commit()
    return dataset


def add_correction(db, text, fine, status="approved", predicted="ENTY:other", minutes=0):
    from datetime import timedelta

    from qcapp.models import utcnow

    query = Query(text=text, normalized=normalise_question(text))
    query.prediction = Prediction(
        coarse=predicted.split(":")[0], fine=predicted, coarse_confidence=0.5, fine_confidence=0.4
    )
    correction = Correction(
        query=query,
        coarse=fine.split(":")[0],
        fine=fine,
        status=status,
        reviewed_at=utcnow() + timedelta(minutes=minutes),
    )
    db.session.add_all([query, correction])
    db.session.commit()
    return correction


def test_held_out_split_is_fixed_and_about_a_fifth():
    questions = [f"question number {i}" for i in range(5000)]
    first = [is_held_out(q) for q in questions]
    assert first == [is_held_out(q) for q in questions]
    assert 0.17 < sum(first) / len(first) < 0.23


def test_merge_rules(db):
    dataset = add_dataset(
        db,
        [
            ("What is the capital of Peru?", "LOC", "LOC:city"),
            ("Who wrote Hamlet?", "HUM", "HUM:ind"),
            ("who wrote hamlet", "HUM", "HUM:ind"),  # duplicate once normalised
            ("How tall is Everest?", "NUM", "NUM:dist"),
        ],
    )
    add_correction(db, "what is the capital of peru", "LOC:country", minutes=1)
    add_correction(db, "What is the capital of Peru ?", "LOC:city", minutes=2)  # latest review wins
    add_correction(db, "Name a red fruit.", "ENTY:food")
    add_correction(db, "How tall is Everest?", "NUM:other", status="rejected")
    add_correction(db, "Who painted Guernica?", "HUM:ind", status="pending")
    merged = merged_training_set(dataset)
    rows = {
        normalise_question(t): (f, s) for t, _c, f, s in merged.all_rows.itertuples(index=False)
    }
    assert rows["what is the capital of peru"] == ("LOC:city", "correction")
    assert rows["who wrote hamlet"] == ("HUM:ind", "base")
    assert rows["how tall is everest"] == ("NUM:dist", "base")
    assert rows["name a red fruit"] == ("ENTY:food", "correction")
    assert "who painted guernica" not in rows
    assert len(merged.all_rows) == 4
    assert merged.counts["base_overridden"] == 1 and merged.counts["duplicates_removed"] == 1
    assert merged.counts["corrections"] == 2
    # Corrections are always trained on, never held out.
    assert set(merged.held_out["source"]) <= {"base"}
    assert len(merged.correction_ids) == 2
    described = merged.describe()
    assert described["overrides"]["name a red fruit"] == ["ENTY", "ENTY:food"]
    assert len(described["fingerprint"]) == 64


@pytest.mark.parametrize(
    "candidate, reference, promoted",
    [
        ({"coarse_accuracy": 0.90, "fine_accuracy": 0.80}, None, True),
        (
            {"coarse_accuracy": 0.90, "fine_accuracy": 0.80},
            {"coarse_accuracy": 0.90, "fine_accuracy": 0.805},
            True,
        ),
        (
            {"coarse_accuracy": 0.90, "fine_accuracy": 0.78},
            {"coarse_accuracy": 0.90, "fine_accuracy": 0.80},
            False,
        ),
        (
            {"coarse_accuracy": 0.85, "fine_accuracy": 0.80},
            {"coarse_accuracy": 0.90, "fine_accuracy": 0.80},
            False,
        ),
    ],
)
def test_gate_margin(candidate, reference, promoted):
    decision, reason = decide(candidate, reference, 0.01)
    assert decision is promoted and reason


def test_one_run_at_a_time(app, db):
    first = start_run(actor="test", spawn=False)
    with pytest.raises(RunInProgress) as error:
        start_run(actor="test", spawn=False)
    assert f"run {first.id}" in str(error.value)


def test_killed_run_is_marked_failed(app, db):
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    run = start_run(actor="test", spawn=False)
    run.pid = process.pid
    db.session.commit()
    assert mark_abandoned_runs() == []  # still alive
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert mark_abandoned_runs() == [run.id]
    db.session.expire_all()
    assert db.session.get(TrainingRun, run.id).status == "failed"
    start_run(actor="test", spawn=False)  # the next run may start


def test_failed_run_leaves_active_model_and_models_dir_alone(app, db, model_version):
    # No dataset: the run fails, the active version stays, nothing is written.
    run = start_run(actor="test", spawn=False)
    run = execute_run(run.id)
    assert run.status == "failed" and "no dataset" in run.error.lower()
    assert run.in_progress is None
    assert (
        db.session.scalar(select(ModelVersion).where(ModelVersion.is_active.is_(True))).id
        == model_version.id
    )
    models_dir = Path(app.config["MODELS_DIR"])
    assert not models_dir.exists() or list(models_dir.iterdir()) == []


@pytest.fixture
def starter_in_db(app, db):
    from qcapp.services.data.datasets import import_dataset, starter_dataset_path

    dataset, _ = import_dataset(starter_dataset_path(), "starter")
    return dataset


def test_training_error_inside_run_is_recorded(app, db, starter_in_db, monkeypatch):
    from qcapp.services.learning import pipeline

    def explode(*args, **kwargs):
        raise MemoryError("simulated")

    monkeypatch.setattr(pipeline, "train_model", explode)
    run = execute_run(start_run(actor="test", spawn=False).id)
    assert run.status == "failed" and "MemoryError: simulated" in run.error
    assert db.session.scalar(select(ModelVersion.id)) is None


@pytest.mark.slow
def test_end_to_end_correction_changes_the_answer(app, db, client, runner, starter_in_db):
    """classify → correct → approve → retrain (separate process) → the corrected label."""
    result = runner.invoke(args=["qc", "train", "--quick"])
    assert result.exit_code == 0, result.output
    question = "Which metal do mirrors use for their reflective backing?"
    first = client.post("/api/v1/classify", json={"question": question}).get_json()
    target = "LOC:city" if first["fine"]["label"] != "LOC:city" else "LOC:country"
    correction = client.post(
        f"/api/v1/queries/{first['id']}/corrections", json={"coarse": "LOC", "fine": target}
    ).get_json()
    assert (
        runner.invoke(
            args=["qc", "corrections", "approve", str(correction_id(correction["id"]))]
        ).exit_code == 0
    )
    result = runner.invoke(args=["qc", "retrain", "--wait", "--quick"])
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output
    version = db.session.scalar(select(ModelVersion).order_by(ModelVersion.id.desc()))
    assert correction_id(correction["id"]) in version.data_sources["correction_ids"]
    assert version.is_active, version.status_reason
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the worker swaps to the new version in the background
        again = client.post(
            "/api/v1/classify", json={"question": question.lower().rstrip("?")}
        ).get_json()
        if again["model_version"] == version.version:
            break
        time.sleep(0.05)
    assert again["fine"]["label"] == target
    assert again["model_version"] == version.version


def test_retrain_wait_fails_with_nonzero_exit(app, runner, db):
    # No dataset at all: the separate process fails and --wait reports it.
    result = runner.invoke(args=["qc", "retrain", "--wait", "--quick"])
    assert result.exit_code == 1
    assert "failed" in result.output


@pytest.mark.slow
def test_rollback_and_hot_swap(app, db, client, starter_in_db, admin_client):
    from qcapp.runs.start import train_version

    from helpers import csrf_token_from

    older = train_version(quick=True, actor="test")
    newer = train_version(quick=True, actor="test")  # same data: promoted within the margin
    assert newer.is_active
    holder = app.extensions["qc_models"]
    assert (
        client.post("/api/v1/classify", json={"question": "Who?"}).get_json()["model_version"]
        == newer.version
    )
    page = admin_client.get("/admin/versions/").get_data(as_text=True)
    assert newer.version in page and older.version in page
    response = admin_client.post(
        f"/admin/versions/{older.id}/activate",
        data={"csrf_token": csrf_token_from(page), "reason": "roll back"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    deadline = time.monotonic() + 5
    served = None
    while time.monotonic() < deadline:
        # Requests keep being answered (by the old model) while the new one loads.
        served = client.post("/api/v1/classify", json={"question": "Who?"}).get_json()[
            "model_version"
        ]
        if served == older.version:
            break
        time.sleep(0.05)
    assert served == older.version
    assert holder.current.version == older.version
    # Neither the active version nor the one that served before it can be deleted; a candidate
    # that never served can.
    candidate = train_version(quick=True, actor="test", activate=False)
    page = admin_client.get("/admin/versions/").get_data(as_text=True)
    assert page.count('data-confirm="Delete version') == 1 and "served traffic: kept" in page
    token = csrf_token_from(page)
    refused = admin_client.post(
        f"/admin/versions/{newer.id}/delete", data={"csrf_token": token}, follow_redirects=True
    )
    assert f"Version {newer.version} served traffic" in refused.get_data(as_text=True)
    admin_client.post(f"/admin/versions/{older.id}/delete", data={"csrf_token": token})
    admin_client.post(f"/admin/versions/{candidate.id}/delete", data={"csrf_token": token})
    db.session.expire_all()
    names = db.session.scalars(select(ModelVersion.version).order_by(ModelVersion.id)).all()
    assert names == [older.version, newer.version]
    assert (Path(app.config["MODELS_DIR"]) / newer.version).exists()
    assert not (Path(app.config["MODELS_DIR"]) / candidate.version).exists()


def test_admin_retrain_button_and_status(app, db, admin_client, starter_in_db, monkeypatch):
    from qcapp.runs import launchers

    from helpers import csrf_token_from

    started = []
    monkeypatch.setattr(
        launchers,
        "spawn_training_process",
        lambda app, run_id: started.append(run_id) or os.getpid(),
    )
    page = admin_client.get("/admin/runs/").get_data(as_text=True)
    assert 'id="retrain-button"' in page
    response = admin_client.post("/admin/runs/start", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302 and started
    status = admin_client.get(f"/admin/runs/{started[0]}/status.json").get_json()
    assert status["status"] == "queued"
    again = admin_client.post(
        "/admin/runs/start", data={"csrf_token": csrf_token_from(page)}, follow_redirects=True
    )
    assert "already queued" in again.get_data(as_text=True)


@pytest.mark.slow
def test_candidate_worse_than_margin_is_kept_with_reason(app, db, admin_client, starter_in_db):
    from qcapp.runs.start import train_version

    first = train_version(quick=True, actor="test")
    # A negative margin demands the candidate beat the active version by 100 points: impossible.
    app.config["PROMOTION_MARGIN"] = -1.0
    second = train_version(quick=True, actor="test")
    assert first.is_active and not second.is_active
    assert second.status == "candidate" and "Worse than the active version" in second.status_reason
    assert second.evaluation["reference_version"] == first.version
    assert second.evaluation["candidate"]["n"] == second.test_size > 0
    page = admin_client.get("/admin/versions/").get_data(as_text=True)
    assert "Worse than the active version" in page
    details = admin_client.get(f"/admin/versions/{second.id}").get_data(as_text=True)
    assert "kept as candidate" in details and "Activate this version" in details


def test_versions_commands(runner, db, model_version):
    listing = runner.invoke(args=["qc", "versions", "list"])
    assert listing.exit_code == 0 and "* test-quick" in listing.output
    missing = runner.invoke(args=["qc", "versions", "activate", "nope"])
    assert missing.exit_code == 1 and "no model version 'nope'" in missing.output
    again = runner.invoke(args=["qc", "versions", "activate", "test-quick"])
    assert again.exit_code == 0 and "already active" in again.output


def test_watcher_switches_an_idle_worker(app, db, model_version, trained_artifact, tmp_path):
    """With the watcher thread, a worker that gets no requests still follows activations."""
    import shutil

    info, result = trained_artifact
    shutil.copytree(info.path, tmp_path / "second")
    second = ModelVersion(
        version="second",
        artifact_path=str(tmp_path / "second"),
        artifact_sha256=info.sha256,
        params=result.params,
    )
    db.session.add(second)
    db.session.commit()
    holder = app.extensions["qc_models"]
    holder.check_interval = 0.1
    holder.warm()
    assert holder.current.version == "test-quick"
    holder.start_watching()
    request_finalizer = holder.stop_watching
    from qcapp.services.learning.versions import activate_model_version

    activate_model_version(second, reason="test")
    db.session.commit()
    deadline = time.monotonic() + 5
    try:
        while holder.current.version != "second" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert holder.current.version == "second"
    finally:
        request_finalizer()


def test_training_process_lowers_its_priority_and_its_sessions_share() -> None:
    """nice alone does not help across sessions (Linux autogroups): both must be lowered."""
    import os
    import subprocess
    import sys

    code = (
        "import os, pathlib\n"
        "from qcapp.runs.placement import lower_priority\n"
        "os.setsid()\n"
        "lower_priority(7)\n"
        "lower_priority(7)\n"  # a second call (the parent's and its own) changes nothing
        "group = pathlib.Path('/proc/self/autogroup')\n"
        "print(os.nice(0), group.read_text().split()[-1] if group.exists() else 'none')\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(output[0]) == max(os.nice(0), 7)
    if output[1] != "none":
        assert output[1] == "7"


def test_the_parent_lowers_a_new_training_process_from_its_first_moment() -> None:
    """The spawned process's start (interpreter, imports) already runs at the lower priority."""
    import os
    import subprocess
    import sys

    from qcapp.runs.placement import lower_priority

    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True
    )
    try:
        lower_priority(9, child.pid, idle=True)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == max(os.nice(0), 9)
        group = f"/proc/{child.pid}/autogroup"
        if os.path.exists(group):
            assert open(group).read().split()[-1] == "9"
        if hasattr(os, "SCHED_IDLE"):  # preempted at once by any web worker that wakes up
            assert os.sched_getscheduler(child.pid) == os.SCHED_IDLE
    finally:
        child.kill()
        child.wait()


def test_a_training_process_in_the_servers_session_leaves_the_sessions_share_alone() -> None:
    """Lowering a session's autogroup would slow every process in it, web workers included."""
    code = (
        "import os, pathlib\n"
        "from qcapp.runs.placement import lower_priority\n"
        "os.setsid()\n"  # this process plays the server: a session with its default share
        "child = os.fork()\n"
        "if child == 0:\n"
        "    lower_priority(7, idle=hasattr(os, 'SCHED_IDLE'))\n"
        "    print(os.nice(0), flush=True)\n"
        "    os._exit(0)\n"
        "os.waitpid(child, 0)\n"
        "group = pathlib.Path('/proc/self/autogroup')\n"
        "print(group.read_text().split()[-1] if group.exists() else 'none')\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(output[0]) >= 7
    assert output[1] in ("0", "none")


@pytest.mark.skipif(not hasattr(os, "getsid"), reason="POSIX sessions")
def test_a_run_started_from_a_request_stays_in_the_servers_session(app, db):
    """From a web worker: same session (so SCHED_IDLE yields to the workers), own group; from
    the command line: a session of its own."""
    from qcapp.runs.spawn import spawn_training_process

    run = TrainingRun(status="queued")
    db.session.add(run)
    db.session.commit()
    # Runs that were never claimed: each process finds nothing to do and ends.
    with app.test_request_context("/admin/runs/start", method="POST"):
        from_request = spawn_training_process(app, run.id + 1000)
        assert os.getsid(from_request) == os.getsid(0)
        assert os.getpgid(from_request) == from_request != os.getpgid(0)
    from_command = spawn_training_process(app, run.id + 1001)
    assert os.getsid(from_command) == from_command != os.getsid(0)


@pytest.mark.slow
def test_with_a_queue_a_retrain_is_a_job_the_worker_runs(app, db, starter_in_db, monkeypatch):
    """With QC_REDIS_URL no process is spawned: the run is enqueued and a worker runs it."""
    from qcapp.runs import jobs, launchers

    queued = []
    monkeypatch.setattr(launchers, "enqueue", lambda path, *args, **kw: queued.append(args))
    monkeypatch.setattr(
        launchers, "spawn_training_process", lambda *a: pytest.fail("no process expected")
    )
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    run = start_run(RunSettings(quick=True), actor="tester")
    assert queued == [(run.id,)] and run.runner == "queue" and run.pid is None
    assert run.status == "queued"

    monkeypatch.setattr(jobs, "_worker_app", app)
    db.session.commit()
    assert jobs.run_training_job(run.id) == "succeeded"
    db.session.expire_all()
    run = db.session.get(TrainingRun, run.id)
    assert run.heartbeat_at is not None and run.host
    assert run.model_version.is_active
