"""Admin login, logout, throttling and the shared access rule."""

import pytest

from helpers import ADMIN_PASSWORD, ADMIN_USERNAME, csrf_token_from

ADMIN_URLS = [
    "/admin/",
    "/admin/queries/",
    "/admin/corrections/",
    "/admin/examples/",
    "/admin/examples/new/",
    "/admin/versions/",
    "/admin/runs/",
    "/admin/users/",
    "/admin/audit/",
    "/admin/users/1",
    "/admin/users/new",
]


def login(client, username=ADMIN_USERNAME, password=ADMIN_PASSWORD, with_token=True):
    data = {"username": username, "password": password}
    if with_token:
        data["csrf_token"] = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data=data)


@pytest.mark.parametrize("url", ADMIN_URLS)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url, headers={"Accept": "text/html"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("url", ADMIN_URLS)
def test_anonymous_api_client_gets_401(client, url):
    response = client.get(url, headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_login_page_has_named_fields_and_csrf(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'name="username"' in html and 'name="password"' in html
    assert 'name="csrf_token"' in html


def test_login_and_logout(client, admin_user):
    response = login(client)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    dashboard = client.get("/admin/")
    assert dashboard.status_code == 200 and "Dashboard" in dashboard.get_data(as_text=True)
    token = csrf_token_from(dashboard.get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_session_cookie_flags(client, admin_user):
    response = login(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_without_csrf_token_gets_no_session(client, admin_user):
    response = login(client, with_token=False)
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_wrong_password_gets_no_session(client, admin_user):
    response = login(client, password="not the password")
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_repeated_failures_are_throttled(client, admin_user):
    for _ in range(5):
        assert login(client, password="wrong-password").status_code == 401
    throttled = login(client, password="wrong-password")
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    # Even the right password waits until the window has passed.
    assert login(client).status_code == 429


def test_next_parameter_only_allows_local_paths(client, admin_user):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login?next=https://evil.example/",
        data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/admin/"


def test_logged_in_admin_sees_every_view(admin_client):
    for url in ADMIN_URLS:
        assert admin_client.get(url).status_code == 200, url


def test_admin_forms_carry_csrf(admin_client):
    html = admin_client.get("/admin/examples/new/").get_data(as_text=True)
    assert 'name="csrf_token"' in html
