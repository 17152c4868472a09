"""qc dataset import, list and fetch; qc train, evaluate and predict."""

import hashlib
import http.server
import json
import threading

import pytest
from sqlalchemy import func, select

from qcapp.models import Dataset, Example

from helpers import SHARED_DATASET

UIUC_LINES = (
    "HUM:ind Who was the first man on the Moon ?\n"
    "LOC:city What city is the Golden Gate Bridge in ?\n"
    "NUM:date When did the Titanic sink ?\n"
)


def write(path, text, encoding="utf-8"):
    path.write_text(text, encoding=encoding)
    return path


def test_import_csv_and_reimport_replaces(runner, db, tmp_path):
    first = write(
        tmp_path / "a.csv",
        "Questions,Category0,Category1,Category2\n"
        "Who wrote Dune?,HUMAN,HUM,ind\nWhere is Lima?,LOCATION,LOC,other\n",
    )
    result = runner.invoke(args=["qc", "dataset", "import", str(first), "--name", "mine"])
    assert result.exit_code == 0, result.output
    assert "Imported 2 questions" in result.output
    second = write(tmp_path / "b.label", UIUC_LINES, encoding="latin-1")
    result = runner.invoke(args=["qc", "dataset", "import", str(second), "--name", "mine"])
    assert result.exit_code == 0 and "uiuc format" in result.output
    assert db.session.scalar(select(func.count()).select_from(Example)) == 3
    listing = runner.invoke(args=["qc", "dataset", "list"])
    assert "* mine" in listing.output and "3" in listing.output


def test_import_refuses_a_broken_file_and_keeps_data(runner, db, tmp_path):
    good = write(tmp_path / "g.label", UIUC_LINES)
    runner.invoke(args=["qc", "dataset", "import", str(good), "--name", "d"])
    bad = write(tmp_path / "bad.label", UIUC_LINES + "LOC:moon Where is Tycho ?\n")
    result = runner.invoke(args=["qc", "dataset", "import", str(bad), "--name", "d"])
    assert result.exit_code == 1
    assert "bad.label:4" in result.output and "LOC:moon" in result.output
    assert db.session.scalar(select(func.count()).select_from(Example)) == 3  # untouched
    skipped = runner.invoke(args=["qc", "dataset", "import", str(bad), "--name", "d", "--skip-bad"])
    assert skipped.exit_code == 0 and "1 bad rows skipped" in skipped.output


def test_import_missing_file(runner, db, tmp_path):
    result = runner.invoke(
        args=["qc", "dataset", "import", str(tmp_path / "nope.csv"), "--name", "x"]
    )
    assert result.exit_code != 0 and "nope.csv" in result.output


@pytest.fixture
def served_file(tmp_path):
    (tmp_path / "train_5500.label").write_bytes(UIUC_LINES.encode("latin-1"))

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/train_5500.label"
    server.shutdown()


def test_fetch_verifies_checksum_and_imports(app, runner, db, served_file):
    app.config["UIUC_TRAIN_SHA256"] = hashlib.sha256(UIUC_LINES.encode("latin-1")).hexdigest()
    result = runner.invoke(args=["qc", "dataset", "fetch", "uiuc", "--url", served_file])
    assert result.exit_code == 0, result.output
    dataset = db.session.scalar(select(Dataset).where(Dataset.name == "uiuc"))
    assert dataset.rows == 3 and dataset.is_active


def test_fetch_refuses_wrong_checksum(app, runner, db, served_file):
    result = runner.invoke(args=["qc", "dataset", "fetch", "uiuc", "--url", served_file])
    assert result.exit_code == 1 and "expected 9e4c8bdc" in result.output
    assert db.session.scalar(select(func.count()).select_from(Dataset)) == 0


def test_fetch_offline_fails_clearly(app, runner, db):
    result = runner.invoke(args=["qc", "dataset", "fetch", "uiuc", "--url", "http://127.0.0.1:9/x"])
    assert result.exit_code == 1
    assert "Cannot download" in result.output and "qc dataset import" in result.output


def test_train_evaluate_predict(runner, db, tmp_path):
    from qcapp.services.data.datasets import starter_dataset_path

    runner.invoke(
        args=["qc", "dataset", "import", str(starter_dataset_path()), "--name", "starter"]
    )
    result = runner.invoke(args=["qc", "train", "--quick"])
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output and "activated" in result.output
    labelled = write(tmp_path / "eval.label", UIUC_LINES)
    result = runner.invoke(args=["qc", "evaluate", str(labelled), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output.strip().splitlines()[-1])
    for key in ("n", "coarse_accuracy", "fine_accuracy", "coarse_macro_f1", "fine_macro_f1"):
        assert key in metrics
    assert metrics["n"] == 3
    result = runner.invoke(args=["qc", "predict", "Who was Galileo?"])
    assert result.exit_code == 0 and result.output.startswith("HUM")
    result = runner.invoke(args=["qc", "predict", "Wo ist der Bahnhof?"])
    assert result.output.startswith("Not an English question (")
    result = runner.invoke(args=["qc", "predict", "😀😀", "--json"])
    assert json.loads(result.output)["in_scope"] is False
    assert runner.invoke(args=["qc", "predict", "  "]).exit_code == 2
    missing = runner.invoke(args=["qc", "evaluate", str(labelled), "--version", "nope"])
    assert missing.exit_code == 1 and "no model version 'nope'" in missing.output


def test_train_without_dataset_fails_clearly(runner, db):
    result = runner.invoke(args=["qc", "train", "--quick"])
    assert result.exit_code == 1 and "no active dataset" in result.output.lower()


@pytest.mark.skipif(not SHARED_DATASET.exists(), reason="the tutorial dataset is not available")
def test_import_tutorial_dataset(runner, db):
    result = runner.invoke(args=["qc", "dataset", "import", str(SHARED_DATASET), "--name", "uiuc"])
    assert result.exit_code == 0, result.output
    assert (
        db.session.scalar(select(func.count()).select_from(Example)) == 5382
    )  # 70 exact duplicates
