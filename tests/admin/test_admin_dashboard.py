"""The admin dashboard, its charts, the model views and ``qc seed-history``."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest
from sqlalchemy import event, func, select

from qcapp.admin import charts
from qcapp.models import AuditEvent, Correction, ModelVersion, Prediction, Query, User, utcnow
from qcapp.services.insight.stats import find_metric
from training import taxonomy

from helpers import csrf_token_from

HOSTILE = "<script>alert(1)</script>"
CHART_IDS = (
    "chart-queries-per-day",
    "chart-coarse-per-day",
    "chart-correction-rates",
    "chart-version-accuracy",
    "chart-confusion",
    "chart-reliability",
    "chart-corrections-per-class",
)
NEW_ADMIN_URLS = [
    "/admin/",
    "/admin/export/history.csv",
    "/admin/export/training-set.csv",
    "/admin/queries/?flt0_coarse_equals=HUM",
    "/admin/queries/details/?id=1",
    "/admin/examples/edit/?id=1",
    "/admin/users/",
    "/admin/audit/",
]


def store_query(db, text, fine, confidence=0.9, age=timedelta(0), version=None, corrections=()):
    """A query with its prediction and corrections, as (fine, status, kind) tuples."""
    query = Query(text=text, normalized=text.lower(), created_at=utcnow() - age, source="web")
    query.prediction = Prediction(
        coarse=fine.split(":")[0],
        fine=fine,
        coarse_confidence=confidence,
        fine_confidence=confidence * 0.9,
        model_version=version,
    )
    for corrected, status, kind in corrections:
        query.corrections.append(
            Correction(coarse=corrected.split(":")[0], fine=corrected, status=status, kind=kind)
        )
    db.session.add(query)
    db.session.commit()
    return query


def store_version(db, name, metrics, active=False):
    version = ModelVersion(
        version=name, artifact_path="-", artifact_sha256="-", metrics=metrics, status="retired"
    )
    if active:
        version.is_active, version.status = True, "active"
    db.session.add(version)
    db.session.commit()
    return version


@pytest.fixture
def history(db):
    old = store_version(db, "v-old", {"coarse_accuracy": 0.8, "fine_accuracy": 0.7})
    new = store_version(db, "v-new", {"held_out": {"coarse_accuracy": 0.9}}, active=True)
    store_query(db, "Who was Galileo?", "HUM:ind", 0.95, version=new)
    store_query(
        db,
        "Where is Kyoto?",
        "HUM:ind",
        0.41,
        version=new,
        corrections=[("LOC:city", "pending", "correction"), ("LOC:city", "approved", "correction")],
    )
    store_query(db, "How tall is K2?", "NUM:dist", 0.7, age=timedelta(days=3), version=old)
    store_query(
        db,
        "What is a comet?",
        "DESC:def",
        0.6,
        age=timedelta(days=40),
        version=old,
        corrections=[
            ("DESC:desc", "rejected", "correction"),
            ("DESC:def", "approved", "confirmation"),
        ],
    )
    return {"old": old, "new": new}


def test_dashboard_shows_totals_today_and_accuracy(admin_client, history):
    html = admin_client.get("/admin/").get_data(as_text=True)
    assert re.search(r'id="stat-queries">4<', html)
    assert re.search(r'id="today-queries">2 today<', html)
    assert re.search(r'id="stat-corrections_pending">1<', html)
    assert re.search(r'id="stat-corrections_approved">2<', html)
    # The active version keeps its accuracy nested; the dashboard still finds it.
    assert "v-new" in html and "coarse accuracy <strong>90.0%</strong>" in html
    assert 'href="/admin/export/history.csv"' in html
    assert 'href="/admin/export/training-set.csv"' in html


def test_dashboard_draws_every_chart_as_accessible_svg(admin_client, history):
    html = admin_client.get("/admin/").get_data(as_text=True)
    assert html.count("<svg") == len(CHART_IDS)
    for chart_id in CHART_IDS:
        assert f'id="{chart_id}"' in html and f'aria-labelledby="{chart_id}-title' in html
    assert html.count('<div class="sr-only"><table>') == len(CHART_IDS)
    for label in taxonomy.COARSE_LABELS:
        assert f">{label}</text>" in html
    # Two corrections of Kyoto over two HUM predictions; the rejected DESC one is left out.
    assert "100.0% (2 of 2)" in html and "0.0% (0 of 1)" in html
    assert "<title>predicted HUM, corrected to LOC: 2</title>" in html
    assert re.search(r"<code>HUM:ind</code></td><td><code>LOC:city</code></td><td>2<", html)
    assert "<title>v-old coarse accuracy: 80.0%</title>" in html


def test_dashboard_on_an_empty_database(admin_client):
    response = admin_client.get("/admin/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("<svg") == len(CHART_IDS)
    assert "No queries in this period." in html and "No corrections yet." in html


def test_hostile_text_is_escaped_on_every_page(admin_client, db):
    version = store_version(db, HOSTILE, {"coarse_accuracy": 0.5}, active=True)
    query = store_query(
        db, HOSTILE, "HUM:ind", version=version, corrections=[("LOC:city", "pending", "correction")]
    )
    pages = {
        "list": admin_client.get("/admin/queries/"),
        "details": admin_client.get(f"/admin/queries/details/?id={query.id}"),
        "search": admin_client.get("/admin/queries/?search=script"),
        "dashboard": admin_client.get("/admin/"),
    }
    for name, page in pages.items():
        html = page.get_data(as_text=True)
        assert page.status_code == 200, name
        assert HOSTILE not in html, name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, name


def test_charts_escape_their_labels():
    figure = charts.bar_chart("c", "Per <b>day</b>", ["<i>x</i>"], [3], "queries")
    assert "<i>" not in figure and "&lt;i&gt;x&lt;/i&gt;" in figure and "<b>" not in figure


@pytest.mark.parametrize("url", NEW_ADMIN_URLS)
def test_anonymous_gets_no_data(client, history, url):
    page = client.get(url, headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=")
    api = client.get(url, headers={"Accept": "application/json"})
    assert api.status_code == 401 and api.get_json()["error"]["code"] == "unauthorized"
    for response in (page, api):
        body = response.get_data(as_text=True)
        assert "Galileo" not in body and "v-new" not in body


def listed_ids(html: str) -> set[int]:
    return {int(value) for value in re.findall(r'name="rowid" value="(\d+)"', html)} or {
        int(value) for value in re.findall(r"/admin/queries/details/\?id=(\d+)", html)
    }


def test_queries_view_filters(admin_client, history):
    by_text = {q.text: q.id for q in history["new"].query.session.scalars(select(Query))}
    hum = admin_client.get("/admin/queries/?flt0_coarse_equals=HUM").get_data(as_text=True)
    assert listed_ids(hum) == {by_text["Who was Galileo?"], by_text["Where is Kyoto?"]}
    fine = admin_client.get("/admin/queries/?flt0_fine_equals=NUM:dist").get_data(as_text=True)
    assert listed_ids(fine) == {by_text["How tall is K2?"]}
    confident = admin_client.get(
        "/admin/queries/?flt0_confidence_greater_than=0.5&flt1_confidence_smaller_than=0.8"
    ).get_data(as_text=True)
    assert listed_ids(confident) == {by_text["How tall is K2?"], by_text["What is a comet?"]}
    old = admin_client.get("/admin/queries/?flt0_model_version_equals=v-old").get_data(as_text=True)
    assert listed_ids(old) == {by_text["How tall is K2?"], by_text["What is a comet?"]}
    found = admin_client.get("/admin/queries/?search=galileo").get_data(as_text=True)
    assert listed_ids(found) == {by_text["Who was Galileo?"]}


def test_queries_list_does_not_query_per_row(app, admin_client, db):
    for n in range(30):
        store_query(db, f"Question number {n}?", "HUM:ind")
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert admin_client.get("/admin/queries/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) < 10, f"{len(statements)} statements for one list page"


def test_details_show_prediction_and_corrections(admin_client, history, db):
    kyoto = db.session.scalar(select(Query).where(Query.text == "Where is Kyoto?"))
    html = admin_client.get(f"/admin/queries/details/?id={kyoto.id}").get_data(as_text=True)
    assert "pending:LOC/LOC:city; approved:LOC/LOC:city" in html and "v-new" in html


def test_users_view_never_shows_password_hash(admin_client, db):
    user = db.session.scalar(select(User))
    for url in ("/admin/users/", f"/admin/users/{user.id}"):
        html = admin_client.get(url).get_data(as_text=True)
        assert user.username in html
        assert user.password_hash not in html and "scrypt:" not in html


def test_example_edits_are_audited(admin_client, db):
    form = admin_client.get("/admin/examples/new/").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(form), "text": "Who wrote Hamlet?", "coarse": "HUM"}
    refused = admin_client.post("/admin/examples/new/", data={**data, "fine": "LOC:city"})
    assert refused.status_code == 200 and "not a fine class of HUM" in refused.get_data(
        as_text=True
    )
    assert (
        admin_client.post("/admin/examples/new/", data={**data, "fine": "HUM:ind"}).status_code
        == 302
    )
    created = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "example_created"))
    assert created.actor == "admin" and created.details["fine"] == "HUM:ind"
    example_id = int(created.target_id)
    edit = admin_client.get(f"/admin/examples/edit/?id={example_id}").get_data(as_text=True)
    admin_client.post(
        f"/admin/examples/edit/?id={example_id}",
        data={**data, "csrf_token": csrf_token_from(edit), "fine": "HUM:gr"},
    )
    edited = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "example_edited"))
    assert edited.target_id == str(example_id) and edited.details["before"] == {"fine": "HUM:ind"}
    audit = admin_client.get("/admin/audit/?search=" + str(example_id)).get_data(as_text=True)
    assert "example_edited" in audit


def test_find_metric_looks_into_nested_dicts():
    assert find_metric({"a": {"fine_accuracy": 0.5}}, "fine_accuracy") == 0.5
    assert find_metric({"coarse_accuracy": "n/a"}, "coarse_accuracy") is None
    assert find_metric(None, "coarse_accuracy") is None


def test_seed_history_creates_exactly_n_queries(runner, db):
    result = runner.invoke(args=["qc", "seed-history", "1234", "--days", "5", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "Inserted 1,234 queries" in result.output
    assert db.session.scalar(select(func.count()).select_from(Query)) == 1234
    assert db.session.scalar(select(func.count()).select_from(Prediction)) == 1234
    oldest = db.session.scalar(select(func.min(Query.created_at)))
    if oldest.tzinfo is None:  # SQLite hands back naive UTC datetimes
        oldest = oldest.replace(tzinfo=UTC)
    assert oldest >= utcnow() - timedelta(days=5, minutes=1)
    labels = db.session.execute(select(Prediction.coarse, Prediction.fine).distinct()).all()
    assert all(taxonomy.is_valid_pair(coarse, fine) for coarse, fine in labels)
    corrections = db.session.scalar(select(func.count()).select_from(Correction))
    assert 0 < corrections < 1234 * 0.1


@pytest.mark.parametrize("days", [7, 90, 365])
def test_dashboard_range_changes_the_day_axis_without_crowding_it(admin_client, history, days):
    html = admin_client.get(f"/admin/?days={days}").get_data(as_text=True)
    assert f"Queries per day, last {days} days" in html
    assert re.search(rf'<option value="{days}" selected>', html)
    figure = html[html.index('id="chart-queries-per-day"') :]
    figure = figure[: figure.index("</svg>")]
    assert figure.count("<rect") >= days  # one bar a day
    day_labels = re.findall(r">\d\d-\d\d</text>", figure)
    assert 1 <= len(day_labels) <= 7


@pytest.mark.parametrize("days", ["0", "31", "abc", "-7", "<script>x</script>"])
def test_dashboard_refuses_other_ranges(admin_client, history, days):
    response = admin_client.get("/admin/", query_string={"days": days})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "7, 30, 90, 365 days" in html
    assert "<script>x" not in html
