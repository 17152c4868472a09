"""Batch classification of an uploaded CSV or text file, and the labelled CSV written back."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .classifier import LoadedModel
from .queries import InvalidQuestion, classify_and_record, prediction_dict, validate_question
from .user_text import spreadsheet_cell

MAX_BATCH_ROWS = 10_000
CHUNK_SIZE = 500
QUESTION_COLUMNS = ("question", "questions", "text")
OUTPUT_COLUMNS = (
    "question",
    "coarse",
    "coarse_name",
    "coarse_confidence",
    "fine",
    "fine_name",
    "fine_confidence",
    "query_id",
    "model_version",
    "error",
)


class BatchError(ValueError):
    """The uploaded file cannot be read as a list of questions."""


@dataclass
class BatchRow:
    line: int
    question: str
    error: str | None = None


def neutralise_cell(value: object) -> str:
    """A cell that cannot run as a spreadsheet formula: a leading quote is added where needed."""
    return spreadsheet_cell(value)


def read_questions(data: bytes, filename: str = "") -> list[BatchRow]:
    """The questions of an uploaded file: a CSV with a question column, or one question a line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BatchError(
            f"The file is not UTF-8 text (bad byte at position {error.start}); save it as UTF-8."
        ) from None
    if "\x00" in text:
        raise BatchError("The file contains NUL bytes; it does not look like a text or CSV file.")
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise BatchError("The file holds no questions.")
    header = next(csv.reader([lines[0]])) if lines else []
    lowered = [cell.strip().lower() for cell in header]
    column = next((lowered.index(name) for name in QUESTION_COLUMNS if name in lowered), None)
    if column is not None or filename.lower().endswith(".csv"):
        rows = _csv_questions(text, column)
    else:
        rows = ((number, line) for number, line in enumerate(lines, start=1))
    result = []
    for number, value in rows:
        if not value.strip():
            continue
        if len(result) >= MAX_BATCH_ROWS:
            raise BatchError(f"The file has more than {MAX_BATCH_ROWS:,} questions; split it.")
        try:
            result.append(BatchRow(number, validate_question(value)))
        except InvalidQuestion as error:
            result.append(BatchRow(number, value, error.message))
    return result


def _csv_questions(text: str, column: int | None) -> Iterator[tuple[int, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for record in reader:
            if column is not None and reader.line_num == 1:
                continue  # the header
            index = column or 0
            yield reader.line_num, record[index] if index < len(record) else ""
    except csv.Error as error:
        raise BatchError(f"Line {reader.line_num}: the CSV is malformed ({error}).") from None


def classify_rows(
    rows: list[BatchRow], model: LoadedModel, client_hash: str | None
) -> Iterator[dict]:
    """Classify the valid rows chunk by chunk (each chunk one transaction) and yield output rows."""
    for start in range(0, len(rows), CHUNK_SIZE):
        chunk = rows[start : start + CHUNK_SIZE]
        valid = [row for row in chunk if row.error is None]
        classified = iter(
            classify_and_record(
                [row.question for row in valid], model, source="batch", client_hash=client_hash
            )
            if valid
            else []
        )
        for row in chunk:
            if row.error is not None:
                yield {"question": row.question, "error": f"line {row.line}: {row.error}"}
                continue
            item = next(classified)
            labels = prediction_dict(item.prediction)
            yield {
                "question": row.question,
                "coarse": labels["coarse"]["label"],
                "coarse_name": labels["coarse"]["name"],
                "coarse_confidence": labels["coarse"]["confidence"],
                "fine": labels["fine"]["label"],
                "fine_name": labels["fine"]["name"],
                "fine_confidence": labels["fine"]["confidence"],
                "query_id": item.id,
                "model_version": item.model_version,
            }


def write_csv(rows: Iterable[dict]) -> Iterator[str]:
    """The labelled CSV, line by line, with every cell neutralised against formula injection."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(OUTPUT_COLUMNS)
    for row in rows:
        writer.writerow([neutralise_cell(row.get(column, "")) for column in OUTPUT_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
