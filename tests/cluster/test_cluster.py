"""Two hosts, one database, one queue: what a deployment on several machines must hold to.

The tests run in file order against one cluster: the wrong-login test comes last, since it
leaves the admin's sign-in throttled.
"""

from __future__ import annotations

import hashlib
import subprocess
import threading
import time
from datetime import UTC
from pathlib import Path

from cluster_support import ADMIN_PASSWORD, Client, Traffic, admin, scalar, wait_for
from sqlalchemy import text

QUESTION = "Who painted the ceiling of the Sistine Chapel?"


def classify(cluster, host: str, question: str) -> dict:
    status, answer = Client(cluster.url(host)).json(
        "POST", "/api/v1/classify", {"question": question}
    )
    assert status == 200, answer
    return answer


def active_version(database) -> tuple[int, str, str]:
    with database.connect() as connection:
        return connection.execute(
            text("SELECT id, version, artifact_sha256 FROM model_versions WHERE is_active")
        ).one()


def start_retrain(
    client: Client, database, *, full: bool = False, force: bool = False
) -> int:
    """Press the runs page's Retrain button (ticking "full" or "train anyway"); the new run's
    id."""
    before = scalar(database, "SELECT coalesce(max(id), 0) FROM training_runs")
    token = client.csrf("/admin/runs/")
    form = {"csrf_token": token, **({"select": "1"} if full else {})}
    if force:
        form["force"] = "1"
    status, _ = client.request("POST", "/admin/runs/start", form=form)
    assert status == 302, status
    run_id = scalar(database, "SELECT max(id) FROM training_runs")
    assert run_id > before
    return run_id


def run_status(client: Client, run_id: int) -> dict:
    status, body = client.json("GET", f"/admin/runs/{run_id}/status.json")
    assert status == 200
    return body


def test_both_hosts_classify_and_share_what_they_store(cluster, database):
    version_id, version, sha = active_version(database)
    answers = {host: classify(cluster, host, QUESTION) for host in ("a", "b")}
    for host, answer in answers.items():
        assert answer["coarse"]["label"] == "HUM", answer
        assert answer["model_version"] == version
        health = cluster.health(host)
        assert (health["model_version_id"], health["model_sha256"]) == (version_id, sha)
    # What one host stored, the other serves.
    status, stored = Client(cluster.url("b")).json("GET", f"/api/v1/queries/{answers['a']['id']}")
    assert status == 200 and stored["question"] == QUESTION


def _first_seen(cluster, version_id: int, seen: dict, stop: threading.Event) -> None:
    """Record the wall-clock time each host first reports ``version_id`` in /healthz."""
    while not stop.is_set() and len(seen) < 2:
        for host in ("a", "b"):
            if host in seen:
                continue
            try:
                if cluster.health(host)["model_version_id"] == version_id:
                    seen[host] = time.time()
            except OSError:
                pass
        time.sleep(0.05)


def test_correction_on_a_approved_on_b_retrained_by_the_worker_served_by_both(cluster, database):
    old_id, _, _ = active_version(database)
    answer = classify(cluster, "a", "What is the population of Reykjavik?")
    wanted = "LOC:city" if answer["fine"]["label"] != "LOC:city" else "NUM:count"
    status, correction = Client(cluster.url("a")).json(
        "POST", f"/api/v1/queries/{answer['id']}/corrections",
        {"coarse": wanted.split(":")[0], "fine": wanted},
    )
    assert status == 201, correction
    # The API names it by its token; the review queue by its internal id.
    correction_id = scalar(
        database, "SELECT id FROM corrections WHERE token = :t", t=correction["id"]
    )

    reviewer = admin(cluster, "b")
    token = reviewer.csrf("/admin/review/")
    status, _ = reviewer.request(
        "POST", "/admin/review/review",
        form={"csrf_token": token, "action": "approve", "ids": [correction_id]},
    )
    assert status == 302
    assert scalar(database, "SELECT status FROM corrections WHERE id = :i", i=correction_id) \
        == "approved"

    traffic = Traffic([cluster.url("a"), cluster.url("b")], clients=4).start()
    time.sleep(2)  # load before, during and after the run
    run_id = start_retrain(reviewer, database)
    new_version = {}
    seen: dict[str, float] = {}
    stop = threading.Event()

    def watch():
        version_id = wait_for(
            lambda: scalar(
                database,
                "SELECT model_version_id FROM training_runs WHERE id = :i AND status = "
                "'succeeded'", i=run_id,
            ), 600, poll=0.1, what="the run's version",
        )
        new_version["id"] = version_id
        _first_seen(cluster, version_id, seen, stop)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        done = wait_for(
            lambda: (body := run_status(reviewer, run_id))["status"] in ("succeeded", "failed")
            and body, 600, poll=1.0, what=f"training run {run_id}",
        )
        assert done["status"] == "succeeded", done.get("error")
        watcher.join(30)
        time.sleep(2)
    finally:
        stop.set()
        result = traffic.stop()

    # The worker ran it, not a web host's child process.
    assert scalar(database, "SELECT runner FROM training_runs WHERE id = :i", i=run_id) == "queue"
    worker_log = (cluster.base / "worker.log").read_text()
    assert f"qc-training-run-{run_id}" in worker_log

    version_id = new_version["id"]
    assert version_id != old_id
    assert scalar(database, "SELECT is_active FROM model_versions WHERE id = :i", i=version_id)
    activated = scalar(
        database, "SELECT activated_at FROM model_versions WHERE id = :i", i=version_id
    )
    assert set(seen) == {"a", "b"}, seen
    lags = {host: at - activated.astimezone(UTC).timestamp() for host, at in seen.items()}
    print(f"activation to serving, per host: {lags}")
    assert max(lags.values()) < 5.0, lags
    for host in ("a", "b"):
        answer = classify(cluster, host, "What is the population of Reykjavik?")
        assert answer["fine"]["label"] == wanted

    print(f"traffic during the retrain: {result.ok} answered, {result.failed} failed, "
          f"{result.per_second:.1f}/s, versions {result.versions}")
    assert result.failed == 0, result.failures
    assert result.ok > 50
    stored = scalar(
        database, "SELECT count(*) FROM queries WHERE token = ANY(:tokens)",
        tokens=result.tokens,
    )
    assert stored == len(result.tokens) == result.ok
    assert len(result.versions) == 2  # answered by the old version, then by the new one


