"""Findings 3 and 4: login timing does not reveal usernames; a guessing client locks only itself."""

import statistics
import time
from datetime import timedelta
from unittest import mock

import pytest
from sqlalchemy import func, select

from qcapp import create_app
from qcapp.models import LoginFailure, utcnow
from qcapp.services.accounts import accounts
from qcapp.services.accounts.login_throttle import Policy
from qcapp.services.serving.queries import client_fingerprint

from helpers import ADMIN_PASSWORD, ADMIN_USERNAME, csrf_token_from

BACKENDS = {
    "database": {},
    # The rate limiter's storage (memory:// stands in for redis:// within one process).
    "limiter storage": {"LOGIN_THROTTLE_STORAGE_URI": "memory://"},
}


@pytest.fixture(params=list(BACKENDS))
def app(request, app_config):
    from qcapp.extensions import db
    from qcapp.services.accounts import login_throttle

    login_throttle._storages.clear()  # a fresh memory:// store per test
    app = create_app({**app_config, **BACKENDS[request.param]})
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()


def attempt(app, address: str, password: str, username: str = ADMIN_USERNAME):
    client = app.test_client()
    return client.post(
        "/login", data=login_form(client, username, password), environ_base={"REMOTE_ADDR": address}
    )


def login_form(client, username: str, password: str) -> dict:
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return {"username": username, "password": password, "csrf_token": token}


def test_twenty_wrong_passwords_from_one_client_leave_another_able_to_log_in(app, admin_user):
    answers = [attempt(app, "203.0.113.7", f"guess {n}").status_code for n in range(20)]
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
    assert attempt(app, "203.0.113.7", ADMIN_PASSWORD).status_code == 429
    assert attempt(app, "198.51.100.2", ADMIN_PASSWORD).status_code == 302


def test_the_wait_doubles_with_each_failure_up_to_the_ceiling(app):
    with app.app_context():
        policy = Policy.from_config()
    waits = [policy.delay(failures, 5) for failures in range(3, 12)]
    assert waits == [0, 0, 15, 30, 60, 120, 240, 300, 300]
    assert policy.delay(10**9, 5) == 300  # never an overflow


def test_retry_after_follows_the_progressive_delay(app, db, admin_user):
    if app.config.get("LOGIN_THROTTLE_STORAGE_URI"):
        pytest.skip("rows are inserted directly into the database store")
    client = client_fingerprint("203.0.113.7")
    now = utcnow()
    for seconds_ago in (50, 40, 30, 20, 10, 5, 1):  # seven failures: 15 × 2² = 60 s after the last
        db.session.add(
            LoginFailure(
                username=ADMIN_USERNAME,
                client_hash=client,
                created_at=now - timedelta(seconds=seconds_ago),
            )
        )
    db.session.commit()
    refused = attempt(app, "203.0.113.7", ADMIN_PASSWORD)
    assert refused.status_code == 429 and 55 <= int(refused.headers["Retry-After"]) <= 60


def test_one_client_spraying_usernames_is_slowed_down(app, admin_user):
    for n in range(20):
        assert attempt(app, "203.0.113.9", "x" * 8, username=f"user{n}").status_code == 401
    assert attempt(app, "203.0.113.9", "x" * 8, username="somebody-else").status_code == 429
    assert attempt(app, "198.51.100.2", ADMIN_PASSWORD).status_code == 302


def test_many_guessing_clients_slow_each_other_but_not_the_owner(app, admin_user):
    app.config["LOGIN_ACCOUNT_MAX_FAILURES"] = 8
    for n in range(8):
        assert attempt(app, f"203.0.113.{n}", "guess").status_code == 401
    # Each guessing client now waits, though none reached its own allowance of five ...
    assert attempt(app, "203.0.113.1", "guess").status_code == 429
    # ... while a client that has not failed logs in at once.
    assert attempt(app, "198.51.100.2", ADMIN_PASSWORD).status_code == 302


def test_a_successful_login_forgets_that_clients_failures(app, admin_user):
    for _ in range(4):
        assert attempt(app, "203.0.113.7", "guess").status_code == 401
    assert attempt(app, "203.0.113.7", ADMIN_PASSWORD).status_code == 302
    for _ in range(4):
        assert attempt(app, "203.0.113.7", "guess").status_code == 401


def test_counts_are_shared_by_every_worker(app, app_config, admin_user):
    """Two app instances on one database (or one limiter storage) are two workers."""
    other = create_app({**app_config, **_backend_of(app)})
    for n in range(5):
        worker = app if n % 2 else other
        assert attempt(worker, "203.0.113.7", "guess").status_code == 401
    assert attempt(app, "203.0.113.7", "guess").status_code == 429
    assert attempt(other, "203.0.113.7", "guess").status_code == 429


def _backend_of(app) -> dict:
    uri = app.config.get("LOGIN_THROTTLE_STORAGE_URI")
    return {"LOGIN_THROTTLE_STORAGE_URI": uri} if uri else {}


