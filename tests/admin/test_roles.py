"""Two roles: a reviewer labels and reviews; only an admin retrains, activates, deletes,
manages accounts and exports."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from qcapp.models import Example, ModelVersion, User
from qcapp.services.accounts.accounts import AccountError, create_admin

from helpers import csrf_token_from

REVIEWER, PASSWORD = "rita", "reviewer password"


def log_in(app, username, password):
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def reviewer_client(app, db):
    create_admin(REVIEWER, PASSWORD, role="reviewer")
    return log_in(app, REVIEWER, PASSWORD)


@pytest.fixture
def version(db):
    row = ModelVersion(version="v-old", artifact_path="/nonexistent", artifact_sha256="0" * 64)
    db.session.add(row)
    db.session.commit()
    return row


def admin_only_requests(version_id: int, example_id: int) -> list[tuple[str, str]]:
    """Every admin-only page and action, as (method, path)."""
    return [
        ("GET", "/admin/users/"),
        ("GET", "/admin/users/1"),
        ("GET", "/admin/users/new"),
        ("POST", "/admin/users/new"),
        ("POST", "/admin/users/1/disable"),
        ("POST", "/admin/users/1/role"),
        ("POST", "/admin/users/1/password"),
        ("GET", "/admin/export/history.csv"),
        ("GET", "/admin/export/training-set.csv"),
        ("POST", "/admin/runs/start"),
        ("GET", f"/admin/versions/{version_id}/activate"),
        ("POST", f"/admin/versions/{version_id}/activate"),
        ("POST", f"/admin/versions/{version_id}/delete"),
        ("POST", "/admin/examples/delete/"),
    ]


def test_every_admin_only_route_is_403_for_a_reviewer(reviewer_client, db, version):
    example = Example(text="Who?", normalized="who", coarse="HUM", fine="HUM:ind")
    db.session.add(example)
    db.session.commit()
    token = csrf_token_from(reviewer_client.get("/admin/review/").get_data(as_text=True))
    for method, path in admin_only_requests(version.id, example.id):
        if method == "GET":
            response = reviewer_client.get(path)
        else:
            response = reviewer_client.post(path, data={"csrf_token": token, "id": example.id})
        assert response.status_code == 403, (method, path, response.status_code)
    # Nothing changed behind the refusals.
    db.session.expire_all()
    assert db.session.get(ModelVersion, version.id) is not None
    assert db.session.get(ModelVersion, version.id).is_active is None
    assert db.session.get(Example, example.id) is not None


def test_reviewer_works_the_inbox_and_never_sees_admin_buttons(reviewer_client, db, version):
    for path in (
        "/admin/",
        "/admin/review/",
        "/admin/corrections/",
        "/admin/queries/",
        "/admin/examples/",
        "/admin/label-issues/",
        "/admin/versions/",
        "/admin/runs/",
        "/admin/audit/",
    ):
        response = reviewer_client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert 'href="/admin/users/"' not in html, path
        assert "export-history" not in html and "retrain-button" not in html, path
        assert f"/admin/versions/{version.id}/activate" not in html, path
        assert f"/admin/versions/{version.id}/delete" not in html, path


def test_admin_still_sees_and_reaches_everything(admin_client, db, version):
    html = admin_client.get("/admin/").get_data(as_text=True)
    assert "export-history" in html and 'href="/admin/users/"' in html
    assert admin_client.get("/admin/users/").status_code == 200
    assert admin_client.get("/admin/export/history.csv").status_code == 200
    assert f"/admin/versions/{version.id}/activate" in admin_client.get(
        "/admin/versions/"
    ).get_data(as_text=True)


def test_api_style_request_from_a_reviewer_gets_json_403(reviewer_client):
    response = reviewer_client.get("/admin/users/", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.get_json()["error"]["message"]


def test_create_admin_with_role(runner, db):
    result = runner.invoke(
        args=["qc", "create-admin", "rev", "--role", "reviewer"], input="long enough pw\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created reviewer rev" in result.output
    result = runner.invoke(args=["qc", "create-admin", "boss"], input="long enough pw\n")
    assert result.exit_code == 0
    roles = dict(db.session.execute(select(User.username, User.role)).all())
    assert roles == {"rev": "reviewer", "boss": "admin"}
    result = runner.invoke(
        args=["qc", "create-admin", "x", "--role", "owner"], input="long enough pw\n"
    )
    assert result.exit_code != 0 and "owner" in result.output
    with pytest.raises(AccountError):
        create_admin("y", "long enough pw", role="owner")
