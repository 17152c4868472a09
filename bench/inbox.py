"""The review inbox: does it put the model's mistakes first, and how fast is its first page?

Precision: the tutorial dataset (../shared/data/dataset.csv) is split 80/20 at random; a quick
model is trained on the 80% (also imported as the active dataset), the 20% is sent as traffic
through ``POST /api/v1/classify``, and the inbox's first 50 items are compared with the answer
key. The same count is made for (a) random order (the mean over 1,000 shuffles) and (b) the
stored predictions by lowest confidence first. The inbox never sees the answer key.

Speed: 100,000 stored queries are seeded from the starter dataset's questions (popular ones
asked many times, most others once in words of their own, 2% with a visitor's proposal), and
3% texts the scope check refused), and the inbox page (its first 50 items), the first record
card and the list under several filters are timed through the test client, with a quick model
trained on the starter dataset serving (the inbox asks it about its answers).

    .venv/bin/python bench/inbox.py [--seeds 0 1 2] [--queries 100000] [--runs 7] [--pages ...]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from admin_pages import PASSWORD, USERNAME, log_in, time_page  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from qcapp import create_app  # noqa: E402
from qcapp.extensions import db  # noqa: E402
from qcapp.models import Correction, ModelVersion, Prediction, Query  # noqa: E402
from qcapp.services.accounts.accounts import create_admin  # noqa: E402
from qcapp.services.data.datasets import import_dataset, starter_dataset_path  # noqa: E402
from qcapp.services.learning.versions import activate_model_version  # noqa: E402
from qcapp.services.review.inbox import ranked_inbox  # noqa: E402
from training.data.datasets import load_dataset, normalise_question  # noqa: E402
from training.runtime.artifacts import save_version  # noqa: E402
from training.tiers.train import train_model  # noqa: E402

DATASET = Path(
    os.environ.get(
        "QC_SHARED_DATASET",
        Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "dataset.csv",
    )
)
TOP = 50
SHUFFLES = 1000
BATCH = 100
RENDER_TARGET_SECONDS = 0.3
# Client fingerprints are sha256 digests, as the app stores them.
CLIENTS = [hashlib.sha256(f"client-{n:04d}".encode()).hexdigest() for n in range(2000)]
OUT_OF_SCOPE = 0.03
# The pages timed: the plain list and card, then the list under filters a reviewer might set.
PAGES = {
    "inbox page": "/admin/inbox/",
    "card": "/admin/inbox/card?at=0",
    "with proposals": "/admin/inbox/?proposals=1",
    "text 'capital'": "/admin/inbox/?text=capital",
    "label HUM, confidence to 0.6": "/admin/inbox/?label=HUM&max_confidence=0.6",
    "one client": f"/admin/inbox/?client={CLIENTS[7][:8]}",
    "proposed ENTY:food": "/admin/inbox/?proposed=ENTY:food",
    "reason: visitors": "/admin/inbox/?reason=visitors",
    "out of scope": "/admin/inbox/?scope=out",
    "reviewed": "/admin/inbox/?state=reviewed",
}


def make_app(directory: str):
    return create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/bench.db",
            "INSTANCE_PATH": directory,
            "MODELS_DIR": os.path.join(directory, "models"),
            "MODEL_CHECK_INTERVAL": 0,
            "LOG_LEVEL": "WARNING",
        }
    )


def register(result, directory: str, name: str) -> None:
    info = save_version(result, Path(directory) / "models", name)
    version = ModelVersion(
        version=name,
        artifact_path=str(info.path),
        artifact_sha256=info.sha256,
        params=result.params,
        metrics=result.metrics,
    )
    db.session.add(version)
    activate_model_version(version, reason="bench")
    db.session.commit()


def precision_run(seed: int) -> dict:
    """Train on 80%, send 20% as traffic, and score the three orders' first 50."""
    frame = load_dataset(DATASET).frame.reset_index(drop=True)
    order = list(range(len(frame)))
    random.Random(seed).shuffle(order)
    cut = int(len(order) * 0.8)
    train, test = frame.iloc[order[:cut]], frame.iloc[order[cut:]]
    gold = {normalise_question(t)[:600]: f for t, f in zip(test.text, test.fine, strict=True)}
    with tempfile.TemporaryDirectory() as directory:
        app = make_app(directory)
        with app.app_context():
            db.create_all()
            path = Path(directory) / "train.csv"
            # The tutorial CSV layout: the question, then the coarse and the fine class.
            train.assign(
                Questions=train.text,
                Category0="",
                Category1=train.coarse,
                Category2=train.fine.str.split(":").str[1],
            )[["Questions", "Category0", "Category1", "Category2"]].to_csv(path)
            import_dataset(path, "train80")
            started = time.perf_counter()
            register(train_model(train, quick=True, with_metrics=False), directory, "bench")
            train_seconds = time.perf_counter() - started
        client = app.test_client()
        questions = list(test.text)
        for start in range(0, len(questions), BATCH):
            response = client.post(
                "/api/v1/classify", json={"questions": questions[start : start + BATCH]}
            )
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
        with app.app_context():
            stored = db.session.execute(
                select(Query.normalized, Prediction.fine, Prediction.fine_confidence).join(
                    Prediction, Prediction.query_id == Query.id
                )
            ).all()
            wrong = {n for n, fine, _ in stored if gold.get(n) not in (None, fine)}
            started = time.perf_counter()
            items, total = ranked_inbox(limit=TOP)
            inbox_seconds = time.perf_counter() - started
            db.engine.dispose()
    inbox = sum(item.normalized in wrong for item in items) / len(items)
    by_confidence = sorted(stored, key=lambda row: row[2])[:TOP]
    lowest = sum(n in wrong for n, _, _ in by_confidence) / TOP
    rng = random.Random(seed)
    names = [n for n, _, _ in stored]
    shuffled = statistics.mean(
        sum(n in wrong for n in rng.sample(names, TOP)) / TOP for _ in range(SHUFFLES)
    )
    return {
        "seed": seed,
        "traffic": len(stored),
        "errors": len(wrong),
        "inbox_items": total,
        "grouped": sum(bool(item.members) for item in items),
        "inbox": inbox,
        "random": shuffled,
        "lowest_confidence": lowest,
        "train_seconds": train_seconds,
        "inbox_seconds": inbox_seconds,
    }


