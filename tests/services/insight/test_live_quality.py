"""Live quality on the dashboard: the reliability diagram and corrections per class over time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from qcapp.admin import quality_charts
from qcapp.models import Correction, Prediction, Query, utcnow
from qcapp.services.insight.quality import (
    calibration_error,
    corrections_per_class,
    reliability_bins,
    reviewed_outcomes,
)


def asked(db, text, fine, confidence=0.5, verdicts=(), age=timedelta(0)):
    """A stored query and prediction with verdicts as (fine, status, kind, reviewed, made) tuples,
    ``reviewed`` and ``made`` being minutes and days ago."""
    query = Query(text=text, normalized=text.lower(), created_at=utcnow() - age)
    query.prediction = Prediction(
        coarse=fine.split(":")[0],
        fine=fine,
        coarse_confidence=confidence,
        fine_confidence=confidence,
    )
    for label, status, kind, reviewed, made in verdicts:
        query.corrections.append(
            Correction(
                coarse=label.split(":")[0],
                fine=label,
                status=status,
                kind=kind,
                reviewed_at=utcnow() - timedelta(minutes=reviewed),
                created_at=utcnow() - timedelta(days=made),
            )
        )
    db.session.add(query)
    db.session.commit()
    return query


@pytest.fixture
def verdicts(db):
    asked(db, "q1", "HUM:ind", 0.95, [("HUM:ind", "approved", "confirmation", 5, 0)])
    asked(db, "q2", "LOC:city", 0.92, [("LOC:country", "approved", "correction", 5, 0)])
    # A "correction" to the predicted label agrees with the prediction.
    asked(db, "q3", "NUM:date", 0.35, [("NUM:date", "approved", "correction", 5, 0)])
    asked(db, "q4", "DESC:def", 0.31, [("DESC:desc", "pending", "correction", 5, 0)])
    asked(db, "q5", "ENTY:other", 0.55, [("ENTY:food", "rejected", "correction", 5, 0)])
    # Two approved verdicts: the later review (the confirmation) decides.
    asked(
        db,
        "q6",
        "ENTY:other",
        0.58,
        [
            ("ENTY:food", "approved", "correction", 60, 0),
            ("ENTY:other", "approved", "confirmation", 1, 0),
        ],
    )
    asked(db, "q7", "HUM:gr", 1.0, [("HUM:gr", "approved", "confirmation", 5, 0)])
    asked(db, "q8", "HUM:gr", 0.15)
    asked(db, "q9", "HUM:gr", 0.15, [("HUM:ind", "reverted", "correction", 5, 0)])


def test_reviewed_outcomes_follow_the_latest_approved_verdict(verdicts):
    assert sorted(reviewed_outcomes()) == [
        (0.35, True),
        (0.58, True),
        (0.92, False),
        (0.95, True),
        (1.0, True),
    ]


def test_reliability_bins_and_calibration_error(verdicts):
    bins = reliability_bins(reviewed_outcomes())
    assert [b.count for b in bins] == [0, 0, 0, 1, 0, 1, 0, 0, 0, 3]
    top = bins[9]
    assert (top.low, top.high, top.right) == (0.9, 1.0, 2)
    assert top.mean_confidence == pytest.approx((0.95 + 0.92 + 1.0) / 3)
    assert top.accuracy == pytest.approx(2 / 3)
    assert bins[0].accuracy is None and bins[0].mean_confidence is None
    expected = 0.6 * abs(2 / 3 - 2.87 / 3) + 0.2 * (1 - 0.35) + 0.2 * (1 - 0.58)
    assert calibration_error(bins) == pytest.approx(expected)
    assert calibration_error(reliability_bins([])) is None


def test_bin_edges():
    bins = reliability_bins([(0.0999, True), (0.1, False), (1.0, True), (1.2, True), (-0.1, False)])
    assert [b.count for b in bins] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]


def test_corrections_per_class_in_the_window(db):
    today = datetime.now(UTC).date()
    days = [(today - timedelta(days=n)).isoformat() for n in range(4, -1, -1)]
    correction = ("LOC:city", "pending", "correction", 1)
    asked(db, "a", "HUM:ind", verdicts=[(*correction, 0), (*correction, 0)])
    asked(db, "b", "HUM:ind", verdicts=[("LOC:city", "approved", "correction", 1, 2)])
    asked(db, "c", "LOC:city", verdicts=[("LOC:country", "pending", "correction", 1, 0)] * 2)
    asked(db, "d", "NUM:date", verdicts=[("NUM:count", "approved", "correction", 1, 1)])
    asked(db, "e", "DESC:def", verdicts=[("DESC:desc", "rejected", "correction", 1, 0)])
    asked(db, "f", "ENTY:other", verdicts=[("ENTY:other", "approved", "confirmation", 1, 0)])
    asked(db, "g", "HUM:ind", verdicts=[("LOC:city", "approved", "correction", 1, 40)])
    assert corrections_per_class(days, top=2) == {
        "HUM:ind": [0, 0, 1, 0, 2],
        "LOC:city": [0, 0, 0, 0, 2],
        "other": [0, 0, 0, 1, 0],
    }
    assert list(corrections_per_class(days)) == ["HUM:ind", "LOC:city", "NUM:date"]
    assert corrections_per_class([]) == {}


def test_dashboard_shows_both_charts_with_their_numbers(admin_client, verdicts):
    html = admin_client.get("/admin/").get_data(as_text=True)
    for chart_id in ("chart-reliability", "chart-corrections-per-class"):
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in html
    assert "5 reviewed predictions in 3 of 10 confidence bins" in html
    assert re.search(
        r"<th scope=\"row\">90%–100%</th><td>3</td><td>2</td><td>96%</td><td>67%</td>", html
    )
    assert '<strong id="calibration-error">38.8%</strong>' in html
    # Counted as on the rest of the dashboard: every correction but rejected ones.
    assert (
        "Corrections in the last 30 days by predicted class: DESC:def 1, ENTY:other 1, HUM:gr 1,"
        " LOC:city 1, NUM:date 1"
    ) in html
    assert "Pending, rejected and reverted" in html


def test_empty_dashboard_says_so(admin_client):
    html = admin_client.get("/admin/").get_data(as_text=True)
    assert "No reviewed predictions yet." in html and "No corrections in this period." in html
    assert 'id="calibration-error"' not in html


def test_anonymous_sees_no_quality_figures(client, verdicts):
    for accept in ("text/html", "application/json"):
        response = client.get("/admin/", headers={"Accept": accept})
        assert response.status_code in (302, 401)
        assert "chart-reliability" not in response.get_data(as_text=True)


def test_small_multiples_escape_labels_and_share_one_scale():
    figure = quality_charts.small_multiples(
        "c", "Per <b>class</b>", ["2026-11-26", "2026-11-27"], {"<i>x</i>": [1, 4], "B": [2, 0]}
    )
    assert "<i>" not in figure and "&lt;i&gt;x&lt;/i&gt;" in figure and "<b>" not in figure
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', figure)]
    assert heights == pytest.approx([6.0, 24.0, 12.0])  # 1, 4 and 2 on the scale of 4
