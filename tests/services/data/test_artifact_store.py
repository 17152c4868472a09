"""The shared artifact store: blobs by sha256, a host's verified cache, the retention rule."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qcapp.models import ArtifactBlob, ArtifactChunk, ModelVersion, TrainingRun, utcnow
from qcapp.services.data import artifacts
from qcapp.services.data.artifacts import local_version, prune_artifacts, publish_version
from training.runtime.artifacts import ArtifactError, load_version


@pytest.fixture
def app_config(app_config):
    return {**app_config, "ARTIFACT_STORE": "database"}


def _register(db, name: str, info, **values) -> ModelVersion:
    version = ModelVersion(
        version=name, artifact_path=name, artifact_sha256=info.sha256, **values
    )
    db.session.add(version)
    db.session.commit()
    return version


def _copy_into_store(app, trained_artifact, name="shared") -> tuple[object, Path]:
    info, _result = trained_artifact
    folder = Path(app.config["MODELS_DIR"]) / name
    shutil.copytree(info.path, folder)
    publish_version(folder, info.sha256)
    return info, folder


def test_store_kind_follows_the_database_unless_set(app, db):
    app.config["ARTIFACT_STORE"] = None
    on_sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    assert artifacts.store_kind() == ("files" if on_sqlite else "database")
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:////tmp/elsewhere.db"
    assert artifacts.store_kind() == "files"
    app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://db.example/qc"
    assert artifacts.store_kind() == "database"
    app.config["ARTIFACT_STORE"] = "s3"
    with pytest.raises(ValueError, match="database, files"):
        artifacts.store_kind()


def test_a_host_with_an_empty_models_folder_fetches_the_version(
    app, db, trained_artifact, monkeypatch
):
    monkeypatch.setattr(artifacts, "CHUNK_BYTES", 64 * 1024)  # several chunks per model file
    info, folder = _copy_into_store(app, trained_artifact)
    db.session.commit()
    version = _register(db, "shared", info)
    model_blob = info.manifest["files"]["model.pickle"]["sha256"]
    blob = db.session.get(ArtifactBlob, model_blob)
    assert blob.chunk_count > 1 and blob.size == info.manifest["files"]["model.pickle"]["size"]
    assert db.session.get(ArtifactBlob, info.sha256) is not None  # the manifest names it all

    shutil.rmtree(app.config["MODELS_DIR"])  # another host: nothing local
    path = local_version(version)
    assert path == folder and (path / "manifest.json").is_file()
    assert hashlib.sha256((path / "manifest.json").read_bytes()).hexdigest() == info.sha256
    model = load_version(path)
    assert model.predict("Who was Galileo?").coarse == "HUM"


def test_a_damaged_local_copy_is_fetched_again_not_loaded(app, db, trained_artifact):
    info, folder = _copy_into_store(app, trained_artifact)
    db.session.commit()
    version = _register(db, "shared", info)
    (folder / "model.pickle").write_bytes(b"not the model")
    path = local_version(version)
    expected = info.manifest["files"]["model.pickle"]["sha256"]
    assert hashlib.sha256((path / "model.pickle").read_bytes()).hexdigest() == expected


def test_publishing_twice_writes_each_blob_once(app, db, trained_artifact):
    info, folder = _copy_into_store(app, trained_artifact)
    db.session.commit()
    blobs = db.session.scalar(select(func.count()).select_from(ArtifactBlob))
    assert blobs == len(info.manifest["files"]) + 1
    assert publish_version(folder, info.sha256) == 0
    assert db.session.scalar(select(func.count()).select_from(ArtifactBlob)) == blobs


def test_a_version_in_neither_place_is_an_error(app, db, trained_artifact):
    info, _ = trained_artifact
    version = _register(db, "nowhere", info)
    with pytest.raises(ArtifactError, match="neither the store"):
        local_version(version)


def _fake_version(db, app, name: str, status: str, **values) -> ModelVersion:
    """A small version folder of its own content, published, with a row."""
    folder = Path(app.config["MODELS_DIR"]) / name
    folder.mkdir(parents=True)
    (folder / "model.pickle").write_bytes(f"weights of {name}".encode())
    digest = hashlib.sha256((folder / "model.pickle").read_bytes()).hexdigest()
    files = {"model.pickle": {"sha256": digest, "size": (folder / "model.pickle").stat().st_size}}
    (folder / "manifest.json").write_text(json.dumps({"version": name, "files": files}))
    sha = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    publish_version(folder, sha)
    version = ModelVersion(
        version=name, artifact_path=name, artifact_sha256=sha, status=status, **values
    )
    db.session.add(version)
    db.session.commit()
    return version


def test_prune_keeps_active_candidates_pinned_and_the_last_retired(app, db):
    start = utcnow() - timedelta(days=10)
    names = {}
    for i, (name, status, extra) in enumerate([
        ("r1", "retired", {"pinned": True}),
        ("r2", "retired", {}),
        ("r3", "retired", {}),
        ("r4", "retired", {}),
        ("cand", "candidate", {}),
        ("live", "active", {"is_active": True}),
    ]):
        names[name] = _fake_version(
            db, app, name, status, created_at=start + timedelta(days=i), **extra
        )
    plan = prune_artifacts(1, dry_run=True)
    assert sorted(plan.pruned) == ["r2", "r3"]
    assert db.session.scalar(select(func.count()).select_from(ArtifactBlob)) == 12  # untouched

    plan = prune_artifacts(1)
    assert sorted(plan.kept) == ["cand", "live", "r1", "r4"]
    stored = set(db.session.scalars(select(ArtifactBlob.sha256)))
    for name in ("r2", "r3"):
        assert names[name].artifact_sha256 not in stored
        assert not (Path(app.config["MODELS_DIR"]) / name).exists()
    for name in ("r1", "r4", "cand", "live"):
        assert names[name].artifact_sha256 in stored
        assert local_version(names[name]).is_dir()
    chunks = set(db.session.scalars(select(ArtifactChunk.sha256)))
    assert chunks <= stored  # no chunk outlives its blob
    assert db.session.get(ModelVersion, names["r2"].id) is not None  # history stays


def test_prune_and_pin_commands(app, db, runner):
    _fake_version(db, app, "old", "retired")
    _fake_version(db, app, "live", "active", is_active=True)
    result = runner.invoke(args=["qc", "artifacts", "prune", "--keep-retired", "0", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Would remove the artifacts of 1 version(s): old" in result.output
    assert runner.invoke(args=["qc", "artifacts", "pin", "old"]).exit_code == 0
    result = runner.invoke(args=["qc", "artifacts", "prune", "--keep-retired", "0"])
    assert "Removed the artifacts of 0 version(s)" in result.output
    missing = runner.invoke(args=["qc", "artifacts", "pin", "nope"])
    assert missing.exit_code != 0 and "no model version 'nope'" in missing.output
    negative = runner.invoke(args=["qc", "artifacts", "prune", "--keep-retired", "-1"])
    assert negative.exit_code == 2
    listing = runner.invoke(args=["qc", "artifacts", "list"])
    assert "store: database" in listing.output and "old" in listing.output


def test_a_queued_run_whose_heartbeat_stopped_is_failed_and_the_active_version_kept(
    app, db, model_version, admin_client
):
    from qcapp.runs.health import mark_stale_runs

    stale = TrainingRun(
        status="running", in_progress=True, runner="queue", host="worker-1", log="",
        started_at=utcnow() - timedelta(minutes=5), heartbeat_at=utcnow() - timedelta(minutes=2),
    )
    db.session.add(stale)
    db.session.commit()
    assert mark_stale_runs() == [stale.id]
    db.session.expire_all()
    run = db.session.get(TrainingRun, stale.id)
    assert run.status == "failed" and run.in_progress is None
    assert "worker-1" in run.error and "no heartbeat" in run.error
    assert db.session.get(ModelVersion, model_version.id).is_active

    fresh = TrainingRun(
        status="running", in_progress=True, runner="queue", log="",
        started_at=utcnow(), heartbeat_at=utcnow(),
    )
    db.session.add(fresh)
    db.session.commit()
    assert mark_stale_runs() == []
    assert db.session.get(TrainingRun, fresh.id).status == "running"


def test_the_runs_page_fails_a_run_whose_worker_died(app, db, admin_client):
    run = TrainingRun(
        status="running", in_progress=True, runner="queue", host="box-b", log="",
        started_at=utcnow() - timedelta(minutes=5), heartbeat_at=utcnow() - timedelta(minutes=2),
    )
    db.session.add(run)
    db.session.commit()
    page = admin_client.get(f"/admin/runs/{run.id}/status.json")
    assert page.status_code == 200
    body = page.get_json()
    assert body["status"] == "failed" and "box-b" in body["error"]


def test_an_unreachable_queue_fails_the_run_with_a_clear_error(app, db, model_version):
    from qcapp.runs.records import RunNotStarted, current_run
    from qcapp.runs.start import start_run

    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    with pytest.raises(RunNotStarted, match="job queue cannot be reached"):
        start_run(actor="tester")
    assert current_run() is None
    run = db.session.scalar(select(TrainingRun).order_by(TrainingRun.id.desc()))
    assert run.status == "failed" and run.runner == "queue"


@pytest.mark.skipif(
    not os.environ.get("QC_TEST_POSTGRES_URL"),
    reason="the training lock is a PostgreSQL advisory lock",
)
def test_one_training_lock_across_connections(app, db):
    from qcapp.runs.lock import TrainingLocked, training_lock

    with training_lock():
        with pytest.raises(TrainingLocked):
            with training_lock():
                pass
    with training_lock():  # released when the first block ended
        pass
