"""Time the admin pages on a database of many queries.

Creates a temporary SQLite database, seeds it with ``qc seed-history``'s service, logs in an
admin with the test client and reports the median time to render each page.

    .venv/bin/python bench/admin_pages.py [--queries 100000] [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qcapp import create_app  # noqa: E402
from qcapp.extensions import db  # noqa: E402
from qcapp.services.accounts.accounts import create_admin  # noqa: E402
from qcapp.services.insight.history import seed_history  # noqa: E402

USERNAME, PASSWORD = "bench-admin", "bench-password"
PAGES = {
    "dashboard": "/admin/",
    "queries list": "/admin/queries/",
    "queries list, page 500": "/admin/queries/?page=500",
    "queries list, coarse = HUM": "/admin/queries/?flt0_coarse_equals=HUM",
    "queries list, search": "/admin/queries/?search=volcano",
    "query details": "/admin/queries/details/?id=50000",
    "history export (CSV, all rows)": "/admin/export/history.csv",
}
TARGET_SECONDS = 1.0


def log_in(app):
    """A test client with an admin session."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, "login failed"
    return client


def time_page(client, url: str, runs: int) -> list[float]:
    """Seconds to fetch ``url`` completely ``runs + 1`` times; the first one warms up."""
    timings = []
    for _attempt in range(runs + 1):
        started = time.perf_counter()
        response = client.get(url)
        response.get_data()  # a streamed export is produced only as it is read
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return timings


def main() -> None:
    """Seed, log in, time every page and print a Markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/bench.db",
                "INSTANCE_PATH": directory,
                "MODELS_DIR": os.path.join(directory, "models"),
                "MODEL_CHECK_INTERVAL": 0,
                "LOG_LEVEL": "WARNING",
            }
        )
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            written = seed_history(args.queries, days=30, seed=0)
            seed_seconds = time.perf_counter() - started
            create_admin(USERNAME, PASSWORD)
        client = log_in(app)
        results = {name: time_page(client, url, args.runs)[1:] for name, url in PAGES.items()}
        with app.app_context():
            db.engine.dispose()
    print_report(args, written, seed_seconds, results)


def print_report(args, written: dict, seed_seconds: float, results: dict) -> None:
    """The results as the Markdown section kept in bench/RESULTS.md."""
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    print(f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"- Machine: `{uname}`, `nproc` = {os.cpu_count()}")
    print(f"- Python {platform.python_version()}, SQLite (temporary file), Flask test client")
    print(
        f"- Data: {written['queries']:,} queries, {written['predictions']:,} predictions, "
        f"{written['corrections']:,} corrections over 30 days; "
        f"seeded in {seed_seconds:.1f} s"
    )
    print(f"- Median of {args.runs} runs after one warm-up\n")
    print("| page | median (s) | min (s) | max (s) | within 1 s |")
    print("|---|---|---|---|---|")
    for name, timings in results.items():
        median = statistics.median(timings)
        verdict = "yes" if median <= TARGET_SECONDS else "no"
        if "export" in name:
            verdict = "n/a (download)"
        print(f"| {name} | {median:.3f} | {min(timings):.3f} | {max(timings):.3f} | {verdict} |")


if __name__ == "__main__":
    main()
