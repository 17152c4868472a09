"""A refused upload names its kind of file in good English."""

from __future__ import annotations

import pytest

from qcapp.services.serving.batch import BatchError, check_file_name, indefinite_article


@pytest.mark.parametrize(
    ("extension", "article"),
    [("xlsx", "an"), ("xls", "an"), ("odt", "an"), ("mp3", "an"), ("html", "an"),
     ("svg", "an"), ("png", "a"), ("pdf", "a"), ("docx", "a"), ("json", "a"), ("zip", "a"),
     ("heic", "a"), ("", "a")],
)
def test_the_article_follows_how_the_extension_is_read(extension, article):
    assert indefinite_article(extension) == article


def test_the_refusal_reads_an_xlsx_file():
    with pytest.raises(BatchError, match="and this is an xlsx file"):
        check_file_name("Questions.XLSX")
