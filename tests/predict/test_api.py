"""The JSON API: classify, labels, stored queries, input rules, OpenAPI conformance."""

import json

import pytest
from sqlalchemy import func, select

from qcapp.models import Prediction, Query

from helpers import stored_query
from openapi_check import validate_against


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def classify(client, body, **kwargs):
    return client.post("/api/v1/classify", json=body, **kwargs)


def test_classify_one(client, db, model_version, spec):
    response = classify(client, {"question": "Who was Galileo?"})
    assert response.status_code == 200
    body = response.get_json()
    validate_against(spec, "Classification", body)
    assert body["question"] == "Who was Galileo?"
    assert body["coarse"]["label"] == "HUM" and body["coarse"]["name"] == "Human"
    assert body["fine"]["label"].startswith("HUM:")
    assert body["model_version"] == "test-quick"
    assert len(body["alternatives"]) == 3
    assert all(a["label"] != body["fine"]["label"] for a in body["alternatives"])
    for item in body["explanation"]:
        assert body["question"][item["start"] : item["end"]] == item["word"]
    query = stored_query(db, body["id"])
    assert query.text == "Who was Galileo?" and query.source == "api"
    assert query.prediction.fine == body["fine"]["label"]
    assert query.prediction.model_version_id == model_version.id
    assert query.latency_ms is not None and query.client_hash


def test_classify_batch(client, db, model_version, spec):
    questions = [
        "How far is it from Denver to Aspen?",
        "What does NASA stand for?",
        "Why is the sky blue?",
    ]
    response = classify(client, {"questions": questions})
    assert response.status_code == 200
    body = response.get_json()
    validate_against(spec, "BatchClassification", body)
    assert [item["question"] for item in body["results"]] == questions
    assert count(db, Query) == 3 and count(db, Prediction) == 3


def test_text_stored_as_typed_without_control_characters(client, db, model_version):
    typed = "  Who wrote «Don Quixote» 📚\x00\x07?\tReally?  "
    body = classify(client, {"question": typed}).get_json()
    stored = stored_query(db, body["id"]).text
    assert stored == "  Who wrote «Don Quixote» 📚? Really?  "
    assert body["question"] == stored


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"question": ""}, "empty_question"),
        ({"question": "   \n\t "}, "empty_question"),
        ({"question": "x" * 501}, "question_too_long"),
        ({"question": 42}, "invalid_type"),
        ({"question": None}, "invalid_type"),
        ({"question": ["Who?"]}, "invalid_type"),
        ({"question": {"text": "Who?"}}, "invalid_type"),
        ({"questions": []}, "invalid_batch_size"),
        ({"questions": ["Who?"] * 101}, "invalid_batch_size"),
        ({"questions": "Who?"}, "invalid_type"),
        ({"questions": ["Who?", ""]}, "empty_question"),
        ({"questions": ["Who?", {"q": 1}]}, "invalid_type"),
        ({"question": "Who?", "questions": ["Who?"]}, "invalid_body"),
        ({}, "invalid_body"),
        ({"question": "Who?", "extra": 1}, "unknown_field"),
        ([], "invalid_body"),
        (None, "invalid_body"),
        ("Who?", "invalid_body"),
    ],
)
def test_bad_input_is_400_and_stores_nothing(client, db, model_version, payload, code):
    response = client.post(
        "/api/v1/classify", data=json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]
    assert count(db, Query) == 0


def test_exactly_500_characters_is_accepted(client, model_version):
    assert classify(client, {"question": "  " + "w" * 500 + "  "}).status_code == 200


def test_malformed_json(client, db, model_version):
    for raw in (b"{", b"{'question': 'x'}", b"\xff\xfe", b"[" * 100000):
        response = client.post("/api/v1/classify", data=raw, content_type="application/json")
        assert response.status_code == 400, raw[:10]
        assert response.get_json()["error"]["code"] in {"malformed_json", "invalid_encoding"}
    assert count(db, Query) == 0


def test_lone_surrogate_is_refused(client, db, model_version):
    response = client.post(
        "/api/v1/classify", data=b'{"question": "Who \\ud800 is?"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_text"


def test_wrong_content_type(client, db, model_version):
    response = client.post("/api/v1/classify", data="question=Who", content_type="text/plain")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"
    assert count(db, Query) == 0


def test_body_over_one_mib(client, db, model_version):
    body = json.dumps({"question": "x" * (1024 * 1024)})
    response = client.post("/api/v1/classify", data=body, content_type="application/json")
    assert response.status_code == 413
    assert count(db, Query) == 0


def test_classify_without_model_is_503(client, db):
    response = classify(client, {"question": "Who?"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "model_unavailable"
    assert count(db, Query) == 0


def test_labels(client, spec):
    body = client.get("/api/v1/labels").get_json()
    validate_against(spec, "Taxonomy", body)
    assert [c["label"] for c in body["labels"]] == ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
    assert sum(len(c["fine"]) for c in body["labels"]) == 50


def test_get_query(client, model_version, spec):
    created = classify(client, {"question": "What is the capital of Peru?"}).get_json()
    response = client.get(f"/api/v1/queries/{created['id']}")
    assert response.status_code == 200
    body = response.get_json()
    validate_against(spec, "StoredQuery", body)
    assert body["question"] == "What is the capital of Peru?"
    assert body["prediction"]["fine"] == created["fine"]
    assert body["prediction"]["model_version"] == "test-quick"
    assert body["corrections"] == []


def test_unknown_query_is_404(client):
    response = client.get("/api/v1/queries/999999")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_api_is_csrf_exempt(app, model_version):
    app.config["WTF_CSRF_ENABLED"] = True
    response = app.test_client().post("/api/v1/classify", json={"question": "Who?"})
    assert response.status_code == 200


def test_openapi_document(client, spec):
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/classify", "/api/v1/labels", "/api/v1/queries/{token}"} <= set(spec["paths"])
    docs = client.get("/api/v1/docs")
    html = docs.get_data(as_text=True)
    assert docs.status_code == 200 and "Quick start" in html
    assert "POST /api/v1/classify" in html  # listed for readers without JavaScript
    assert 'data-spec-url="/api/v1/openapi.json"' in html


def test_the_openapi_limits_are_the_servers_settings(app_config):
    from qcapp import create_app

    client = create_app(
        {**app_config, "QUESTION_MAX_LENGTH": 300, "API_BATCH_LIMIT": 20}
    ).test_client()
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    single, batch = schemas["ClassifyRequest"]["oneOf"]
    assert single["properties"]["question"]["maxLength"] == 300
    assert batch["properties"]["questions"]["maxItems"] == 20
    assert batch["properties"]["questions"]["items"]["maxLength"] == 300
    over = {"questions": ["Who wrote Hamlet?"] * 21}
    assert client.post("/api/v1/classify", json=over).status_code == 400


def test_reference_assets_are_served_locally_and_only_those(client):
    script = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.get_data(as_text=True)
    assert client.get("/api/v1/docs/assets/swagger-ui.css").status_code == 200
    for name in ("index.html", "swagger-initializer.js", "..%2F__init__.py"):
        assert client.get(f"/api/v1/docs/assets/{name}").status_code == 404


def test_api_is_stateless_no_session_cookie_is_read_or_set(client, model_version) -> None:
    """A session cookie sent to the API is ignored and none is set or varied on."""
    client.set_cookie("session", "not-a-valid-signed-cookie")
    response = client.post("/api/v1/classify", json={"question": "Who wrote Hamlet?"})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    page = client.get("/")
    assert page.status_code == 200
