"""Hostile and unusual input: the right 4xx or a faithful result, never a 500, nothing lost."""

import io
import json
import re

import pytest
from sqlalchemy import func, select

from qcapp.models import Query

from helpers import batch_result, csrf_token_from, stored_query


def stored(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Query))


ACCEPTED = [
    "What is the capital of 日本?",
    "¿Quién pintó la Gioconda? 🎨👩‍🎨",
    "ما هي عاصمة مصر؟",  # right-to-left
    "Who is \u05d3\u05d5\u05d3\u200f?",  # a right-to-left mark stays; overrides do not (see below)
    "<script>alert('x')</script> Who wrote Hamlet?",
    "'; DROP TABLE queries; --",
    "Robert'); DELETE FROM predictions WHERE ('1'='1",
    "%s %d {0} ${jndi:ldap://x} {{7*7}}",
    "x" * 500,
    "\u00a0 Who?",
]


@pytest.mark.parametrize("question", ACCEPTED)
def test_unusual_text_is_stored_exactly(client, db, model_version, question):
    response = client.post("/api/v1/classify", json={"question": question})
    assert response.status_code == 200
    body = response.get_json()
    assert body["question"] == question
    assert stored_query(db, body["id"]).text == question
    assert client.get(f"/api/v1/queries/{body['id']}").get_json()["question"] == question


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"", 400),
        (b"   ", 400),
        (b"null", 400),
        (b"[]", 400),
        (b'["Who?"]', 400),
        (b"42", 400),
        (b'"Who?"', 400),
        (b'{"question": "Who?"', 400),
        (b'{"question": "Wh\xffo?"}', 400),
        (b'{"question": "\\u0000"}', 400),
        (b'{"question": "\\ud83d"}', 400),
        (b'{"question": true}', 400),
        (b'{"question": {"$ne": null}}', 400),
        (b'{"question": [[[[[["deep"]]]]]]}', 400),
        (b'{"questions": [' + b'"Who?",' * 100 + b'"Why?"]}', 400),
        (b'{"question": "' + b"y" * 10_000 + b'"}', 400),
        (b'{"question": "' + b"y" * 2_000_000 + b'"}', 413),
        (b"{" * 50_000 + b"}" * 50_000, 400),
    ],
)
def test_bad_bodies_are_refused_and_store_nothing(client, db, model_version, raw, status):
    response = client.post("/api/v1/classify", data=raw, content_type="application/json")
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    assert stored(db) == 0


def test_nul_bytes_inside_text_are_removed(client, db, model_version):
    body = client.post(
        "/api/v1/classify", json={"question": "Who\x00 wrote\x00 Hamlet?"}
    ).get_json()
    assert stored_query(db, body["id"]).text == "Who wrote Hamlet?"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/xml"],
)
def test_wrong_content_types(client, db, model_version, content_type):
    response = client.post(
        "/api/v1/classify", data=json.dumps({"question": "Who?"}), content_type=content_type
    )
    assert response.status_code in (400, 415)
    assert stored(db) == 0


def test_markup_never_rendered_as_html(client, admin_client, db, model_version):
    body = client.post(
        "/api/v1/classify", json={"question": "<img src=x onerror=alert(1)> who?"}
    ).get_json()
    for page in (
        client.get(f"/q/{body['id']}"),
        admin_client.get("/admin/queries/"),
        admin_client.get(f"/admin/queries/details/?id={stored_query(db, body['id']).id}"),
    ):
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        # Highlighting may split the words with <mark>, so look for the tag, not the string.
        assert not re.search(r"<img\b", html) and "&lt;" in html


def test_batch_upload_with_broken_encoding_and_formulas(client, db, model_version):
    token = csrf_token_from(client.get("/batch").get_data(as_text=True))
    broken = client.post(
        "/batch",
        data={"file": (io.BytesIO(b"Who?\n\xc3\x28\n"), "q.txt"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert broken.status_code == 400 and "not UTF-8" in broken.get_data(as_text=True)
    assert stored(db) == 0
    formulas = "question\n=1+1 who?\n+SUM(A1) what?\n-2 why?\n@cmd where?\n"
    response = batch_result(client, client.post(
        "/batch",
        data={"file": (io.BytesIO(formulas.encode()), "q.csv"), "csrf_token": token},
        content_type="multipart/form-data",
    ))
    rows = response.get_data(as_text=True).splitlines()[1:]
    assert [row[:2] for row in rows] == ["'=", "'+", "'-", "'@"]
    # The stored text is what was uploaded; only the CSV cell is neutralised.
    assert sorted(db.session.scalars(select(Query.text)).all()) == sorted(
        ["=1+1 who?", "+SUM(A1) what?", "-2 why?", "@cmd where?"]
    )
