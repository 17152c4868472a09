"""Discarding an input as not a question: out of the inbox and of training, into the scope check."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from test_inbox import propose, questions, store

from qcapp.models import AuditEvent, Correction, DiscardedQuestion, Example, ModelVersion, Query
from qcapp.runs.execute import execute_run
from qcapp.runs.start import start_run
from qcapp.services.data.merge import merged_training_set
from qcapp.services.learning.settings import RunSettings
from qcapp.services.review.discards import discard_item, discarded_texts
from qcapp.services.review.feedback import InvalidCorrection
from qcapp.services.review.inbox import ranked_inbox
from qcapp.services.review.inbox_decisions import decide_item, undo_last_decision
from training import SCOPE_REASONS


def test_discarded_item_leaves_the_inbox_with_its_proposals_rejected(db):
    junk = store(db, "asdf qwerty please", margin=0.01)
    store(db, "Who wrote Hamlet?", margin=0.5)
    proposal = propose(db, junk, "ENTY:other", "client-a")
    assert "asdf qwerty please" in questions(ranked_inbox()[0])

    decision = discard_item([junk.id], actor="reviewer")

    items, total = ranked_inbox()
    assert questions(items) == ["Who wrote Hamlet?"] and total == 1
    assert db.session.get(Correction, proposal.id).status == "rejected"
    assert decision.rejected == [proposal.id]
    event = db.session.get(AuditEvent, decision.event_id)
    assert event.action == "inbox_discarded" and event.actor == "reviewer"
    assert discarded_texts() == ["asdf qwerty please"]


def test_later_proposals_do_not_bring_a_discarded_text_back(db):
    junk = store(db, "test test", margin=0.01)
    discard_item([junk.id], actor="reviewer")
    again = store(db, "Test test!", margin=0.01)  # the same text once normalised
    propose(db, again, "HUM:ind", "client-b")
    assert ranked_inbox()[0] == []
    assert ranked_inbox(with_proposals=True)[0] == []


def test_undo_takes_a_discard_back(db):
    junk = store(db, "lorem ipsum dolor", margin=0.01)
    proposal = propose(db, junk, "ENTY:other", "client-a")
    discard_item([junk.id], actor="reviewer")

    assert undo_last_decision("reviewer") == junk.id

    assert db.session.scalar(select(DiscardedQuestion.id)) is None
    assert db.session.get(Correction, proposal.id).status == "pending"
    assert questions(ranked_inbox()[0]) == ["lorem ipsum dolor"]


def test_a_discarded_text_is_never_trained_on(db):
    from qcapp.services.data.datasets import import_dataset, starter_dataset_path

    dataset, _ = import_dataset(starter_dataset_path(), "starter")
    query = store(db, "blah blah blah", margin=0.01)
    decide_item([query.id], "ENTY:other", actor="reviewer")  # approved first, discarded after
    assert "blah blah blah" in set(merged_training_set(dataset).train["text"])

    discard_item([query.id], actor="reviewer")

    assert "blah blah blah" not in set(merged_training_set(dataset).train["text"])


def test_a_training_question_cannot_be_discarded(db):
    from qcapp.services.data.datasets import import_dataset, starter_dataset_path

    dataset, _ = import_dataset(starter_dataset_path(), "starter")
    text = db.session.scalar(select(Example.text).where(Example.dataset_id == dataset.id))
    query = store(db, text, margin=0.01)
    with pytest.raises(InvalidCorrection) as raised:
        discard_item([query.id], actor="reviewer")
    assert raised.value.code == "in_training_data"
    assert db.session.scalar(select(DiscardedQuestion.id)) is None


def test_unknown_query_is_refused(db):
    with pytest.raises(InvalidCorrection):
        discard_item([987654], actor="reviewer")


@pytest.mark.slow
def test_the_next_retrain_refuses_what_was_discarded(app, db, client):
    """Discard an input the shipped scope check lets through; after a retrain it is refused."""
    from qcapp.services.data.datasets import import_dataset, starter_dataset_path

    import_dataset(starter_dataset_path(), "starter")
    execute_run(start_run(RunSettings(quick=True), actor="test", spawn=False).id)
    junk = "test test"
    first = client.post("/api/v1/classify", json={"question": junk}).get_json()
    assert first["in_scope"] is True  # the shipped check takes it for a question

    discard_item([_latest_query_id(db)], actor="reviewer")
    run = execute_run(start_run(RunSettings(quick=True), actor="test", spawn=False).id)
    assert run.status == "succeeded", run.error
    newest = db.session.scalar(select(ModelVersion).order_by(ModelVersion.id.desc()))
    assert newest.is_active

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # each worker swaps to the new version in the background
        answer = client.post("/api/v1/classify", json={"question": junk}).get_json()
        if answer["model_version"] == newest.version:
            break
        time.sleep(0.05)
    assert answer["model_version"] == newest.version
    assert answer["in_scope"] is False
    assert answer["scope"] == {"reason": "discarded", "message": SCOPE_REASONS["discarded"]}
    # Only what was discarded, not ordinary questions, is refused by the new check.
    question = client.post("/api/v1/classify", json={"question": "Who wrote Hamlet?"}).get_json()
    assert question["in_scope"] is True


def _latest_query_id(db) -> int:
    return db.session.scalar(select(Query.id).order_by(Query.id.desc()))
