"""Text helpers shared by features and explanations: undoing UIUC tokenisation, tokens."""

from __future__ import annotations

import re

# UIUC questions are pre-tokenised ("What 's", "do n't", ``quoted''); users type normal text.
_SPLIT_CLITIC = re.compile(r"\s+('s|'re|'ve|'ll|'d|'m|n't)\b", re.IGNORECASE)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([?.!,;:%)\]])")
_WHITESPACE = re.compile(r"\s+")
WORD_PATTERN = re.compile(r"\w+")


def untokenise(text: str) -> str:
    """Turn UIUC-tokenised text into ordinary text so both spellings look the same."""
    text = text.replace("``", '"').replace("''", '"').replace("\u2019", "'")
    text = _SPLIT_CLITIC.sub(r"\1", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return _WHITESPACE.sub(" ", text).strip()


def preprocess(text: str) -> str:
    """Lower-cased, untokenised text as fed to the TF-IDF vectorisers."""
    return untokenise(text).lower()


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """Lower-cased word tokens of the original text with their character offsets."""
    return [(m.group().lower(), m.start(), m.end()) for m in WORD_PATTERN.finditer(text)]
