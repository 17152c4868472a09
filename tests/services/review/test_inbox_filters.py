"""Inbox filters: parsing request arguments, each filter, combinations, and out-of-scope ranking."""

from __future__ import annotations

import pytest
from test_inbox import propose, questions, store

from qcapp.models import Query
from qcapp.services.review.inbox import ranked_inbox
from qcapp.services.review.inbox_decisions import decide_item
from qcapp.services.review.inbox_filters import (
    InboxFilter,
    InvalidFilter,
    driving_reason,
    inbox_filter_from,
)


def out_of_scope(db, text, reason="gibberish", margin=0.01):
    query = store(db, text, margin=margin, confidence=0.1)
    query.in_scope, query.scope_reason = False, reason
    db.session.commit()
    return query


def ranked(**args):
    return questions(ranked_inbox(filters=inbox_filter_from(args))[0])


def test_parsing_keeps_what_is_given_and_names_what_is_wrong():
    filters = inbox_filter_from(
        {
            "text": "  capital  of ",
            "label": "loc:city",
            "proposed": "HUM",
            "client": "AbCd12",
            "reason": "visitors",
            "scope": "out",
            "min_confidence": "0.2",
            "max_confidence": ".8",
            "state": "reviewed",
            "proposals": "1",
        }
    )
    assert filters == InboxFilter(
        text="capital of",
        label="LOC:city",
        proposed="HUM",
        client="abcd12",
        reason="visitors",
        scope="out",
        min_confidence=0.2,
        max_confidence=0.8,
        state="reviewed",
        with_proposals=True,
    )
    assert inbox_filter_from(filters.as_args()) == filters
    assert inbox_filter_from({}) == InboxFilter() and not InboxFilter().active
    assert InboxFilter().as_args() == {}
    for args, words in [
        ({"label": "LOC:nowhere"}, "neither a fine label"),
        ({"proposed": "x"}, "neither a fine label"),
        ({"client": "xyz"}, "hexadecimal"),
        ({"client": "ab"}, "hexadecimal"),
        ({"reason": "whim"}, "The reason must be one of"),
        ({"scope": "maybe"}, "The scope must be one of"),
        ({"state": "lost"}, "The state must be one of"),
        ({"min_confidence": "abc"}, "number from 0 to 1"),
        ({"max_confidence": "1.5"}, "number from 0 to 1"),
        ({"min_confidence": "nan"}, "number from 0 to 1"),
        ({"min_confidence": "0.9", "max_confidence": "0.1"}, "above the highest"),
        ({"text": "x" * 201}, "at most 200"),
    ]:
        with pytest.raises(InvalidFilter, match=words):
            inbox_filter_from(args)


def test_out_of_scope_items_rank_below_every_real_question(db):
    out_of_scope(db, "asdfgh", margin=0.0)
    out_of_scope(db, "¿Dónde está la biblioteca?", reason="not_english", margin=0.0)
    store(db, "Who wrote Hamlet?", margin=0.9)
    store(db, "What is a pandemic?", margin=0.3)
    items, total = ranked_inbox()
    assert total == 4
    # Both real questions first, although the junk's margins are the smallest of all.
    assert questions(items)[:2] == ["What is a pandemic?", "Who wrote Hamlet?"]
    assert [item.in_scope for item in items] == [True, True, False, False]
    assert {item.scope_reason for item in items[2:]} == {"gibberish", "not_english"}
    assert ranked(scope="out") == questions(items[2:])
    assert ranked(scope="in") == ["What is a pandemic?", "Who wrote Hamlet?"]


def test_out_of_scope_items_do_not_crowd_the_pool(db):
    # More junk of smaller margins than the pool reads: the real question still comes first.
    from qcapp.services.review import inbox, inbox_pool

    pool = inbox.MIN_POOL * inbox_pool.CANDIDATE_FACTOR
    db.session.add_all(
        Query(text=f"zzz {n}", normalized=f"zzz {n}", in_scope=False, scope_reason="gibberish")
        for n in range(pool + 5)
    )
    db.session.commit()
    from qcapp.models import Prediction

    for query in db.session.query(Query).all():
        query.prediction = Prediction(
            coarse="HUM", fine="HUM:ind", coarse_confidence=0.1, fine_confidence=0.1, margin=0.0
        )
    db.session.commit()
    store(db, "Who wrote Hamlet?", margin=0.9, confidence=0.9)
    items, _total = ranked_inbox(limit=3)
    assert questions(items)[0] == "Who wrote Hamlet?"


