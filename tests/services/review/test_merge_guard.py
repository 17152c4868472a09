"""The merge guard: contradictions of the base dataset and corrections sent in bulk."""

import pytest
from sqlalchemy import select

from qcapp.models import AuditEvent, Correction

from helpers import active_dataset_labelling, correction_id, csrf_token_from

BASE_QUESTION = "Who invented the telephone?"


@pytest.fixture
def base(db):
    """An active base dataset that labels one question HUM:ind."""
    return active_dataset_labelling(db, BASE_QUESTION, "HUM:ind")


def classify(client, question, address="127.0.0.1") -> dict:
    return client.post(
        "/api/v1/classify", json={"question": question}, environ_base={"REMOTE_ADDR": address}
    ).get_json()


def correct(client, query_id, fine, address="127.0.0.1") -> dict:
    response = client.post(
        f"/api/v1/queries/{query_id}/corrections",
        json={"coarse": fine.split(":")[0], "fine": fine},
        environ_base={"REMOTE_ADDR": address},
    )
    assert response.status_code == 201, response.get_json()
    # The API names the correction by its token; these tests work with the internal id.
    return {**response.get_json(), "id": correction_id(response.get_json()["id"])}


def stored(db, correction_id) -> Correction:
    db.session.expire_all()
    return db.session.get(Correction, correction_id)


def test_contradiction_is_flagged_on_proposal_and_edit(client, db, model_version, base):
    query = classify(client, "who invented the telephone")
    contradicting = correct(client, query["id"], "HUM:gr")
    flags = stored(db, contradicting["id"]).flags
    assert flags["contradicts_base"]["fine"] == "HUM:ind"
    assert flags["contradicts_base"]["dataset"] == "base"
    agreeing = correct(client, query["id"], "HUM:ind")
    assert stored(db, agreeing["id"]).flags == {}
    elsewhere = correct(client, classify(client, "Where is Lima?")["id"], "LOC:city")
    assert stored(db, elsewhere["id"]).flags == {}

    from qcapp.services.review.feedback import edit_correction

    edit_correction(contradicting["id"], "HUM", "HUM:ind", actor="admin")
    assert "contradicts_base" not in stored(db, contradicting["id"]).flags
    edit_correction(contradicting["id"], "HUM", "HUM:desc", actor="admin")
    assert stored(db, contradicting["id"]).flags["contradicts_base"]["fine"] == "HUM:ind"


def test_cli_approval_of_a_contradiction_needs_the_override(
    client, runner, db, model_version, base
):
    flagged = correct(client, classify(client, BASE_QUESTION)["id"], "HUM:gr")
    plain = correct(client, classify(client, "Where is Lima?")["id"], "LOC:city")

    listing = runner.invoke(args=["qc", "corrections", "list"])
    assert "base label HUM:ind" in listing.output

    refused = runner.invoke(
        args=["qc", "corrections", "approve", str(flagged["id"]), str(plain["id"])]
    )
    assert refused.exit_code == 1
    # Said in labels, without the correction's internal id.
    assert "labels this question HUM:ind; approving HUM:gr overrides" in refused.output
    assert "--confirm-override" in refused.output
    # All or nothing: the unflagged one in the same command was not approved either.
    assert stored(db, plain["id"]).status == "pending"
    assert stored(db, flagged["id"]).status == "pending"

    everything = runner.invoke(args=["qc", "corrections", "approve", "--all"])
    assert everything.exit_code == 0
    assert "Approved 1 correction(s)." in everything.output
    assert "Skipped 1 flagged correction(s)" in everything.output
    assert stored(db, plain["id"]).status == "approved"
    assert stored(db, flagged["id"]).status == "pending"

    confirmed = runner.invoke(
        args=["qc", "corrections", "approve", str(flagged["id"]), "--confirm-override"]
    )
    assert confirmed.exit_code == 0, confirmed.output
    assert stored(db, flagged["id"]).status == "approved"
    event = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "correction_approved", AuditEvent.target_id == str(flagged["id"])
        )
    ).one()
    assert event.details["confirmed_override"]["fine"] == "HUM:ind"


def test_admin_queue_warns_and_refuses_without_the_override(
    admin_client, client, db, model_version, base
):
    flagged = correct(client, classify(client, BASE_QUESTION)["id"], "HUM:gr")
    page = admin_client.get("/admin/review/").get_data(as_text=True)
    assert "labels this question HUM:ind" in page and 'id="confirm-override"' in page
    token = csrf_token_from(page)
    refused = admin_client.post(
        "/admin/review/review",
        data={"csrf_token": token, "action": "approve", "ids": [flagged["id"]]},
        follow_redirects=True,
    )
    assert "confirm the override" in refused.get_data(as_text=True)
    assert stored(db, flagged["id"]).status == "pending"
    # Editing and approving at once is refused too; the edit itself is kept.
    edited = admin_client.post(
        f"/admin/review/{flagged['id']}/edit",
        data={"csrf_token": token, "fine": "HUM:desc", "approve": "1"},
        follow_redirects=True,
    )
    assert "confirm the override" in edited.get_data(as_text=True)
    assert stored(db, flagged["id"]).status == "pending"
    approved = admin_client.post(
        "/admin/review/review",
        data={
            "csrf_token": token,
            "action": "approve",
            "ids": [flagged["id"]],
            "confirm_override": "1",
        },
        follow_redirects=True,
    )
    assert "Approved 1 correction(s)." in approved.get_data(as_text=True)
    correction = stored(db, flagged["id"])
    assert correction.status == "approved" and correction.fine == "HUM:desc"
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.target_id == str(flagged["id"]), AuditEvent.target_type == "correction")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["correction_edited", "correction_approved"]


def test_bulk_client_is_flagged_and_never_approved_in_bulk(
    app, admin_client, client, runner, db, model_version
):
    app.config["CORRECTIONS_BULK_PER_HOUR"] = 2
    ids = [
        correct(client, classify(client, f"Where is town number {n}?")["id"], "LOC:city")["id"]
        for n in range(3)
    ]
    other = correct(
        client, classify(client, "Where is Lima?", "10.0.0.9")["id"], "LOC:city", "10.0.0.9"
    )
    assert [bool(stored(db, i).flags.get("bulk_client")) for i in ids] == [False, False, True]
    assert stored(db, ids[2]).flags["bulk_client"] == {"count": 3, "per_hour": 2}
    assert stored(db, other["id"]).flags == {}

    page = admin_client.get("/admin/review/").get_data(as_text=True)
    assert "3 corrections within an hour" in page

    everything = runner.invoke(args=["qc", "corrections", "approve", "--all"])
    assert "Approved 3 correction(s)." in everything.output
    assert "Skipped 1 flagged" in everything.output
    assert stored(db, ids[2]).status == "pending"
    # A reviewer may still approve it, one by one: the warning needs no override.
    single = runner.invoke(args=["qc", "corrections", "approve", str(ids[2])])
    assert single.exit_code == 0 and stored(db, ids[2]).status == "approved"
