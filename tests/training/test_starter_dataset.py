"""The bundled starter dataset: schema, no duplicates, every label valid, every class covered."""

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from training import taxonomy
from training.data.datasets import load_dataset, normalise_question

STARTER = Path(__file__).resolve().parents[2] / "training" / "data" / "starter.csv"
# Classes too narrow for 20 natural, distinct questions; they still need 8.
RARE = {"NUM:ord", "ENTY:currency", "ENTY:letter", "NUM:code", "ABBR:abb"}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    with open(STARTER, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_schema(rows):
    with open(STARTER, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header == ["Questions", "Category0", "Category1", "Category2"]
    for row in rows:
        assert row["Questions"].strip() == row["Questions"] and row["Questions"]
        assert taxonomy.LONG_COARSE_NAMES[row["Category1"]] == row["Category0"]


def test_size_and_loader(rows):
    assert len(rows) >= 2000
    loaded = load_dataset(STARTER)
    assert len(loaded.frame) == len(rows) and loaded.skipped == 0


def test_no_duplicates_even_after_normalising(rows):
    loose = Counter(
        re.sub(r"[\W_]+", " ", normalise_question(r["Questions"])).strip() for r in rows
    )
    repeated = [question for question, count in loose.items() if count > 1]
    assert repeated == []


def test_every_label_is_in_the_taxonomy(rows):
    for row in rows:
        assert taxonomy.is_valid_pair(row["Category1"], f"{row['Category1']}:{row['Category2']}")


def test_every_class_is_covered(rows):
    fine = Counter(f"{r['Category1']}:{r['Category2']}" for r in rows)
    assert set(fine) == set(taxonomy.FINE_LABELS)
    assert set(r["Category1"] for r in rows) == set(taxonomy.COARSE_LABELS)
    thin = {label: n for label, n in fine.items() if n < (8 if label in RARE else 20)}
    assert thin == {}


def test_phrasing_is_varied(rows):
    openings = Counter(r["Questions"].split()[0].lower().strip(",") for r in rows)
    assert len(openings) >= 40  # not a handful of templates
    # People start about half their questions with "what"; no opening may crowd out the rest.
    assert max(openings.values()) / len(rows) < 0.6
    lengths = [len(r["Questions"].split()) for r in rows]
    assert min(lengths) <= 4 and max(lengths) >= 15