def test_text_label_and_confidence_filters(db):
    store(db, "What is the capital of Peru?", fine="LOC:city", confidence=0.4)
    store(db, "What is the CAPITAL of Chad?", fine="LOC:city", confidence=0.9)
    store(db, "Who wrote Hamlet?", fine="HUM:ind", confidence=0.3)
    store(db, "What is 100% of 5_0?", fine="NUM:other", confidence=0.5)
    assert sorted(ranked(text="capital")) == [
        "What is the CAPITAL of Chad?",
        "What is the capital of Peru?",
    ]
    assert ranked(text="Capital OF peru") == ["What is the capital of Peru?"]
    assert ranked(text="100%") == ["What is 100% of 5_0?"]
    assert ranked(text="%") == ["What is 100% of 5_0?"]  # no wildcard: a literal percent sign
    assert ranked(text="5_0") == ["What is 100% of 5_0?"]
    assert ranked(text="nothing like it") == []
    assert (
        sorted(ranked(label="LOC"))
        == sorted(ranked(label="LOC:city"))
        == sorted(["What is the CAPITAL of Chad?", "What is the capital of Peru?"])
    )
    assert ranked(label="HUM:gr") == []
    assert ranked(label="LOC", max_confidence="0.5") == ["What is the capital of Peru?"]
    assert ranked(min_confidence="0.85") == ["What is the CAPITAL of Chad?"]
    assert ranked(text="what", min_confidence="0.45", max_confidence="0.6") == [
        "What is 100% of 5_0?"
    ]
    _items, total = ranked_inbox(filters=inbox_filter_from({"label": "LOC"}))
    assert total == 2


def test_client_proposed_and_state_filters(db):
    peru = store(db, "What is the capital of Peru?", fine="LOC:city", client="aaaa1111")
    hamlet = store(db, "Who wrote Hamlet?", fine="HUM:ind", client="bbbb2222")
    moon = store(db, "How far is the moon?", fine="NUM:dist", client="bbbb2222")
    propose(db, peru, "LOC:country", "cccc3333")
    propose(db, hamlet, "HUM:gr", "cccc3333")
    assert ranked(client="aaaa") == ["What is the capital of Peru?"]
    assert sorted(ranked(client="bbbb2222")) == ["How far is the moon?", "Who wrote Hamlet?"]
    # A client is behind the questions it asked and those it proposed labels for.
    assert sorted(ranked(client="cccc")) == ["What is the capital of Peru?", "Who wrote Hamlet?"]
    assert ranked(proposed="LOC:country") == ["What is the capital of Peru?"]
    assert ranked(proposed="HUM") == ["Who wrote Hamlet?"]
    assert ranked(proposed="HUM", client="aaaa") == []
    assert sorted(ranked(proposals="1")) == ["What is the capital of Peru?", "Who wrote Hamlet?"]
    decide_item([moon.id], "NUM:dist", actor="rita")
    assert "How far is the moon?" not in ranked()
    assert ranked(state="reviewed") == ["How far is the moon?"]
    assert ranked(state="reviewed", client="aaaa") == []


def test_reason_filter_follows_the_signal_that_weighs_most(db):
    store(db, "What is a pandemic?", margin=0.01, confidence=0.05)
    disputed = store(db, "Who wrote Hamlet?", fine="HUM:ind", margin=0.95, confidence=0.97)
    for client in ("c1", "c2"):
        propose(db, disputed, "HUM:gr", client)
    propose(db, disputed, "LOC:city", "c3")
    assert ranked(reason="visitors") == ["Who wrote Hamlet?"]
    assert ranked(reason="model") == ["What is a pandemic?"]
    assert ranked(reason="finder") == []
    items, total = ranked_inbox(filters=inbox_filter_from({"reason": "visitors"}))
    assert total == 1 and driving_reason(items[0].signals) == "visitors"


def test_a_filter_pools_real_questions_before_out_of_scope_ones(db):
    from qcapp.models import Prediction
    from qcapp.services.review import inbox, inbox_pool

    pool = inbox.MIN_POOL * inbox_pool.CANDIDATE_FACTOR
    for n in range(pool + 5):
        query = Query(text=f"what zzz {n}", normalized=f"what zzz {n}", in_scope=False)
        query.prediction = Prediction(
            coarse="HUM", fine="HUM:ind", coarse_confidence=0.1, fine_confidence=0.1, margin=0.0
        )
        db.session.add(query)
    db.session.commit()
    store(db, "What is the capital of Peru?", margin=0.9, confidence=0.9)
    assert ranked(text="what")[0] == "What is the capital of Peru?"