def seed_traffic(count: int, seed: int = 0) -> dict:
    """``count`` stored queries as visitors ask: popular questions asked again and again, most
    others once, each with a prediction, and a visitor proposal on 2% of them."""
    rng = random.Random(seed)
    frame = load_dataset(starter_dataset_path()).frame
    bases = list(frame.text)
    labels = list(frame.fine)
    now = datetime.now(UTC)
    clients = CLIENTS
    written = {"queries": 0, "corrections": 0}
    for start in range(0, count, 5000):
        connection = db.session.connection()
        size = min(5000, count - start)
        rows, picks = [], []
        for n in range(start, start + size):
            index = min(int(rng.paretovariate(1.2)) - 1, len(bases) - 1)
            if rng.random() < 0.7:  # most questions are asked once, in words of their own
                index = rng.randrange(len(bases))
                text = f"{bases[index]} (variant {n})"
            else:
                text = bases[index]
            junk = rng.random() < OUT_OF_SCOPE
            if junk:  # keyboard mashing, each distinct
                text = "".join(rng.choice("asdfghjkl") for _ in range(8)) + f" {n}"
            picks.append(index)
            rows.append(
                {
                    "text": text,
                    "normalized": normalise_question(text)[:600],
                    "token": f"bench{n:09d}",
                    "created_at": now,
                    "client_hash": rng.choice(clients),
                    "source": "api",
                    "in_scope": not junk,
                    "scope_reason": "gibberish" if junk else "english_question",
                }
            )
        ids = connection.scalars(
            insert(Query.__table__).returning(Query.id, sort_by_parameter_order=True), rows
        ).all()
        predictions, corrections = [], []
        for query_id, index, row in zip(ids, picks, rows, strict=True):
            confidence = rng.betavariate(5, 1.5)
            fine = labels[index]
            predictions.append(
                {
                    "query_id": query_id,
                    "coarse": fine.split(":")[0],
                    "fine": fine,
                    "coarse_confidence": confidence,
                    "fine_confidence": confidence,
                    "margin": confidence * rng.random(),
                    "scores": {"alternatives": [], "label_source": "bench"},
                }
            )
            if rng.random() < 0.02:
                other = rng.choice(labels)
                corrections.append(
                    {
                        "query_id": query_id,
                        "kind": "correction",
                        "coarse": other.split(":")[0],
                        "fine": other,
                        "status": "pending",
                        "created_at": now,
                        "client_hash": row["client_hash"],
                        "flags": {},
                    }
                )
        connection.execute(insert(Prediction.__table__), predictions)
        if corrections:
            connection.execute(insert(Correction.__table__), corrections)
        db.session.commit()
        written["queries"] += size
        written["corrections"] += len(corrections)
    return written


