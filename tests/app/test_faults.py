"""Broken model artifacts, an unreachable database and abandoned training runs."""

import shutil
from pathlib import Path

from sqlalchemy import select

from qcapp import create_app
from qcapp.models import ModelVersion, TrainingRun
from qcapp.services.learning.versions import activate_model_version

from helpers import register_version


def register_copy(db, trained_artifact, tmp_path, name) -> ModelVersion:
    """A second version on disk: a copy of the session's trained artifact."""
    target = tmp_path / name
    shutil.copytree(trained_artifact[0].path, target)
    return register_version(db, trained_artifact, name, target)


def corrupt(path: Path) -> None:
    model = next(p for p in path.iterdir() if p.name.startswith("model."))
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))


def test_corrupted_active_version_falls_back_to_last_valid(
    app, db, client, model_version, trained_artifact, tmp_path
):
    broken = register_copy(db, trained_artifact, tmp_path, "broken")
    activate_model_version(broken, reason="test")
    db.session.commit()
    corrupt(tmp_path / "broken")
    app.extensions["qc_models"].forget()  # as at a fresh start

    response = client.post("/api/v1/classify", json={"question": "Who was Galileo?"})
    assert response.status_code == 200
    assert response.get_json()["model_version"] == "test-quick"
    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded" and "broken cannot be loaded" in health["reason"]
    assert "Serving the last valid version, test-quick" in health["reason"]


def test_missing_artifact_without_fallback_is_503(app, db, client, trained_artifact, tmp_path):
    only = register_copy(db, trained_artifact, tmp_path, "only")
    activate_model_version(only, reason="test")
    db.session.commit()
    shutil.rmtree(tmp_path / "only")
    response = client.post("/api/v1/classify", json={"question": "Who was Galileo?"})
    assert response.status_code == 503
    assert "only cannot be loaded" in response.get_json()["error"]["message"]
    assert client.get("/healthz").status_code == 503


def test_broken_new_version_keeps_serving_the_old_one(
    app, db, client, model_version, trained_artifact, tmp_path
):
    assert client.post("/api/v1/classify", json={"question": "Who?"}).status_code == 200
    broken = register_copy(db, trained_artifact, tmp_path, "broken-later")
    corrupt(tmp_path / "broken-later")
    activate_model_version(broken, reason="test")
    db.session.commit()
    holder = app.extensions["qc_models"]
    holder.refresh(background=False)
    response = client.post("/api/v1/classify", json={"question": "Who?"})
    assert response.status_code == 200 and response.get_json()["model_version"] == "test-quick"
    assert "broken-later cannot be loaded" in holder.problem


def test_admin_shows_the_model_problem(app, db, admin_client, trained_artifact, tmp_path):
    only = register_copy(db, trained_artifact, tmp_path, "gone")
    activate_model_version(only, reason="test")
    db.session.commit()
    shutil.rmtree(tmp_path / "gone")
    admin_client.post("/api/v1/classify", json={"question": "Who?"})
    html = admin_client.get("/admin/versions/").get_data(as_text=True)
    assert 'id="model-problem"' in html and "gone cannot be loaded" in html


def test_database_unavailable_is_503(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "LOG_LEVEL": "CRITICAL",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'missing' / 'dir' / 'qc.db'}",
            "INSTANCE_PATH": str(tmp_path),
        }
    )
    client = app.test_client()
    response = client.post("/api/v1/classify", json={"question": "Who?"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "database_unavailable"
    assert response.headers["Retry-After"]
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["database"] == "unavailable"
    page = client.get(f"/q/{'A' * 24}", headers={"Accept": "text/html"})
    assert page.status_code == 503 and "database is unavailable" in page.get_data(as_text=True)


def test_setup_marks_abandoned_runs_failed(app, db, runner, model_version):
    run = TrainingRun(status="running", in_progress=True, pid=2**22 + 12345)
    db.session.add(run)
    db.session.commit()
    result = runner.invoke(args=["qc", "setup"])
    assert f"Marked abandoned training runs as failed: [{run.id}]" in result.output
    db.session.expire_all()
    stored = db.session.get(TrainingRun, run.id)
    assert stored.status == "failed" and "stopped before it finished" in stored.error
    assert (
        db.session.scalar(select(ModelVersion.version).where(ModelVersion.is_active.is_(True)))
        == "test-quick"
    )
