"""Shared fixtures for the training tests: the real dataset (optional) and a tiny synthetic one."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from training.data.datasets import load_dataset
from training.tiers.train import TrainResult, train_model

REPO_ROOT = Path(__file__).resolve().parents[2]

# Templates for a handful of fine classes; enough to train and save a model in a second.
_TEMPLATES = {
    ("HUM", "HUM:ind"): ["Who invented the {}?", "Who discovered the {}?", "Who wrote the {}?"],
    ("LOC", "LOC:city"): ["What city has the largest {}?", "Which city is home to the {}?"],
    ("LOC", "LOC:country"): ["What country produces the most {}?", "Which country has a {}?"],
    ("NUM", "NUM:count"): ["How many {} are there?", "How many {} does a team have?"],
    ("NUM", "NUM:date"): ["When was the {} invented?", "What year was the {} built?"],
    ("DESC", "DESC:def"): ["What is a {}?", "What does {} mean?"],
    ("ENTY", "ENTY:animal"): ["What animal eats {}?", "Which bird likes {}?"],
}
_FILLERS = ["telephone", "bridge", "radio", "museum", "piano", "bicycle", "engine", "satellite"]


def dataset_path() -> Path:
    """Location of the shared UIUC training CSV (may not exist)."""
    override = os.environ.get("QC_SHARED_DATASET")
    if override:
        return Path(override)
    return (REPO_ROOT / ".." / "shared" / "data" / "dataset.csv").resolve()


@pytest.fixture(scope="session")
def real_frame() -> pd.DataFrame:
    """The full shared dataset, or skip when it is absent."""
    path = dataset_path()
    if not path.is_file():
        pytest.skip(f"shared dataset not found at {path}")
    return load_dataset(path).frame


@pytest.fixture(scope="session")
def tiny_frame() -> pd.DataFrame:
    """About a hundred templated questions over seven fine classes."""
    rows = [
        (template.format(filler), coarse, fine)
        for (coarse, fine), templates in _TEMPLATES.items()
        for template in templates
        for filler in _FILLERS
    ]
    return pd.DataFrame(rows, columns=["text", "coarse", "fine"])


@pytest.fixture(scope="session")
def tiny_result(tiny_frame: pd.DataFrame) -> TrainResult:
    """A quick model trained on the tiny synthetic frame."""
    return train_model(tiny_frame, quick=True)


@pytest.fixture(scope="module")
def real_result(real_frame: pd.DataFrame) -> TrainResult:
    """A quick model trained once on the full shared dataset."""
    return train_model(real_frame, quick=True, with_metrics=False)


class RecordingSink:
    """Keeps every log line and progress value that training reports."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.fractions: list[float] = []

    def log(self, message: str) -> None:
        self.lines.append(message)

    def progress(self, fraction: float, message: str) -> None:
        self.fractions.append(fraction)


@pytest.fixture
def sink() -> RecordingSink:
    """A progress sink that records what it is told."""
    return RecordingSink()
