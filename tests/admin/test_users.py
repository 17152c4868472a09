"""The Users pages: an admin creates, disables, enables, resets and changes the role of accounts
through the services the command line uses; reviewers get 403; nobody can lock the site out."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from qcapp.models import AuditEvent, User
from qcapp.services.accounts.accounts import create_admin

from helpers import ADMIN_PASSWORD, ADMIN_USERNAME, csrf_token_from

PASSWORD = "reviewer password"


def log_in(app, username, password):
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client, client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def account(db, username) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def post_form(client, page_url, action_url, **data):
    """Post ``data`` to ``action_url`` with the CSRF token of ``page_url``."""
    token = csrf_token_from(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={"csrf_token": token, **data})


@pytest.fixture
def rita(db):
    return create_admin("rita", PASSWORD, role="reviewer")


@pytest.fixture
def me(db, admin_client):
    return account(db, ADMIN_USERNAME)


def test_a_reviewer_gets_403_on_every_users_page_and_action(app, db, rita, admin_user):
    client, answer = log_in(app, "rita", PASSWORD)
    assert answer.status_code == 302
    token = csrf_token_from(client.get("/admin/review/").get_data(as_text=True))
    admin = account(db, ADMIN_USERNAME)
    for path in ("/admin/users/", "/admin/users/new", f"/admin/users/{admin.id}"):
        assert client.get(path).status_code == 403, path
    for path in (
        "/admin/users/new",
        f"/admin/users/{admin.id}/disable",
        f"/admin/users/{admin.id}/role",
        f"/admin/users/{admin.id}/password",
        f"/admin/users/{rita.id}/role",
    ):
        response = client.post(
            path, data={"csrf_token": token, "role": "admin", "username": "mallory"}
        )
        assert response.status_code == 403, path
    assert account(db, "rita").role == "reviewer" and account(db, ADMIN_USERNAME).active
    assert account(db, "mallory") is None


def test_create_with_a_typed_password(app, db, admin_client):
    response = post_form(
        admin_client, "/admin/users/new", "/admin/users/new",
        username="carol", role="reviewer", password_choice="type",
        password="carol's password", confirm_password="carol's password",
    )
    assert response.status_code == 302
    carol = account(db, "carol")
    assert response.headers["Location"].endswith(f"/admin/users/{carol.id}")
    assert carol.role == "reviewer" and carol.check_password("carol's password")
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "user_created", AuditEvent.target_id == "carol"
        )
    )
    assert event.actor == ADMIN_USERNAME and event.details == {"role": "reviewer"}
    _client, login = log_in(app, "carol", "carol's password")
    assert login.status_code == 302
    listing = admin_client.get("/admin/users/").get_data(as_text=True)
    assert "carol" in listing and carol.password_hash not in listing and "scrypt:" not in listing


def test_create_with_a_generated_password_shows_it_once(app, db, admin_client):
    response = post_form(
        admin_client, "/admin/users/new", "/admin/users/new",
        username="dave", role="admin", password_choice="generate",
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    password = re.search(r'id="new-password" value="([^"]+)"', html).group(1)
    assert len(password) == 24 and "shown only on this page" in html
    _client, login = log_in(app, "dave", password)
    assert login.status_code == 302
    dave = account(db, "dave")
    assert dave.is_admin
    # Nowhere else: not on the account's page, not in the audit log.
    page = admin_client.get(f"/admin/users/{dave.id}").get_data(as_text=True)
    assert password not in page and dave.password_hash not in page
    assert password not in admin_client.get("/admin/audit/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "eve", "password_choice": "type", "password": "short",
          "confirm_password": "short"}, "at least 8 characters"),
        ({"username": "eve", "password_choice": "type", "password": "long enough one",
          "confirm_password": "another one"}, "The two passwords differ."),
        ({"username": "eve", "password_choice": "type"}, "Type the new password"),
        ({"username": ADMIN_USERNAME}, "already an account named"),
        ({"username": "eve", "role": "owner"}, "Role: Not a valid choice"),
        ({"username": ""}, "Username: This field is required."),
    ],
)
def test_create_refuses_bad_input_with_a_clear_400(db, admin_client, data, message):
    response = post_form(admin_client, "/admin/users/new", "/admin/users/new", **data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert account(db, "eve") is None


def test_a_post_without_its_token_changes_nothing(db, admin_client, rita):
    response = admin_client.post(f"/admin/users/{rita.id}/disable")
    assert response.status_code == 400 and "CSRF token is missing" in response.get_data(
        as_text=True
    )
    assert account(db, "rita").active


def test_disable_ends_the_sessions_and_refuses_the_login_then_enable(app, db, admin_client, rita):
    ritas_client, _ = log_in(app, "rita", PASSWORD)
    assert ritas_client.get("/admin/review/").status_code == 200
    page = f"/admin/users/{rita.id}"
    assert 'data-confirm="Disable rita?' in admin_client.get(page).get_data(as_text=True)
    response = post_form(admin_client, page, f"{page}/disable")
    assert response.status_code == 302 and not account(db, "rita").active
    assert ritas_client.get("/admin/review/").status_code == 302  # sent to the login page
    _client, login = log_in(app, "rita", PASSWORD)
    assert login.status_code == 401
    response = post_form(admin_client, page, f"{page}/enable")
    assert response.status_code == 302 and account(db, "rita").active
    _client, login = log_in(app, "rita", PASSWORD)
    assert login.status_code == 302
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.actor == ADMIN_USERNAME)
    ).all()
    assert "user_disabled" in actions and "user_enabled" in actions


def test_role_change_applies_on_the_next_request(app, db, admin_client, rita):
    ritas_client, _ = log_in(app, "rita", PASSWORD)
    assert ritas_client.get("/admin/users/").status_code == 403
    page = f"/admin/users/{rita.id}"
    response = post_form(admin_client, page, f"{page}/role", role="admin")
    assert response.status_code == 302
    assert ritas_client.get("/admin/users/").status_code == 200
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user_role_changed"))
    assert event.actor == ADMIN_USERNAME and event.details == {"from": "reviewer", "to": "admin"}


def test_reset_password_typed_or_generated(app, db, admin_client, rita):
    ritas_client, _ = log_in(app, "rita", PASSWORD)
    page = f"/admin/users/{rita.id}"
    response = post_form(
        admin_client, page, f"{page}/password",
        password_choice="type", password="a fresh secret", confirm_password="a fresh secret",
    )
    assert response.status_code == 302
    assert ritas_client.get("/admin/review/").status_code == 302  # its session has ended
    assert log_in(app, "rita", "a fresh secret")[1].status_code == 302
    response = post_form(admin_client, page, f"{page}/password", password_choice="generate")
    password = re.search(
        r'id="new-password" value="([^"]+)"', response.get_data(as_text=True)
    ).group(1)
    assert log_in(app, "rita", password)[1].status_code == 302
    refused = post_form(
        admin_client, page, f"{page}/password",
        password_choice="type", password="tiny", confirm_password="tiny",
    )
    assert refused.status_code == 400 and "at least 8" in refused.get_data(as_text=True)
    assert log_in(app, "rita", password)[1].status_code == 302


def test_an_admin_cannot_lock_itself_or_the_site_out(db, admin_client, me, rita):
    own = f"/admin/users/{me.id}"
    html = admin_client.get(own).get_data(as_text=True)
    assert "This is your account" in html
    assert 'id="disable-form"' not in html and 'id="role-form"' not in html
    # Posted anyway: refused with a reason, nothing changed.
    for action, data, message in (
        ("disable", {}, "cannot disable your own account"),
        ("role", {"role": "reviewer"}, "cannot demote your own account"),
        ("password", {"password_choice": "generate"}, "password page"),
    ):
        response = post_form(admin_client, f"/admin/users/{rita.id}", f"{own}/{action}", **data)
        assert response.status_code in (400, 409), action
        assert message in response.get_data(as_text=True), action
    me = account(db, ADMIN_USERNAME)
    assert me.active and me.is_admin and me.check_password(ADMIN_PASSWORD)


def test_the_last_active_admin_cannot_be_disabled_by_another(app, db, admin_client, me):
    create_admin("boss", "boss password", role="admin")
    boss_client, _ = log_in(app, "boss", "boss password")
    boss = account(db, "boss")
    page = f"/admin/users/{boss.id}"
    assert post_form(admin_client, page, f"{page}/disable").status_code == 302
    assert post_form(admin_client, page, f"{page}/enable").status_code == 302
    boss_client, _ = log_in(app, "boss", "boss password")
    # boss demotes me: fine while boss stays an admin; then boss is the last one.
    mine = f"/admin/users/{me.id}"
    assert post_form(boss_client, mine, f"{mine}/role", role="reviewer").status_code == 302
    assert account(db, ADMIN_USERNAME).role == "reviewer"
    assert admin_client.get("/admin/users/").status_code == 403  # I am a reviewer now


def test_unknown_accounts_are_404(admin_client, me):
    assert admin_client.get("/admin/users/999").status_code == 404
    response = post_form(admin_client, f"/admin/users/{me.id}", "/admin/users/999/disable")
    assert response.status_code == 404
