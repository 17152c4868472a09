"""The flip report on a version's admin page: summary, decision, filtered and paged rows."""

from __future__ import annotations

import re

import pytest

from qcapp.models import ModelVersion, VersionFlip

HOSTILE = "<script>alert(1)</script> Who wrote <b>this</b>?"


def flip(candidate: ModelVersion, baseline: ModelVersion, source: str, text: str, **labels):
    values = {
        "old_coarse": "HUM",
        "old_fine": "HUM:ind",
        "old_confidence": 0.81,
        "new_coarse": "HUM",
        "new_fine": "HUM:gr",
        "new_confidence": 0.64,
        **labels,
    }
    return VersionFlip(
        candidate_id=candidate.id, baseline_id=baseline.id, source=source, text=text, **values
    )


@pytest.fixture
def reported(db):
    """A candidate with a stored flip report: 2 held-out rows and 60 stored-question rows."""
    baseline = ModelVersion(version="v-base", artifact_path="-", artifact_sha256="-")
    candidate = ModelVersion(version="v-cand", artifact_path="-", artifact_sha256="-")
    db.session.add_all([baseline, candidate])
    db.session.flush()
    candidate.flip_summary = {
        "baseline": "v-base",
        "candidate": "v-cand",
        "held_out": {"compared": 500, "flips": 2, "old_right": 0, "new_right": 1, "neither": 1},
        "queries": {"compared": 900, "flips": 60, "rows": "distinct normalised questions"},
        "per_class": {
            "held_out": {"HUM:ind": {"out": 2, "in": 0}, "HUM:gr": {"out": 0, "in": 2}},
            "query": {"HUM:ind": {"out": 60, "in": 0}, "HUM:gr": {"out": 0, "in": 60}},
        },
        "mcnemar": {
            "method": "exact binomial, two-sided",
            "old_right": 0,
            "new_right": 1,
            "discordant": 1,
            "statistic": 0,
            "p_value": 1.0,
        },
        "decision": {
            "promoted": False,
            "reason": "Worse than the active version",
            "margin": 0.01,
            "by": "alice",
            "at": "2026-11-27T03:00:00+00:00",
        },
    }
    db.session.add_all(
        [
            flip(
                candidate,
                baseline,
                "held_out",
                "Who founded Rome?",
                gold_coarse="HUM",
                gold_fine="HUM:gr",
            ),
            flip(
                candidate,
                baseline,
                "held_out",
                "Who sang it?",
                gold_coarse="LOC",
                gold_fine="LOC:city",
            ),
            flip(candidate, baseline, "query", HOSTILE),
        ]
        + [flip(candidate, baseline, "query", f"Stored question {n}?") for n in range(59)]
    )
    db.session.commit()
    return candidate


def test_anonymous_cannot_see_the_report(client, reported):
    page = client.get(f"/admin/versions/{reported.id}", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=")
    assert "Who founded Rome" not in page.get_data(as_text=True)


def test_page_shows_summary_classes_decision_and_rows(admin_client, reported):
    html = admin_client.get(f"/admin/versions/{reported.id}").get_data(as_text=True)
    assert "Flip report against <code>v-base</code>" in html
    assert "<strong>2</strong> of 500 change label" in html
    assert "<strong>60</strong> of 900 change label" in html
    assert "p = 1" in html and "exact binomial, two-sided" in html
    assert re.search(r"<code>HUM:gr</code></th><td>0</td><td>2</td>\s*<td>0</td><td>60</td>", html)
    assert "kept as candidate</strong> — Worse than the active version" in html
    assert "run started by alice, 2026-11-27 03:00:00 UTC" in html
    assert "Questions that change label (62)" in html
    assert html.count("<tr data-source=") == 50  # the first page
    assert "Page 1 of 2" in html and "page=2" in html
    # Held-out rows come first, with who is right.
    assert re.search(
        r"Who founded Rome\?</td>.*?<code>HUM:gr</code></td>\s*<td>new right", html, re.S
    )
    assert re.search(r"Who sang it\?</td>.*?<td>neither</td>", html, re.S)


def test_rows_filter_by_source_and_page(admin_client, reported):
    held = admin_client.get(f"/admin/versions/{reported.id}?source=held_out").get_data(as_text=True)
    assert held.count('<tr data-source="held_out">') == 2 and 'data-source="query"' not in held
    second = admin_client.get(f"/admin/versions/{reported.id}?source=query&page=2")
    html = second.get_data(as_text=True)
    assert second.status_code == 200 and html.count('<tr data-source="query">') == 10
    assert "Page 2 of 2" in html and "previous" in html


def test_hostile_question_text_is_escaped(admin_client, reported):
    html = admin_client.get(f"/admin/versions/{reported.id}?source=query").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<b>this</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Who wrote &lt;b&gt;this&lt;/b&gt;?" in html


@pytest.mark.parametrize("query", ["source=elsewhere", "page=0", "page=abc", "page=-3"])
def test_bad_filters_get_a_clear_400(admin_client, reported, query):
    response = admin_client.get(f"/admin/versions/{reported.id}?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "source must be held_out or query" in html or "page must be a whole number" in html


def test_version_without_a_report_and_a_failed_report(admin_client, db, reported):
    old = ModelVersion(version="v-old", artifact_path="-", artifact_sha256="-")
    failed = ModelVersion(
        version="v-failed",
        artifact_path="-",
        artifact_sha256="-",
        flip_summary={"baseline": "v-base", "error": "OSError: <disk>", "decision": {}},
    )
    db.session.add_all([old, failed])
    db.session.commit()
    html = admin_client.get(f"/admin/versions/{old.id}").get_data(as_text=True)
    assert "No flip report: this version was registered before" in html
    html = admin_client.get(f"/admin/versions/{failed.id}").get_data(as_text=True)
    assert "could not be computed: OSError: &lt;disk&gt;" in html
    assert "No stored question changes label" in html
