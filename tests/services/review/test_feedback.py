"""Corrections from the API, the result page and the command line; the admin review queue."""

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from qcapp.extensions import db as _db
from qcapp.models import AuditEvent, Correction

from helpers import csrf_token_from


def classify(client, question="What is the capital of Peru?") -> dict:
    return client.post("/api/v1/classify", json={"question": question}).get_json()


def count_corrections(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Correction))


def test_api_correction_is_pending(client, db, model_version):
    query = classify(client)
    response = client.post(
        f"/api/v1/queries/{query['id']}/corrections", json={"coarse": "LOC", "fine": "LOC:country"}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "pending" and body["fine"] == "LOC:country" and body["id"]
    stored = client.get(f"/api/v1/queries/{query['id']}").get_json()
    assert stored["corrections"][0]["id"] == body["id"]


def test_api_confirmation_is_stored_as_labelled_data(client, db, model_version):
    query = classify(client)
    body = client.post(
        f"/api/v1/queries/{query['id']}/corrections",
        json={"coarse": query["coarse"]["label"], "fine": query["fine"]["label"]},
    ).get_json()
    assert body["kind"] == "confirmation"


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"coarse": "LOC"}, "missing_field"),
        ({"fine": "LOC:city"}, "missing_field"),
        ({"coarse": "PLACE", "fine": "LOC:city"}, "invalid_label"),
        ({"coarse": "LOC", "fine": "LOC:moon"}, "invalid_label"),
        ({"coarse": "HUM", "fine": "LOC:city"}, "inconsistent_labels"),
        ({"coarse": 1, "fine": "LOC:city"}, "missing_field"),
        ({"coarse": "LOC", "fine": "LOC:city", "extra": True}, "unknown_field"),
        ({"coarse": "LOC", "fine": "LOC:city", "note": 5}, "invalid_type"),
    ],
)
def test_api_bad_correction(client, db, model_version, payload, code):
    query = classify(client)
    response = client.post(f"/api/v1/queries/{query['id']}/corrections", json=payload)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code
    assert count_corrections(db) == 0


def test_api_correction_unknown_query(client, db):
    response = client.post(
        "/api/v1/queries/999/corrections", json={"coarse": "LOC", "fine": "LOC:city"}
    )
    assert response.status_code == 404
    assert count_corrections(db) == 0


def test_result_page_correction_form(app, db, model_version):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    query = classify(client)
    page = client.get(f"/q/{query['id']}").get_data(as_text=True)
    assert 'id="correction-form"' in page and 'name="coarse"' in page and 'name="fine"' in page
    assert "feedback.js" in page
    token = csrf_token_from(page)
    response = client.post(
        f"/q/{query['id']}/correct",
        data={"coarse": "LOC", "fine": "LOC:country", "csrf_token": token},
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "waiting for review" in page and "LOC:country" in page and "pending" in page
    bad = client.post(
        f"/q/{query['id']}/correct",
        data={"coarse": "NUM", "fine": "LOC:country", "csrf_token": token},
    )
    # Refused with the page itself: the reason, the panel open, the visitor's choice kept.
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert 'id="feedback-error"' in html and "is not a fine class of NUM" in html
    assert '<details class="correct-panel" id="correct-panel" open>' in html
    assert '<option value="NUM" selected>' in html
    assert (
        client.post(
            f"/q/{query['id']}/correct", data={"coarse": "LOC", "fine": "LOC:city"}
        ).status_code
        == 400
    )
    confirm = client.post(f"/q/{query['id']}/confirm", data={"csrf_token": token})
    assert confirm.status_code == 303
    # The same visitor's confirmation replaces its correction: it cannot say both.
    kinds = db.session.scalars(select(Correction.kind).order_by(Correction.id)).all()
    assert kinds == ["confirmation"]


def propose(client, question, fine) -> int:
    """The internal id of a visitor's new correction (the API answers with its token)."""
    query = classify(client, question)
    coarse = fine.split(":")[0]
    token = client.post(
        f"/api/v1/queries/{query['id']}/corrections", json={"coarse": coarse, "fine": fine}
    ).get_json()["id"]
    return _db.session.scalar(select(Correction.id).where(Correction.token == token))


def test_cli_review(client, runner, db, model_version):
    first = propose(client, "Which town is the Louvre in?", "LOC:city")
    second = propose(client, "What is a kayak?", "ENTY:veh")
    third = propose(client, "Who is Ada Lovelace?", "HUM:desc")
    listing = runner.invoke(args=["qc", "corrections", "list"])
    assert listing.exit_code == 0 and "3 pending" in listing.output
    assert runner.invoke(args=["qc", "corrections", "approve", str(first)]).exit_code == 0
    rejected = runner.invoke(args=["qc", "corrections", "reject", str(second), "--note", "vague"])
    assert rejected.exit_code == 0
    missing = runner.invoke(args=["qc", "corrections", "approve", "9999"])
    assert missing.exit_code == 1 and "No correction with id 9999" in missing.output
    assert runner.invoke(args=["qc", "corrections", "approve", "--all"]).exit_code == 0
    statuses = dict(db.session.execute(select(Correction.id, Correction.status)).all())
    assert statuses == {first: "approved", second: "rejected", third: "approved"}
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.target_type == "correction")
    ).all()
    assert sorted(actions) == ["correction_approved", "correction_approved", "correction_rejected"]


