"""The inbox card's endpoints as the card's script uses them: JSON in and out, CSRF required,
bad input refused with a 4xx JSON error, the reviewer's rights as on the plain forms."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from qcapp.models import (
    AuditEvent,
    Correction,
    Prediction,
    Query,
)
from qcapp.services.accounts.accounts import create_admin
from training.data.datasets import normalise_question

from helpers import active_dataset_labelling, csrf_token_from

JSON = {"Accept": "application/json"}
REVIEWER, PASSWORD = "rita", "reviewer password"
CHEETAH = "How fast can a cheetah run?"


def store(db, text, fine="HUM:ind", *, confidence=0.6, client=None) -> Query:
    query = Query(text=text, normalized=normalise_question(text), client_hash=client)
    query.prediction = Prediction(
        coarse=fine.split(":")[0],
        fine=fine,
        coarse_confidence=confidence,
        fine_confidence=confidence,
        margin=confidence / 2,
        scores={"alternatives": [{"coarse": "LOC", "fine": "LOC:city", "confidence": 0.1}]},
    )
    db.session.add(query)
    db.session.commit()
    return query


def propose(db, query, fine, client) -> Correction:
    correction = Correction(query=query, coarse=fine.split(":")[0], fine=fine, client_hash=client)
    db.session.add(correction)
    db.session.commit()
    return correction


@pytest.fixture
def training_label(db):
    """An active dataset that labels the cheetah question NUM:speed."""
    active_dataset_labelling(db, CHEETAH, "NUM:speed")


def token_of(client) -> str:
    return csrf_token_from(client.get("/admin/inbox/card").get_data(as_text=True))


def post_json(client, path, data, token=None):
    headers = dict(JSON)
    if token:
        headers["X-CSRFToken"] = token
        data = {"csrf_token": token, **data}
    return client.post(path, data=data, headers=headers)


def audit(db, action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_card_page_offers_all_50_classes_by_code_and_keeps_the_filters(admin_client, db):
    store(db, "Which is bigger, a lion or a tiger?")
    page = admin_client.get("/admin/inbox/card?at=0&proposals=0&tag=zoo").get_data(as_text=True)
    codes = re.findall(r'role="option" id="pick-(\w\w)"', page)
    assert len(codes) == 50 and len(set(codes)) == 50
    assert 'data-label="ENTY:animal" data-code="ea"' in page
    # The filter arguments ride on every URL the card builds; the position does not.
    assert 'data-args="proposals=0&amp;tag=zoo"' in page
    assert 'action="/admin/inbox/decide?proposals=0&amp;tag=zoo"' in page
    # No inline script, handler or style under the CSP.
    assert "<script>" not in page and " onclick=" not in page and " style=" not in page


def test_cards_returns_the_next_ones_leaving_out_held_ids(admin_client, db):
    first = store(db, "What is a pandemic?", confidence=0.2)
    second = store(db, "Who wrote Hamlet?", confidence=0.9)
    answer = admin_client.get("/admin/inbox/cards?n=3", headers=JSON).get_json()
    assert [c["query_id"] for c in answer["cards"]] == [first.id, second.id]
    assert answer["total"] == 2
    assert "What is a pandemic?" in answer["cards"][0]["html"]
    later = admin_client.get(f"/admin/inbox/cards?n=3&exclude={first.id}", headers=JSON)
    assert [c["query_id"] for c in later.get_json()["cards"]] == [second.id]
    named = admin_client.get(f"/admin/inbox/cards?ids={second.id}", headers=JSON).get_json()
    assert [c["query_id"] for c in named["cards"]] == [second.id]


def test_card_fragments_escape_the_question(admin_client, db):
    store(db, "<img src=x onerror=alert(1)> is what?")
    html = admin_client.get("/admin/inbox/cards?n=1", headers=JSON).get_json()["cards"][0]["html"]
    assert "<img" not in html and "&lt;img src=x" in html


@pytest.mark.parametrize(
    "query", ["n=0", "n=11", "n=x", "exclude=1,a", "exclude=" + ",".join(["1"] * 501), "ids=-1"]
)
def test_cards_refuses_bad_arguments_with_json(admin_client, db, query):
    response = admin_client.get(f"/admin/inbox/cards?{query}", headers=JSON)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_cards_names_an_unknown_query_404(admin_client, db):
    response = admin_client.get("/admin/inbox/cards?ids=999", headers=JSON)
    assert response.status_code == 404 and response.get_json()["error"]["message"]


def test_decide_answers_json_and_stores_the_decision_with_its_audit(admin_client, db):
    query = store(db, "Which is bigger, a lion or a tiger?")
    token = token_of(admin_client)
    response = post_json(
        admin_client,
        "/admin/inbox/decide",
        {"query_ids": query.id, "other_fine": "ENTY:animal"},
        token,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["message"] == "Labelled 1 question(s) ENTY:animal."
    assert response.get_json()["can_undo"] is True
    [correction] = db.session.scalars(select(Correction)).all()
    assert (correction.fine, correction.status) == ("ENTY:animal", "approved")
    assert len(audit(db, "inbox_decided")) == 1


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({"fine": "ENTY:nothing"}, 400, "invalid_label"),
        ({"fine": ""}, 400, "missing_field"),
        ({"query_ids": 987654, "fine": "HUM:ind"}, 404, "not_found"),
        ({"query_ids": "abc", "fine": "HUM:ind"}, 400, "missing_field"),
        ({"fine": "HUM:ind", "state": "stale"}, 409, "changed"),
    ],
)
def test_decide_refuses_bad_input_with_json(admin_client, db, data, status, code):
    query = store(db, "Who painted The Night Watch?")
    data = {"query_ids": query.id, **data}
    response = post_json(admin_client, "/admin/inbox/decide", data, token_of(admin_client))
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == code
    assert db.session.scalars(select(Correction)).all() == []


def test_every_json_post_requires_the_csrf_token(admin_client, db):
    query = store(db, "Who painted The Night Watch?")
    for path in ("decide", "reject", "discard", "undo"):
        response = post_json(
            admin_client, f"/admin/inbox/{path}", {"query_ids": query.id, "fine": "HUM:ind"}
        )
        assert response.status_code == 400, path
        assert "CSRF" in response.get_json()["error"]["message"], path
    assert db.session.scalars(select(Correction)).all() == []


def test_reject_says_what_it_rejected(admin_client, db):
    lion = store(db, "Which is bigger, a lion or a tiger?", "ENTY:animal")
    propose(db, lion, "ENTY:animal", "client-a")
    token = token_of(admin_client)
    said = post_json(admin_client, "/admin/inbox/reject", {"query_ids": lion.id}, token)
    assert said.get_json()["message"] == "Rejected the visitors' ENTY:animal."
    painter = store(db, "Who painted The Night Watch?", "HUM:ind")
    said = post_json(admin_client, "/admin/inbox/reject", {"query_ids": painter.id}, token)
    assert said.get_json()["message"] == "Rejected the model's HUM:ind."


def test_undo_answers_the_item_and_the_plain_form_stays_in_the_queue(admin_client, db):
    query = store(db, "Who painted The Night Watch?")
    token = token_of(admin_client)
    post_json(
        admin_client, "/admin/inbox/decide", {"query_ids": query.id, "fine": "HUM:ind"}, token
    )
    undone = post_json(admin_client, "/admin/inbox/undo", {}, token)
    assert undone.get_json()["query_id"] == query.id
    assert undone.get_json()["can_undo"] is False
    nothing = post_json(admin_client, "/admin/inbox/undo", {}, token)
    assert nothing.status_code == 409 and nothing.get_json()["error"]["code"] == "nothing_to_undo"
    # Without the script: the undone item is the current card of the queue, with Skip.
    post_json(
        admin_client, "/admin/inbox/decide", {"query_ids": query.id, "fine": "HUM:ind"}, token
    )
    plain = admin_client.post("/admin/inbox/undo?tag=zoo", data={"csrf_token": token})
    assert plain.headers["Location"] == f"/admin/inbox/card?item={query.id}&tag=zoo"
    page = admin_client.get(plain.headers["Location"]).get_data(as_text=True)
    assert "Who painted The Night Watch?" in page and 'id="skip-link"' in page


def test_override_is_one_message_in_words_without_ids(admin_client, db, training_label):
    query = store(db, CHEETAH, "NUM:speed", confidence=1.0)
    propose(db, query, "ENTY:animal", "low-trust")
    for index in range(3):  # the client's earlier proposals were rejected
        other = store(db, f"Earlier question {index}?")
        propose(db, other, "HUM:ind", "low-trust").status = "rejected"
    db.session.commit()
    page = admin_client.get(f"/admin/inbox/card?item={query.id}").get_data(as_text=True)
    # The best-supported answer is preselected, each source's weight said in words.
    assert re.search(r'value="NUM:speed" id="choice-\d" data-key="\d" checked', page)
    assert "little trusted" in page and "very sure (100%)" in page
    assert page.count('class="alert alert-warning') == 1  # the override note, hidden here
    token = token_of(admin_client)
    refused = post_json(
        admin_client, "/admin/inbox/decide", {"query_ids": query.id, "fine": "ENTY:animal"}, token
    )
    assert refused.status_code == 409
    message = refused.get_json()["error"]["message"]
    assert message.startswith("The training data (dataset base) labels this question NUM:speed")
    assert not re.search(r"\d", message.replace("NUM:speed", ""))  # no internal ids
    confirmed = post_json(
        admin_client,
        "/admin/inbox/decide",
        {"query_ids": query.id, "fine": "ENTY:animal", "confirm_override": "1"},
        token,
    )
    assert confirmed.status_code == 200


def test_a_reviewer_decides_by_json_and_a_visitor_cannot(app, client, db):
    create_admin(REVIEWER, PASSWORD, role="reviewer")
    reviewer = app.test_client()
    login_token = csrf_token_from(reviewer.get("/login").get_data(as_text=True))
    reviewer.post(
        "/login", data={"username": REVIEWER, "password": PASSWORD, "csrf_token": login_token}
    )
    query = store(db, "Who painted The Night Watch?")
    token = token_of(reviewer)
    response = post_json(reviewer, "/admin/inbox/discard", {"query_ids": query.id}, token)
    assert response.status_code == 200 and response.get_json()["message"].startswith("Discarded")
    anonymous = post_json(client, "/admin/inbox/decide", {"query_ids": query.id, "fine": "HUM:ind"})
    assert anonymous.status_code in (302, 400, 401, 403)
    assert client.get("/admin/inbox/cards?n=1", headers=JSON).status_code in (302, 401, 403)
    assert len(audit(db, "inbox_discarded")) == 1
