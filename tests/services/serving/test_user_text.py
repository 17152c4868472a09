"""The rules for typed text as the page's counter reads them: the same ranges as the server's."""

from __future__ import annotations

import re

import pytest

from qcapp.services.serving.user_text import STRIPPED_RANGES, clean_text, counting_patterns


def ranges_of(codes: list[int]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for code in codes:
        if out and out[-1][1] == code - 1:
            out[-1] = (out[-1][0], code)
        else:
            out.append((code, code))
    return tuple(out)


def test_stripped_ranges_are_what_str_strip_removes():
    assert STRIPPED_RANGES == ranges_of([c for c in range(0x110000) if chr(c).isspace()])


def counted_as_the_page_does(text: str) -> int:
    """question.js's count, with the same patterns (they read alike in Python and ECMA-262)."""
    rule = counting_patterns()
    text = re.sub(f"[{rule['spaces']}]+", " ", text)
    text = re.sub(f"[{rule['removed']}]", "", text)
    text = re.sub(f"^[{rule['stripped']}]+|[{rule['stripped']}]+$", "", text)
    return len(text)


@pytest.mark.parametrize(
    "text",
    [
        "Who wrote Hamlet?",
        "  Who wrote\r\n\r\nHamlet?  \n",
        "Who\u202e wrote \u2066Hamlet\u2069?\U000e0041",
        "\u3000Who\u00a0wrote 🎭 Hamlet?\u2028",
        "Who\x00\x07 wrote\x85 Hamlet?\x1f",
        "🎭" * 300,
    ],
)
def test_the_counters_rule_counts_as_the_server(text):
    assert counted_as_the_page_does(text) == len(clean_text(text).strip())