def test_admin_review_queue(admin_client, client, db, model_version):
    a = propose(client, "Which town is the Louvre in?", "LOC:city")
    b = propose(client, "which town is the louvre in", "LOC:country")  # same question, other label
    c = propose(client, "What is a kayak?", "ENTY:veh")
    page = admin_client.get("/admin/review/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "3 pending" in html and "Conflicting proposals" in html
    # Lowest model confidence first.
    rows = [int(x) for x in __import__("re").findall(r'data-correction-id="(\d+)"', html)]
    confidences = {
        cid: db.session.get(Correction, cid).query.prediction.fine_confidence for cid in rows
    }
    assert [confidences[r] for r in rows] == sorted(confidences.values())
    token = csrf_token_from(html)
    response = admin_client.post(
        "/admin/review/review", data={"csrf_token": token, "action": "approve", "ids": [a, c]}
    )
    assert response.status_code == 302
    assert db.session.get(Correction, a).status == "approved"
    assert db.session.get(Correction, a).reviewed_by.username == "admin"
    admin_client.post(
        f"/admin/review/{b}/edit", data={"csrf_token": token, "fine": "LOC:city", "approve": "1"}
    )
    db.session.expire_all()
    edited = db.session.get(Correction, b)
    assert (edited.fine, edited.status) == ("LOC:city", "approved")
    # Without a CSRF token nothing changes.
    d = propose(client, "Who is Ada Lovelace?", "HUM:desc")
    admin_client.post("/admin/review/review", data={"action": "reject", "ids": [d]})
    db.session.expire_all()
    assert db.session.get(Correction, d).status == "pending"


def test_markup_in_review_queue_is_escaped(admin_client, client, model_version):
    propose(client, "<script>alert(1)</script> where?", "LOC:other")
    html = admin_client.get("/admin/review/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_review_queue_rows_default_to_the_proposal_and_decide_one_by_one(
    admin_client, client, db, model_version
):
    a = propose(client, "What is a kayak?", "ENTY:veh")
    b = propose(client, "Who is Ada Lovelace?", "HUM:desc")
    c = propose(client, "Where is the Louvre?", "LOC:other")
    html = admin_client.get("/admin/review/").get_data(as_text=True)
    # Each row's menu starts at the visitor's proposal, not at the first label of the taxonomy.
    for cid, fine in ((a, "ENTY:veh"), (b, "HUM:desc"), (c, "LOC:other")):
        menu = html.split(f'id="fine-{cid}"')[1].split("</select>")[0]
        assert f'<option value="{fine}" selected>' in menu
        assert menu.count(" selected") == 1
    token = csrf_token_from(html)
    approve = admin_client.post(
        "/admin/review/review",
        data={"csrf_token": token, "row": f"approve:{a}", f"fine_{a}": "ENTY:veh"},
    )
    assert approve.status_code == 302
    admin_client.post("/admin/review/review", data={"csrf_token": token, "row": f"reject:{b}"})
    admin_client.post(
        "/admin/review/review",
        data={"csrf_token": token, "row": f"approve:{c}", f"fine_{c}": "LOC:city"},
    )
    db.session.expire_all()
    assert (db.session.get(Correction, a).status, db.session.get(Correction, a).fine) == (
        "approved",
        "ENTY:veh",
    )
    assert db.session.get(Correction, b).status == "rejected"
    assert (db.session.get(Correction, c).status, db.session.get(Correction, c).fine) == (
        "approved",
        "LOC:city",
    )
    bad = admin_client.post(
        "/admin/review/review",
        data={"csrf_token": token, "row": "approve:nope"},
        follow_redirects=True,
    )
    assert bad.status_code == 200 and "Choose a correction" in bad.get_data(as_text=True)


def select_menu(html: str, name: str) -> str:
    """The options of the correction form's select ``name``."""
    return html.split(f'<select id="{name}" name="{name}"')[1].split("</select>")[0]


def test_wrong_form_starts_with_nothing_chosen_and_without_the_models_label(
    client, db, model_version
):
    query = classify(client)
    predicted = query["fine"]["label"]
    html = unescape(client.get(f"/q/{query['id']}").get_data(as_text=True))
    assert "No, it is wrong" in html
    assert '<details class="correct-panel" id="correct-panel">' in html  # closed
    for name in ("coarse", "fine"):
        menu = select_menu(html, name)
        assert " selected" not in menu, name  # the first option, "Choose…", is what shows
        assert '<option value="">Choose…</option>' in menu
    # The model's own fine class is there, named as such, but cannot be chosen.
    fine_menu = select_menu(html, "fine")
    own = fine_menu.split(f'<option value="{predicted}"')[1].split("</option>")[0]
    assert " disabled" in own and "(the model's answer)" in own
    assert fine_menu.count(" disabled") == 1
    assert f"the model's answer, <code>{predicted}</code>, cannot be chosen here" in html


def test_wrong_with_the_models_own_label_is_refused_and_changes_nothing(
    app, db, model_version
):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    query = classify(client)
    coarse, fine = query["coarse"]["label"], query["fine"]["label"]
    token = csrf_token_from(client.get(f"/q/{query['id']}").get_data(as_text=True))
    confirmed = client.post(f"/q/{query['id']}/confirm", data={"csrf_token": token})
    assert confirmed.status_code == 303
    follow = unescape(client.get(confirmed.headers["Location"]).get_data(as_text=True))
    assert "Thank you for confirming the label." in follow and "Confirmed" in follow

    # "No, it is wrong" sent with the model's label anyway (a forged or stale form).
    refused = client.post(
        f"/q/{query['id']}/correct", data={"coarse": coarse, "fine": fine, "csrf_token": token}
    )
    assert refused.status_code == 400
    html = unescape(refused.get_data(as_text=True))
    assert f"{fine} is the model's own answer" in html and 'role="alert"' in html
    assert "your correction is waiting" not in html and "flash-success" not in html
    [stored] = db.session.scalars(select(Correction)).all()  # the confirmation, unchanged
    assert (stored.kind, stored.fine, stored.status) == ("confirmation", fine, "pending")
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "correction_replaced")
    ).all()

    # Another label is a correction, said so in the thanks and in the history.
    other = "LOC:other" if fine != "LOC:other" else "LOC:city"
    sent = client.post(
        f"/q/{query['id']}/correct", data={"coarse": "LOC", "fine": other, "csrf_token": token}
    )
    assert sent.status_code == 303 and sent.headers["Location"].endswith("#feedback")
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "your correction is waiting for review" in page
    assert re.search(rf"Corrected to\s+<code>{other}</code>", page) and "Confirmed" not in page


