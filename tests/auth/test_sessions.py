"""Finding 2: a session ends on the server at logout, password change, deactivation and idleness."""

import time

import pytest
from sqlalchemy import select

from qcapp.models import AuditEvent, User
from qcapp.services.accounts.accounts import set_active

from helpers import ADMIN_PASSWORD, ADMIN_USERNAME, csrf_token_from

PROTECTED = ("/admin/users/", "/admin/export/history.csv")


def log_in(app, password=ADMIN_PASSWORD):
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": ADMIN_USERNAME, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def replay(app, cookie: str):
    """A different browser presenting a copy of a session cookie."""
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def assert_let_in(client) -> None:
    for url in PROTECTED:
        assert client.get(url).status_code == 200, url


def assert_sent_to_login(client) -> None:
    for url in PROTECTED:
        response = client.get(url, headers={"Accept": "text/html"})
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url


def log_out(client) -> None:
    token = csrf_token_from(client.get("/admin/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_cookie_replayed_after_logout_gets_the_login_page(app, admin_user):
    client = log_in(app)
    stolen = client.get_cookie("session").value
    assert_let_in(replay(app, stolen))
    log_out(client)
    attacker = replay(app, stolen)
    assert_sent_to_login(attacker)
    page = attacker.get("/admin/users/", follow_redirects=True)
    assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)


def test_logout_ends_the_users_other_sessions_too(app, admin_user):
    laptop, phone = log_in(app), log_in(app)
    log_out(laptop)
    assert_sent_to_login(phone)
    assert_let_in(log_in(app))  # a new login works as before


def test_password_change_ends_every_other_session(app, db, admin_user):
    laptop, phone = log_in(app), log_in(app)
    stolen = phone.get_cookie("session").value
    page = laptop.get("/account/password")
    assert page.status_code == 200
    response = laptop.post(
        "/account/password",
        data={
            "current_password": ADMIN_PASSWORD,
            "new_password": "a brand new secret",
            "confirm_password": "a brand new secret",
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 302
    assert_let_in(laptop)
    assert_sent_to_login(phone)
    assert_sent_to_login(replay(app, stolen))
    assert log_in(app, "a brand new secret")
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "password_changed" in actions


def test_password_change_needs_the_current_password(app, admin_user):
    client = log_in(app)
    page = client.get("/account/password")
    response = client.post(
        "/account/password",
        data={
            "current_password": "not it at all",
            "new_password": "a brand new secret",
            "confirm_password": "a brand new secret",
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 400
    assert "current password is wrong" in response.get_data(as_text=True)
    assert_let_in(client)


def test_password_page_needs_a_login(client):
    response = client.get("/account/password", headers={"Accept": "text/html"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_deactivating_a_user_ends_their_sessions(app, db, admin_user):
    client = log_in(app)
    set_active(ADMIN_USERNAME, False, actor="cli")
    assert_sent_to_login(client)
    set_active(ADMIN_USERNAME, True, actor="cli")
    # Enabling the account again does not bring the old session back.
    assert_sent_to_login(client)


def test_any_change_of_password_or_active_raises_the_generation(app, db, admin_user):
    user = db.session.scalar(select(User).where(User.username == ADMIN_USERNAME))
    before = user.session_generation
    user.active = False
    user.active = False  # unchanged: no second raise
    assert user.session_generation == before + 1
    user.set_password("another password")
    assert user.session_generation == before + 2
    db.session.commit()


@pytest.fixture
def clock(monkeypatch):
    """Move the sessions' clock forward by a number of seconds."""
    offset = {"seconds": 0}
    real = time.time
    monkeypatch.setattr("qcapp.auth.sessions.time.time", lambda: real() + offset["seconds"])
    return offset


def test_idle_session_ends_after_the_timeout(app, admin_user, clock):
    assert app.config["SESSION_IDLE_TIMEOUT"] == 30 * 60
    client = log_in(app)
    clock["seconds"] = 29 * 60
    assert_let_in(client)  # activity restarts the idle clock
    clock["seconds"] = 29 * 60 + 29 * 60
    assert_let_in(client)
    clock["seconds"] = 29 * 60 + 29 * 60 + 31 * 60
    assert_sent_to_login(client)


def test_idle_timeout_is_configurable(app_config, admin_user, clock):
    from qcapp import create_app

    app = create_app({**app_config, "SESSION_IDLE_TIMEOUT": 60})
    from qcapp.services.accounts.accounts import create_admin

    with app.app_context():
        if not User.query.filter_by(username=ADMIN_USERNAME).first():
            create_admin(ADMIN_USERNAME, ADMIN_PASSWORD)
    client = log_in(app)
    clock["seconds"] = 90
    assert_sent_to_login(client)


def test_active_session_still_ends_at_the_absolute_lifetime(app, admin_user, clock):
    client = log_in(app)
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    for step in range(0, lifetime, 20 * 60):
        clock["seconds"] = step
        assert_let_in(client)
    clock["seconds"] = lifetime + 5
    assert_sent_to_login(client)


def test_cli_password_and_disable_end_sessions(app, runner, admin_user):
    client = log_in(app)
    result = runner.invoke(args=["qc", "set-password", ADMIN_USERNAME], input="another secret!\n")
    assert result.exit_code == 0, result.output
    assert_sent_to_login(client)
    client = log_in(app, "another secret!")
    result = runner.invoke(args=["qc", "disable-user", ADMIN_USERNAME])
    assert result.exit_code == 0, result.output
    assert_sent_to_login(client)
    refused = runner.invoke(args=["qc", "set-password", ADMIN_USERNAME], input="short\n")
    assert refused.exit_code != 0 and "at least 8" in refused.output
    assert runner.invoke(args=["qc", "disable-user", "nobody"]).exit_code != 0
    assert runner.invoke(args=["qc", "enable-user", ADMIN_USERNAME]).exit_code == 0
    assert log_in(app, "another secret!")
