"""Batch classification of an uploaded CSV or text file, and the labelled CSV written back.

The output keeps every column of the upload, in order, and appends the results; every row the
upload had is in it, and a row that was skipped (empty) or refused (an invalid question, or not
an English question) says so with its line number in the ``error`` column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from training import SCOPE_REASONS as REASONS

from .classifier import LoadedModel
from .queries import (
    InvalidQuestion,
    classify_and_record,
    prediction_dict,
    query_path,
    validate_question,
)
from .user_text import spreadsheet_cell

MAX_BATCH_ROWS = 10_000
CHUNK_SIZE = 500
ACCEPTED_EXTENSIONS = (".csv", ".txt")
QUESTION_COLUMNS = ("question", "questions", "text")
RESULT_COLUMNS = (
    "coarse",
    "coarse_name",
    "coarse_confidence",
    "fine",
    "fine_name",
    "fine_confidence",
    "in_scope",
    "scope_reason",
    "query_id",
    "query_url",
    "model_version",
    "error",
)
# Files people upload by mistake, told apart by their first bytes.
SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (an .xlsx or .docx file is one)",
    b"\xd0\xcf\x11\xe0": "an old Office document (.xls or .doc)",
}
EMPTY_ROW = "empty row, skipped"
NO_QUESTION = "no question in this row, skipped"


class BatchError(ValueError):
    """The uploaded file cannot be read as a list of questions."""


@dataclass
class BatchRow:
    """One row of the upload: its line number, its cells, its question and what is wrong."""

    line: int
    question: str
    error: str | None = None
    cells: list[str] = field(default_factory=list)


@dataclass
class BatchTable:
    """The upload's columns (as they came, or named for a file without a header) and its rows."""

    columns: list[str]
    rows: list[BatchRow]

    @property
    def output_columns(self) -> list[str]:
        """The upload's columns, then the results, renamed with ``qc_`` where names clash."""
        taken = {column.strip().lower() for column in self.columns}
        return self.columns + [
            f"qc_{name}" if name in taken else name for name in RESULT_COLUMNS
        ]


def neutralise_cell(value: object) -> str:
    """A cell that cannot run as a spreadsheet formula: a leading quote is added where needed."""
    return spreadsheet_cell(value)


def check_file_name(filename: str) -> None:
    """Refuse files other than .csv and .txt, saying what is accepted."""
    name = (filename or "").strip().lower()
    if name.endswith(ACCEPTED_EXTENSIONS):
        return
    if "." in name:
        extension = name.rsplit(".", 1)[1]
        kind = f"{indefinite_article(extension)} {extension} file"
    else:
        kind = "a file without an extension"
    raise BatchError(
        f"Only .csv and .txt files are accepted, and this is {kind}. Save a spreadsheet as "
        "CSV (UTF-8), or put one question a line in a .txt file."
    )


def indefinite_article(extension: str) -> str:
    """The article before a file extension as it is read aloud: as a word ("a png", "a docx")
    or, without a vowel among its first two letters, letter by letter ("an xlsx", "an mp3")."""
    if not extension:
        return "a"
    if extension[0] in "aeiou":
        return "an"
    spelled = not any(letter in "aeiouy" for letter in extension[:2])
    # Letters whose names begin with a vowel sound: eff, aitch, el, em, en, ar, ess, ex.
    return "an" if spelled and extension[0] in "fhlmnrsx" else "a"


def _decode(data: bytes) -> str:
    for signature, kind in SIGNATURES.items():
        if data.startswith(signature):
            raise BatchError(f"This is {kind}, not a text or CSV file of questions.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BatchError(
            f"The file is not UTF-8 text (bad byte at position {error.start}); save it as UTF-8."
        ) from None
    if "\x00" in text:
        raise BatchError("The file contains NUL bytes; it does not look like a text or CSV file.")
    return text


