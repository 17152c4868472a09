"""The review inbox: ranking, grouping, consensus, trust and decisions stored as corrections."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from qcapp.models import AuditEvent, Correction, Prediction, Query
from qcapp.services.review.feedback import InvalidCorrection
from qcapp.services.review.inbox import ranked_inbox
from qcapp.services.review.inbox_decisions import (
    approve_consensus,
    decide_item,
    reject_item,
    split_question,
    undo_last_decision,
)
from qcapp.services.review.trust import client_trust, trust_from_counts
from training.data.datasets import normalise_question


def store(
    db, text, fine="HUM:ind", *, margin=0.5, client=None, confidence=0.6, coarse_confidence=None
) -> Query:
    """A stored query with its prediction, without a model."""
    query = Query(text=text, normalized=normalise_question(text), client_hash=client)
    query.prediction = Prediction(
        coarse=fine.split(":")[0],
        fine=fine,
        coarse_confidence=confidence if coarse_confidence is None else coarse_confidence,
        fine_confidence=confidence,
        margin=margin,
        scores={"alternatives": [{"coarse": "LOC", "fine": "LOC:city", "confidence": 0.1}]},
    )
    db.session.add(query)
    db.session.commit()
    return query


def propose(db, query, fine, client, status="pending") -> Correction:
    correction = Correction(
        query=query, coarse=fine.split(":")[0], fine=fine, client_hash=client, status=status
    )
    db.session.add(correction)
    db.session.commit()
    return correction


def questions(items):
    return [item.question for item in items]


def test_smaller_margin_ranks_higher(db):
    store(db, "Who wrote Hamlet?", margin=0.9)
    store(db, "What is a pandemic?", margin=0.05)
    store(db, "How far is the moon?", margin=0.4)
    items, total = ranked_inbox()
    assert total == 3
    assert questions(items) == ["What is a pandemic?", "How far is the moon?", "Who wrote Hamlet?"]
    assert items[0].priority > items[1].priority > items[2].priority
    assert any("hesitates" in reason for reason in items[0].reasons)


def test_uncertainty_weighs_the_fine_confidence_beside_the_margin(db):
    # The same margin everywhere: the fine label's own confidence decides. Stored in the reverse
    # of their rank, so the newest-first tie-break cannot decide.
    store(db, "How far is the moon?", margin=0.2, confidence=0.3, coarse_confidence=0.4)
    store(db, "What is a pandemic?", margin=0.2, confidence=0.5, coarse_confidence=0.95)
    store(db, "Who wrote Hamlet?", margin=0.2, confidence=0.7, coarse_confidence=0.95)
    items, _total = ranked_inbox()
    assert questions(items) == ["How far is the moon?", "What is a pandemic?", "Who wrote Hamlet?"]
    # Without a model and a dataset both second opinions have none to give (0.5 each).
    assert [item.signals["stability"] for item in items] == [0.5, 0.5, 0.5]
    doubts = [
        item.signals["uncertainty"]
        / (0.5 + 0.5 * item.signals["neighbours"])
        / (0.5 + 0.5 * item.signals["stability"])
        for item in items
    ]
    assert doubts == pytest.approx([(0.8 + 3 * 0.7) / 4, (0.8 + 3 * 0.5) / 4, (0.8 + 3 * 0.3) / 4])
    assert any("unsure even of the kind of answer: HUM at 0.40" in r for r in items[0].reasons)
    assert not any("kind of answer" in r for item in items[1:] for r in item.reasons)


def test_word_dropout_variants_leave_out_one_word_each():
    from training.quality.stability import MAX_VARIANTS, word_dropout_variants

    assert word_dropout_variants("Who wrote Hamlet ?") == [
        "wrote Hamlet ?",
        "Who Hamlet ?",
        "Who wrote ?",
        "Who wrote Hamlet",
    ]
    assert word_dropout_variants("Define cosmology") == []
    long = " ".join(f"w{n}" for n in range(40))
    variants = word_dropout_variants(long)
    assert len(variants) == MAX_VARIANTS
    assert all(len(variant.split()) == 39 for variant in variants)


def test_instability_is_the_share_of_variants_labelled_otherwise():
    from training.quality.stability import instability

    # A stand-in model that answers HUM:ind only when it sees "Who".
    calls = []

    def labels(batch):
        calls.append(len(batch))
        return ["HUM:ind" if "Who" in text else "ENTY:other" for text in batch]

    shares = instability(labels, ["Who wrote Hamlet ?", "What is it ?", "Hi there"])
    assert shares == [pytest.approx(1 / 4), 0.0, None]
    assert calls == [3 + 4 + 4]  # one batch for the questions and all their variants


def test_unstable_answers_rank_first_with_a_serving_model(app, db, model_version):
    # Equal stored doubts: the serving model's own stability decides. The fixture's model
    # changes its answer to one of the first question's seven variants, to none of the second's.
    shaky = store(db, "What is the capital of France ?", margin=0.3, confidence=0.5)
    firm = store(db, "What do you call a group of geese ?", margin=0.3, confidence=0.5)
    from qcapp.services.review.stability import answer_instability

    assert answer_instability([shaky.text, firm.text]) == [pytest.approx(1 / 7), 0.0]
    items, _total = ranked_inbox()
    assert questions(items) == [shaky.text, firm.text]
    assert items[0].signals["stability"] == pytest.approx(1 / 7)
    assert items[1].signals["stability"] == 0.0


def test_an_unstable_answer_is_a_reason():
    from flask import Flask

    from qcapp.services.review.inbox_items import InboxItem, explain

    item = InboxItem(1, "Who is it ?", "who is it ?", 1, 1, 0.9, "HUM:ind")
    item.signals = {"stability": 0.75, "neighbours": 0.0}
    with_app = Flask("reasons")
    with_app.config["CONSENSUS_MIN"] = 3
    with with_app.app_context():
        explain(item)
    assert item.reasons == [
        "The model changes its answer when a single word is left out (75% of the variants)."
    ]


def test_visitor_dissent_and_traffic_raise_priority(db):
    store(db, "What is the tallest tree?", margin=0.3)
    disputed = store(db, "Name a famous violinist.", margin=0.3)
    propose(db, disputed, "ENTY:instru", "client-a")
    for n in range(6):
        store(db, "Why is the sky blue?", margin=0.3, client=f"c{n}")
    items, _ = ranked_inbox()
    assert questions(items)[0] == "Name a famous violinist."
    assert questions(items)[1] == "Why is the sky blue?"
    assert items[1].asked == 6 and items[1].clients == 6
    assert any("ENTY:instru" in reason for reason in items[0].reasons)
    assert items[0].proposals[0].fine == "ENTY:instru"


def test_reviewed_and_settled_questions_leave_the_inbox(db):
    settled = store(db, "Who painted the Mona Lisa?")
    propose(db, settled, "HUM:ind", "client-a", status="approved")
    reviewed = store(db, "What is gold?")
    propose(db, reviewed, "ENTY:substance", "client-b", status="rejected")
    reopened = store(db, "What is silver?")
    propose(db, reopened, "ENTY:substance", "client-b", status="rejected")
    propose(db, reopened, "DESC:def", "client-c")
    store(db, "Where is Peru?")
    items, total = ranked_inbox()
    assert sorted(questions(items)) == ["What is silver?", "Where is Peru?"]
    assert total == 2


def test_near_duplicates_group_and_split(db):
    store(db, "What is the capital of Peru?", margin=0.1)
    store(db, "What is the capital of the Peru?", margin=0.2)
    store(db, "Who invented the telephone?", margin=0.3)
    items, _ = ranked_inbox()
    assert len(items) == 2
    group = items[0]
    assert group.question == "What is the capital of Peru?"
    assert [m.question for m in group.members] == ["What is the capital of the Peru?"]
    assert group.asked == 2 and len(group.query_ids) == 2
    split_question(group.members[0].query_id, actor="alice")
    items, _ = ranked_inbox()
    assert len(items) == 3 and all(not item.members for item in items)


def test_one_decision_labels_the_whole_group(db):
    store(db, "What is the capital of Peru?", margin=0.1)
    store(db, "What is the capital of the Peru?", margin=0.2)
    [group], _ = ranked_inbox(limit=1)
    decision = decide_item(group.query_ids, "LOC:city", actor="alice")
    assert len(decision.created) == 2
    approved = db.session.scalars(select(Correction).where(Correction.status == "approved")).all()
    assert {c.query_id for c in approved} == set(group.query_ids)
    assert ranked_inbox()[0] == []


def test_consensus_needs_enough_clients_and_no_other_label(app, db):
    query = store(db, "What is the largest ocean?")
    for client in ("a", "b"):
        propose(db, query, "LOC:other", client)
    [item], _ = ranked_inbox()
    assert item.consensus is None  # two clients, the default minimum is three
    propose(db, query, "LOC:other", "c")
    [item], _ = ranked_inbox()
    assert item.consensus == "LOC:other"
    assert any(reason.startswith("Consensus") for reason in item.reasons)
    propose(db, query, "ENTY:other", "d")
    [item], _ = ranked_inbox()
    assert item.consensus is None
    app.config["CONSENSUS_MIN"] = 2
    other = store(db, "What is the deepest lake?")
    for client in ("a", "b"):
        propose(db, other, "LOC:other", client)
    done, skipped = approve_consensus(actor="alice")
    assert (done, skipped) == (1, 0)
    statuses = db.session.scalars(
        select(Correction.status).where(Correction.query_id == other.id)
    ).all()
    assert statuses == ["approved", "approved"]


def test_trust_starts_neutral_and_follows_verdicts(db):
    assert trust_from_counts(0, 0) == 0.5
    assert trust_from_counts(1, 0) == pytest.approx(2 / 3)
    assert trust_from_counts(0, 1) == pytest.approx(1 / 3)
    query = store(db, "Who is Galileo?")
    for status in ("approved", "approved", "approved"):
        propose(db, query, "HUM:ind", "good", status=status)
    for status in ("rejected", "rejected", "rejected"):
        propose(db, query, "LOC:city", "bad", status=status)
    trust = client_trust(["good", "bad", "new"])
    assert trust["good"] == pytest.approx(0.8)
    assert trust["bad"] == pytest.approx(0.2)
    assert trust["new"] == 0.5


def test_trusted_dissent_ranks_above_untrusted(db):
    history = store(db, "Old question?")
    for _ in range(4):
        propose(db, history, "HUM:ind", "good", status="approved")
        propose(db, history, "LOC:city", "bad", status="rejected")
    first = store(db, "Name a river in Spain.", margin=0.5)
    second = store(db, "Name a river in France.", margin=0.5)
    propose(db, first, "LOC:other", "bad")
    propose(db, second, "LOC:other", "good")
    items, _ = ranked_inbox()
    order = questions(items)
    assert order.index("Name a river in France.") < order.index("Name a river in Spain.")
    [good] = [i for i in items if i.question == "Name a river in France."]
    assert good.proposals[0].trust == pytest.approx(5 / 6)


def test_decision_approves_matching_proposals_and_rejects_others(db):
    query = store(db, "What is a tsunami?", fine="DESC:def")
    agree = propose(db, query, "DESC:def", "a")
    other = propose(db, query, "ENTY:event", "b")
    decision = decide_item([query.id], "DESC:def", actor="alice")
    assert decision.created == [] and decision.approved == [agree.id]
    assert decision.rejected == [other.id]
    db.session.expire_all()
    assert db.session.get(Correction, agree.id).status == "approved"
    assert db.session.get(Correction, agree.id).kind == "correction"  # as the visitor sent it
    assert db.session.get(Correction, other.id).status == "rejected"
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["correction_approved", "correction_rejected", "inbox_decided"]


def test_confirming_the_model_is_an_approved_confirmation(db):
    query = store(db, "Who discovered penicillin?", fine="HUM:ind")
    decision = decide_item([query.id], "HUM:ind", actor="alice")
    [correction] = [db.session.get(Correction, i) for i in decision.created]
    assert correction.kind == "confirmation" and correction.status == "approved"
    assert correction.client_hash is None and correction.reviewed_at is not None
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "correction_approved",
            AuditEvent.target_id == str(correction.id),
        )
    )
    assert event.actor == "alice" and event.details["via"] == "inbox"


def test_undo_restores_the_item(db):
    query = store(db, "What is the speed of light?")
    proposal = propose(db, query, "NUM:speed", "a")
    decide_item([query.id], "NUM:speed", actor="alice")
    created = decide_item([store(db, "Where is Chile?").id], "LOC:country", actor="alice")
    assert len(ranked_inbox()[0]) == 0
    undo_last_decision("alice")
    assert db.session.get(Correction, created.created[0]) is None
    assert questions(ranked_inbox()[0]) == ["Where is Chile?"]
    undo_last_decision("alice")
    db.session.expire_all()
    restored = db.session.get(Correction, proposal.id)
    assert restored.status == "pending" and restored.reviewed_at is None
    assert len(ranked_inbox()[0]) == 2
    with pytest.raises(InvalidCorrection):
        undo_last_decision("alice")
    with pytest.raises(InvalidCorrection):
        undo_last_decision("bob")


def test_reject_without_proposals_rejects_the_model_label(db):
    query = store(db, "Asdf qwerty?", fine="ENTY:other")
    decision = reject_item([query.id], actor="alice")
    [correction] = [db.session.get(Correction, i) for i in decision.created]
    assert correction.status == "rejected" and correction.fine == "ENTY:other"
    assert ranked_inbox()[0] == []


def test_bad_decisions_change_nothing(db):
    query = store(db, "What is the capital of Peru?")
    with pytest.raises(InvalidCorrection):
        decide_item([query.id], "LOC:moon", actor="alice")
    with pytest.raises(InvalidCorrection):
        decide_item([query.id, 999999], "LOC:city", actor="alice")
    assert db.session.scalars(select(Correction)).all() == []


def test_decision_contradicting_the_base_needs_an_override(db, app):
    from qcapp.models import Dataset, Example

    dataset = Dataset(name="base", is_active=True, rows=1)
    db.session.add(dataset)
    db.session.add(
        Example(
            dataset=dataset,
            text="What is the capital of Peru?",
            normalized=normalise_question("What is the capital of Peru?"),
            coarse="LOC",
            fine="LOC:city",
        )
    )
    db.session.commit()
    query = store(db, "What is the capital of Peru?", fine="LOC:city")
    with pytest.raises(InvalidCorrection) as error:
        decide_item([query.id], "LOC:country", actor="alice")
    assert error.value.code == "needs_confirmation"
    assert db.session.scalars(select(Correction)).all() == []
    decision = decide_item([query.id], "LOC:country", actor="alice", confirm_override=True)
    assert db.session.get(Correction, decision.created[0]).flags["contradicts_base"]


def test_inbox_cli_json_and_decide(runner, db):
    store(db, "What is a pandemic?", margin=0.05)
    store(db, "Who wrote Hamlet?", margin=0.9)
    result = runner.invoke(args=["qc", "inbox", "--top", "1", "--json"])
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.output.strip().splitlines()[-1])
    assert item["question"] == "What is a pandemic?"
    for key in ("asked", "clients", "priority", "reasons", "model_label", "proposals"):
        assert key in item
    result = runner.invoke(
        args=["qc", "inbox", "decide", str(item["item"]), "DESC:def", "--actor", "carol"]
    )
    assert result.exit_code == 0, result.output
    correction = db.session.scalar(select(Correction))
    assert correction.status == "approved" and correction.fine == "DESC:def"
    result = runner.invoke(args=["qc", "inbox"])
    assert "Who wrote Hamlet?" in result.output and "pandemic" not in result.output
    result = runner.invoke(args=["qc", "inbox", "decide", "424242", "DESC:def"])
    assert result.exit_code != 0 and "No stored query" in result.output
    result = runner.invoke(args=["qc", "inbox", "decide", str(item["item"]), "NOPE:x"])
    assert result.exit_code != 0 and "Unknown" in result.output


def test_card_works_without_javascript(admin_client, db):
    from helpers import csrf_token_from

    store(db, "Who wrote <b>Hamlet</b>?", fine="HUM:ind", margin=0.2)
    query = store(db, "What is a tsunami?", fine="DESC:def", margin=0.1)
    propose(db, query, "ENTY:event", "visitor")
    html = admin_client.get("/admin/inbox/card?at=0").get_data(as_text=True)
    assert "What is a tsunami?" in html and 'value="ENTY:event" id="choice-1"' in html
    # One neutral visitor (0.5) weighs less than the model's 60%: the model's label is preselected.
    assert re.search(r'value="DESC:def" id="choice-\d" data-key="\d" checked', html)
    assert "admin-inbox.js" in html and "nonce=" in html.split("admin-inbox.js")[1][:80]
    token = csrf_token_from(html)
    response = admin_client.post(
        "/admin/inbox/decide",
        data={"csrf_token": token, "query_ids": query.id, "fine": "ENTY:event", "at": 0},
    )
    assert response.status_code == 302 and response.location.endswith("/admin/inbox/card?at=0")
    html = admin_client.get("/admin/inbox/card?at=0").get_data(as_text=True)
    assert "Who wrote &lt;b&gt;Hamlet&lt;/b&gt;?" in html and "<b>Hamlet" not in html
    correction = db.session.scalar(select(Correction).where(Correction.query_id == query.id))
    assert correction.status == "approved"
    response = admin_client.post("/admin/inbox/undo", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Correction, correction.id).status == "pending"
    missing_token = admin_client.post(
        "/admin/inbox/decide", data={"query_ids": query.id, "fine": "ENTY:event"}
    )
    assert missing_token.status_code in (302, 400)
    assert db.session.get(Correction, correction.id).status == "pending"
    bad = admin_client.post(
        "/admin/inbox/decide",
        data={"csrf_token": token, "query_ids": query.id, "fine": "NOPE", "at": 0},
        follow_redirects=True,
    )
    assert bad.status_code == 200 and "Unknown" in bad.get_data(as_text=True)
    assert admin_client.get("/admin/inbox/card?at=x").status_code == 400
    assert admin_client.get("/admin/inbox/query/999999").status_code == 404


def test_admin_labels_any_query_from_its_page(admin_client, db):
    from helpers import csrf_token_from

    query = store(db, "Who discovered penicillin?", fine="HUM:ind")
    decide_item([query.id], "HUM:ind", actor="someone")  # already settled: left the inbox
    listing = admin_client.get("/admin/queries/").get_data(as_text=True)
    assert f"/admin/inbox/query/{query.id}" in listing
    details = admin_client.get(f"/admin/queries/details/?id={query.id}").get_data(as_text=True)
    assert f"/admin/inbox/query/{query.id}" in details
    html = admin_client.get(f"/admin/inbox/query/{query.id}").get_data(as_text=True)
    assert "Who discovered penicillin?" in html
    response = admin_client.post(
        "/admin/inbox/decide",
        data={"csrf_token": csrf_token_from(html), "query_ids": query.id, "other_fine": "HUM:gr"},
    )
    assert response.status_code == 302
    labels = db.session.scalars(
        select(Correction.fine).where(Correction.status == "approved").order_by(Correction.id)
    ).all()
    assert labels == ["HUM:ind", "HUM:gr"]


def test_neighbours_index_finds_nearest_of_each_class():
    from training.quality.neighbours import NeighbourIndex

    index = NeighbourIndex(
        ["Who wrote Hamlet?", "Who wrote Macbeth?", "Where is Paris?", "Where is Rome?"],
        ["HUM:ind", "HUM:ind", "LOC:city", "LOC:city"],
    )
    found = index.nearest_of_classes("Who wrote Othello?", ["HUM:ind", "LOC:city", "NUM:date"])
    assert [n.fine for n in found["HUM:ind"]] == ["HUM:ind", "HUM:ind"]
    assert found["LOC:city"] and found["NUM:date"] == []
    [share] = index.disagreement(["Who wrote Othello?"], ["LOC:city"])
    assert share > 0.5
    [share] = index.disagreement(["Who wrote Othello?"], ["HUM:ind"])
    assert share < 0.5
