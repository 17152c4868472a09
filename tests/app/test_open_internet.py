"""Facing the open internet: clients seen apart behind trusted proxies (and only then), TLS-aware
cookies and HSTS, no Host header in any page, no counters in public ids, 400 for silly pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from qcapp import create_app
from qcapp.models import AuditEvent, Correction

from helpers import ADMIN_PASSWORD, ADMIN_USERNAME, csrf_token_from

PROXY = "127.0.0.1"  # where nginx connects from


@pytest.fixture
def proxied_app(app_config):
    """The app behind one trusted reverse proxy."""
    from qcapp.extensions import db

    app = create_app({**app_config, "TRUSTED_PROXIES": 1})
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()


def login_attempt(app, password: str, forwarded_for: str | None, peer: str = PROXY):
    """One login through the proxy for the client ``forwarded_for`` (nginx appends it)."""
    client = app.test_client()
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    environ = {"REMOTE_ADDR": peer}
    token = csrf_token_from(
        client.get("/login", headers=headers, environ_base=environ).get_data(as_text=True)
    )
    return client.post(
        "/login",
        data={"username": ADMIN_USERNAME, "password": password, "csrf_token": token},
        headers=headers,
        environ_base=environ,
    )


def make_admin(app) -> None:
    from qcapp.services.accounts.accounts import create_admin

    with app.app_context():
        create_admin(ADMIN_USERNAME, ADMIN_PASSWORD)


def test_behind_the_proxy_two_clients_are_throttled_apart(proxied_app):
    make_admin(proxied_app)
    guesses = [
        login_attempt(proxied_app, f"guess {n}", "203.0.113.7").status_code for n in range(7)
    ]
    assert guesses[:5] == [401] * 5 and set(guesses[5:]) == {429}
    # Another visitor behind the same proxy is a client of its own: not slowed down.
    assert login_attempt(proxied_app, ADMIN_PASSWORD, "198.51.100.2").status_code == 302


def test_a_client_cannot_escape_the_throttle_by_writing_its_own_forwarded_for(proxied_app):
    """nginx appends the address it saw; what the client wrote before it is never read."""
    make_admin(proxied_app)
    answers = [
        login_attempt(proxied_app, f"guess {n}", f"10.0.0.{n}, 203.0.113.7").status_code
        for n in range(7)
    ]
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(app, admin_user):
    """A direct client that writes X-Forwarded-For is still its own address."""
    answers = [
        login_attempt(app, f"guess {n}", f"198.51.100.{n}", peer="203.0.113.9").status_code
        for n in range(7)
    ]
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
    # Nor does it pass for another client: the real owner elsewhere logs in at once.
    assert login_attempt(app, ADMIN_PASSWORD, None, peer="192.0.2.5").status_code == 302


def test_a_consensus_of_three_proxied_clients_forms(proxied_app, trained_artifact):
    from qcapp.extensions import db
    from qcapp.models import ModelVersion
    from qcapp.services.learning.versions import activate_model_version
    from qcapp.services.review.inbox import ranked_inbox

    info, result = trained_artifact
    with proxied_app.app_context():
        version = ModelVersion(
            version="test-quick", artifact_path=str(info.path), artifact_sha256=info.sha256,
            params=result.params, metrics=result.metrics, dataset_name="starter",
        )
        db.session.add(version)
        activate_model_version(version, reason="test")
        db.session.commit()
    client = proxied_app.test_client()
    proxy = {"REMOTE_ADDR": PROXY}
    for visitor in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        headers = {"X-Forwarded-For": visitor}
        token = client.post(
            "/api/v1/classify", json={"question": "Which river runs through Paris?"},
            headers=headers, environ_base=proxy,
        ).get_json()["id"]
        answer = client.post(
            f"/api/v1/queries/{token}/corrections", json={"coarse": "LOC", "fine": "LOC:other"},
            headers=headers, environ_base=proxy,
        )
        assert answer.status_code == 201
    with proxied_app.app_context():
        assert len(set(db.session.scalars(select(Correction.client_hash)))) == 3
        items, _ = ranked_inbox(limit=10)
        assert [item.consensus for item in items] == ["LOC:other"]


def test_over_https_the_cookie_is_secure_and_hsts_is_sent(proxied_app):
    client = proxied_app.test_client()
    through_tls = client.get(
        "/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"},
        environ_base={"REMOTE_ADDR": PROXY},
    )
    cookie = through_tls.headers["Set-Cookie"]
    assert "; Secure" in cookie and "HttpOnly" in cookie
    assert through_tls.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = proxied_app.test_client().get("/login", environ_base={"REMOTE_ADDR": PROXY})
    assert "; Secure" not in plain.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in plain.headers


def test_a_direct_https_request_counts_too_and_a_forged_proto_does_not(app):
    direct_tls = app.test_client().get("/login", base_url="https://localhost")
    assert "; Secure" in direct_tls.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in direct_tls.headers
    forged = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "; Secure" not in forged.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in forged.headers


@pytest.mark.parametrize(
    ("setting", "secure"), [(True, True), (False, False)]
)
def test_the_secure_cookie_can_be_forced_either_way(app_config, setting, secure):
    app = create_app({**app_config, "SESSION_COOKIE_SECURE": setting, "HSTS_MAX_AGE": 0})
    answer = app.test_client().get("/login", base_url="https://localhost")
    assert ("; Secure" in answer.headers["Set-Cookie"]) is secure
    assert "Strict-Transport-Security" not in answer.headers


def test_the_api_docs_never_show_the_host_header(client):
    page = client.get("/api/v1/docs", headers={"Host": "evil.example"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "evil.example" not in text
    assert "http://127.0.0.1:5000</span>/api/v1/classify" in text
    assert page.headers["Cache-Control"] == "private, no-cache"


def test_the_api_docs_show_the_public_url_when_set(app_config):
    app = create_app({**app_config, "PUBLIC_URL": "https://qc.example.org/"})
    text = app.test_client().get("/api/v1/docs", headers={"Host": "evil.example"}).get_data(
        as_text=True
    )
    assert "https://qc.example.org</span>/api/v1/classify" in text and "evil.example" not in text
    assert "data-fill-origin" not in text


def test_pages_are_never_shared_between_visitors_by_a_cache(client):
    for path in ("/", "/batch", "/taxonomy"):
        assert client.get(path).headers["Cache-Control"] == "private, no-cache", path


@pytest.mark.parametrize("page", ["9223372036854775807", "-1", "abc", "0"])
def test_the_inbox_refuses_a_page_beyond_reason(admin_client, db, page):
    answer = admin_client.get(f"/admin/inbox/?page={page}")
    assert answer.status_code == 400
    assert "The page must be a whole number" in answer.get_data(as_text=True)


ACCOUNT_ACTIONS = {"user_created", "login", "login_failed", "logout", "password_changed"}


def test_a_reviewer_reads_the_audit_log_without_account_events(app, client, db, admin_client):
    from qcapp.services.accounts.accounts import create_admin

    create_admin("rita", ADMIN_PASSWORD, role="reviewer")
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    wrong = client.post(
        "/login", data={"username": "a password typed here", "password": "x", "csrf_token": token}
    )
    assert wrong.status_code == 401
    client.post("/login", data={"username": "rita", "password": ADMIN_PASSWORD,
                                "csrf_token": token})
    db.session.add(AuditEvent(actor="admin", action="retrain_started",
                              target_type="training_run", target_id="1", details={}))
    db.session.commit()
    events = db.session.scalars(select(AuditEvent)).all()
    assert {event.action for event in events} >= {"login_failed", "login", "user_created"}

    listing = client.get("/admin/audit/").get_data(as_text=True)
    assert "retrain_started" in listing
    assert "a password typed here" not in listing
    assert not any(f">{action}<" in listing for action in ACCOUNT_ACTIONS)
    for event in events:
        details = client.get(f"/admin/audit/details/?id={event.id}", follow_redirects=True)
        text = details.get_data(as_text=True)
        if event.target_type == "user":
            assert "a password typed here" not in text and f">{event.action}<" not in text
    # An admin reads them all.
    admin_listing = admin_client.get("/admin/audit/").get_data(as_text=True)
    assert "a password typed here" in admin_listing and "login_failed" in admin_listing


def test_no_public_answer_carries_an_integer_correction_id(client, db, model_version):
    query = client.post("/api/v1/classify", json={"question": "Who wrote Hamlet?"}).get_json()
    proposed = client.post(
        f"/api/v1/queries/{query['id']}/corrections", json={"coarse": "HUM", "fine": "HUM:ind"}
    ).get_json()
    correction = db.session.scalar(select(Correction))
    assert proposed["id"] == correction.token and re.fullmatch(r"[\w-]{24}", proposed["id"])
    stored = client.get(f"/api/v1/queries/{query['id']}").get_json()
    page = client.get(f"/q/{query['id']}").get_data(as_text=True)
    assert f'id="correction-{correction.token}"' in page
    assert re.search(r'correction-\d+"', page) is None
    for answer in (proposed, stored):
        assert str(answer).count(f"'id': {correction.id}") == 0
    ids = [c["id"] for c in stored.get("corrections", [])] + [proposed["id"]]
    assert all(isinstance(value, str) and not value.isdigit() for value in ids)


def test_the_history_export_lets_the_workers_other_requests_run_between_batches(
    app, db, monkeypatch
):
    """100,000 queries stream for 1.9 s: under gevent the worker serves others meanwhile."""
    import gevent

    from qcapp import blocking
    from qcapp.services.insight import history

    with app.app_context():
        history.seed_history(25, days=1, seed=1)
        turns = []
        monkeypatch.setattr(blocking, "gevent_serving", lambda: True)
        monkeypatch.setattr(gevent, "idle", lambda priority=0: turns.append(priority))
        rows = list(history.history_rows(batch_size=10))
    assert len(rows) == 25
    assert turns == [0, 0, 0]  # after each of the three batches
