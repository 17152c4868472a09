"""The home page, the classify form and the result page."""

import io
import re

import pytest
from sqlalchemy import func, select

from qcapp.models import Prediction, Query

from helpers import batch_result, csrf_token_from


def count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Query))


@pytest.fixture
def csrf_client(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app.test_client()


def post_question(client, question, with_token=True):
    data = {"question": question}
    if with_token:
        data["csrf_token"] = csrf_token_from(client.get("/").get_data(as_text=True))
    return client.post("/classify", data=data)


def test_home_page(client):
    html = client.get("/").get_data(as_text=True)
    assert "What kind of answer does a question expect?" in html
    assert 'name="question"' in html and 'for="question"' in html
    assert "Which city hosted the 2012 Summer Olympics?" in html  # an example to click
    assert "LOC:city" in html and "Abbreviation" in html  # the taxonomy


def test_taxonomy_page_lists_every_class(client):
    html = client.get("/taxonomy").get_data(as_text=True)
    from training.taxonomy import FINE_LABELS

    assert all(label in html for label in FINE_LABELS)


def test_classify_redirects_to_result(csrf_client, db, model_version):
    response = post_question(csrf_client, "Who was Galileo?")
    assert response.status_code == 303
    result = csrf_client.get(response.headers["Location"])
    html = result.get_data(as_text=True)
    assert result.status_code == 200
    assert "Human" in html and "HUM" in html
    assert 'class="bar-fill"' in html  # confidence bars
    assert "<mark" in html  # highlighted words
    assert "test-quick" in html
    # Alternatives under 1% are left out of the list.
    for alternative in db.session.scalar(select(Prediction.scores))["alternatives"]:
        listed = f"<li><code>{alternative['fine']}</code>" in html
        assert listed == (alternative["confidence"] >= 0.01), alternative
    assert count(db) == 1
    assert db.session.scalar(select(Query.source)) == "web"


def test_example_buttons_post_with_csrf(csrf_client, model_version):
    html = csrf_client.get("/").get_data(as_text=True)
    assert html.count('<button type="submit" class="example">') == 8
    assert html.count('name="csrf_token"') >= 9


def test_classify_without_csrf_is_refused(csrf_client, db, model_version):
    response = post_question(csrf_client, "Who was Galileo?", with_token=False)
    assert response.status_code == 400
    assert count(db) == 0


@pytest.mark.parametrize(
    "question, message",
    [
        ("", "Please type a question."),
        ("   ", "Please type a question."),
        ("y" * 501, "at most 500 characters"),
    ],
)
def test_bad_question_shows_form_again(csrf_client, db, model_version, question, message):
    response = post_question(csrf_client, question)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and 'aria-invalid="true"' in html
    assert count(db) == 0


def test_question_box_counts_to_the_servers_limit_and_cuts_nothing(csrf_client, db):
    html = csrf_client.get("/").get_data(as_text=True)
    box = re.search(r"<textarea id=\"question\"[^>]*>", html).group()
    # A maxlength would make the browser drop the end of a longer paste without a word.
    assert "maxlength" not in box
    assert 'data-limit="500"' in box
    assert 'data-spaces="\\u0009-\\u000d"' in box and "data-removed=" in box
    assert "data-stripped=" in box
    assert "Up to 500 characters." in html  # what the page says without JavaScript


def test_over_long_question_is_refused_with_its_text_kept(csrf_client, db, model_version):
    question = ("Which of the rivers of Europe " * 40)[:1000]
    response = post_question(csrf_client, question)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert (
        '<p class="field-error" id="question-error" role="alert">A question may be at most 500 '
        "characters long; this one has 1000.</p>"
    ) in html
    textarea = html.split('<textarea id="question"')[1].split("</textarea>")[0]
    assert 'aria-invalid="true"' in textarea
    assert textarea.endswith(">" + question)  # all of it, for the visitor to shorten
    assert count(db) == 0
    # The API refuses the very same text with the same words.
    api = csrf_client.post("/api/v1/classify", json={"question": question})
    assert api.status_code == 400
    assert api.get_json()["error"] == {
        "code": "question_too_long",
        "message": "A question may be at most 500 characters long; this one has 1000.",
    }
    assert count(db) == 0


def test_one_length_setting_rules_the_page_the_api_and_batch_files(app, db, model_version):
    app.config["QUESTION_MAX_LENGTH"] = 40
    client = app.test_client()
    assert 'data-limit="40"' in client.get("/").get_data(as_text=True)
    question = "Which river flows through Vienna and Budapest?"  # 46 characters
    message = "A question may be at most 40 characters long; this one has 46."
    page = post_question(client, question)
    assert page.status_code == 400 and message in page.get_data(as_text=True)
    api = client.post("/api/v1/classify", json={"question": question})
    assert api.get_json()["error"]["message"] == message
    parsed = upload(client, f"Who wrote Hamlet?\n{question}\n".encode(), "q.txt", "/batch/parse")
    assert [row["error"] for row in parsed.get_json()["rows"]] == [None, message]
    rows = read_output(upload(client, f"Who wrote Hamlet?\n{question}\n".encode(), "q.txt"))
    assert rows[1]["error"] == f"line 2: {message}" and rows[1]["fine"] == ""
    assert count(db) == 1  # only the short one


def test_markup_is_escaped_on_result_page(client, db, model_version):
    body = client.post(
        "/api/v1/classify", json={"question": "<script>alert(1)</script> Who?"}
    ).get_json()
    html = client.get(f"/q/{body['id']}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_unknown_result_is_404(client):
    assert client.get("/q/424242", headers={"Accept": "text/html"}).status_code == 404


def test_result_page_without_model_is_503_page(csrf_client, db):
    response = post_question(csrf_client, "Who?")
    assert response.status_code == 503
    assert "No model version is active" in response.get_data(as_text=True)


def upload(client, content: bytes, filename: str, path: str = "/batch"):
    """Post a file as the form does; a file the no-JavaScript form accepts comes back as the
    labelled CSV its batch job produced."""
    token = csrf_token_from(client.get("/batch").get_data(as_text=True))
    posted = client.post(
        path,
        data={"file": (io.BytesIO(content), filename), "csrf_token": token},
        content_type="multipart/form-data",
    )
    if path == "/batch" and posted.status_code == 303:
        return batch_result(client, posted)
    return posted


def read_output(response) -> list[dict]:
    import csv

    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_batch_upload_keeps_every_column_and_reports_skipped_rows(client, db, model_version):
    upload_text = (
        "id,question,topic\n7,Who was Galileo?,science\n8,=cmd|' /C calc'!A0,x\n"
        ",,\n9,How far is Paris?,travel\n10,,no question\n"
    )
    response = upload(client, upload_text.encode(), "questions.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header = response.get_data(as_text=True).splitlines()[0]
    assert header.startswith("id,question,topic,coarse,coarse_name")
    rows = read_output(response)
    assert [row["id"] for row in rows] == ["7", "8", "", "9", "10"]  # every row, in order
    assert rows[0]["topic"] == "science" and rows[0]["fine"].startswith("HUM:")
    assert rows[0]["query_url"].startswith("/q/") and rows[0]["in_scope"] == "true"
    assert rows[1]["question"].startswith("'=cmd")  # formula neutralised
    assert rows[2]["error"] == "line 4: empty row, skipped"
    assert rows[4]["error"] == "line 6: no question in this row, skipped"
    assert count(db) == 3


def test_batch_result_names_never_overwrite_the_uploads(client, db, model_version):
    response = upload(client, b"question,fine\nWhere is Rome?,mine\n", "q.csv")
    rows = read_output(response)
    assert rows[0]["fine"] == "mine" and rows[0]["qc_fine"].startswith("LOC:")


def test_batch_text_file_and_per_row_errors(client, db, model_version):
    upload_text = "Who was Galileo?\n" + "z" * 600 + "\n\nWhat is a tsunami?\n¿Qué hora es?\n"
    response = upload(client, upload_text.encode(), "q.txt")
    rows = read_output(response)
    assert [row["question"][:5] for row in rows] == ["Who w", "zzzzz", "", "What ", "¿Qué "]
    assert rows[1]["error"].startswith("line 2: A question may be at most 500 characters")
    assert rows[2]["error"] == "line 3: empty row, skipped"
    assert rows[4]["error"].startswith("line 5: not an English question")
    assert rows[4]["fine"] == "" and rows[4]["in_scope"] == "false"
    assert count(db) == 3  # the out-of-scope question is stored too


def test_batch_csv_rows_spanning_lines_keep_their_first_line(client, db, model_version):
    upload_text = 'question,id\n"Who wrote\nHamlet?",1\n,2\n'
    rows = read_output(upload(client, upload_text.encode(), "q.csv"))
    assert rows[1]["error"] == "line 4: no question in this row, skipped"


@pytest.mark.parametrize(
    "content, filename, message",
    [
        (b"\xff\xfe\x00W\x00h", "bad.txt", "not UTF-8"),
        (b"", "bad.txt", "no questions"),
        (b"\n\n", "bad.csv", "no questions"),
        (("q\n" * 10_001).encode(), "bad.txt", "more than 10,000"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "picture.txt", "This is a PNG image"),
        (b"\x89PNG\r\n\x1a\n", "picture.png", "Only .csv and .txt files are accepted"),
        (b"PK\x03\x04", "sheet.xlsx", "this is an xlsx file"),
        (b"%PDF", "paper.pdf", "this is a pdf file"),
        (b"\x00", "notes.odt", "this is an odt file"),
        (b"Who?", "questions", "a file without an extension"),
    ],
)
def test_batch_bad_files(client, db, model_version, content, filename, message):
    response = upload(client, content, filename, "/batch")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(db) == 0
    parsed = upload(client, content, filename, "/batch/parse")
    assert parsed.status_code == 400 and message in parsed.get_json()["error"]["message"]


def test_batch_upload_larger_than_other_bodies(client, db, model_version):
    big = ("Where is Rome?\n" * 80_000).encode()  # 1.2 MB: over the 1 MiB body limit elsewhere
    response = upload(client, big, "big.txt", "/batch/parse")
    assert response.status_code == 400
    assert "more than 10,000 rows" in response.get_json()["error"]["message"]


def test_batch_without_file(client, db, model_version):
    token = csrf_token_from(client.get("/batch").get_data(as_text=True))
    response = client.post("/batch", data={"csrf_token": token})
    assert response.status_code == 400 and "Choose a file" in response.get_data(as_text=True)


def test_batch_parse_for_progressive_page(client, db):
    response = upload(client, b"Who?\n\nWhy?\n", "q.txt", "/batch/parse")
    body = response.get_json()
    assert body["columns"] == ["question"]
    assert body["output_columns"][:2] == ["question", "coarse"]
    assert body["rows"] == [
        {"line": 1, "cells": ["Who?"], "question": "Who?", "error": None},
        {"line": 2, "cells": [""], "question": "", "error": "empty row, skipped"},
        {"line": 3, "cells": ["Why?"], "question": "Why?", "error": None},
    ]
    assert count(db) == 0


def test_batch_page(client):
    html = client.get("/batch").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and "batch.js" in html
