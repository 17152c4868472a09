"""Readers and writers for question datasets (tutorial CSV and UIUC label format)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from training.taxonomy import COARSE_CLASSES, FINE_CLASSES, LONG_COARSE_NAMES

COLUMNS = ["text", "coarse", "fine"]

# A UIUC line starts with "COARSE:fine" followed by whitespace and the question.
_UIUC_LINE = re.compile(r"^\s*([A-Za-z]+:[A-Za-z]+)\s+(\S.*?)\s*$")
_UIUC_LABEL_ONLY = re.compile(r"^\s*[A-Za-z]+:[A-Za-z]+\s*$")
_REQUIRED_CSV_COLUMNS = ("Questions", "Category1", "Category2")


class DatasetError(ValueError):
    """A dataset file cannot be read; the message names the file and line."""


@dataclass
class LoadResult:
    """A cleaned dataset plus counts of what cleaning removed."""

    frame: pd.DataFrame
    skipped: int
    duplicates_dropped: int
    format: str
    empty_dropped: int = 0


class _RowError(Exception):
    """A single bad row; turned into DatasetError or counted when skipping."""


def _decode(raw: bytes) -> str:
    """Decode as UTF-8 (with or without BOM) and fall back to latin-1, which never fails."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _normalise_labels(coarse_raw: str, fine_raw: str) -> tuple[str, str]:
    """Canonical (coarse, fine) labels; fine may come as 'city' or 'LOC:city'."""
    coarse = coarse_raw.strip().upper()
    fine_name = fine_raw.strip()
    if not coarse or not fine_name:
        raise _RowError("empty label")
    if coarse not in COARSE_CLASSES:
        raise _RowError(f"unknown coarse label {coarse_raw.strip()!r}")
    if ":" in fine_name:
        prefix, fine_name = fine_name.split(":", 1)
        if prefix.strip().upper() != coarse:
            raise _RowError(f"fine label {fine_raw.strip()!r} does not belong to {coarse!r}")
    fine = f"{coarse}:{fine_name.strip().lower()}"
    if fine not in FINE_CLASSES:
        raise _RowError(f"unknown fine label {fine!r}")
    return coarse, fine


def _first_content_line(text: str) -> str:
    """The first non-blank line of a file, or an empty string."""
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def _detect_format(text: str) -> str | None:
    """'csv', 'uiuc' or None, judged from the first non-blank line."""
    first = _first_content_line(text)
    if not first:
        return None
    header = next(csv.reader([first]), [])
    if all(column in [h.strip() for h in header] for column in _REQUIRED_CSV_COLUMNS):
        return "csv"
    if _UIUC_LINE.match(first):
        return "uiuc"
    return None


def _csv_rows(text: str):
    """Yield (line_number, question, coarse, fine) from tutorial CSV text; raise on bad rows."""
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    for fields in reader:
        line_number = reader.line_num
        if header is None:
            if not any(field.strip() for field in fields):
                continue
            header = [field.strip() for field in fields]
            positions = {name: header.index(name) for name in _REQUIRED_CSV_COLUMNS}
            continue
        if not fields or not any(field.strip() for field in fields):
            continue
        if len(fields) != len(header):
            yield line_number, _RowError(
                f"expected {len(header)} columns, found {len(fields)}"
            )
            continue
        yield line_number, (
            fields[positions["Questions"]],
            fields[positions["Category1"]],
            fields[positions["Category2"]],
        )


def _uiuc_rows(text: str):
    """Yield (line_number, question, coarse, fine) from UIUC label-format text."""
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _UIUC_LINE.match(line)
        if match is None:
            reason = "missing question text" if _UIUC_LABEL_ONLY.match(line) else (
                "expected 'COARSE:fine question'"
            )
            yield line_number, _RowError(reason)
            continue
        label, question = match.groups()
        coarse, fine = label.split(":", 1)
        yield line_number, (question, coarse, fine)


def load_dataset(path: str | Path, *, skip_bad: bool = False) -> LoadResult:
    """Read a tutorial CSV or UIUC label file into a clean (text, coarse, fine) frame."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DatasetError(f"{path.name}: cannot read file ({error.strerror})") from error
    text = _decode(raw)
    kind = _detect_format(text)
    if kind is None:
        reason = "file is empty" if not text.strip() else "not a tutorial CSV or UIUC label file"
        raise DatasetError(f"{path.name}: {reason}")
    rows = _csv_rows(text) if kind == "csv" else _uiuc_rows(text)
    records: list[tuple[str, str, str]] = []
    skipped = empty = 0
    for line_number, row in rows:
        try:
            if isinstance(row, _RowError):
                raise row
            question, coarse_raw, fine_raw = row
            coarse, fine = _normalise_labels(coarse_raw, fine_raw)
        except _RowError as error:
            if not skip_bad:
                raise DatasetError(f"{path.name}:{line_number}: {error}") from None
            skipped += 1
            continue
        question = " ".join(question.split())
        if not question:
            empty += 1
            continue
        records.append((question, coarse, fine))
    if not records:
        raise DatasetError(f"{path.name}: no usable rows")
    frame = pd.DataFrame(records, columns=COLUMNS)
    before = len(frame)
    frame = frame.drop_duplicates(ignore_index=True)
    return LoadResult(
        frame=frame,
        skipped=skipped,
        duplicates_dropped=before - len(frame),
        format=kind,
        empty_dropped=empty,
    )


_SPACE_BEFORE_PUNCT = re.compile(r"\s+([?.!,;:%)\]])")
_WHITESPACE = re.compile(r"\s+")
_TRAILING_PUNCT = re.compile(r"[\s?.!]+$")
_SPLIT_CLITIC = re.compile(r"\s+('s|'re|'ve|'ll|'d|'m|n't)\b")


def normalise_question(text: str) -> str:
    """Canonical form used to recognise the same question across the product."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("``", '"').replace("''", '"').replace("\u2019", "'")
    text = _WHITESPACE.sub(" ", text.lower()).strip()
    text = _SPLIT_CLITIC.sub(r"\1", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return _TRAILING_PUNCT.sub("", text)


def dataset_fingerprint(frame: pd.DataFrame) -> str:
    """sha256 over the sorted (text, coarse, fine) rows: equal data gives an equal hash."""
    rows = sorted(zip(frame["text"], frame["coarse"], frame["fine"], strict=True))
    digest = hashlib.sha256()
    for text, coarse, fine in rows:
        digest.update(f"{text}\t{coarse}\t{fine}\n".encode())
    return digest.hexdigest()


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a frame in the tutorial CSV schema (index, Questions, Category0..2)."""
    out = pd.DataFrame(
        {
            "Questions": frame["text"].to_numpy(),
            "Category0": [LONG_COARSE_NAMES[c] for c in frame["coarse"]],
            "Category1": frame["coarse"].to_numpy(),
            "Category2": [fine.split(":", 1)[1] for fine in frame["fine"]],
        }
    )
    out.to_csv(path, index=True, encoding="utf-8")
