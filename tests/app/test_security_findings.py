"""Findings 6 to 8, each written as the attack: what used to be a 500 or a quiet acceptance."""

import csv
import io
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from qcapp.models import Correction, Example, Query, TrainingRun
from qcapp.services.serving.batch import neutralise_cell
from qcapp.services.serving.user_text import reveal_hidden

from helpers import batch_result, csrf_token_from, stored_query

BIG = "9223372036854775808"


def classify(client, question="Who wrote Hamlet?"):
    return client.post("/api/v1/classify", json={"question": question})


# --- 6: the two 500s ---------------------------------------------------------------------


def test_lone_surrogate_in_a_note_is_a_400(client, db, model_version):
    token = classify(client).get_json()["id"]
    body = '{"coarse":"HUM","fine":"HUM:ind","note":"x\\ud800y"}'
    response = client.post(
        f"/api/v1/queries/{token}/corrections", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == {
        "code": "invalid_text",
        "message": "The note is not valid Unicode text.",
    }
    assert db.session.scalar(select(Correction.id)) is None


@pytest.mark.parametrize(
    "url",
    [
        "/admin/queries/",
        "/admin/corrections/",
        "/admin/examples/",
        "/admin/audit/",
        "/admin/review/",
        "/admin/label-issues/",
    ],
)
@pytest.mark.parametrize("page", [BIG, "-1", "two", "1e9"])
def test_absurd_page_on_an_admin_list_is_a_400(admin_client, url, page):
    response = admin_client.get(f"{url}?page={page}", headers={"Accept": "text/html"})
    assert response.status_code == 400
    assert "The page must be a whole number" in response.get_data(as_text=True)
    assert admin_client.get(f"{url}?page=2").status_code == 200  # past the end: an empty page


# --- 7: the contract -----------------------------------------------------------------------


def test_times_are_rfc3339_with_an_offset(client, db, model_version):
    token = classify(client).get_json()["id"]
    correction = client.post(
        f"/api/v1/queries/{token}/corrections", json={"coarse": "HUM", "fine": "HUM:ind"}
    ).get_json()
    stored = client.get(f"/api/v1/queries/{token}").get_json()
    for value in (
        correction["created_at"],
        stored["created_at"],
        stored["corrections"][0]["created_at"],
    ):
        assert value.endswith("+00:00") and "T" in value, value


def test_null_note_is_accepted_as_the_schema_says(client, db, model_version):
    spec = client.get("/api/v1/openapi.json").get_json()
    note_schema = spec["components"]["schemas"]["CorrectionRequest"]["properties"]["note"]
    assert note_schema["type"] == ["string", "null"]
    token = classify(client).get_json()["id"]
    for note in (None, "", "   "):
        response = client.post(
            f"/api/v1/queries/{token}/corrections",
            json={"coarse": "HUM", "fine": "HUM:ind", "note": note},
        )
        assert response.status_code == 201
    # One client's later answers on a query replace its earlier one: one row, its note empty.
    assert db.session.scalars(select(Correction.note)).all() == [None]
    too_long = client.post(
        f"/api/v1/queries/{token}/corrections",
        json={"coarse": "HUM", "fine": "HUM:ind", "note": "x" * 1001},
    )
    assert too_long.status_code == 400


# --- 8: the smaller ones -------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "\u200b\u200b\u200b",
        "\u200b \u200c\u200d\ufeff",
        "\u2060\u3164\u115f",
        "\u202e\u200f",
        "\U000e0041\U000e0042",
    ],
)
def test_invisible_only_question_is_refused(client, db, model_version, question):
    response = classify(client, question)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] in {"invisible_question", "empty_question"}
    assert db.session.scalar(select(Query.id)) is None
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    page = client.post("/classify", data={"question": question, "csrf_token": token})
    assert page.status_code == 400 and db.session.scalar(select(Query.id)) is None


def test_the_schema_pattern_refuses_what_the_check_refuses(client):
    import re

    spec = client.get("/api/v1/openapi.json").get_json()
    pattern = spec["components"]["schemas"]["ClassifyRequest"]["oneOf"][0]["properties"][
        "question"
    ]["pattern"]
    assert not re.search(pattern, "\u200b\u3164 \ufeff\U000e0041")
    assert re.search(pattern, "\u200bWho?")


def test_bidi_overrides_are_removed_on_input(client, db, model_version):
    body = classify(client, "Who wrote \u202eteltmah\u202c the play?").get_json()
    assert body["question"] == "Who wrote teltmah the play?"
    assert stored_query(db, body["id"]).text == "Who wrote teltmah the play?"
    kept = classify(client, "Who is \u05d3\u05d5\u05d3\u200f?").get_json()  # a mark stays
    assert kept["question"] == "Who is \u05d3\u05d5\u05d3\u200f?"


