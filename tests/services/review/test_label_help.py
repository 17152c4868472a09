"""Label help: definitions and typical questions in the labels API and the correction form."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import qcapp.services.review.label_help as label_help
from qcapp.models import Example
from qcapp.services.data.datasets import import_dataset
from training.quality.typical import typical_questions

from openapi_check import validate_against

LINES = [
    "HUM:ind Who invented the telephone ?",
    "HUM:ind Who invented the radio ?",
    "HUM:ind Who invented the bicycle ?",
    "HUM:ind Who was the first person to sail alone around the world ?",
    "LOC:city What city is the Eiffel Tower in ?",
    "LOC:city What city is the Golden Gate Bridge in ?",
    "LOC:city What city hosted the 1900 Olympics ?",
    "NUM:date When was the telephone invented ?",
    "NUM:date When was the radio invented ?",
    "ENTY:other What is <b>bold</b> & <script>alert(1)</script> ?",
]


def import_lines(tmp_path, lines, name="small"):
    path = tmp_path / f"{name}.label"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return import_dataset(path, name)[0]


def test_typical_questions_are_the_central_ones():
    texts = [line.split(" ", 1)[1] for line in LINES]
    labels = [line.split(" ", 1)[0] for line in LINES]
    typical = typical_questions(texts, labels, per_class=2)
    assert set(typical) == set(labels)
    assert "Who was the first person to sail alone around the world ?" not in typical["HUM:ind"]
    assert len(typical["HUM:ind"]) == 2
    for label, questions in typical.items():
        assert all(labels[texts.index(q)] == label for q in questions)
    assert typical_questions([], []) == {}


def test_labels_api_gives_definitions_and_examples_of_each_class(client, db, tmp_path):
    import_lines(tmp_path, LINES)
    spec = client.get("/api/v1/openapi.json").get_json()
    body = client.get("/api/v1/labels").get_json()
    validate_against(spec, "Taxonomy", body)
    labelled = {e.text: e.fine for e in db.session.scalars(select(Example))}
    fine = {f["label"]: f for c in body["labels"] for f in c["fine"]}
    assert fine["HUM:ind"]["definition"] == "A single named person."
    assert 1 <= len(fine["HUM:ind"]["examples"]) <= 3
    for label, item in fine.items():
        for example in item["examples"]:
            assert labelled[example.replace("?", " ?")] == label  # shown untokenised
    assert fine["NUM:code"]["examples"] == []  # no training question of that class
    coarse = {c["label"]: c for c in body["labels"]}
    assert all(q.startswith(("When", "How")) for q in coarse["NUM"]["examples"])


def test_labels_api_without_a_dataset(client, db):
    spec = client.get("/api/v1/openapi.json").get_json()
    body = client.get("/api/v1/labels").get_json()
    validate_against(spec, "Taxonomy", body)
    assert all(f["examples"] == [] for c in body["labels"] for f in c["fine"])


def test_cached_until_the_active_dataset_changes(client, db, tmp_path, monkeypatch):
    calls = []
    original = label_help.typical_questions
    monkeypatch.setattr(
        label_help, "typical_questions", lambda *a, **k: calls.append(1) or original(*a, **k)
    )

    def city_examples():
        body = client.get("/api/v1/labels").get_json()
        return next(f for c in body["labels"] for f in c["fine"] if f["label"] == "LOC:city")[
            "examples"
        ]

    import_lines(tmp_path, LINES)
    assert "What city is the Eiffel Tower in?" in city_examples()
    city_examples()
    assert len(calls) == 2  # fine and coarse, once for both requests

    import_lines(tmp_path, ["LOC:city What city is Big Ben in ?", "HUM:ind Who wrote Dune ?"], "b")
    assert city_examples() == ["What city is Big Ben in?"]
    assert len(calls) == 4

    example = db.session.scalar(select(Example).where(Example.text.like("Who wrote%")))
    example.coarse, example.fine = "LOC", "LOC:city"  # as a relabel would
    db.session.commit()
    assert "Who wrote Dune?" in city_examples()


@pytest.mark.usefixtures("model_version")
def test_correction_form_shows_help_escaped(client, db, tmp_path):
    import_lines(tmp_path, LINES)
    body = client.post("/api/v1/classify", json={"question": "Who invented the piano?"}).get_json()
    html = client.get(f"/q/{body['id']}").get_data(as_text=True)
    # One help block per fine class; only the selected class's is shown.
    assert html.count("data-help-for=") == 50
    assert html.count("data-help-for=") - html.count(" hidden>") <= 1
    assert "A single named person." in html
    assert "<li>Who invented the telephone?</li>" in html
    assert "<script>alert(1)</script>" not in html and "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_labels_still_served_when_the_database_fails(app, client, db, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def broken():
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(label_help, "dataset_state", broken)
    response = client.get("/api/v1/labels")
    assert response.status_code == 200
    assert all(f["examples"] == [] for c in response.get_json()["labels"] for f in c["fine"])
