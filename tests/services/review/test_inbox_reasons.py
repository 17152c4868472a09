"""The inbox's "the model hesitates" reason, in the numbers the item's card shows."""

from __future__ import annotations

import pytest

from qcapp.services.review.inbox_items import InboxItem, explain


def item(label: str, confidence: float, alternatives: list[tuple[str, float]]) -> InboxItem:
    best = max(value for _label, value in alternatives)
    return InboxItem(
        query_id=1,
        question="Which way?",
        normalized="which way",
        asked=1,
        clients=1,
        margin=round(max(0.0, confidence - best), 6),  # as stored: 0 when the answer trails
        model_label=label,
        confidence=confidence,
        coarse_confidence=0.6,
        alternatives=[
            {"coarse": name.split(":")[0], "fine": name, "confidence": value}
            for name, value in alternatives
        ],
    )


def hesitation(entry: InboxItem) -> str:
    [reason] = [r for r in entry.reasons if r.startswith("The model hesitates")]
    return reason


@pytest.mark.usefixtures("app_context")
@pytest.mark.parametrize(
    "label, confidence, alternatives, expected",
    [
        # As reported: the answer at 5% and another class at 18% once read "ENTY:veh leads
        # HUM:title by 0.00".
        (
            "ENTY:veh", 0.05, [("HUM:title", 0.18), ("ENTY:other", 0.04)],
            "The model hesitates: HUM:title (18%) leads ENTY:veh (5%) by 13 points; it answers "
            "ENTY:veh, as its coarse class gets more in all.",
        ),
        (
            "LOC:city", 0.46, [("LOC:country", 0.314), ("LOC:other", 0.1)],
            "The model hesitates: LOC:city (46%) leads LOC:country (31%) by 15 points.",
        ),
        (
            "HUM:ind", 0.274, [("HUM:gr", 0.266)],
            "The model hesitates: HUM:ind and HUM:gr both get 27%.",
        ),
    ],
)
def test_the_leader_and_the_lead_are_the_shown_numbers(label, confidence, alternatives, expected):
    entry = item(label, confidence, alternatives)
    explain(entry)
    assert hesitation(entry) == expected


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield
