"""Several processes writing queries and corrections at once: nothing locked, nothing lost."""

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from qcapp.models import Correction, Prediction, Query

WRITERS, QUERIES, EVERY = 4, 60, 5


def test_parallel_writers_store_every_row(app, db, model_version):
    script = Path(__file__).with_name("concurrent_writer.py")
    environment = {**os.environ, "PYTHONPATH": str(script.parent.parent)}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                app.config["SQLALCHEMY_DATABASE_URI"],
                app.config["MODELS_DIR"],
                str(QUERIES),
                str(EVERY),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for _ in range(WRITERS)
    ]
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        report = json.loads(out.strip().splitlines()[-1])
        assert report["failures"] == [], report["failures"][:3]
        assert "database is locked" not in err
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    assert count(Query) == WRITERS * QUERIES
    assert count(Prediction) == WRITERS * QUERIES
    assert count(Correction) == WRITERS * (QUERIES // EVERY)
