"""On the model a new install serves first (`qc setup`: the starter dataset, quick settings), the
words of the result page, the API and the inbox agree with the numbers they show."""

from __future__ import annotations

import re
from html import unescape

import pytest

from qcapp.services.review.inbox import ranked_inbox

# Forty questions: plain ones, and vague ones the quick model guesses at, several of them where
# a class of another coarse class gets more than the answer ("the best way to ..." is one).
QUESTIONS = (
    # guesses
    "Which one?",
    "Name one.",
    "Which way?",
    "What is used for that?",
    "What is the other one?",
    "What comes next?",
    "What type of thing is it?",
    "What is the best way to learn French?",
    "What should I do?",
    "What would you choose?",
    "Which path is best?",
    "What is the best way to cook rice?",
    "What is the best way to save money?",
    "Which is the cheapest?",
    "Which of them?",
    "What helps with a cold?",
    # near the line
    "How come?",
    "Which is better?",
    "Tell me more.",
    "What is the way to get there?",
    "Which is the right one?",
    "What kind?",
    # plain
    "Who painted the Mona Lisa?",
    "What is the capital of Peru?",
    "How far is the Moon from the Earth?",
    "When did the Berlin Wall fall?",
    "What does NATO stand for?",
    "Why do cats purr?",
    "How do you make bread?",
    "What is the boiling point of water?",
    "Which river flows through Vienna?",
    "What language is spoken in Brazil?",
    "How many legs does a spider have?",
    "What is a kayak?",
    "What color is the sky?",
    "What sport does Messi play?",
    "Name a famous painter.",
    "What is the number?",
    "What is up with that?",
    "What is the easiest way to lose weight?",
)
BAR = r'<span class="bar-value">(\d+)%</span>'


@pytest.fixture
def setup_model(runner, db):
    """What `make run` trains first: `qc setup` on an empty instance."""
    result = runner.invoke(args=["qc", "setup"])
    assert result.exit_code == 0, result.output
    assert "Trained and activated model version" in result.output


def shown_numbers(html: str) -> tuple[tuple[str, int], tuple[str, int], dict[str, int]]:
    """The coarse card, the fine card and every fine class the page shows with its number."""
    coarse = re.search(
        r'id="coarse-label">.*?<span class="badge[^"]*">(\w+)</span>.*?' + BAR, html, re.S
    )
    fine = re.search(r'id="fine-label">.*?<code>([A-Z]+:\w+)</code>.*?' + BAR, html, re.S)
    listed = re.findall(r"<li><code>([A-Z]+:\w+)</code>.*?" + BAR, html, re.S)
    numbers = {fine[1]: int(fine[2]), **{label: int(value) for label, value in listed}}
    return (coarse[1], int(coarse[2])), (fine[1], int(fine[2])), numbers


def unsure_sentence(html: str) -> str | None:
    if 'id="unsure-message"' not in html:
        return None
    paragraph = html.split('id="unsure-message"')[1].split("</p>")[0].split(">", 1)[1]
    return " ".join(unescape(re.sub(r"<[^>]+>", "", paragraph)).split())


def check_page(question: str, html: str, api: dict) -> list[str]:
    """What the page and the API say that their numbers do not (an empty list: nothing)."""
    problems = []
    (coarse, coarse_shown), (answer, answer_shown), numbers = shown_numbers(html)
    prediction = api["prediction"]
    # The page shows the API's numbers.
    if (answer, coarse) != (prediction["fine"]["label"], prediction["coarse"]["label"]):
        problems.append(f"{question}: the page's labels are not the API's")
    for item in [prediction["fine"], *prediction["alternatives"]]:
        if item["label"] in numbers and numbers[item["label"]] != round(item["confidence"] * 100):
            problems.append(f"{question}: {item['label']} differs between the page and the API")
    top = max(numbers.values())
    sentence = unsure_sentence(html)
    if sentence is None:
        # Given as an answer: it must lead what is shown, and the API must agree.
        if answer_shown < top or not prediction["confident"] or answer_shown < 40:
            problems.append(f"{question}: answered {answer} at {answer_shown}% beside {numbers}")
        return problems
    if prediction["confident"]:
        problems.append(f"{question}: the page is not sure, the API is confident")
    named = re.findall(r"\(([A-Z]+:\w+)(?:, (\d+)%)?\)", sentence)
    claim = re.search(r"no (?:fine )?class more than (\d+)%", sentence)
    if not named or claim is None:
        return problems + [f"{question}: unreadable sentence {sentence!r}"]
    for label, value in named:
        if value and numbers.get(label) != int(value):
            problems.append(f"{question}: names {label} at {value}%, the page shows {numbers}")
    if numbers.get(named[0][0]) != top:
        problems.append(f"{question}: names {named[0][0]} first, but {top}% is shown")
    if int(claim[1]) != top or any(value > int(claim[1]) for value in numbers.values()):
        problems.append(f"{question}: claims no class above {claim[1]}% beside {numbers}")
    coarse_clause = re.search(r"its coarse class, (\w+) \(.*?\), gets (\d+)% in all", sentence)
    if (coarse_clause is not None) != (answer_shown < top):
        problems.append(f"{question}: explains the coarse class wrongly: {sentence!r}")
    if coarse_clause and (coarse_clause[1], int(coarse_clause[2])) != (coarse, coarse_shown):
        problems.append(f"{question}: the coarse class named is not the card's: {sentence!r}")
    return problems


def test_words_agree_with_the_numbers_on_the_setup_model(client, db, setup_model):
    problems, unsure, outranked = [], 0, 0
    for question in QUESTIONS:
        token = client.post("/api/v1/classify", json={"question": question}).get_json()["id"]
        html = client.get(f"/q/{token}").get_data(as_text=True)
        api = client.get(f"/api/v1/queries/{token}").get_json()
        problems += check_page(question, html, api)
        sentence = unsure_sentence(html)
        unsure += sentence is not None
        outranked += sentence is not None and "all the same" in sentence
    assert not problems, "\n".join(problems)
    # The questions do reach the cases in question (on this model, 16 and 8 of them).
    assert unsure >= 8 and outranked >= 3, (unsure, outranked)

    # The inbox's reasons, in the numbers its cards show (whole percentages).
    items, _total = ranked_inbox(limit=len(QUESTIONS))
    hesitations = 0
    for item in items:
        card = {item.model_label: round(item.confidence * 100)}
        card |= {a["fine"]: round(a["confidence"] * 100) for a in item.alternatives}
        for reason in item.reasons:
            if not reason.startswith("The model hesitates"):
                continue
            hesitations += 1
            lead = re.match(
                r"The model hesitates: (\S+) \((\d+)%\) leads (\S+) \((\d+)%\) by (\d+) points",
                reason,
            )
            tie = re.match(r"The model hesitates: (\S+) and (\S+) both get (\d+)%", reason)
            assert lead or tie, reason
            if tie:
                assert card[tie[1]] == card[tie[2]] == int(tie[3]), (reason, card)
                continue
            first, high, second, low, by = lead.groups()
            assert (card[first], card[second]) == (int(high), int(low)), (reason, card)
            assert int(high) >= int(low) and int(by) == int(high) - int(low), reason
            assert int(high) == max(card.values()), (reason, card)
            assert ("it answers" in reason) == (first != item.model_label), reason
    assert hesitations >= outranked, (hesitations, outranked)
