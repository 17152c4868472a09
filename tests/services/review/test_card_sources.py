"""What the card preselects and says: the best-supported label, each source's weight in words,
and a two-letter code for every class."""

from __future__ import annotations

from qcapp.services.review.card_sources import best_supported, card_sources
from qcapp.services.review.inbox_items import InboxItem, Proposal
from qcapp.services.review.label_picker import label_codes
from training import taxonomy


def item(model="NUM:speed", confidence=1.0, proposals=()) -> InboxItem:
    return InboxItem(
        query_id=1,
        question="How fast can a cheetah run?",
        normalized="how fast can a cheetah run",
        asked=1,
        clients=1,
        margin=confidence,
        model_label=model,
        confidence=confidence,
        alternatives=[{"fine": "ENTY:animal", "confidence": 0.0}],
        proposals=list(proposals),
    )


def test_a_low_trust_visitor_never_outweighs_a_sure_model_and_the_training_data():
    cheetah = item(proposals=[Proposal("ENTY:animal", clients=1, count=1, trust=1 / 3)])
    choices = ["ENTY:animal", "NUM:speed"]  # the proposal is listed first on the card
    assert best_supported(cheetah, "NUM:speed", choices) == "NUM:speed"
    words = {(s.who, s.label): s.words for s in card_sources(cheetah, "NUM:speed")}
    assert words[("The model", "NUM:speed")] == "very sure (100%)"
    assert "little trusted" in words[("1 visitor(s), 1 proposal(s)", "ENTY:animal")]
    assert ("The training data", "NUM:speed") in words


def test_agreeing_neutral_visitors_outweigh_a_hesitant_model():
    hesitant = item(
        model="HUM:ind",
        confidence=0.6,
        proposals=[Proposal("HUM:gr", clients=3, count=3, trust=0.5)],
    )
    assert best_supported(hesitant, None, ["HUM:gr", "HUM:ind"]) == "HUM:gr"
    # One neutral visitor alone does not.
    single = item(model="HUM:ind", confidence=0.6, proposals=[Proposal("HUM:gr", 1, 1, trust=0.5)])
    assert best_supported(single, None, ["HUM:gr", "HUM:ind"]) == "HUM:ind"


def test_every_class_has_a_unique_two_letter_code_from_its_coarse_initial():
    codes = label_codes()
    assert set(codes) == set(taxonomy.FINE_LABELS)
    assert len(set(codes.values())) == 50
    for label, code in codes.items():
        assert len(code) == 2 and code.isalpha() and code.islower()
        assert code[0] == label[0].lower()
    assert codes["ENTY:animal"] == "ea" and codes["LOC:mount"] == "lm"