def test_a_host_restarted_with_an_empty_instance_folder_serves_the_active_version(
    cluster, database
):
    version_id, version, sha = active_version(database)
    cluster.stop_host("b")
    folder = cluster.instance("host-b")
    cluster.start_host("b", empty=True)
    health = cluster.health("b")
    assert (health["model_version_id"], health["model_sha256"]) == (version_id, sha)
    manifest = folder / "models" / version / "manifest.json"
    assert hashlib.sha256(manifest.read_bytes()).hexdigest() == sha  # fetched from the store
    assert not list(Path(folder / "models").glob(".tmp-*"))
    assert classify(cluster, "b", QUESTION)["model_version"] == version


def test_a_worker_killed_mid_run_fails_the_run_and_the_next_retrain_succeeds(cluster, database):
    active_before = active_version(database)
    client = admin(cluster, "a")
    # Forced: nothing is new since the active version, and the run must last to be interrupted.
    run_id = start_retrain(client, database, full=True, force=True)  # model selection: long
    wait_for(
        lambda: run_status(client, run_id)["status"] == "running"
        and run_status(client, run_id)["progress"] > 0.02,
        300, poll=0.3, what="the run to be under way",
    )
    cluster.kill_worker()
    killed_at = time.monotonic()

    other_host = admin(cluster, "b")
    failed = wait_for(
        lambda: (body := run_status(other_host, run_id))["status"] == "failed" and body,
        60, poll=1.0, what="the run to be failed",
    )
    print(f"run failed {time.monotonic() - killed_at:.1f} s after the kill: {failed['error']}")
    assert "stopped" in failed["error"] and "heartbeat" in failed["error"]
    assert active_version(database) == active_before
    for host in ("a", "b"):
        assert cluster.health(host)["model_version_id"] == active_before[0]

    cluster.start_worker()
    # Nothing is new since the active version: forced, so the next run trains a version.
    next_run = start_retrain(other_host, database, force=True)
    assert next_run != run_id
    done = wait_for(
        lambda: (body := run_status(other_host, next_run))["status"] in ("succeeded", "failed")
        and body, 600, poll=1.0, what=f"training run {next_run}",
    )
    assert done["status"] == "succeeded", done.get("error")
    assert done["version"], done


def test_wrong_logins_spread_over_both_hosts_are_throttled_as_one_count(cluster):
    statuses = []
    for attempt in range(20):
        client = Client(cluster.url("ab"[attempt % 2]))
        statuses.append(client.login("admin", f"wrong password {attempt}"))
    print(f"wrong logins, alternating hosts: {statuses}")
    # Five failures per account and client are allowed, wherever they land; then a wait.
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 15
    keys = subprocess.run(
        ["redis-cli", "-u", cluster.redis_url, "--scan", "--pattern", "*qc-login*"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert keys, "the throttle's counts are not in Redis"
    # The right password is refused too while the wait lasts.
    assert Client(cluster.url("b")).login("admin", ADMIN_PASSWORD) == 429


def test_the_balancer_passes_on_who_each_visitor_is(
    cluster, database
):
    """nginx (ops/nginx/qcapp.conf) in front of both hosts: a visitor's address reaches the
    host that answers, whichever it is, and over TLS its session cookie is Secure."""
    question = "Which mountain range holds the balancer test peak?"
    via_balancer = Client(cluster.balancer_url, source="127.0.0.2")
    status, answer = via_balancer.json("POST", "/api/v1/classify", body={"question": question})
    assert status == 200, answer
    direct = Client(cluster.url("a"), source="127.0.0.2")
    status, _ = direct.json("POST", "/api/v1/classify", body={"question": question})
    assert status == 200
    other = Client(cluster.balancer_url, source="127.0.0.3")
    assert other.json("POST", "/api/v1/classify", body={"question": question})[0] == 200
    with database.connect() as connection:
        clients = connection.execute(
            text("SELECT client_hash FROM queries WHERE text = :q ORDER BY id"), {"q": question}
        ).scalars().all()
    # The same visitor through nginx and directly; another visitor through nginx apart.
    assert clients[0] == clients[1] != clients[2]
    status, _ = via_balancer.request("GET", "/login")
    assert status == 200
    assert all(cookie.secure for cookie in via_balancer.jar)
