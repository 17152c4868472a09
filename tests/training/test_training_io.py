"""Dataset readers, cleaning, fingerprints and question normalisation."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.data.datasets import (
    DatasetError,
    dataset_fingerprint,
    load_dataset,
    normalise_question,
    write_csv,
)

CSV_HEADER = ",Questions,Category0,Category1,Category2\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write a test file and return its path."""
    path.write_text(text, encoding=encoding)
    return path


def test_tutorial_csv_is_read_and_labels_normalised(tmp_path: Path) -> None:
    path = write(
        tmp_path / "data.csv",
        CSV_HEADER
        + "0,What county is Modesto in ?,LOCATION,LOC,city\n"
        + "1,  Who was Galileo ?  ,HUMAN,hum,HUM:desc\n"
        + "2,What county is Modesto in ?,LOCATION,LOC,city\n",
    )
    result = load_dataset(path)
    assert result.format == "csv"
    assert list(result.frame.columns) == ["text", "coarse", "fine"]
    assert result.frame.to_dict("records") == [
        {"text": "What county is Modesto in ?", "coarse": "LOC", "fine": "LOC:city"},
        {"text": "Who was Galileo ?", "coarse": "HUM", "fine": "HUM:desc"},
    ]
    assert result.duplicates_dropped == 1
    assert result.skipped == 0


def test_csv_without_index_column_and_latin1(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_bytes(
        "Questions,Category0,Category1,Category2\nWhat is a caf\xe9 ?,DESCRIPTION,DESC,def\n"
        .encode("latin-1")
    )
    frame = load_dataset(path).frame
    assert frame.loc[0, "text"] == "What is a caf\xe9 ?"
    assert frame.loc[0, "fine"] == "DESC:def"


def test_uiuc_label_format(tmp_path: Path) -> None:
    path = tmp_path / "train.label"
    path.write_bytes(
        b"LOC:city What county is Modesto , California in ?\n\n"
        b"NUM:dist How far is it from Denver to Aspen ?\n"
    )
    result = load_dataset(path)
    assert result.format == "uiuc"
    assert list(result.frame["fine"]) == ["LOC:city", "NUM:dist"]
    assert list(result.frame["coarse"]) == ["LOC", "NUM"]


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("0,Is there life on the moon ?,LOCATION,LOC,moon\n", 2, "unknown fine label 'LOC:moon'"),
        ("0,What ?,X,XYZ,city\n", 2, "unknown coarse label"),
        ("0,Who ?,HUMAN,HUM,ind\n1,Broken row,HUM\n", 3, "expected 5 columns"),
        ("0,Who ?,HUMAN,HUM,\n", 2, "empty label"),
    ],
)
def test_bad_csv_rows_name_file_and_line(tmp_path: Path, body: str, line: int, reason: str) -> None:
    path = write(tmp_path / "data.csv", CSV_HEADER + body)
    with pytest.raises(DatasetError) as error:
        load_dataset(path)
    assert str(error.value).startswith(f"data.csv:{line}: ")
    assert reason in str(error.value)


def test_bad_uiuc_line_names_line(tmp_path: Path) -> None:
    path = write(tmp_path / "x.label", "HUM:ind Who ?\nLOC:moon Where is it ?\n", "latin-1")
    with pytest.raises(DatasetError, match=r"^x\.label:2: unknown fine label 'LOC:moon'"):
        load_dataset(path)


def test_skip_bad_counts_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path / "data.csv",
        CSV_HEADER
        + "0,Who invented radio ?,HUMAN,HUM,ind\n"
        + "1,Is there life on the moon ?,LOCATION,LOC,moon\n"
        + "2,too,few\n"
        + "3,How many legs does a spider have ?,NUMERIC,NUM,count\n",
    )
    result = load_dataset(path, skip_bad=True)
    assert result.skipped == 2
    assert list(result.frame["fine"]) == ["HUM:ind", "NUM:count"]


@pytest.mark.parametrize("content", ["", "\n\n  \n", "just some words\nand more\n"])
def test_empty_or_unknown_files_are_refused(tmp_path: Path, content: str) -> None:
    path = write(tmp_path / "odd.txt", content)
    with pytest.raises(DatasetError, match=r"^odd\.txt: "):
        load_dataset(path)


def test_write_csv_round_trips(tmp_path: Path) -> None:
    source = write(
        tmp_path / "in.label", "LOC:city What city ?\nABBR:exp What does NASA stand for ?\n"
    )
    frame = load_dataset(source).frame
    write_csv(frame, tmp_path / "out.csv")
    lines = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",Questions,Category0,Category1,Category2"
    assert lines[1] == "0,What city ?,LOCATION,LOC,city"
    again = load_dataset(tmp_path / "out.csv").frame
    assert again.equals(frame)
    assert dataset_fingerprint(again) == dataset_fingerprint(frame)


def test_fingerprint_ignores_order_but_not_labels(tiny_frame) -> None:
    shuffled = tiny_frame.sample(frac=1.0, random_state=3)
    assert dataset_fingerprint(shuffled) == dataset_fingerprint(tiny_frame)
    relabelled = tiny_frame.copy()
    relabelled.loc[0, "fine"] = "HUM:desc"
    assert dataset_fingerprint(relabelled) != dataset_fingerprint(tiny_frame)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("What 's the capital of France ?", "what's the capital of france"),
        ("What's the capital of France?", "what's the capital of france"),
        ("Who wrote ``Hamlet'' ?", 'who wrote "hamlet"'),
        ("  How   MANY\tdogs ?!. ", "how many dogs"),
        ("Why do n't cats swim ?", "why don't cats swim"),
        ("ｗｈａｔ is ＮＡＳＡ？", "what is nasa"),
        ("Where is Paris , France ?", "where is paris, france"),
    ],
)
def test_normalise_question(raw: str, expected: str) -> None:
    assert normalise_question(raw) == expected
    assert normalise_question(expected) == expected


def test_normalise_question_is_idempotent_on_real_questions(real_frame) -> None:
    for text in real_frame["text"].head(500):
        once = normalise_question(text)
        assert normalise_question(once) == once
