"""Which corrections trained which version, reverting an approval, and the migration backfill."""

import pytest
from sqlalchemy import select, text

from qcapp import create_app
from qcapp.extensions import db as _db
from qcapp.models import AuditEvent, Correction, Prediction, Query, VersionActivation
from qcapp.runs.start import train_version
from qcapp.services.data.merge import merged_training_set
from training.data.datasets import normalise_question

from helpers import csrf_token_from
from openapi_check import validate_against

# Not in the starter dataset, so the merge guard leaves them alone.
NEW_QUESTION = "Which lighthouse keeper wrote the ledger found on Skerryvore?"
OTHER_QUESTION = "What colour is the flag of the Skerryvore club?"


@pytest.fixture
def starter(app, db):
    from qcapp.services.data.datasets import import_dataset, starter_dataset_path

    dataset, _ = import_dataset(starter_dataset_path(), "starter")
    return dataset


def stored_correction(db, question, fine, status="approved", predicted="ENTY:other"):
    query = Query(text=question, normalized=normalise_question(question), source="api")
    query.prediction = Prediction(
        coarse=predicted.split(":")[0], fine=predicted, coarse_confidence=0.5, fine_confidence=0.4
    )
    kind = "confirmation" if fine == predicted else "correction"
    correction = Correction(
        query=query, kind=kind, coarse=fine.split(":")[0], fine=fine, status=status
    )
    db.session.add_all([query, correction])
    db.session.commit()
    return correction


def actions_of(db, correction_id) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(
                AuditEvent.target_type == "correction", AuditEvent.target_id == str(correction_id)
            )
            .order_by(AuditEvent.id)
        )
    )


@pytest.mark.slow
def test_retrain_links_versions_and_revert_leaves_the_next_one_out(
    app, db, client, runner, admin_client, starter
):
    corrected = stored_correction(db, NEW_QUESTION, "HUM:ind", status="pending")
    confirmed = stored_correction(db, OTHER_QUESTION, "ENTY:color", predicted="ENTY:color")
    rejected = stored_correction(db, "Who keeps the Skerryvore light?", "HUM:ind", "rejected")
    approve = runner.invoke(args=["qc", "corrections", "approve", str(corrected.id)])
    assert approve.exit_code == 0, approve.output

    first = train_version(quick=True, actor="test")
    assert first.is_active
    assert [c.id for c in first.corrections] == [corrected.id, confirmed.id]
    assert first.data_sources["correction_ids"] == [corrected.id, confirmed.id]
    assert db.session.get(Correction, rejected.id).model_versions == []
    [activation] = db.session.scalars(select(VersionActivation)).all()
    assert activation.version == first.version and activation.previous_version is None
    assert activation.activated_by == "test" and activation.reason.startswith(
        "promoted by the gate"
    )

    # The user sees the correction learned: the active model answers with it.
    stored = client.get(f"/api/v1/queries/{corrected.query.token}").get_json()
    validate_against(client.get("/api/v1/openapi.json").get_json(), "StoredQuery", stored)
    [outcome] = stored["corrections"]
    assert outcome["status"] == "approved" and outcome["in_active_model"] is True
    assert outcome["active_prediction"] == {
        "coarse": "HUM",
        "fine": "HUM:ind",
        "model_version": first.version,
    }
    page = client.get(f"/q/{corrected.query.token}").get_data(as_text=True)
    assert "learned: the active model" in page and first.version in page

    # The admin's correction page names the version, marked active, and offers the revert.
    details = admin_client.get(f"/admin/corrections/details/?id={corrected.id}")
    html = details.get_data(as_text=True)
    assert details.status_code == 200 and first.version in html and "badge-success" in html
    assert 'id="revert-form"' in html

    result = runner.invoke(
        args=[
            "qc",
            "corrections",
            "revert",
            str(corrected.id),
            "--reason",
            "the keeper is unknown",
            "--actor",
            "auditor",
        ]
    )
    assert result.exit_code == 0, result.output
    assert f"active version {first.version} was trained with it" in result.output
    db.session.expire_all()
    reverted = db.session.get(Correction, corrected.id)
    assert reverted.status == "reverted" and reverted.revert_reason == "the keeper is unknown"
    assert reverted.reverted_at is not None
    assert actions_of(db, corrected.id) == ["correction_approved", "correction_reverted"]
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "correction_reverted")
    ).one()
    assert event.actor == "auditor" and event.details["versions"] == [first.version]
    assert event.details["active_version_contains"] is True

    # Until a retrain the active version still carries it, and the pages say so.
    stored = client.get(f"/api/v1/queries/{corrected.query.token}").get_json()
    assert stored["corrections"][0]["status"] == "reverted"
    assert stored["corrections"][0]["in_active_model"] is True
    html = admin_client.get(f"/admin/corrections/details/?id={corrected.id}").get_data(as_text=True)
    assert 'id="retrain-offer"' in html and "still contains this correction" in html

    merged = merged_training_set(starter)
    assert merged.correction_ids == [confirmed.id]
    assert normalise_question(NEW_QUESTION) not in merged.overrides
    second = train_version(quick=True, actor="test")
    assert [c.id for c in second.corrections] == [confirmed.id]
    assert normalise_question(NEW_QUESTION) not in second.data_sources["overrides"]
    assert [v.version for v in reverted.model_versions] == [first.version]

    assert second.is_active
    app.extensions["qc_models"].refresh(background=False)  # as a worker's watcher would
    stored = client.get(f"/api/v1/queries/{corrected.query.token}").get_json()
    assert stored["corrections"][0]["in_active_model"] is False
    assert stored["corrections"][0]["active_prediction"] is None
    page = client.get(f"/q/{corrected.query.token}").get_data(as_text=True)
    assert "the active model does not use it" in page
    listing = admin_client.get(f"/admin/versions/{second.id}").get_data(as_text=True)
    assert "Corrections used (1)" in listing and OTHER_QUESTION in listing


