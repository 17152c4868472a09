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


@pytest.fixture
def runs_started(monkeypatch):
    """Runs the admin starts, recorded instead of given a process (the test executes them)."""
    from qcapp.runs import launchers

    started: list[int] = []
    monkeypatch.setattr(
        launchers, "spawn_training_process", lambda app, run_id: started.append(run_id) or 1
    )
    return started


def test_admin_scan_relabel_and_dismiss(admin_client, db, dataset, runs_started):
    from qcapp.runs.execute import execute_run

    page = admin_client.get("/admin/label-issues/").get_data(as_text=True)
    # Never scanned: the page says so, offers "Scan now" and does not claim nothing was found.
    assert "has not been scanned yet" in page and "Scan now" in page and "Scan again" not in page
    assert "No findings yet" in page and "No open label issues" not in page
    token = csrf_token_from(page)
    assert admin_client.post("/admin/label-issues/scan", data={}).status_code == 400
    assert not runs_started  # no CSRF token: nothing started
    response = admin_client.post(
        "/admin/label-issues/scan", data={"csrf_token": token}, follow_redirects=True
    )
    assert response.status_code == 200 and "The scan has started" in response.get_data(as_text=True)
    assert db.session.scalar(select(LabelIssue)) is None  # nothing ran in the request
    page = admin_client.get("/admin/label-issues/").get_data(as_text=True)
    assert 'id="scan-running"' in page and 'id="rescan"' not in page
    db.session.commit()
    run = execute_run(runs_started[0])  # what the training process does with it
    assert run.status == "succeeded" and run.task == "label_scan"
    assert "doubtful labels" in run.message
    flipped = issue_for(db, FLIPPED)
    page = admin_client.get("/admin/label-issues/").get_data(as_text=True)
    assert FLIPPED in page and "same as: How many bridge are there ?" in page
    assert "Last scan:" in page and "Scan again" in page

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


def test_cli_says_when_the_dataset_was_never_scanned(runner, db, dataset):
    result = runner.invoke(args=["qc", "dataset", "issues", "--no-rescan"])
    assert result.exit_code == 0 and "has not been scanned yet" in result.output
    assert "No open label issues" not in result.output


def test_reviewers_are_told_who_can_scan(app, db, dataset):
    from qcapp.services.accounts.accounts import create_admin

    create_admin("rita", "reviewer password", role="reviewer")
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post(
        "/login", data={"username": "rita", "password": "reviewer password", "csrf_token": token}
    )
    page = client.get("/admin/label-issues/").get_data(as_text=True)
    assert "An admin can start a scan here." in page and "Scan now" not in page


def test_cli_without_a_dataset(runner, db):
    result = runner.invoke(args=["qc", "dataset", "issues"])
    assert result.exit_code == 1 and "No active dataset" in result.output


def test_two_scans_at_once_give_200_and_409(admin_client, db, dataset, runs_started):
    token = csrf_token_from(admin_client.get("/admin/label-issues/").get_data(as_text=True))
    first = admin_client.post(
        "/admin/label-issues/scan", data={"csrf_token": token}, follow_redirects=True
    )
    second = admin_client.post(
        "/admin/label-issues/scan", data={"csrf_token": token}, follow_redirects=True
    )
    assert (first.status_code, second.status_code) == (200, 409)
    assert "Label scan" in second.get_data(as_text=True) and "already queued" in second.get_data(
        as_text=True
    )
    assert len(runs_started) == 1
    # A retrain waits for the scan too: one heavy run at a time.
    retrain = admin_client.post(
        "/admin/runs/start", data={"csrf_token": token}, follow_redirects=True
    )
    assert "already queued" in retrain.get_data(as_text=True) and len(runs_started) == 1


def test_only_an_admin_starts_a_scan(app, client, db, dataset, runs_started):
    from qcapp.services.accounts.accounts import create_admin

    from helpers import ADMIN_PASSWORD

    with app.app_context():
        create_admin("rita", ADMIN_PASSWORD, role="reviewer")
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post(
        "/login", data={"username": "rita", "password": ADMIN_PASSWORD, "csrf_token": token}
    )
    page = client.get("/admin/label-issues/")
    assert page.status_code == 200 and 'id="rescan"' not in page.get_data(as_text=True)
    token = csrf_token_from(page.get_data(as_text=True))
    assert client.post("/admin/label-issues/scan", data={"csrf_token": token}).status_code == 403
    assert not runs_started


def test_with_a_queue_a_scan_is_a_job_the_worker_runs(
    admin_client, app, db, dataset, monkeypatch
):
    from qcapp.runs import jobs, launchers

    queued = []
    monkeypatch.setattr(
        launchers, "enqueue", lambda path, *args, **kw: queued.append((path, args))
    )
    monkeypatch.setattr(
        launchers, "spawn_training_process", lambda *a: pytest.fail("no process expected")
    )
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    token = csrf_token_from(admin_client.get("/admin/label-issues/").get_data(as_text=True))
    page = admin_client.post(
        "/admin/label-issues/scan", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "The scan has started" in page
    ((path, (run_id,)),) = queued
    assert path == "qcapp.runs.jobs.run_training_job"
    assert db.session.scalar(select(LabelIssue)) is None  # nothing ran in the request

    monkeypatch.setattr(jobs, "_worker_app", app)
    db.session.commit()  # a worker is another connection: end this test's read first
    assert jobs.run_training_job(run_id) == "succeeded"
    assert issue_for(db, FLIPPED).given_fine == "HUM:ind"
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "label_issues_scanned")
    )
    assert event.actor == "admin"


@pytest.mark.slow
def test_the_public_api_stays_fast_while_a_scan_runs_in_its_own_process(
    app, admin_client, client, db, model_version
):
    """The scan runs in a training process of its own: requests meanwhile take what they take
    without it. Run on the starter dataset (about 2,600 rows), a scan of a few seconds."""
    import time

    from qcapp.models import TrainingRun
    from qcapp.runs.start import wait_for_run
    from qcapp.services.data.datasets import starter_dataset_path

    import_dataset(starter_dataset_path(), "starter")
    db.session.commit()
    token = csrf_token_from(admin_client.get("/admin/label-issues/").get_data(as_text=True))
    started = admin_client.post("/admin/label-issues/scan", data={"csrf_token": token})
    assert started.status_code == 302
    run = db.session.scalar(select(TrainingRun))
    latencies = []
    saw_running = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        db.session.expire_all()
        status = db.session.get(TrainingRun, run.id).status
        db.session.commit()
        if status not in ("queued", "running"):
            break
        if status == "running":
            began = time.perf_counter()
            answer = client.post("/api/v1/classify", json={"question": "Who wrote Hamlet?"})
            latencies.append(time.perf_counter() - began)
            assert answer.status_code == 200
            saw_running = True
        time.sleep(0.05)
    run = wait_for_run(run.id, timeout=120)
    assert run.status == "succeeded", run.error
    assert saw_running and len(latencies) >= 5, "the scan ended before it could be measured"
    latencies.sort()
    assert latencies[len(latencies) // 2] < 0.1, latencies
    assert db.session.scalar(select(LabelIssue)) is not None
