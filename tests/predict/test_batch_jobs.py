"""A batch file posted without JavaScript: classified a slice per page load, never at once."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import func, select, update

from qcapp.models import BatchJob, BatchPart, Query, utcnow
from qcapp.services.serving.batch_jobs import PART_ROWS

from helpers import batch_result, csrf_token_from

QUESTIONS = ["Who wrote Hamlet?", "How far is the Moon?", "What is a tsunami?"]


def post_file(client, text: str, filename: str = "q.txt"):
    token = csrf_token_from(client.get("/batch").get_data(as_text=True))
    return client.post(
        "/batch",
        data={"file": (io.BytesIO(text.encode()), filename), "csrf_token": token},
        content_type="multipart/form-data",
    )


def stored(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Query))


def test_each_page_load_classifies_one_slice_until_the_file_is_done(client, db, model_version):
    rows = (QUESTIONS * 300)[: 2 * PART_ROWS + 10] + ["", "¿Dónde está la biblioteca?"]
    posted = post_file(client, "\n".join(rows) + "\n")
    assert posted.status_code == 303 and stored(db) == 0  # the upload itself classifies nothing
    page = posted.headers["Location"]

    first = client.get(page).get_data(as_text=True)
    assert stored(db) == PART_ROWS
    assert 'http-equiv="refresh"' in first and f"{PART_ROWS:,} of {len(rows):,} rows" in first
    early = client.get(page + "/labels.csv")
    assert early.status_code == 303  # not done yet: back to the page
    client.get(page)
    done = client.get(page).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in done and "Download the labelled CSV" in done
    assert stored(db) == len(rows) - 1  # the empty row is skipped, every other row stored once
    assert "line 511: empty row, skipped" in done
    assert "line 512: not an English question" in done

    again = client.get(page).get_data(as_text=True)  # a finished job classifies nothing more
    assert stored(db) == len(rows) - 1 and "Download" in again
    labelled = list(csv.DictReader(io.StringIO(client.get(page + "/labels.csv").get_data(
        as_text=True))))
    assert len(labelled) == len(rows)
    assert [row["question"] for row in labelled] == rows
    assert labelled[0]["fine"] and labelled[0]["query_url"].startswith("/q/")
    assert labelled[-2]["error"] == "line 511: empty row, skipped"


def test_a_slice_another_request_is_classifying_is_left_to_it(client, db, model_version):
    posted = post_file(client, "\n".join(QUESTIONS * PART_ROWS) + "\n")
    job = db.session.scalar(select(BatchJob))
    # Another load of the page has claimed the first slice and is classifying it.
    db.session.execute(update(BatchPart).where(BatchPart.position == 0).values(claimed_at=utcnow()))
    db.session.commit()
    client.get(posted.headers["Location"])
    parts = db.session.scalars(select(BatchPart).order_by(BatchPart.position)).all()
    assert parts[0].output is None and parts[1].output is not None
    assert stored(db) == PART_ROWS
    # A claim whose request died (its worker killed) is taken again after a minute.
    db.session.execute(
        update(BatchPart).where(BatchPart.position == 0)
        .values(claimed_at=utcnow() - timedelta(minutes=2))
    )
    db.session.commit()
    client.get(posted.headers["Location"])
    db.session.expire_all()
    assert db.session.get(BatchPart, parts[0].id).output is not None
    assert job.total_rows == 3 * PART_ROWS


def test_the_whole_file_comes_back_as_the_javascript_page_gives_it(client, db, model_version):
    upload = "id,question,topic\n7,Who was Galileo?,science\n8,=cmd|' /C calc'!A0,x\n"
    labelled = batch_result(client, post_file(client, upload, "questions.csv"))
    assert labelled.mimetype == "text/csv"
    text = labelled.get_data(as_text=True)
    assert text.splitlines()[0].startswith("id,question,topic,coarse,coarse_name")
    assert "'=cmd" in text


def test_unknown_and_old_jobs_are_not_found(client, db, model_version):
    assert client.get("/batch/" + "A" * 24).status_code == 404
    assert client.get("/batch/not a token").status_code == 404
    assert client.get("/batch/" + "A" * 24 + "/labels.csv").status_code == 404
    old = post_file(client, "Who wrote Hamlet?\n").headers["Location"]
    db.session.execute(update(BatchJob).values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    post_file(client, "How far is the Moon?\n")  # each upload clears jobs older than a day
    assert client.get(old).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(BatchPart)) == 1