def test_old_failures_are_cleared_away(app, db, admin_user):
    if app.config.get("LOGIN_THROTTLE_STORAGE_URI"):
        pytest.skip("the limiter storage expires its own keys")
    db.session.add(
        LoginFailure(username="x", client_hash="y", created_at=utcnow() - timedelta(days=1))
    )
    db.session.commit()
    attempt(app, "203.0.113.7", "guess")
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 1


def test_unknown_and_disabled_usernames_check_a_password_hash_too(app, db, admin_user):
    with mock.patch.object(
        accounts, "check_password_hash", wraps=accounts.check_password_hash
    ) as checked:
        assert accounts.authenticate("nobody", "guess", "c1") is None
        assert checked.call_count == 1
        assert checked.call_args.args[0] == accounts.DUMMY_PASSWORD_HASH
    accounts.set_active(ADMIN_USERNAME, False, actor="test")
    with mock.patch.object(
        accounts, "check_password_hash", wraps=accounts.check_password_hash
    ) as checked:
        assert accounts.authenticate(ADMIN_USERNAME, ADMIN_PASSWORD, "c1") is None
        assert checked.call_count == 1


def test_dummy_hash_costs_what_a_real_one_does(app, db, admin_user):
    from qcapp.models import User

    user = db.session.scalar(select(User).where(User.username == ADMIN_USERNAME))
    assert user.password_hash.split("$")[0] == accounts.DUMMY_PASSWORD_HASH.split("$")[0]


@pytest.mark.slow
def test_login_time_does_not_tell_whether_a_username_exists(app, admin_user):
    """A wrong password for a real account and any password for an unknown one take as long."""
    if app.config.get("LOGIN_THROTTLE_STORAGE_URI"):
        pytest.skip("timed once, on the database store")
    app.config["LOGIN_MAX_FAILURES"] = app.config["LOGIN_CLIENT_MAX_FAILURES"] = 10_000
    app.config["LOGIN_ACCOUNT_MAX_FAILURES"] = 10_000
    client = app.test_client()

    def timed(username: str) -> float:
        form = login_form(client, username, "wrong password")
        started = time.perf_counter()
        response = client.post("/login", data=form, environ_base={"REMOTE_ADDR": "203.0.113.7"})
        assert response.status_code == 401
        return time.perf_counter() - started

    timed(ADMIN_USERNAME), timed("nobody-at-all")  # warm up
    known, unknown = [], []
    for n in range(15):
        known.append(timed(ADMIN_USERNAME))
        unknown.append(timed(f"nobody-{n}"))
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    print(f"login medians: known {known_median:.4f} s, unknown {unknown_median:.4f} s")
    assert abs(known_median - unknown_median) / max(known_median, unknown_median) < 0.2, (
        known_median,
        unknown_median,
    )


class RecordingStorage:
    """A memory:// storage that notes the expiry of every increment."""

    def __init__(self):
        from limits.storage import storage_from_string

        self.inner = storage_from_string("memory://")
        self.expiries = []

    def incr(self, key, expiry, *args, **kwargs):
        self.expiries.append(expiry)
        return self.inner.incr(key, expiry, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_the_storage_gets_whole_seconds_as_redis_requires(app, admin_user):
    """Redis refuses a fractional expiry; the in-memory storage would have taken one."""
    from qcapp.services.accounts import login_throttle

    uri = app.config.get("LOGIN_THROTTLE_STORAGE_URI")
    if not uri:
        pytest.skip("the database backend keeps no expiries")
    recording = login_throttle._storages[uri] = RecordingStorage()
    app.config.update(LOGIN_FAILURE_WINDOW=900.5, LOGIN_BASE_DELAY=15.2)
    for _ in range(6):
        attempt(app, "10.0.0.9", "wrong password")
    assert recording.expiries
    assert all(isinstance(expiry, int) for expiry in recording.expiries), recording.expiries
    assert 901 in recording.expiries and 16 in recording.expiries


def test_an_unreachable_storage_counts_in_the_database_instead(app_config, admin_user):
    """With Redis down a login neither fails with a 500 nor escapes the throttle."""
    from qcapp.extensions import db
    from qcapp.services.accounts import login_throttle

    login_throttle._storages.clear()
    # Nothing listens on port 9: every storage call fails to connect.
    app = create_app({**app_config, "LOGIN_THROTTLE_STORAGE_URI": "redis://127.0.0.1:9/0"})
    with app.app_context():
        db.create_all()
    try:
        statuses = [attempt(app, "10.0.0.7", "wrong password").status_code for _ in range(6)]
        assert statuses == [401] * 5 + [429]
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(LoginFailure)) >= 5
    finally:
        login_throttle._storages.clear()
        with app.app_context():
            db.session.remove()
            db.drop_all()
