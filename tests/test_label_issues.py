"""Label issues in the app: scans stored as rows, relabel and dismiss, the admin page, the CLI."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from qcapp.models import AuditEvent, Example, LabelIssue
from qcapp.services.data.datasets import import_dataset
from qcapp.services.insight.label_issues import scan_label_issues
from qcapp.services.review.label_review import (
    LabelIssueError,
    dismiss_issue,
    open_issues,
    relabel_issue,
)

from helpers import csrf_token_from

TEMPLATES = {
    "HUM:ind": ["Who invented the {} ?", "Who discovered the {} ?", "Who wrote the {} ?"],
    "LOC:city": ["What city has the largest {} ?", "Which city is home to the {} ?"],
    "NUM:count": ["How many {} are there ?", "How many {} does a team have ?"],
    "NUM:date": ["When was the {} invented ?", "What year was the {} built ?"],
}
FILLERS = ["telephone", "bridge", "radio", "museum", "piano", "bicycle", "engine", "satellite"]
FLIPPED = "When was the piano invented ?"  # labelled HUM:ind below
HOSTILE = "Who invented the <script>alert(1)</script> ?"


@pytest.fixture
def dataset(db, tmp_path):
    """A small UIUC-format dataset with one flipped label and one question labelled twice."""
    lines = []
    for fine, templates in TEMPLATES.items():
        for template in templates:
            for filler in FILLERS:
                text = template.format(filler)
                lines.append(f"{'HUM:ind' if text == FLIPPED else fine} {text}")
    lines.append("NUM:date How many bridge are there ?")  # also labelled NUM:count above
    lines.append(f"HUM:ind {HOSTILE}")
    path = tmp_path / "small.label"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    imported, _ = import_dataset(path, "small")
    return imported


def issue_for(db, text: str, kind: str = "doubtful") -> LabelIssue:
    return db.session.scalar(
        select(LabelIssue).where(LabelIssue.text == text, LabelIssue.kind == kind)
    )


def test_scan_stores_the_flipped_label_and_the_duplicate(db, dataset):
    summary = scan_label_issues(dataset, actor="tester")
    assert summary["doubtful"] >= 1 and summary["near_duplicates"] == 1
    issues, total = open_issues(dataset)
    assert total == summary["doubtful"] + summary["near_duplicates"]
    assert [i.score for i in issues] == sorted((i.score for i in issues), reverse=True)
    flipped = issue_for(db, FLIPPED)
    assert (flipped.given_fine, flipped.suggested_fine) == ("HUM:ind", "NUM:date")
    assert flipped.example.text == FLIPPED
    duplicate = db.session.scalar(select(LabelIssue).where(LabelIssue.kind == "near_duplicate"))
    labels = {duplicate.given_fine, duplicate.suggested_fine}
    assert labels == {"NUM:count", "NUM:date"} and duplicate.score == pytest.approx(1.0)
    assert duplicate.details["other_text"] == duplicate.text == "How many bridge are there ?"
    assert duplicate.other_example_id not in (None, duplicate.example_id)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "label_issues_scanned"))


def test_rescan_replaces_open_findings_and_keeps_dismissed_ones_down(db, dataset):
    scan_label_issues(dataset)
    flipped = issue_for(db, FLIPPED)
    dismiss_issue(flipped.id, actor="tester")
    summary = scan_label_issues(dataset)
    assert summary["dismissed_not_raised"] == 1
    _, total = open_issues(dataset)
    assert total == summary["doubtful"] + summary["near_duplicates"]  # replaced, not added
    assert len(db.session.scalars(select(LabelIssue)).all()) == total + 1
    kept = db.session.get(LabelIssue, flipped.id)
    assert kept.status == "dismissed" and kept.resolved_by == "tester"
    assert issue_for(db, FLIPPED).id == flipped.id  # no new open finding for it

    # Once its label changes, the example may be raised again.
    example = db.session.get(Example, flipped.example_id)
    example.coarse, example.fine = "LOC", "LOC:city"
    db.session.commit()
    scan_label_issues(dataset)
    raised = db.session.scalars(
        select(LabelIssue).where(LabelIssue.text == FLIPPED, LabelIssue.status == "open")
    ).all()
    assert [i.given_fine for i in raised] == ["LOC:city"]


def test_relabel_changes_the_example_and_is_audited(db, dataset):
    scan_label_issues(dataset)
    flipped = issue_for(db, FLIPPED)
    with pytest.raises(LabelIssueError, match="not a fine class"):
        relabel_issue(flipped.id, "HUM", "NUM:date", actor="tester")
    with pytest.raises(LabelIssueError, match="already labelled"):
        relabel_issue(flipped.id, "HUM", "HUM:ind", actor="tester")
    relabel_issue(flipped.id, "NUM", "NUM:date", actor="tester")
    example = db.session.get(Example, flipped.example_id)
    assert (example.coarse, example.fine) == ("NUM", "NUM:date")
    assert flipped.status == "relabelled" and flipped.resolved_at is not None
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "label_issue_relabelled")
    )
    assert event.actor == "tester" and event.target_id == str(example.id)
    assert event.details["before"] == {"coarse": "HUM", "fine": "HUM:ind"}
    assert event.details["after"] == {"coarse": "NUM", "fine": "NUM:date"}
    with pytest.raises(LabelIssueError, match="already relabelled"):
        dismiss_issue(flipped.id, actor="tester")
    with pytest.raises(LabelIssueError, match="No label issue"):
        dismiss_issue(2**40, actor="tester")


def test_admin_page_needs_login(client, db, dataset):
    response = client.get("/admin/label-issues/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post("/admin/label-issues/scan").status_code in (302, 400)
    assert db.session.scalar(select(LabelIssue)) is None


def test_admin_scan_relabel_and_dismiss(admin_client, db, dataset):
    page = admin_client.get("/admin/label-issues/").get_data(as_text=True)
    assert "Not scanned yet" in page
    token = csrf_token_from(page)
    assert admin_client.post("/admin/label-issues/scan", data={}).status_code == 400
    assert db.session.scalar(select(LabelIssue)) is None  # no CSRF token: nothing ran
    admin_client.post("/admin/label-issues/scan", data={"csrf_token": token})
    flipped = issue_for(db, FLIPPED)
    page = admin_client.get("/admin/label-issues/").get_data(as_text=True)
    assert FLIPPED in page and "same as: How many bridge are there ?" in page

    response = admin_client.post(
        f"/admin/label-issues/{flipped.id}/relabel", data={"fine": "NUM:date"}
    )
    assert response.status_code == 400  # no CSRF token
    assert db.session.get(Example, flipped.example_id).fine == "HUM:ind"
    response = admin_client.post(
        f"/admin/label-issues/{flipped.id}/relabel",
        data={"fine": "NUM:moon", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Unknown fine class" in response.get_data(as_text=True)
    admin_client.post(
        f"/admin/label-issues/{flipped.id}/relabel", data={"fine": "NUM:date", "csrf_token": token}
    )
    db.session.expire_all()
    assert db.session.get(Example, flipped.example_id).fine == "NUM:date"
    assert db.session.get(LabelIssue, flipped.id).resolved_by == "admin"

    duplicate = db.session.scalar(select(LabelIssue).where(LabelIssue.kind == "near_duplicate"))
    admin_client.post(f"/admin/label-issues/{duplicate.id}/dismiss", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(LabelIssue, duplicate.id).status == "dismissed"
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "label_issue_dismissed")
    )
    assert event.actor == "admin" and event.target_id == str(duplicate.id)


def test_admin_page_escapes_question_text(admin_client, db, dataset):
    example = db.session.scalar(select(Example).where(Example.text == HOSTILE))
    db.session.add(
        LabelIssue(
            kind="doubtful",
            dataset_id=dataset.id,
            example_id=example.id,
            text=HOSTILE,
            given_coarse="HUM",
            given_fine="HUM:ind",
            suggested_coarse="ENTY",
            suggested_fine="ENTY:other",
            score=0.5,
            details={"subject": f"example:{example.id}"},
        )
    )
    db.session.commit()
    page = admin_client.get("/admin/label-issues/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_cli_scans_and_prints_the_ranking(runner, db, dataset):
    result = runner.invoke(args=["qc", "dataset", "issues", "--top", "2"])
    assert result.exit_code == 0, result.output
    assert "Scanned" in result.output and "near-duplicates" in result.output
    lines = [line for line in result.output.splitlines() if line.strip()[:1].isdigit()]
    assert [line.split()[0] for line in lines] == ["1", "2"]
    shown = runner.invoke(args=["qc", "dataset", "issues", "--no-rescan", "--json", "--top", "50"])
    body = json.loads(shown.output)
    assert body["scan"] is None and body["open"] == len(body["issues"])
    assert [item["rank"] for item in body["issues"]] == list(range(1, body["open"] + 1))
    flipped = next(item for item in body["issues"] if item["question"] == FLIPPED)
    assert (flipped["given"], flipped["suggested"]) == ("HUM:ind", "NUM:date")


@pytest.mark.parametrize("top", ["0", "-3", "many"])
def test_cli_refuses_a_bad_top(runner, db, dataset, top):
    result = runner.invoke(args=["qc", "dataset", "issues", "--top", top])
    assert result.exit_code == 2 and "--top" in result.output


def test_cli_without_a_dataset(runner, db):
    result = runner.invoke(args=["qc", "dataset", "issues"])
    assert result.exit_code == 1 and "No active dataset" in result.output


def test_a_scan_too_large_for_a_request_is_queued_when_there_is_a_queue(
    admin_client, app, db, dataset, monkeypatch
):
    from qcapp.admin import label_issues as view

    queued = []
    monkeypatch.setattr(view, "IN_PROCESS_SCAN_MAX_ROWS", 0)
    monkeypatch.setattr(view, "enqueue", lambda path, *args, **kw: queued.append((path, args)))
    token = csrf_token_from(admin_client.get("/admin/label-issues/").get_data(as_text=True))

    page = admin_client.post(
        "/admin/label-issues/scan", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "too large to scan here" in page and not queued  # no queue: refused, as before

    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    page = admin_client.post(
        "/admin/label-issues/scan", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "The scan is queued" in page
    assert queued == [("qcapp.services.learning.jobs.run_label_issue_scan", (dataset.id, "admin"))]
    assert db.session.scalar(select(LabelIssue)) is None  # nothing ran in the request

    # What a worker then runs.
    from qcapp.services.learning import jobs

    monkeypatch.setattr(jobs, "_worker_app", app)
    db.session.commit()  # a worker is another connection: end this test's read first
    summary = jobs.run_label_issue_scan(dataset.id, "admin")
    assert summary["doubtful"] >= 1
    assert issue_for(db, FLIPPED).given_fine == "HUM:ind"
