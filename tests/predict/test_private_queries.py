"""Finding 1: a query is reachable only through its unguessable token, never its integer id."""

import re

import pytest
from sqlalchemy import select, text

from qcapp import create_app
from qcapp.extensions import db as _db
from qcapp.models import Correction, Query

from helpers import csrf_token_from, stored_query

TOKEN = re.compile(r"[A-Za-z0-9_-]{24}")


def classify(client, question="Who painted the Mona Lisa?") -> dict:
    response = client.post("/api/v1/classify", json={"question": question})
    assert response.status_code == 200
    return response.get_json()


def test_classify_returns_a_token_and_the_page_url(client, db, model_version):
    body = classify(client)
    assert TOKEN.fullmatch(body["id"]) and body["url"] == f"/q/{body['id']}"
    batch = client.post("/api/v1/classify", json={"questions": ["Who?", "Where?"]}).get_json()
    tokens = [item["id"] for item in batch["results"]]
    assert len(set(tokens + [body["id"]])) == 3
    assert client.get(body["url"]).status_code == 200


def test_tokens_carry_at_least_128_random_bits(app, db):
    from qcapp.models import new_public_token

    tokens = {new_public_token() for _ in range(2000)}
    assert len(tokens) == 2000
    # 24 URL-safe characters of 6 bits each; the first is never "-" (a spreadsheet formula).
    assert all(TOKEN.fullmatch(token) and token[0] != "-" for token in tokens)
    assert len(set("".join(tokens))) == 64


def test_walking_integer_ids_finds_nothing_anonymously(client, db, model_version):
    body = classify(client)
    query_id = stored_query(db, body["id"]).id
    for path in (f"/q/{query_id}", f"/q/{query_id + 1}", "/q/0"):
        assert client.get(path, headers={"Accept": "text/html"}).status_code == 404
    for path in (f"/api/v1/queries/{query_id}", "/api/v1/queries/1"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    response = client.post(
        f"/api/v1/queries/{query_id}/corrections", json={"coarse": "LOC", "fine": "LOC:city"}
    )
    assert response.status_code == 404
    token = csrf_token_from(client.get(body["url"]).get_data(as_text=True))
    posted = client.post(
        f"/q/{query_id}/correct", data={"coarse": "LOC", "fine": "LOC:city", "csrf_token": token}
    )
    assert posted.status_code == 404
    assert client.post(f"/q/{query_id}/confirm", data={"csrf_token": token}).status_code == 404
    assert db.session.scalar(select(Correction.id)) is None


def test_a_guessed_token_is_404(client, db, model_version):
    classify(client)
    assert client.get("/api/v1/queries/" + "A" * 24).status_code == 404
    assert client.get("/q/" + "A" * 24, headers={"Accept": "text/html"}).status_code == 404
    assert client.get("/q/not%20a%20token", headers={"Accept": "text/html"}).status_code == 404


def test_an_admin_following_an_old_integer_url_lands_on_the_token_page(
    client, admin_client, db, model_version
):
    body = classify(client)
    query_id = stored_query(db, body["id"]).id
    response = admin_client.get(f"/q/{query_id}")
    assert response.status_code == 302 and response.headers["Location"] == body["url"]
    assert admin_client.get(f"/q/{query_id + 1000}").status_code == 404
    # The API keeps no session, so not even an admin reads it by integer id.
    assert admin_client.get(f"/api/v1/queries/{query_id}").status_code == 404


def test_corrections_go_through_the_token(client, db, model_version):
    body = classify(client)
    response = client.post(
        f"/api/v1/queries/{body['id']}/corrections", json={"coarse": "LOC", "fine": "LOC:city"}
    )
    assert response.status_code == 201 and response.get_json()["query_id"] == body["id"]
    stored = client.get(f"/api/v1/queries/{body['id']}").get_json()
    assert stored["id"] == body["id"] and stored["url"] == body["url"]
    assert [c["fine"] for c in stored["corrections"]] == ["LOC:city"]


def test_result_page_shows_no_internal_id(client, db, model_version):
    body = classify(client)
    query_id = stored_query(db, body["id"]).id
    html = client.get(body["url"]).get_data(as_text=True)
    assert f"/q/{body['id']}/correct" in html and f"/api/v1/queries/{body['id']}" in html
    assert f"#{query_id}" not in html and f"/q/{query_id}/" not in html


def test_web_form_redirects_to_the_token_page(client, db, model_version):
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    response = client.post("/classify", data={"question": "Where is Lima?", "csrf_token": token})
    assert response.status_code == 303
    assert TOKEN.fullmatch(response.headers["Location"].rsplit("/", 1)[1])


@pytest.fixture
def empty_app(app_config):
    return create_app(app_config)


def test_migration_gives_every_existing_query_a_token_and_keeps_its_corrections(empty_app):
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "4fe7ed49ba4b"]).exit_code == 0
    with empty_app.app_context():
        with _db.engine.begin() as connection:
            for number in range(1, 2501):
                connection.execute(
                    text(
                        "INSERT INTO queries (id, text, normalized, created_at, source)"
                        " VALUES (:id, 'Who?', 'who', '2026-01-01', 'web')"
                    ),
                    {"id": number},
                )
            connection.execute(
                text(
                    "INSERT INTO corrections (id, query_id, kind, coarse, fine, status, created_at,"
                    " flags) VALUES (7, 5, 'correction', 'HUM', 'HUM:ind', 'pending',"
                    " '2026-01-01', '{}')"
                )
            )
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with empty_app.app_context():
        tokens = _db.session.scalars(select(Query.token)).all()
        assert len(tokens) == 2500 and len(set(tokens)) == 2500
        assert all(TOKEN.fullmatch(token) for token in tokens)
        # Rebuilding the table on SQLite must not cascade into the rows that refer to it.
        assert _db.session.get(Correction, 7).query_id == 5
    assert runner.invoke(args=["db", "downgrade", "4fe7ed49ba4b"]).exit_code == 0
    with empty_app.app_context():
        count = _db.session.execute(text("SELECT count(*) FROM corrections")).scalar()
        assert count == 1


def test_the_admin_query_page_links_to_the_public_page(client, admin_client, db, model_version):
    body = classify(client)
    query_id = stored_query(db, body["id"]).id
    html = admin_client.get(f"/admin/queries/details/?id={query_id}").get_data(as_text=True)
    assert f'<a href="{body["url"]}">{body["url"]}</a>' in html
