"""The scope check: API fields, what is stored, the result page, the admin filter."""

import pytest
from sqlalchemy import select

from qcapp.models import Query

from helpers import csrf_token_from
from openapi_check import validate_against

pytestmark = pytest.mark.usefixtures("model_version")

OUT_OF_SCOPE = {
    "من رسم الموناليزا؟": "other_script",
    "😀😀😀 🎉": "no_words",
    "What is 2+2?": "arithmetic",
    "SELECT * FROM users WHERE id = 1;": "code",
}


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def stored(db, text: str) -> Query:
    return db.session.scalars(select(Query).where(Query.text == text)).one()


def ask(client, question: str) -> str:
    """Post the home page's form and return the result page's HTML."""
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    response = client.post("/classify", data={"question": question, "csrf_token": token})
    assert response.status_code == 303
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_english_question_is_in_scope(client, db, spec):
    body = client.post("/api/v1/classify", json={"question": "Who painted the Mona Lisa?"})
    body = body.get_json()
    validate_against(spec, "Classification", body)
    assert body["in_scope"] is True
    assert body["scope"]["reason"] == "english_question"
    assert stored(db, "Who painted the Mona Lisa?").in_scope is True


@pytest.mark.parametrize("text, reason", OUT_OF_SCOPE.items())
def test_out_of_scope_input_says_so_and_is_stored(client, db, spec, text, reason):
    body = client.post("/api/v1/classify", json={"question": text}).get_json()
    validate_against(spec, "Classification", body)
    assert body["in_scope"] is False
    assert body["scope"]["reason"] == reason and body["scope"]["message"]
    query = stored(db, text)
    assert query.in_scope is False and query.scope_reason == reason
    assert query.prediction is not None  # the model's guess is kept for the record


def test_batch_gives_a_verdict_per_question(client, spec):
    questions = ["Where is the Eiffel Tower?", "¿Dónde está la estación de tren?", "asdfghjkl"]
    body = client.post("/api/v1/classify", json={"questions": questions}).get_json()
    validate_against(spec, "BatchClassification", body)
    assert [item["in_scope"] for item in body["results"]] == [True, False, False]


def test_stored_query_carries_the_verdict(client, spec):
    body = client.post("/api/v1/classify", json={"question": "🔥🔥🔥"}).get_json()
    stored_body = client.get(f"/api/v1/queries/{body['id']}").get_json()
    validate_against(spec, "StoredQuery", stored_body)
    assert stored_body["in_scope"] is False and stored_body["scope"]["reason"] == "no_words"


def test_openapi_requires_the_scope_fields(spec):
    classification = spec["components"]["schemas"]["Classification"]
    assert {"in_scope", "scope", "confident"} <= set(classification["required"])
    assert "in_scope" in spec["components"]["schemas"]["StoredQuery"]["required"]


def test_result_page_gives_no_label_out_of_scope(client, db):
    html = ask(client, "Wie spät ist es?")
    assert "This doesn't look like an English question" in html
    assert 'id="fine-label"' not in html and "confidence" not in html.lower().split("<main")[1]
    assert 'id="confirm-button"' not in html  # nothing to confirm
    assert 'id="correction-form"' in html  # but a user may still say what it asks for
    assert " selected>" not in html and " selected\n" not in html  # nothing chosen for them


def test_out_of_scope_page_takes_any_class_and_has_nothing_to_confirm(client, db):
    html = ask(client, "Wie spät ist es?")
    query = stored(db, "Wie spät ist es?")
    guess = query.prediction
    # No answer was shown, so no class is held back: the model's hidden guess may be named.
    assert " disabled" not in html.split('<select id="fine"')[1].split("</select>")[0]
    token = csrf_token_from(html)
    sent = client.post(
        f"/q/{query.token}/correct",
        data={"coarse": guess.coarse, "fine": guess.fine, "csrf_token": token},
    )
    assert sent.status_code == 303
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "your label is waiting for review" in page
    assert "Labelled" in page and "Confirmed" not in page
    refused = client.post(f"/q/{query.token}/confirm", data={"csrf_token": token})
    assert refused.status_code == 400
    assert "This page gave no answer to confirm." in refused.get_data(as_text=True)


def test_result_page_of_a_question_defines_its_labels(client, db):
    html = ask(client, "Which city hosted the 2012 Olympics?")
    assert "look like an English question" not in html
    assert 'class="definition"' in html
    assert 'href="/taxonomy#tx-LOC-city"' in html or 'href="/taxonomy#tx-LOC"' in html


def test_unsure_answer_says_so_in_words(client, db, monkeypatch):
    from qcapp.services.serving import doubt

    monkeypatch.setattr(doubt, "UNSURE_BELOW", 1.01)  # every answer counts as unsure
    html = ask(client, "Who invented the telephone?")
    assert 'id="unsure-message"' in html and "Not sure: maybe" in html


def test_admin_filters_out_of_scope_queries(client, admin_client):
    client.post("/api/v1/classify", json={"question": "Who wrote Hamlet?"})
    client.post("/api/v1/classify", json={"question": "qwertyuiop zxcvbnm"})
    html = admin_client.get("/admin/queries/?flt0_in_scope_equals=0").get_data(as_text=True)
    assert "qwertyuiop zxcvbnm" in html and "Who wrote Hamlet?" not in html
    assert "out of scope (" in html
    dashboard = admin_client.get("/admin/").get_data(as_text=True)
    assert "1 not English questions" in dashboard
    assert 'href="/admin/queries/?flt0_in_scope_equals=0"' in dashboard
