"""The optional per-client API rate limit."""

import pytest

from qcapp import create_app


@pytest.fixture
def limited_client(app_config):
    app = create_app({**app_config, "API_RATE_LIMIT": "3/minute"})
    return app.test_client()


def test_off_by_default(client):
    statuses = {client.get("/api/v1/labels").status_code for _ in range(20)}
    assert statuses == {200}


def test_limit_answers_429_with_retry_after(limited_client):
    for _ in range(3):
        assert limited_client.get("/api/v1/labels").status_code == 200
    response = limited_client.get("/api/v1/labels")
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    # Other clients and non-API pages are not limited.
    other = limited_client.get("/api/v1/labels", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200
    assert limited_client.get("/").status_code == 200


def test_an_unreachable_storage_falls_back_to_each_workers_memory(app_config):
    """With Redis down the API keeps answering, and still limits, instead of failing."""
    app = create_app(
        {
            **app_config,
            "API_RATE_LIMIT": "3/minute",
            "RATE_LIMIT_STORAGE_URI": "redis://127.0.0.1:9/0",
        }
    )
    client = app.test_client()
    statuses = [client.get("/api/v1/labels").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
