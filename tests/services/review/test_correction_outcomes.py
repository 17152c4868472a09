"""The query page and API tell a user what became of their correction."""

import pytest

from qcapp.models import Correction
from qcapp.services.learning.provenance import link_corrections

from helpers import correction_id
from openapi_check import validate_against


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def classify_and_correct(client, question: str, fine: str) -> tuple[int, int]:
    query = client.post("/api/v1/classify", json={"question": question}).get_json()
    correction = client.post(
        f"/api/v1/queries/{query['id']}/corrections",
        json={"coarse": fine.split(":")[0], "fine": fine},
    ).get_json()
    return query["id"], correction_id(correction["id"])


def set_status(db, correction_id: int, status: str) -> None:
    db.session.get(Correction, correction_id).status = status
    db.session.commit()


@pytest.mark.parametrize(
    "status, sentence",
    [
        ("pending", "waiting for review"),
        ("rejected", "not accepted; the model does not learn from it"),
        ("approved", "not yet in the active model"),
        ("reverted", "the active model does not use it"),
    ],
)
def test_state_before_any_version_used_it(client, db, model_version, spec, status, sentence):
    query_id, correction_id = classify_and_correct(client, "Where is Lima?", "LOC:country")
    set_status(db, correction_id, status)
    body = client.get(f"/api/v1/queries/{query_id}").get_json()
    validate_against(spec, "StoredQuery", body)
    [correction] = body["corrections"]
    assert correction["status"] == status
    assert correction["in_active_model"] is False and correction["active_prediction"] is None
    page = client.get(f"/q/{query_id}").get_data(as_text=True)
    assert sentence in page


def test_served_version_that_used_it_answers(client, db, model_version, spec):
    query_id, correction_id = classify_and_correct(client, "Where is Lima?", "LOC:country")
    set_status(db, correction_id, "approved")
    assert link_corrections(model_version, [correction_id, 12345]) == 1  # unknown ids skipped
    db.session.commit()
    body = client.get(f"/api/v1/queries/{query_id}").get_json()
    validate_against(spec, "StoredQuery", body)
    [correction] = body["corrections"]
    served = client.post("/api/v1/classify", json={"question": "Where is Lima?"}).get_json()
    assert correction["in_active_model"] is True
    assert correction["active_prediction"] == {
        "coarse": served["coarse"]["label"],
        "fine": served["fine"]["label"],
        "model_version": "test-quick",
    }
    page = client.get(f"/q/{query_id}").get_data(as_text=True)
    assert "learned: the active model" in page
    assert f'<code class="active-prediction">{served["fine"]["label"]}</code>' in page


def test_no_servable_model_is_no_error(client, db, model_version, app):
    query_id, correction_id = classify_and_correct(client, "Where is Lima?", "LOC:country")
    set_status(db, correction_id, "approved")
    link_corrections(model_version, [correction_id])
    model_version.is_active = None  # nothing active: the page still answers
    db.session.commit()
    app.extensions["qc_models"].forget()
    body = client.get(f"/api/v1/queries/{query_id}").get_json()
    assert body["corrections"][0]["in_active_model"] is False
    assert client.get(f"/q/{query_id}").status_code == 200
