"""How long each page and API call takes on a real instance: which request could hold a web
worker for more than a second.

Copies a SQLite instance (QC_INSTANCE_PATH, e.g. one that imported the tutorial dataset, trained
and served load), adds a reviewer and an admin to the copy, and times every page a visitor, a
reviewer or an admin can open through the test client: the first request (per-process caches
empty, as after a start or a new dataset state) and the median of the next ``--runs``.

    QC_INSTANCE_PATH=/dev/shm/qcbase .venv/bin/python bench/request_paths.py --seed-queries 100000

``--seed-queries`` adds that many synthetic stored queries (with predictions and 3% visitor
corrections, over 30 days: ``qc seed-history``'s service) to the copy first.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from qcapp import create_app  # noqa: E402
from qcapp.extensions import db  # noqa: E402
from qcapp.models import ModelVersion, Query  # noqa: E402
from qcapp.services.accounts.accounts import create_admin  # noqa: E402
from qcapp.services.insight.history import seed_history  # noqa: E402

PASSWORD = "bench-password"
LIMIT_SECONDS = 1.0


def logged_in(app, username: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"username": username, "password": PASSWORD,
                                          "csrf_token": token})
    assert answer.status_code == 302, "login failed"
    return client


def timed(client, method: str, url: str, **kwargs) -> float:
    started = time.perf_counter()
    answer = client.open(url, method=method, **kwargs)
    answer.get_data()  # a streamed answer is produced only as it is read
    seconds = time.perf_counter() - started
    assert answer.status_code < 400, (url, answer.status_code)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed-queries", type=int, default=0)
    args = parser.parse_args()
    source = Path(os.environ.get("QC_INSTANCE_PATH", "instance"))
    with tempfile.TemporaryDirectory() as directory:
        copy = Path(directory) / "instance"
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns("*.sock", "*.lock"))
        app = create_app({"INSTANCE_PATH": str(copy), "LOG_LEVEL": "WARNING",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{copy / 'qcapp.db'}",
                          "MODELS_DIR": str(copy / "models")})
        with app.app_context():
            if args.seed_queries:
                seed_history(args.seed_queries, days=30, seed=0)
            create_admin("bench-admin", PASSWORD)
            create_admin("bench-reviewer", PASSWORD, role="reviewer")
            queries = db.session.scalar(select(func.count()).select_from(Query))
            token = db.session.scalar(select(Query.token).order_by(Query.id.desc()).limit(1))
            version = db.session.scalar(select(ModelVersion.id).where(ModelVersion.is_active))
        visitor = app.test_client()
        reviewer = logged_in(app, "bench-reviewer")
        admin = logged_in(app, "bench-admin")
        question = {"question": "Which river flows through Vienna?"}
        hundred = {"questions": [f"Who wrote book number {n}?" for n in range(100)]}
        paths = [
            ("visitor", visitor, "GET", "/", {}),
            ("visitor", visitor, "GET", "/taxonomy", {}),
            ("visitor", visitor, "GET", "/batch", {}),
            ("visitor", visitor, "GET", "/api/v1/docs", {}),
            ("visitor", visitor, "GET", "/api/v1/labels", {}),
            ("visitor", visitor, "GET", f"/q/{token}", {}),
            ("visitor", visitor, "GET", f"/api/v1/queries/{token}", {}),
            ("visitor", visitor, "POST", "/api/v1/classify", {"json": question}),
            ("visitor", visitor, "POST", "/api/v1/classify (100)", {"json": hundred}),
            ("reviewer", reviewer, "GET", "/admin/", {}),
            ("reviewer", reviewer, "GET", "/admin/inbox/", {}),
            ("reviewer", reviewer, "GET", "/admin/inbox/?proposals=1", {}),
            ("reviewer", reviewer, "GET", "/admin/inbox/card", {}),
            ("reviewer", reviewer, "GET", "/admin/review/", {}),
            ("reviewer", reviewer, "GET", "/admin/queries/", {}),
            ("reviewer", reviewer, "GET", "/admin/corrections/", {}),
            ("reviewer", reviewer, "GET", "/admin/examples/", {}),
            ("reviewer", reviewer, "GET", "/admin/label-issues/", {}),
            ("reviewer", reviewer, "GET", "/admin/runs/", {}),
            ("reviewer", reviewer, "GET", "/admin/versions/", {}),
            ("reviewer", reviewer, "GET", f"/admin/versions/{version}", {}),
            ("reviewer", reviewer, "GET", "/admin/audit/", {}),
            ("admin", admin, "GET", "/admin/users/", {}),
            ("admin", admin, "GET", "/admin/export/history.csv", {}),
            ("admin", admin, "GET", "/admin/export/training-set.csv", {}),
        ]
        print(f"### Request paths on a copy of {source} ({queries:,} stored queries)\n")
        print("| who | request | first (s) | median of next (s) | max of next (s) | over 1 s |")
        print("|---|---|---|---|---|---|")
        for who, client, method, label, kwargs in paths:
            url = label.split(" ")[0]
            first = timed(client, method, url, **kwargs)
            later = [timed(client, method, url, **kwargs) for _ in range(args.runs)]
            slow = "yes" if max(first, *later) > LIMIT_SECONDS else ""
            print(f"| {who} | {method} {label} | {first:.3f} | {statistics.median(later):.3f} "
                  f"| {max(later):.3f} | {slow} |", flush=True)
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