def test_admin_lists_show_hidden_characters(admin_client, db):
    # Rows stored before the input rule, or imported with a dataset, may still hold them.
    db.session.add(Query(text="Invoice \u202egpj.exe\u202c for \u200bBob", normalized="x"))
    db.session.add(
        Example(text="Who\u2066 is\u2069 it?", normalized="y", coarse="HUM", fine="HUM:ind")
    )
    db.session.commit()
    queries = admin_client.get("/admin/queries/").get_data(as_text=True)
    assert "Invoice ⟦U+202E⟧gpj.exe⟦U+202C⟧ for ⟦U+200B⟧Bob" in queries
    assert "\u202e" not in queries
    examples = admin_client.get("/admin/examples/").get_data(as_text=True)
    assert "Who⟦U+2066⟧ is⟦U+2069⟧ it?" in examples
    assert reveal_hidden("plain text, with spaces") == "plain text, with spaces"


@pytest.mark.parametrize(
    "cell",
    [
        "=1+1",
        "\t=1+1",
        "  =1+1",
        "\u3000=1+1",
        "\n+1",
        "＝1+1",
        "＋1",
        "－1",
        "＠SUM(A1)",
        "@x",
        "-2",
    ],
)
def test_formula_guard_after_white_space_and_full_width_forms(cell):
    assert neutralise_cell(cell).startswith("'")


def test_formula_guard_leaves_ordinary_text_alone():
    assert neutralise_cell("Who wrote Hamlet?") == "Who wrote Hamlet?"
    assert neutralise_cell(" Who?") == " Who?"


def test_batch_csv_guards_a_formula_after_a_tab(client, db, model_version):
    token = csrf_token_from(client.get("/batch").get_data(as_text=True))
    upload = 'question\n\t=1+1 who?\n＝HYPERLINK("x") who?\n'
    response = batch_result(client, client.post(
        "/batch",
        data={"file": (io.BytesIO(upload.encode()), "q.csv"), "csrf_token": token},
        content_type="multipart/form-data",
    ))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["question"][0] for row in rows] == ["'", "'"]


@pytest.mark.parametrize(
    "url",
    ["/admin/", "/admin/queries/", "/admin/export/history.csv", "/account/password", "/login"],
)
def test_admin_pages_are_never_cached(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_visitor_pages_may_be_cached_as_before(client):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")


def test_redirects_never_name_the_request_host(client, admin_client):
    forged = {"Host": "evil.example"}
    for response in (
        client.get("/admin", headers=forged),
        client.get("/admin/", headers=forged),
        admin_client.get("/admin", headers=forged),
    ):
        assert response.status_code in (301, 302, 308)
        assert response.headers["Location"].startswith("/"), response.headers["Location"]
        assert "evil.example" not in response.headers["Location"]


def test_trusted_hosts_refuse_other_hosts(app_config):
    from qcapp import create_app

    app = create_app({**app_config, "TRUSTED_HOSTS": "qc.example.org, localhost"})
    client = app.test_client()
    refused = client.get("/admin", headers={"Host": "evil.example"})
    assert refused.status_code == 400 and "evil.example" not in refused.get_data(as_text=True)
    assert client.get("/api/v1/labels", headers={"Host": "evil.example"}).status_code == 400
    allowed = client.get("/admin", headers={"Host": "qc.example.org"})
    assert allowed.status_code == 308 and allowed.headers["Location"] == "/admin/"


@pytest.mark.parametrize(
    "target, expected",
    [
        ("//evil.example/", "/admin/"),
        ("/\\evil.example", "/admin/"),
        ("https://evil.example/", "/admin/"),
        ("/admin/queries/?page=1", "/admin/queries/?page=1"),
    ],
)
def test_login_next_goes_only_to_this_site(client, admin_user, target, expected):
    from helpers import ADMIN_PASSWORD, ADMIN_USERNAME

    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302 and response.headers["Location"] == expected


def _state_of(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]
    except OSError:
        return None  # gone: reaped


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_finished_training_process_is_reaped(app, db):
    from qcapp.runs.spawn import spawn_training_process

    run = TrainingRun(status="queued")
    db.session.add(run)
    db.session.commit()
    # The run is queued, not claimed, so the process finds nothing to do and ends quickly.
    pid = spawn_training_process(app, run.id + 1000)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _state_of(pid) not in (None, "Z"):
        time.sleep(0.2)
    time.sleep(0.5)  # the reaping thread's wait() returns right after the exit
    assert _state_of(pid) is None, "the finished training process is a zombie of this worker"


def test_review_queue_shows_hidden_characters(client, admin_client, db, model_version):
    query = Query(text="Pay \u202eevil\u202c now?", normalized="pay evil now")
    db.session.add(query)
    db.session.add(Correction(query=query, coarse="HUM", fine="HUM:ind", flags={}))
    db.session.commit()
    html = admin_client.get("/admin/review/").get_data(as_text=True)
    assert "Pay ⟦U+202E⟧evil⟦U+202C⟧ now?" in html and "\u202e" not in html
