"""Every switch of the active version is kept: who, from which version, and why."""

from sqlalchemy import select

from qcapp.models import AuditEvent, ModelVersion, VersionActivation
from qcapp.services.learning.versions import activate_model_version, activation_history

from helpers import csrf_token_from, register_version


def test_rollback_in_the_admin_and_the_cli_history(
    app, db, admin_client, runner, model_version, trained_artifact
):
    newer = register_version(db, trained_artifact, "newer")
    result = runner.invoke(
        args=[
            "qc",
            "versions",
            "activate",
            "newer",
            "--reason",
            "try the new one",
            "--actor",
            "ops",
        ]
    )
    assert result.exit_code == 0 and "now active" in result.output

    page = admin_client.get(f"/admin/versions/{model_version.id}").get_data(as_text=True)
    response = admin_client.post(
        f"/admin/versions/{model_version.id}/activate",
        data={"csrf_token": csrf_token_from(page), "reason": "newer answers <worse>"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    rows = db.session.scalars(select(VersionActivation).order_by(VersionActivation.id)).all()
    assert [(r.version, r.previous_version, r.activated_by, r.reason) for r in rows] == [
        ("test-quick", None, None, "test fixture"),
        ("newer", "test-quick", "ops", "try the new one"),
        ("test-quick", "newer", "admin", "newer answers <worse>"),
    ]
    assert db.session.get(ModelVersion, model_version.id).is_active
    assert not db.session.get(ModelVersion, newer.id).is_active

    periods = activation_history()
    assert [p.activation.version for p in periods] == ["test-quick", "newer", "test-quick"]
    assert periods[0].until is None
    assert periods[1].until == periods[0].activation.activated_at
    assert periods[2].until == periods[1].activation.activated_at

    html = admin_client.get("/admin/versions/").get_data(as_text=True)
    assert 'id="activation-history"' in html
    assert "newer answers &lt;worse&gt;" in html and "<worse>" not in html
    assert "try the new one" in html

    history = runner.invoke(args=["qc", "versions", "history"])
    assert history.exit_code == 0
    lines = history.output.splitlines()
    assert lines[1].startswith("test-quick") and "now" in lines[1] and "admin" in lines[1]
    assert lines[2].startswith("newer") and "ops" in lines[2] and "try the new one" in lines[2]
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "version_activated").order_by(AuditEvent.id)
    ).all()
    assert events[-1].details == {
        "previous": "newer",
        "direction": "older",
        "reason": "newer answers <worse>",
        "summary": "activated older version test-quick (replacing newer) because newer answers "
        "<worse>",
    }
    assert events[-2].details["summary"] == (
        "activated newer version newer (replacing test-quick) because try the new one"
    )


def test_activating_the_active_version_is_not_a_switch(db, runner, model_version):
    assert activate_model_version(model_version, actor="x", reason="again") is None
    result = runner.invoke(args=["qc", "versions", "activate", "test-quick"])
    assert "already active" in result.output
    assert len(db.session.scalars(select(VersionActivation)).all()) == 1


def test_admin_activation_asks_first_and_needs_a_reason(
    db, admin_client, model_version, trained_artifact
):
    newer = register_version(db, trained_artifact, "newer")
    listing = admin_client.get("/admin/versions/").get_data(as_text=True)
    # The list only links to the confirmation; nothing there activates in one click.
    assert f'href="/admin/versions/{newer.id}/activate"' in listing
    assert f'action="/admin/versions/{newer.id}/activate"' not in listing
    page = admin_client.get(f"/admin/versions/{newer.id}/activate")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Activate version <code>newer</code>?" in html
    assert "It replaces the active version <code>test-quick</code>" in html
    assert "<strong>newer</strong> version" in html
    token = csrf_token_from(html)
    for reason in ("", "   "):
        refused = admin_client.post(
            f"/admin/versions/{newer.id}/activate", data={"csrf_token": token, "reason": reason}
        )
        assert refused.status_code == 400
        assert "Give a reason" in refused.get_data(as_text=True)
    too_long = admin_client.post(
        f"/admin/versions/{newer.id}/activate", data={"csrf_token": token, "reason": "x" * 201}
    )
    assert too_long.status_code == 400 and "under 200" in too_long.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ModelVersion, model_version.id).is_active
    assert len(db.session.scalars(select(VersionActivation)).all()) == 1

    answer = admin_client.post(
        f"/admin/versions/{newer.id}/activate",
        data={"csrf_token": token, "reason": "better on the new questions"},
    )
    assert answer.status_code == 302
    back = admin_client.get(f"/admin/versions/{model_version.id}/activate").get_data(as_text=True)
    assert "<strong>older</strong> version" in back and "rollback" in back
    admin_client.post(
        f"/admin/versions/{model_version.id}/activate",
        data={"csrf_token": csrf_token_from(back), "reason": "the new one mislabels cities"},
    )
    summaries = db.session.scalars(
        select(AuditEvent.details).where(AuditEvent.action == "version_activated")
        .order_by(AuditEvent.id)
    ).all()
    assert [details["summary"] for details in summaries][1:] == [
        "activated newer version newer (replacing test-quick) because better on the new "
        "questions",
        "activated older version test-quick (replacing newer) because the new one mislabels "
        "cities",
    ]
    assert "activated older version test-quick" in admin_client.get("/admin/audit/").get_data(
        as_text=True
    )
    # The active version has nothing to confirm.
    again = admin_client.get(f"/admin/versions/{model_version.id}/activate")
    assert again.status_code == 302


def test_the_command_line_reason_is_optional_and_worded_alike(
    db, runner, model_version, trained_artifact
):
    register_version(db, trained_artifact, "newer")
    result = runner.invoke(args=["qc", "versions", "activate", "newer"])
    assert result.exit_code == 0, result.output
    assert "Activated newer version newer (replacing test-quick): model version newer is now " \
        "active." in result.output
    result = runner.invoke(
        args=["qc", "versions", "activate", "test-quick", "--reason", "back to the old one"]
    )
    assert "Activated older version test-quick (replacing newer) because back to the old one" \
        in result.output
    summaries = db.session.scalars(
        select(AuditEvent.details).where(AuditEvent.action == "version_activated")
        .order_by(AuditEvent.id)
    ).all()
    assert [details["summary"] for details in summaries] == [
        "activated version test-quick because test fixture",
        "activated newer version newer (replacing test-quick)",
        "activated older version test-quick (replacing newer) because back to the old one",
    ]
    assert [details["reason"] for details in summaries][1:] == [None, "back to the old one"]


def test_history_is_empty_at_first(runner, db):
    result = runner.invoke(args=["qc", "versions", "history"])
    assert result.exit_code == 0 and "No version has been activated yet." in result.output