@pytest.mark.parametrize(
    "kind, same_label, status, code",
    [
        ("correction", True, 400, "same_as_prediction"),
        ("correction", False, 201, None),
        ("confirmation", True, 201, None),
        ("confirmation", False, 400, "not_the_prediction"),
        ("maybe", False, 400, "invalid_kind"),
        (["correction"], False, 400, "invalid_kind"),
    ],
)
def test_api_kind_says_what_the_client_means(
    client, db, model_version, kind, same_label, status, code
):
    query = classify(client)
    predicted = (query["coarse"]["label"], query["fine"]["label"])
    coarse, fine = predicted if same_label else ("LOC", "LOC:other")
    assert (coarse, fine) != predicted or same_label
    response = client.post(
        f"/api/v1/queries/{query['id']}/corrections",
        json={"coarse": coarse, "fine": fine, "kind": kind},
    )
    assert response.status_code == status, response.get_json()
    if code:
        error = response.get_json()["error"]
        assert error["code"] == code and error["message"]
        assert count_corrections(db) == 0
    else:
        assert response.get_json()["kind"] == kind


def test_api_wrong_with_the_predicted_label_explains_itself(client, db, model_version):
    query = classify(client)
    response = client.post(
        f"/api/v1/queries/{query['id']}/corrections",
        json={"coarse": query["coarse"]["label"], "fine": query["fine"]["label"],
              "kind": "correction"},
    )
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert message.startswith(f"{query['fine']['label']} is the model's own answer.")
    assert "answer that the label is right" in message
