"""The "Not sure" sentence and the ``confident`` flag say what the shown numbers say."""

from __future__ import annotations

import re
from html import unescape

import pytest

from qcapp.models import Prediction, Query
from qcapp.services.serving.doubt import doubt_summary, is_confident
from qcapp.services.serving.queries import prediction_dict
from training.data.datasets import normalise_question


def stored(db, fine: str, confidence: float, coarse: float, alternatives: list[tuple]) -> Query:
    """A stored query with a prediction of these numbers, without a model."""
    text = "What is the best way to learn French?"
    query = Query(text=text, normalized=normalise_question(text))
    query.prediction = Prediction(
        coarse=fine.split(":")[0],
        fine=fine,
        coarse_confidence=coarse,
        fine_confidence=confidence,
        margin=0.0,
        scores={
            "alternatives": [
                {"coarse": label.split(":")[0], "fine": label, "confidence": value}
                for label, value in alternatives
            ]
        },
    )
    db.session.add(query)
    db.session.commit()
    return query


# As the issue reported it: the answer is the best class of the coarse class that leads in all
# (entities, 40%), while a description class alone gets more.
REPORTED = {
    "fine": "ENTY:techmeth",
    "confidence": 0.06,
    "coarse": 0.40,
    "alternatives": [("DESC:manner", 0.27), ("ENTY:other", 0.05), ("NUM:other", 0.004)],
}


def sentence_of(html: str) -> str:
    paragraph = html.split('id="unsure-message"')[1].split("</p>")[0]
    return " ".join(unescape(re.sub(r"<[^>]+>", "", paragraph.split(">", 1)[1])).split())


def test_the_reported_page_names_the_leader_and_a_true_maximum(client, db):
    query = stored(db, **REPORTED)
    html = client.get(f"/q/{query.token}").get_data(as_text=True)
    assert sentence_of(html) == (
        "Not sure: maybe Manner (DESC:manner, 27%) or Technique or method (ENTY:techmeth, 6%). "
        "The model gives no fine class more than 27% here. It answers ENTY:techmeth all the same "
        "because its coarse class, ENTY (Entity), gets 40% in all, more than any other."
    )
    # The numbers it names are the ones the cards and the list show.
    assert re.search(r'id="fine-label".*?<span class="bar-value">6%</span>', html, re.S)
    assert re.search(r'id="coarse-label".*?<span class="bar-value">40%</span>', html, re.S)
    listed = re.findall(
        r'<li><code>([A-Z]+:\w+)</code>.*?<span class="bar-value">(\d+)%</span>', html, re.S
    )
    assert listed == [("DESC:manner", "27"), ("ENTY:other", "5")]  # NUM:other (0.4%) unlisted


def test_the_summary_ranks_by_the_shown_numbers(app):
    result = prediction_dict(
        Prediction(
            coarse="ENTY", fine=REPORTED["fine"], coarse_confidence=0.4, fine_confidence=0.06,
            scores={"alternatives": [
                {"coarse": label.split(":")[0], "fine": label, "confidence": value}
                for label, value in REPORTED["alternatives"]
            ]},
        )
    )
    assert result["confident"] is False
    summary = doubt_summary(result)
    assert [(c["label"], c["percent"]) for c in summary["named"]] == [
        ("DESC:manner", "27%"),
        ("ENTY:techmeth", "6%"),
    ]
    assert summary["most"] == "27%" and summary["outranked"] is True
    assert summary["coarse_percent"] == "40%"


def test_a_plain_guess_names_the_answer_then_the_runner_up(client, db):
    query = stored(
        db, "DESC:def", 0.28, 0.34, [("NUM:other", 0.19), ("ENTY:other", 0.08)]
    )
    sentence = sentence_of(client.get(f"/q/{query.token}").get_data(as_text=True))
    assert sentence == (
        "Not sure: maybe Definition (DESC:def, 28%) or Other number (NUM:other, 19%). "
        "The model gives no fine class more than 28% here."
    )


def test_equal_shown_numbers_name_the_answer_first_and_claim_no_lead(client, db):
    query = stored(db, "HUM:ind", 0.2701, 0.5, [("LOC:other", 0.2704), ("HUM:gr", 0.2)])
    sentence = sentence_of(client.get(f"/q/{query.token}").get_data(as_text=True))
    assert sentence.startswith("Not sure: maybe Individual (HUM:ind, 27%) or Other location")
    assert "no fine class more than 27%" in sentence and "all the same" not in sentence


@pytest.mark.parametrize(
    "confidence, alternatives, confident",
    [
        (0.45, [0.30], True),
        (0.39, [0.30], False),  # under UNSURE_BELOW
        (0.45, [0.47], False),  # another class gets more: the answer is no answer
        (1.0, [0.6], True),  # a reviewed label served as such, beside the model's old answer
    ],
)
def test_confident_only_when_the_answer_also_leads(confidence, alternatives, confident):
    assert is_confident(confidence, [{"confidence": value} for value in alternatives]) is confident


def test_the_api_says_not_confident_when_the_answer_trails(client, db):
    query = stored(db, "ENTY:other", 0.45, 0.5, [("HUM:ind", 0.47)])
    body = client.get(f"/api/v1/queries/{query.token}").get_json()
    assert body["prediction"]["confident"] is False
    html = client.get(f"/q/{query.token}").get_data(as_text=True)
    assert "no fine class more than 47%" in sentence_of(html)
