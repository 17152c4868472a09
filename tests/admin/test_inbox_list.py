"""The inbox list over HTTP: filters in the URL, the out-of-scope badge, a client's page with
"reject all" and its undo, bulk decisions behind a confirmation, the consensus button, rights."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from qcapp.models import AuditEvent, Correction, ModelVersion, version_corrections
from qcapp.services.accounts.accounts import create_admin

from helpers import active_dataset_labelling, csrf_token_from

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "services" / "review"))
from test_inbox import propose, store  # noqa: E402

CLIENT = "f00dfeed" + "0" * 56
REVIEWER, PASSWORD = "rita", "reviewer password"


def log_in(app, username, password):
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    return client


@pytest.fixture
def reviewer_client(app, db):
    create_admin(REVIEWER, PASSWORD, role="reviewer")
    return log_in(app, REVIEWER, PASSWORD)


def token_of(client, path="/admin/inbox/"):
    return csrf_token_from(client.get(path).get_data(as_text=True))


def statuses(db, ids):
    db.session.expire_all()
    return [db.session.get(Correction, i).status for i in ids]


def food_flood(db, count=5):
    """One client's corrections of many questions, all ENTY:food."""
    ids = []
    for n in range(count):
        query = store(db, f"What is the tallest tower number {n}?", fine="LOC:other")
        ids.append(propose(db, query, "ENTY:food", CLIENT).id)
    return ids


def test_filters_travel_in_the_url_and_bad_values_get_a_message(admin_client, db):
    store(db, "What is the capital of Peru?", fine="LOC:city", margin=0.2)
    store(db, "Who wrote Hamlet?", fine="HUM:ind", margin=0.1)
    html = admin_client.get("/admin/inbox/?text=PERU&label=LOC").get_data(as_text=True)
    assert "What is the capital of Peru?" in html and "Who wrote Hamlet?" not in html
    assert re.search(r'id="filter-count"[^>]*><strong>1</strong> question\(s\) match', html)
    assert 'id="filter-text" name="text" value="PERU"' in html
    assert 'id="clear-filters"' in html
    for field in (
        "filter-text",
        "filter-label",
        "filter-proposed",
        "filter-client",
        "filter-reason",
        "filter-scope",
        "filter-min",
        "filter-max",
        "filter-state",
        "filter-proposals",
    ):
        assert f'for="{field}"' in html, field
    assert "admin-inbox.css" in html and "admin-inbox-list.js" in html
    for bad in (
        "label=NOPE",
        "min_confidence=x",
        "scope=up",
        "client=zz",
        "reason=mood",
        "min_confidence=0.9&max_confidence=0.2",
        "page=x",
    ):
        response = admin_client.get(f"/admin/inbox/?{bad}")
        assert response.status_code == 400, bad
        if bad != "page=x":
            assert 'id="filter-error"' in response.get_data(as_text=True), bad
    empty = admin_client.get("/admin/inbox/?text=zebra").get_data(as_text=True)
    assert "Nothing matches these filters." in empty


def test_out_of_scope_badge_and_keys_line(admin_client, db):
    junk = store(db, "asdfgh", margin=0.0)
    junk.in_scope, junk.scope_reason = False, "gibberish"
    db.session.commit()
    store(db, "Who wrote Hamlet?", margin=0.8)
    html = admin_client.get("/admin/inbox/").get_data(as_text=True)
    assert html.index("Who wrote Hamlet?") < html.index("asdfgh")
    assert "not a question: Its letters do not form words." in html
    assert 'id="inbox-keys"' in html and "<kbd>d</kbd> not a question" in html
    out = admin_client.get("/admin/inbox/?scope=out").get_data(as_text=True)
    assert "asdfgh" in out and "Who wrote Hamlet?" not in out


