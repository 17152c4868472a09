"""/healthz and the error responses for browsers and API clients."""

from sqlalchemy.exc import OperationalError


def test_healthz_without_model_is_503(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == "ok" and body["model"] == "unavailable"
    assert "No model version is active" in body["reason"]


def test_healthz_with_model(client, model_version):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "model_version": "test-quick",
        "model_version_id": model_version.id,
        "model_sha256": model_version.artifact_sha256,
    }


def test_healthz_database_unavailable(client, monkeypatch):
    from qcapp.home import views

    def broken():
        raise OperationalError("SELECT 1", {}, Exception("unable to open database file"))

    monkeypatch.setattr(views, "read_only_connection", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"


def test_404_html_for_browsers(client):
    response = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "There is nothing at this address." in response.get_data(as_text=True)


def test_404_json_for_api(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": {"code": "not_found", "message": "There is nothing at this address."}
    }


def test_405_has_allow_header(client):
    response = client.get("/api/v1/classify")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_413_for_large_body(client):
    response = client.post(
        "/api/v1/classify", data=b"x" * (1024 * 1024 + 1), content_type="application/json"
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_500_hides_the_traceback(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    html = client.get("/boom", headers={"Accept": "text/html"})
    assert html.status_code == 500
    assert "secret internals" not in html.get_data(as_text=True)
    assert "Traceback" not in html.get_data(as_text=True)
    api = client.get("/boom", headers={"Accept": "application/json"})
    assert api.get_json()["error"]["code"] == "internal_error"


def test_400_and_429_and_503_pages(app, client):
    from werkzeug.exceptions import BadRequest, TooManyRequests

    from qcapp.errors import ServiceUnavailable

    @app.get("/bad")
    def bad():
        raise BadRequest()

    @app.get("/slow-down")
    def slow_down():
        error = TooManyRequests()
        error.retry_after = 30
        raise error

    @app.get("/down")
    def down():
        raise ServiceUnavailable("Model is loading.")

    assert client.get("/bad", headers={"Accept": "text/html"}).status_code == 400
    limited = client.get("/slow-down", headers={"Accept": "application/json"})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "30"
    unavailable = client.get("/down", headers={"Accept": "application/json"})
    assert unavailable.status_code == 503
    assert unavailable.get_json()["error"]["message"] == "Model is loading."


def test_security_headers_on_every_response(client):
    for path in ("/", "/healthz", "/api/v1/labels", "/nowhere"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp.split(";")[1]
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
