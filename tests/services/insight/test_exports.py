"""CSV exports of the history and the training set: content, safety, streaming, access."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from qcapp.models import AuditEvent, Correction, Dataset, Example, ModelVersion, Prediction, Query
from qcapp.services.data.merge import is_held_out
from qcapp.services.insight.history import HISTORY_COLUMNS, TRAINING_COLUMNS, history_rows

HISTORY_URL = "/admin/export/history.csv"
TRAINING_URL = "/admin/export/training-set.csv"


def add_query(db, text, fine=None, corrections=(), version=None, source="web"):
    query = Query(text=text, normalized=text.lower(), source=source)
    if fine:
        query.prediction = Prediction(
            coarse=fine.split(":")[0],
            fine=fine,
            coarse_confidence=0.75,
            fine_confidence=0.5,
            model_version=version,
        )
    for corrected, status in corrections:
        query.corrections.append(
            Correction(coarse=corrected.split(":")[0], fine=corrected, status=status)
        )
    db.session.add(query)
    db.session.commit()
    return query


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def stored(db):
    version = ModelVersion(version="v1", artifact_path="-", artifact_sha256="-")
    db.session.add(version)
    galileo = add_query(db, "Who was Galileo?", "HUM:ind", version=version)
    kyoto = add_query(
        db,
        "Where is Kyoto?",
        "HUM:ind",
        [("LOC:city", "approved"), ("LOC:other", "rejected")],
        version=version,
    )
    formula = add_query(db, '=HYPERLINK("http://evil.example","x")', "DESC:def", source="api")
    hostile = add_query(db, "<script>alert(1)</script>", None, [("HUM:ind", "pending")])
    dataset = Dataset(name="base", is_active=True, rows=2)
    db.session.add(dataset)
    db.session.add_all(
        [
            Example(dataset=dataset, text="What is a comet?", normalized="what is a comet",
                    coarse="DESC", fine="DESC:def"),
            Example(dataset=dataset, text="What is a comet ?", normalized="what is a comet",
                    coarse="DESC", fine="DESC:def"),
            Example(dataset=dataset, text="@SUM(A1:A3)", normalized="@sum(a1:a3)",
                    coarse="NUM", fine="NUM:count"),
            # The approved correction of the same question replaces this base label.
            Example(dataset=dataset, text="Where is Kyoto ?", normalized="where is kyoto?",
                    coarse="LOC", fine="LOC:other"),
            Example(dataset=Dataset(name="old"), text="Not exported", normalized="z",
                    coarse="HUM", fine="HUM:ind"),
        ]
    )  # fmt: skip
    db.session.commit()
    return {"galileo": galileo, "kyoto": kyoto, "formula": formula, "hostile": hostile}


def test_history_has_one_row_per_query_with_predictions_and_corrections(admin_client, stored):
    response = admin_client.get(HISTORY_URL)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.get_data(as_text=True).splitlines()[0] == ",".join(HISTORY_COLUMNS)
    rows = read_csv(response)
    assert [int(row["id"]) for row in rows] == [q.id for q in stored.values()]
    kyoto = rows[1]
    assert kyoto["question"] == "Where is Kyoto?" and kyoto["source"] == "web"
    assert (kyoto["coarse"], kyoto["fine"], kyoto["model_version"]) == ("HUM", "HUM:ind", "v1")
    assert float(kyoto["coarse_confidence"]) == 0.75 and float(kyoto["fine_confidence"]) == 0.5
    assert kyoto["corrections"] == "approved:LOC/LOC:city; rejected:LOC/LOC:other"
    assert kyoto["created_at"].startswith(str(stored["kyoto"].created_at.year))
    assert rows[0]["corrections"] == ""
    # A question with no stored prediction still gets its row.
    assert rows[3]["question"] == "<script>alert(1)</script>" and rows[3]["coarse"] == ""
    assert rows[3]["corrections"] == "pending:HUM/HUM:ind"


def test_formulas_are_neutralised(admin_client, stored):
    history = read_csv(admin_client.get(HISTORY_URL))
    assert history[2]["question"] == "'" + '=HYPERLINK("http://evil.example","x")'
    training = read_csv(admin_client.get(TRAINING_URL))
    assert "'@SUM(A1:A3)" in [row["text"] for row in training]
    cells = [cell for row in history + training for cell in row.values()]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


def test_training_set_is_the_merged_set_the_next_retrain_uses(admin_client, stored):
    response = admin_client.get(TRAINING_URL)
    assert response.get_data(as_text=True).splitlines()[0] == ",".join(TRAINING_COLUMNS)
    rows = [tuple(row.values()) for row in read_csv(response)]
    split = {
        text: "held_out" if is_held_out(normalized) else "train"
        for text, normalized in (("What is a comet?", "what is a comet"),
                                 ("'@SUM(A1:A3)", "@sum(a1:a3)"))
    }  # fmt: skip
    expected = [
        ("What is a comet?", "DESC", "DESC:def", "base", split["What is a comet?"]),
        ("'@SUM(A1:A3)", "NUM", "NUM:count", "base", split["'@SUM(A1:A3)"]),
        # The correction replaced the base row of the same question and always trains.
        ("Where is Kyoto?", "LOC", "LOC:city", "correction", "train"),
    ]
    assert sorted(rows) == sorted(expected)  # the duplicate comet and the old label are gone
    assert [row[4] for row in rows] == sorted(row[4] for row in rows)[::-1]  # train first


def test_exports_are_streamed_and_audited(admin_client, stored, db):
    for url in (HISTORY_URL, TRAINING_URL):
        response = admin_client.get(url)
        assert response.is_streamed
        assert response.headers["Cache-Control"] == "no-store"
        response.close()
    exports = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert [event.target_id for event in exports] == ["history", "training-set"]
    assert all(event.actor == "admin" for event in exports)


def test_history_reads_in_batches(app, stored):
    with app.app_context():
        rows = list(history_rows(batch_size=1))
    assert [row[0] for row in rows] == [q.id for q in stored.values()]


@pytest.mark.parametrize("url", [HISTORY_URL, TRAINING_URL])
def test_anonymous_export_gets_no_data(client, stored, url):
    page = client.get(url, headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=")
    api = client.get(url, headers={"Accept": "application/json"})
    assert api.status_code == 401
    for response in (page, api):
        assert response.mimetype != "text/csv" and "Kyoto" not in response.get_data(as_text=True)