def test_revert_refuses_what_is_not_approved(runner, db, admin_client):
    pending = stored_correction(db, NEW_QUESTION, "HUM:ind", status="pending")
    result = runner.invoke(args=["qc", "corrections", "revert", str(pending.id), "--reason", "x"])
    assert result.exit_code == 1 and "only an approved correction" in result.output
    missing = runner.invoke(args=["qc", "corrections", "revert", "999", "--reason", "x"])
    assert missing.exit_code == 1 and "No correction with id 999" in missing.output
    no_reason = runner.invoke(args=["qc", "corrections", "revert", str(pending.id)])
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output

    approved = stored_correction(db, OTHER_QUESTION, "ENTY:color")
    blank = runner.invoke(args=["qc", "corrections", "revert", str(approved.id), "--reason", " "])
    assert blank.exit_code == 1 and "Give a reason" in blank.output

    # The admin page: no CSRF token, then no reason, change nothing; a pending one is refused.
    url = f"/admin/corrections/{approved.id}/revert"
    assert admin_client.post(url, data={"reason": "wrong"}).status_code in (302, 400)
    page = admin_client.get(f"/admin/corrections/details/?id={approved.id}").get_data(as_text=True)
    token = csrf_token_from(page)
    answer = admin_client.post(url, data={"csrf_token": token, "reason": ""}, follow_redirects=True)
    assert "Give a reason." in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Correction, approved.id).status == "approved"
    answer = admin_client.post(
        f"/admin/corrections/{pending.id}/revert",
        data={"csrf_token": token, "reason": "oops"},
        follow_redirects=True,
    )
    assert "only an approved correction can be reverted" in answer.get_data(as_text=True)
    gone = admin_client.post("/admin/corrections/999/revert", data={"csrf_token": token})
    assert gone.status_code == 404

    answer = admin_client.post(
        url, data={"csrf_token": token, "reason": "<b>duplicate</b>"}, follow_redirects=True
    )
    html = answer.get_data(as_text=True)
    assert "the next retrain leaves it out" in html
    assert "&lt;b&gt;duplicate&lt;/b&gt;" in html and "<b>duplicate</b>" not in html
    db.session.expire_all()
    reverted = db.session.get(Correction, approved.id)
    assert reverted.status == "reverted" and reverted.reverted_by.username == "admin"
    assert actions_of(db, approved.id) == ["correction_reverted"]


def test_anonymous_cannot_revert(client, db):
    approved = stored_correction(db, OTHER_QUESTION, "ENTY:color")
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    response = client.post(
        f"/admin/corrections/{approved.id}/revert", data={"reason": "x", "csrf_token": token}
    )
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.get(Correction, approved.id).status == "approved"


@pytest.fixture
def empty_app(app_config):
    return create_app(app_config)


def test_migration_backfills_links_and_the_active_version(empty_app):
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "060e1d37ccce"]).exit_code == 0
    with empty_app.app_context():
        with _db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO queries (id, text, normalized, created_at, source) VALUES"
                    " (1, 'Who?', 'who', '2026-01-01', 'web'),"
                    " (2, 'Where?', 'where', '2026-01-01', 'web')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO corrections (id, query_id, kind, coarse, fine, status, created_at)"
                    " VALUES (10, 1, 'correction', 'HUM', 'HUM:ind', 'approved', '2026-01-01'),"
                    " (11, 2, 'correction', 'LOC', 'LOC:city', 'approved', '2026-01-01')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO model_versions (id, version, artifact_path, artifact_sha256,"
                    " feature_set, params, metrics, train_size, test_size, status, data_sources,"
                    " evaluation, created_at, is_active, activated_at, created_by) VALUES"
                    " (1, 'old', 'old', 'x', 'default', '{}', '{}', 0, 0, 'retired',"
                    " '{\"correction_ids\": [10]}', '{}', '2026-01-01', NULL, NULL, 'cli'),"
                    " (2, 'new', 'new', 'x', 'default', '{}', '{}', 0, 0, 'active',"
                    " '{\"correction_ids\": [10, 11, 99, 11]}', '{}', '2026-01-02', TRUE,"
                    " '2026-01-02', 'setup')"
                )
            )
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with empty_app.app_context():
        links = _db.session.execute(
            text("SELECT model_version_id, correction_id FROM version_corrections ORDER BY 1, 2")
        ).all()
        # Correction 99 no longer exists and 11 is listed twice: one link each, none dangling.
        assert [tuple(row) for row in links] == [(1, 10), (2, 10), (2, 11)]
        [activation] = _db.session.scalars(select(VersionActivation)).all()
        assert activation.version == "new" and activation.activated_by == "setup"
        assert [c.id for c in _db.session.get(Correction, 10).model_versions] == [1, 2]