def test_client_page_reject_all_and_undo(admin_client, db):
    ids = food_flood(db)
    other = propose(db, store(db, "Who wrote Hamlet?"), "HUM:gr", "beef" + "0" * 60)
    listing = admin_client.get("/admin/inbox/").get_data(as_text=True)
    assert f"/admin/inbox/client/{CLIENT}" in listing and "client f00dfeed00" in listing
    assert admin_client.get("/admin/inbox/client/f00d").location.endswith(CLIENT)
    assert admin_client.get("/admin/inbox/client/zz").status_code == 400
    assert admin_client.get("/admin/inbox/client/abcdef").status_code == 404
    page = admin_client.get(f"/admin/inbox/client/{CLIENT}").get_data(as_text=True)
    assert 'trust <strong id="client-trust">0.50</strong>' in page and "5 pending" in page
    token = csrf_token_from(page)
    confirm = admin_client.post(f"/admin/inbox/client/{CLIENT}/reject", data={"csrf_token": token})
    assert confirm.status_code == 200 and "<strong>5</strong> pending proposal(s)" in confirm.text
    assert statuses(db, ids) == ["pending"] * 5  # nothing changed before the confirmation
    # A proposal sent after the confirmation page is not swept in.
    late = propose(db, store(db, "What is the tallest tower number 99?"), "ENTY:food", CLIENT)
    confirmed = re.findall(r'name="ids" value="(\d+)"', confirm.text)
    response = admin_client.post(
        f"/admin/inbox/client/{CLIENT}/reject",
        data={"csrf_token": token, "confirmed": "1", "ids": confirmed},
        follow_redirects=True,
    )
    assert "Rejected 5 proposal(s)" in response.text
    assert statuses(db, ids) == ["rejected"] * 5
    assert statuses(db, [late.id, other.id]) == ["pending", "pending"]
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "client_rejected"))
    assert event.details["rejected"] == ids and event.target_id == CLIENT
    per_item = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "correction_rejected")
    ).all()
    assert len(per_item) == 5
    page = admin_client.get(f"/admin/inbox/client/{CLIENT}").get_data(as_text=True)
    assert f'id="undo-rejection-{event.id}"' in page
    undone = admin_client.post(
        f"/admin/inbox/client/undo/{event.id}",
        data={"csrf_token": token, "client": CLIENT},
        follow_redirects=True,
    )
    assert "Undone: 5 proposal(s)" in undone.text
    assert statuses(db, ids) == ["pending"] * 5
    [undo] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "client_rejection_undone")
    )
    assert undo.details == {"event_id": event.id, "client": CLIENT, "restored": ids}
    again = admin_client.post(
        f"/admin/inbox/client/undo/{event.id}", data={"csrf_token": token}, follow_redirects=True
    )
    assert "undone already" in again.text and statuses(db, ids) == ["pending"] * 5
    assert (
        admin_client.post("/admin/inbox/client/undo/999999", data={"csrf_token": token}).status_code
        == 404
    )


def test_undo_of_a_client_rejection_is_refused_once_trained(admin_client, db):
    ids = food_flood(db, 2)
    from qcapp.services.review.client_actions import reject_client_pending

    event = reject_client_pending(CLIENT, ids, actor="admin")
    version = ModelVersion(version="v1", artifact_path="/none", artifact_sha256="0" * 64)
    db.session.add(version)
    db.session.flush()
    db.session.execute(
        version_corrections.insert().values(model_version_id=version.id, correction_id=ids[0])
    )
    db.session.commit()
    response = admin_client.post(
        f"/admin/inbox/client/undo/{event.id}",
        data={"csrf_token": token_of(admin_client)},
        follow_redirects=True,
    )
    assert "already trained a model version" in response.text
    assert statuses(db, ids) == ["rejected", "rejected"]


def test_bulk_decision_confirms_count_and_ids(admin_client, db):
    peru = store(db, "What is the capital of Peru?", fine="LOC:other", margin=0.2)
    chad = store(db, "What is the capital of Chad?", fine="LOC:other", margin=0.3)
    store(db, "Who wrote Hamlet?", fine="HUM:ind", margin=0.1)
    listing = admin_client.get("/admin/inbox/?text=capital").get_data(as_text=True)
    assert 'id="bulk-form"' in listing and "With all 2 matching" in listing
    assert 'id="bulk-form"' not in admin_client.get("/admin/inbox/").get_data(as_text=True)
    token = csrf_token_from(listing)
    form = {"csrf_token": token, "text": "capital", "action": "label", "to_label": "LOC:city"}
    confirm = admin_client.post("/admin/inbox/bulk", data=form)
    assert confirm.status_code == 200, confirm.text
    assert "<strong>2</strong> item(s) match: question contains “capital”" in confirm.text
    assert db.session.scalar(select(Correction.id)) is None  # nothing changed yet
    items = re.findall(r'name="items" value="([\d,]+)"', confirm.text)
    assert sorted(items) == sorted([str(peru.id), str(chad.id)])
    # A question arriving after the confirmation stays out of it.
    late = store(db, "What is the capital of Mali?", fine="LOC:other", margin=0.1)
    response = admin_client.post(
        "/admin/inbox/bulk", data={**form, "confirmed": "1", "items": items}, follow_redirects=True
    )
    assert "2 labelled LOC:city." in response.text
    labelled = db.session.scalars(select(Correction.query_id).where(Correction.fine == "LOC:city"))
    assert sorted(labelled) == sorted([peru.id, chad.id]) and late.id not in labelled
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "inbox_bulk"))
    assert event.details["done"] == 2 and event.details["filter"] == {"text": "capital"}
    decided = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "inbox_decided"))
    assert len(decided.all()) == 2
    bad = admin_client.post(
        "/admin/inbox/bulk", data={**form, "to_label": "NOPE"}, follow_redirects=True
    )
    assert bad.status_code == 200 and "Choose the fine label" in bad.text
    assert (
        admin_client.post(
            "/admin/inbox/bulk", data={**form, "min_confidence": "x"}, follow_redirects=True
        ).status_code
        == 200
    )