def render_run(queries: int, runs: int, pages: list[str], keep: str | None = None) -> dict:
    """Seed ``queries`` stored queries and time the inbox's first page.

    With ``keep``, the seeded instance stays in that folder and a later run reuses it, so two
    versions of the code can be timed in turn on the very same data.
    """
    with tempfile.TemporaryDirectory() as scratch:
        directory = keep or scratch
        app = make_app(directory)
        with app.app_context():
            reuse = keep is not None and Path(directory, "bench.db").exists()
            started = time.perf_counter()
            if reuse:
                written = {
                    "queries": db.session.scalar(select(db.func.count(Query.id))),
                    "corrections": db.session.scalar(select(db.func.count(Correction.id))),
                }
            else:
                db.create_all()
                import_dataset(starter_dataset_path(), "starter")
                # A serving model, so the page asks it how stable its answers are (once per
                # version).
                starter = load_dataset(starter_dataset_path()).frame
                register(train_model(starter, quick=True, with_metrics=False), directory, "bench")
                written = seed_traffic(queries)
                create_admin(USERNAME, PASSWORD)
            seed_seconds = time.perf_counter() - started
            distinct = db.session.scalar(select(db.func.count(db.distinct(Query.normalized))))
        client = log_in(app)
        # The first request of each builds the neighbour index once.
        timings = {name: time_page(client, PAGES[name], runs) for name in pages}
        with app.app_context():
            db.engine.dispose()
    return {"written": written, "seed_seconds": seed_seconds, "distinct": distinct, **timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--queries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-render", action="store_true")
    parser.add_argument("--pages", nargs="*", choices=list(PAGES), default=list(PAGES))
    parser.add_argument("--keep", metavar="DIR", help="seed into DIR once, reuse it afterwards")
    args = parser.parse_args()
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    print(f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"- Machine: `{uname}`, `nproc` = {os.cpu_count()} (shared with other work)")
    print(f"- Python {platform.python_version()}, SQLite (temporary file), Flask test client\n")
    if not DATASET.exists():
        print(f"{DATASET} is missing: the precision part needs the tutorial dataset; skipped.")
    elif args.seeds:
        print(f"Precision of the first {TOP} items (share that the model labelled wrongly):\n")
        print("| split seed | traffic | model errors | inbox | random order | lowest confidence |")
        print("|---|---|---|---|---|---|")
        results = []
        for seed in args.seeds:
            r = precision_run(seed)
            results.append(r)
            print(
                f"| {seed} | {r['traffic']} | {r['errors']} | **{r['inbox']:.2f}** "
                f"| {r['random']:.2f} | {r['lowest_confidence']:.2f} |",
                flush=True,
            )
        means = {
            key: statistics.mean(r[key] for r in results)
            for key in ("inbox", "random", "lowest_confidence")
        }
        print(
            f"| mean | | | **{means['inbox']:.2f}** | {means['random']:.2f} "
            f"| {means['lowest_confidence']:.2f} |\n"
        )
        print(
            "Quick model trained in "
            + ", ".join(f"{r['train_seconds']:.0f} s" for r in results)
            + "; inbox ranked in "
            + ", ".join(f"{r['inbox_seconds']:.2f} s" for r in results)
            + " (first call, neighbour index built)."
        )
    if not args.skip_render:
        r = render_run(args.queries, args.runs, args.pages, args.keep)
        w = r["written"]
        print(
            f"\nFirst page with {w['queries']:,} stored queries ({r['distinct']:,} distinct "
            f"questions, {w['corrections']:,} pending proposals), seeded in {r['seed_seconds']:.0f} s; "
            f"the first request builds the neighbour index, then {args.runs} timed runs:\n"
        )
        print("| page | first (s) | median (s) | min (s) | max (s) | within 0.3 s |")
        print("|---|---|---|---|---|---|")
        for name in args.pages:
            first, rest = r[name][0], r[name][1:]
            median = statistics.median(rest)
            verdict = "yes" if median <= RENDER_TARGET_SECONDS else "no"
            print(
                f"| {name} | {first:.3f} | {median:.3f} | {min(rest):.3f} | {max(rest):.3f} "
                f"| {verdict} |"
            )


if __name__ == "__main__":
    main()
