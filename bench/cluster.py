"""Two hosts against one: classify throughput, errors, and how fast every host swaps versions.

Starts the cluster of ops/cluster.py (PostgreSQL, Redis, hosts on 5101 and 5102, a worker),
then, ROUNDS times in turn:
- classify traffic from CLIENTS threads for SECONDS against host a alone, then against both;
- a version activated from the admin of host b, and the time from its activation (the
  database's activated_at) until each host's /healthz reports it.

    python bench/cluster.py [--rounds 3] [--seconds 20] [--clients 8]

Both hosts share this machine's cores, so two hosts are not expected to be faster than one:
the point is that a second host costs nothing and loses nothing.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC
from http.cookiejar import CookieJar
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "ops"))

from cluster import Cluster  # noqa: E402
from traffic import Traffic  # noqa: E402


def signed_in_opener(base: str, password: str):
    """An opener with the admin's session cookie on ``base``."""
    import re

    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def token(path: str) -> str:
        page = opener.open(base + path).read().decode()
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    form = {"csrf_token": token("/login"), "username": "admin", "password": password}
    opener.open(base + "/login", urllib.parse.urlencode(form).encode())
    return opener, token


def swap_lag(cluster: Cluster, engine, opener, token, version_id: int) -> dict[str, float]:
    """Activate ``version_id`` from host b; seconds until each host serves it."""
    form = {"csrf_token": token("/admin/versions/"), "reason": "benchmark"}
    opener.open(
        cluster.url("b") + f"/admin/versions/{version_id}/activate",
        urllib.parse.urlencode(form).encode(),
    )
    seen: dict[str, float] = {}
    deadline = time.monotonic() + 60
    while len(seen) < 2 and time.monotonic() < deadline:
        for host in ("a", "b"):
            if host not in seen and cluster.health(host)["model_version_id"] == version_id:
                seen[host] = time.time()
        time.sleep(0.02)
    with engine.connect() as connection:
        activated = connection.execute(
            text("SELECT activated_at FROM model_versions WHERE id = :i"), {"i": version_id}
        ).scalar()
    start = activated.astimezone(UTC).timestamp()
    return {host: at - start for host, at in seen.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    password = secrets.token_urlsafe(12)
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="qcapp-bench-cluster-")))
    try:
        cluster.start(admin_password=password)
        # A second version to swap to and from (quick, registered without activation).
        cluster.flask("qc", "train", "--quick", "--no-activate")
        engine = create_engine(cluster.database_url)
        with engine.connect() as connection:
            ids = list(connection.execute(
                text("SELECT id FROM model_versions ORDER BY id")
            ).scalars())
        opener, token = signed_in_opener(cluster.url("b"), password)
        one, two, lags = [], [], []
        for round_number in range(args.rounds):
            for label, urls, results in (
                ("one host ", [cluster.url("a")], one),
                ("two hosts", [cluster.url("a"), cluster.url("b")], two),
            ):
                result = Traffic(urls, clients=args.clients).run_for(args.seconds)
                results.append(result)
                print(
                    f"round {round_number + 1} {label}: {result.per_second:6.1f} req/s, "
                    f"p50 {result.percentile(0.5) * 1000:5.1f} ms, "
                    f"p99 {result.percentile(0.99) * 1000:6.1f} ms, "
                    f"{result.failed} failed of {result.ok + result.failed}",
                    flush=True,
                )
            target = ids[(round_number + 1) % len(ids)]
            lag = swap_lag(cluster, engine, opener, token, target)
            lags.append(max(lag.values()) if len(lag) == 2 else float("inf"))
            print(f"round {round_number + 1} swap to version {target}: "
                  + ", ".join(f"host {h} {s:.2f} s" for h, s in sorted(lag.items())), flush=True)
        for label, results in (("one host", one), ("two hosts", two)):
            rates = [r.per_second for r in results]
            print(
                f"{label}: median {statistics.median(rates):.1f} req/s "
                f"(min {min(rates):.1f}, max {max(rates):.1f}), "
                f"failed {sum(r.failed for r in results)} of "
                f"{sum(r.ok + r.failed for r in results)}"
            )
        print(f"activation to the last host serving: median {statistics.median(lags):.2f} s, "
              f"max {max(lags):.2f} s")
        engine.dispose()
    finally:
        cluster.stop()
        shutil.rmtree(cluster.base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