def test_bulk_leaves_and_counts_what_the_merge_guard_refuses(admin_client, db):
    question = "Who invented the telephone?"
    active_dataset_labelling(db, question, "HUM:ind")
    phone = store(db, question, fine="HUM:ind", margin=0.2)
    radio = store(db, "Who invented the radio?", fine="HUM:ind", margin=0.3)
    token = token_of(admin_client)
    response = admin_client.post(
        "/admin/inbox/bulk",
        data={
            "csrf_token": token,
            "text": "invented",
            "action": "label",
            "to_label": "HUM:gr",
            "confirmed": "1",
            "items": [str(phone.id), str(radio.id)],
        },
        follow_redirects=True,
    )
    assert "1 labelled HUM:gr, 1 left: they contradict the training data." in response.text
    discard = admin_client.post(
        "/admin/inbox/bulk",
        data={
            "csrf_token": token,
            "text": "invented",
            "action": "discard",
            "confirmed": "1",
            "items": [str(phone.id)],
        },
        follow_redirects=True,
    )
    assert "0 discarded, 1 left: they are questions of the training dataset." in discard.text


def test_bulk_reject_and_discard(admin_client, db):
    junk = [store(db, text, margin=0.01) for text in ("asdfgh", "test test")]
    proposal = propose(db, junk[0], "HUM:ind", CLIENT)
    token = token_of(admin_client)
    base = {"csrf_token": token, "text": "t", "confirmed": "1"}
    response = admin_client.post(
        "/admin/inbox/bulk",
        data={**base, "action": "reject", "items": [str(junk[0].id)]},
        follow_redirects=True,
    )
    assert "1 rejected." in response.text and statuses(db, [proposal.id]) == ["rejected"]
    response = admin_client.post(
        "/admin/inbox/bulk",
        data={**base, "action": "discard", "items": [str(q.id) for q in junk]},
        follow_redirects=True,
    )
    # The rejected one is decided already: left as reviewed meanwhile; the other is discarded.
    assert "1 discarded, 1 left: they were reviewed meanwhile." in response.text


def test_consensus_button_counts_and_asks_first(admin_client, db, app):
    app.config["CONSENSUS_MIN"] = 2
    html = admin_client.get("/admin/inbox/").get_data(as_text=True)
    assert re.search(r'id="approve-consensus"\s+disabled', html) and "(0)" in html
    query = store(db, "Where is Chile?", fine="LOC:city")
    ids = [propose(db, query, "LOC:country", client).id for client in ("a1", "a2")]
    flagged = store(db, "Where is Peru?", fine="LOC:city")
    for client in ("b1", "b2"):
        c = propose(db, flagged, "LOC:country", client)
        c.flags = {"bulk_client": {"count": 30}}
    db.session.commit()
    html = admin_client.get("/admin/inbox/").get_data(as_text=True)
    assert "Approve every consensus item (1)" in html and "1 flagged one(s) left" in html
    assert not re.search(r'id="approve-consensus"\s+disabled', html)
    confirm = admin_client.get("/admin/inbox/consensus")
    assert "<strong>1</strong> consensus item(s) will be approved" in confirm.text
    assert statuses(db, ids) == ["pending", "pending"]
    unconfirmed = admin_client.post(
        "/admin/inbox/consensus", data={"csrf_token": token_of(admin_client)}
    )
    assert unconfirmed.status_code == 200 and statuses(db, ids) == ["pending", "pending"]
    done = admin_client.post(
        "/admin/inbox/consensus",
        data={"csrf_token": token_of(admin_client), "confirmed": "1"},
        follow_redirects=True,
    )
    assert "Approved 1 consensus item(s); 1 left" in done.text
    assert statuses(db, ids) == ["approved", "approved"]


def test_reviewers_use_filters_client_pages_and_bulk_actions(reviewer_client, client, db):
    ids = food_flood(db, 2)
    assert reviewer_client.get("/admin/inbox/?proposed=ENTY:food").status_code == 200
    page = reviewer_client.get(f"/admin/inbox/client/{CLIENT}")
    assert page.status_code == 200
    response = reviewer_client.post(
        f"/admin/inbox/client/{CLIENT}/reject",
        data={"csrf_token": csrf_token_from(page.text), "confirmed": "1", "ids": ids},
    )
    assert response.status_code == 302 and statuses(db, ids) == ["rejected", "rejected"]
    # Logged out: the login page, and nothing changes.
    assert client.get(f"/admin/inbox/client/{CLIENT}").status_code == 302
    assert client.post("/admin/inbox/bulk", data={"action": "reject"}).status_code in (302, 400)
    missing_token = reviewer_client.post(
        "/admin/inbox/bulk",
        data={"action": "reject", "confirmed": "1", "items": [str(ids[0])]},
    )
    assert missing_token.status_code == 400 and statuses(db, ids) == ["rejected", "rejected"]
