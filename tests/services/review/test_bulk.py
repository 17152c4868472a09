"""Bulk decisions and the consensus count, as services."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_inbox import propose, store

from qcapp.models import AuditEvent, Correction
from qcapp.services.review.bulk import (
    consensus_count,
    consensus_preview,
    parse_items,
    run_bulk,
)
from qcapp.services.review.client_actions import (
    reject_client_pending,
    undo_client_rejection,
)
from qcapp.services.review.feedback import InvalidCorrection
from qcapp.services.review.inbox_filters import InboxFilter


def test_consensus_count_agrees_with_the_ranked_preview(db, app):
    app.config["CONSENSUS_MIN"] = 2
    chile = store(db, "Where is Chile?", fine="LOC:city")
    for client in ("a", "b"):
        propose(db, chile, "LOC:country", client)
    split = store(db, "Where is Peru?", fine="LOC:city")
    propose(db, split, "LOC:country", "a")
    propose(db, split, "LOC:other", "b")  # two labels: no consensus
    lonely = store(db, "Where is Chad?", fine="LOC:city")
    propose(db, lonely, "LOC:country", "a")
    propose(db, lonely, "LOC:country", "a")  # one client twice: no consensus
    flagged = store(db, "Where is Mali?", fine="LOC:city")
    for client in ("c", "d"):
        propose(db, flagged, "LOC:country", client).flags = {"bulk_client": {"count": 25}}
    db.session.commit()
    items, left = consensus_preview()
    assert [item.question for item in items] == ["Where is Chile?"] and left == 1
    assert consensus_count() == (1, 1)


def test_confirmed_items_are_parsed_strictly():
    assert parse_items(["12,13", "x", "14", "0", "-3,15"]) == [[12, 13], [14], [15]]
    with pytest.raises(InvalidCorrection, match="No items"):
        parse_items(["", "abc"])


def test_run_bulk_refuses_unknown_actions_and_labels(db):
    query = store(db, "Who wrote Hamlet?")
    with pytest.raises(InvalidCorrection, match="Unknown bulk action"):
        run_bulk("explode", [[query.id]], filters=InboxFilter(), actor="rita")
    with pytest.raises(InvalidCorrection):
        run_bulk("label", [[query.id]], label="HUM:nope", filters=InboxFilter(), actor="rita")
    assert db.session.scalar(select(Correction.id)) is None
    result = run_bulk("reject", [[query.id], [999_999]], filters=InboxFilter(), actor="rita")
    assert result.done == 1 and result.left == {"not_found": 1}
    assert result.sentence("rejected") == "1 rejected, 1 left: they are no longer stored."
    event = db.session.get(AuditEvent, result.event_id)
    assert event.action == "inbox_bulk" and event.details["left"] == {"not_found": 1}


def test_a_client_rejection_leaves_what_was_reviewed_meanwhile(db):
    query = store(db, "Who wrote Hamlet?")
    first = propose(db, query, "HUM:gr", "abcd")
    second = propose(db, store(db, "Where is Chile?"), "LOC:city", "abcd")
    event = reject_client_pending("abcd", [first.id, second.id], actor="rita")
    # Someone approves one of them since; the undo leaves it approved.
    db.session.get(Correction, second.id).status = "approved"
    db.session.commit()
    assert undo_client_rejection(event.id, actor="rita") == [first.id]
    assert db.session.get(Correction, first.id).status == "pending"
    assert db.session.get(Correction, second.id).status == "approved"
    with pytest.raises(InvalidCorrection, match="Nothing|None of these"):
        reject_client_pending("abcd", [second.id], actor="rita")
