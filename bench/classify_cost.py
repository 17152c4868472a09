"""In-process cost of one POST /api/v1/classify, with and without the scope check.

A scratch app (SQLite in a temporary directory) serves a quick model trained on the starter
dataset; each starter question is posted once through the WSGI test client, alternating runs
with the scope check and with it replaced by an always-in-scope verdict, so both see the same
machine load. Reports the median and 99th percentile of wall time per request.

Run from the repository root:  python bench/classify_cost.py [--requests 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from qcapp import create_app  # noqa: E402
from qcapp.extensions import db  # noqa: E402
from qcapp.services.data.datasets import starter_dataset_path  # noqa: E402
from qcapp.services.serving import queries  # noqa: E402
from training.data.datasets import load_dataset  # noqa: E402
from training.runtime.scope import ScopeVerdict  # noqa: E402


def always_in_scope(texts: list[str]) -> list[ScopeVerdict]:
    """The verdict every request got before the scope check existed."""
    return [ScopeVerdict(True, "english_question", 0.0) for _ in texts]


def timed_run(client, questions: list[str]) -> list[float]:
    timings = []
    for question in questions:
        started = time.perf_counter()
        response = client.post("/api/v1/classify", json={"question": question})
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.get_data(as_text=True)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    questions = list(load_dataset(starter_dataset_path()).frame["text"])[: args.requests]
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                "INSTANCE_PATH": folder,
                "MODELS_DIR": f"{folder}/models",
                "LOG_LEVEL": "WARNING",
            }
        )
        with app.app_context():
            db.create_all()
            from qcapp.runs.start import train_version
            from qcapp.services.data.datasets import STARTER_DATASET, import_dataset

            import_dataset(starter_dataset_path(), STARTER_DATASET)
            train_version(quick=True, actor="bench")
        client = app.test_client()
        timed_run(client, questions[:200])  # warm-up, fits the scope model once
        real_check = queries.check_scope
        results: dict[str, list[float]] = {"without": [], "with": []}
        for round_number in range(args.rounds):
            for name in ("without", "with"):
                queries.check_scope = always_in_scope if name == "without" else real_check
                timings = timed_run(client, questions)
                results[name] += timings
                print(
                    f"round {round_number + 1} {name:7} scope check: "
                    f"p50 {statistics.median(timings) * 1000:.3f} ms",
                    flush=True,
                )
        queries.check_scope = real_check
    for name, timings in results.items():
        print(
            f"{name:7} scope check: p50 {statistics.median(timings) * 1000:.3f} ms, "
            f"p99 {float(np.percentile(timings, 99)) * 1000:.3f} ms over {len(timings)} requests"
        )


if __name__ == "__main__":
    main()
