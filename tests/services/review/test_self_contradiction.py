"""One visitor cannot contradict themselves; the query page says what the model answers now."""

from __future__ import annotations

from sqlalchemy import select

from qcapp.models import AuditEvent, Correction

from helpers import correction_id, csrf_token_from


def classify(client, question="What is the capital of Peru?") -> dict:
    return client.post("/api/v1/classify", json={"question": question}).get_json()


def test_later_submission_replaces_the_earlier_one(client, db, model_version):
    query = classify(client)
    url = f"/api/v1/queries/{query['id']}/corrections"
    first = client.post(url, json={"coarse": "LOC", "fine": "LOC:country"}).get_json()
    second = client.post(
        url, json={"coarse": query["coarse"]["label"], "fine": query["fine"]["label"]}
    ).get_json()
    assert second["id"] == first["id"] and second["kind"] == "confirmation"
    [stored] = db.session.scalars(select(Correction)).all()
    assert stored.fine == query["fine"]["label"] and stored.status == "pending"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "correction_replaced"))
    assert event.details["before"]["fine"] == "LOC:country"
    assert event.details["after"]["kind"] == "confirmation"
    # Another client's verdict stands beside it.
    other = client.post(
        url, json={"coarse": "LOC", "fine": "LOC:other"}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert other.status_code == 201
    assert len(db.session.scalars(select(Correction)).all()) == 2


def test_web_confirm_after_correct_replaces_too(client, db, model_version):
    query = classify(client)
    page = client.get(f"/q/{query['id']}").get_data(as_text=True)
    token = csrf_token_from(page)
    client.post(
        f"/q/{query['id']}/correct",
        data={"csrf_token": token, "coarse": "LOC", "fine": "LOC:other"},
    )
    client.post(f"/q/{query['id']}/confirm", data={"csrf_token": token})
    [stored] = db.session.scalars(select(Correction)).all()
    assert stored.kind == "confirmation"


def test_after_review_buttons_go_and_the_headline_shows_the_current_answer(
    client, admin_client, db, model_version
):
    from qcapp.services.review.feedback import review_corrections

    query = classify(client)
    html = client.get(f"/q/{query['id']}").get_data(as_text=True)
    assert 'id="confirm-button"' in html and 'id="current-answer"' in html
    assert f'<code id="current-fine">{query["fine"]["label"]}</code>' in html
    url = f"/api/v1/queries/{query['id']}/corrections"
    correction = client.post(url, json={"coarse": "LOC", "fine": "LOC:other"}).get_json()
    correction["id"] = correction_id(correction["id"])
    review_corrections([correction["id"]], "rejected", actor=None)
    html = client.get(f"/q/{query['id']}").get_data(as_text=True)
    assert 'id="confirm-button"' not in html and 'id="correction-form"' not in html
    assert 'id="reviewed-note"' in html
    again = client.post(url, json={"coarse": "LOC", "fine": "LOC:city"})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_reviewed"
    assert db.session.get(Correction, correction["id"]).fine == "LOC:other"