def read_table(data: bytes, filename: str = "") -> BatchTable:
    """The rows of an uploaded file: a CSV (with its header when it names a question column)
    or one question a line; every row is kept, with the reason when it cannot be classified."""
    check_file_name(filename)
    text = _decode(data)
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise BatchError("The file holds no questions.")
    if filename.lower().endswith(".csv"):
        columns, records = _csv_records(text)
    else:
        # A text file is one question a line; a first line that only names the column is a header.
        numbered = list(enumerate(lines, 1))
        if numbered[0][1].strip().lower() in QUESTION_COLUMNS:
            numbered = numbered[1:]
        columns, records = ["question"], ((number, [line]) for number, line in numbered)
    column = _question_column(columns)
    rows = []
    for number, cells in records:
        if len(rows) >= MAX_BATCH_ROWS:
            raise BatchError(f"The file has more than {MAX_BATCH_ROWS:,} rows; split it.")
        cells = cells + [""] * (len(columns) - len(cells))
        value = cells[column]
        if not value.strip():
            blank = not any(cell.strip() for cell in cells)
            rows.append(BatchRow(number, value, EMPTY_ROW if blank else NO_QUESTION, cells))
            continue
        try:
            rows.append(BatchRow(number, validate_question(value), None, cells))
        except InvalidQuestion as error:
            rows.append(BatchRow(number, value, error.message, cells))
    return BatchTable(columns, rows)


def _question_column(columns: list[str]) -> int:
    lowered = [column.strip().lower() for column in columns]
    return next((lowered.index(name) for name in QUESTION_COLUMNS if name in lowered), 0)


def _csv_records(text: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header (or made-up names when the first row names no question column) and rows."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        first = next(reader)
    except csv.Error as error:
        raise BatchError(f"Line 1: the CSV is malformed ({error}).") from None
    has_header = any(cell.strip().lower() in QUESTION_COLUMNS for cell in first)
    width = max(len(first), 1)
    columns = first if has_header else ["question"] + [f"column_{i}" for i in range(2, width + 1)]

    def records() -> Iterator[tuple[int, list[str]]]:
        if not has_header:
            yield 1, first
        line = reader.line_num
        try:
            for record in reader:
                # line_num counts physical lines; a row starts on the line after the last one.
                yield line + 1, record
                line = reader.line_num
        except csv.Error as error:
            raise BatchError(f"Line {reader.line_num}: the CSV is malformed ({error}).") from None

    return columns, records()


def row_problem(row: BatchRow) -> str:
    """What the ``error`` column says for a row that got no label."""
    return f"line {row.line}: {row.error}"


def classify_rows(
    table: BatchTable, model: LoadedModel, client_hash: str | None
) -> Iterator[dict]:
    """Classify the valid rows chunk by chunk (each chunk one transaction) and yield output rows
    keyed by output column; the upload's own cells come first, under their own names."""
    names = table.output_columns
    extra = dict(zip(RESULT_COLUMNS, names[len(table.columns) :], strict=True))
    rows = table.rows
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
            output = dict(zip(range(len(table.columns)), row.cells, strict=False))
            if row.error is not None:
                output[extra["error"]] = row_problem(row)
                yield output
                continue
            item = next(classified)
            output.update(
                {
                    extra["in_scope"]: "true" if item.in_scope else "false",
                    extra["scope_reason"]: item.scope_reason or "",
                    extra["query_id"]: item.token,
                    extra["query_url"]: query_path(item.token),
                    extra["model_version"]: item.model_version,
                }
            )
            if not item.in_scope:
                # No label for what is not a question, as on the result page.
                reason = REASONS[item.scope_reason or "not_english"]
                output[extra["error"]] = f"line {row.line}: not an English question: {reason}"
                yield output
                continue
            labels = prediction_dict(item.prediction)
            output.update(
                {
                    extra["coarse"]: labels["coarse"]["label"],
                    extra["coarse_name"]: labels["coarse"]["name"],
                    extra["coarse_confidence"]: labels["coarse"]["confidence"],
                    extra["fine"]: labels["fine"]["label"],
                    extra["fine_name"]: labels["fine"]["name"],
                    extra["fine_confidence"]: labels["fine"]["confidence"],
                }
            )
            yield output


def write_csv(table: BatchTable, rows: Iterable[dict]) -> Iterator[str]:
    """The labelled CSV, line by line, with every cell neutralised against formula injection.

    A row's upload cells are keyed by position, the results by output column name."""
    names = table.output_columns
    width = len(table.columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise_cell(name) for name in names])
    yield buffer.getvalue()  # the header alone first: a batch job writes it once for all parts
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        cells = [row.get(i, "") for i in range(width)] + [row.get(n, "") for n in names[width:]]
        writer.writerow([neutralise_cell(cell) for cell in cells])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
