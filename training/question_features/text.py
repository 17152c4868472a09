"""Text helpers shared by features and explanations: undoing UIUC tokenisation, tokens."""

from __future__ import annotations

import re

# UIUC questions are pre-tokenised ("What 's", "do n't", ``quoted''); users type normal text.
_SPLIT_CLITIC = re.compile(r"\s+('s|'re|'ve|'ll|'d|'m|n't)\b", re.IGNORECASE)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([?.!,;:%)\]])")
_WHITESPACE = re.compile(r"\s+")
WORD_PATTERN = re.compile(r"\w+")
# All-caps words of two or more letters and dotted acronyms ("U.S.", "B.Y.O.B.").
_ACRONYM = re.compile(r"\b[A-Z]{2,}\b|(?<![\w.])(?:[A-Za-z]\.){2,}")
ACRONYM_MARK = " (acronym)"


def untokenise(text: str) -> str:
    """Turn UIUC-tokenised text into ordinary text so both spellings look the same."""
    text = text.replace("``", '"').replace("''", '"').replace("\u2019", "'")
    text = _SPLIT_CLITIC.sub(r"\1", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return _WHITESPACE.sub(" ", text).strip()


def mark_acronyms(text: str) -> str:
    """``text`` with every acronym followed by the word "(acronym)", for an uncased encoder
    that would otherwise read "What is SAP?" as "what is sap?" (an acronym's expansion is often
    what is asked). A question written in capitals throughout is left as it is."""
    found = _ACRONYM.findall(text)
    if not found or 2 * len(found) > len(WORD_PATTERN.findall(text)):
        return text
    return _ACRONYM.sub(lambda match: match.group() + ACRONYM_MARK, text)


def preprocess(text: str) -> str:
    """Lower-cased, untokenised text as fed to the TF-IDF vectorisers."""
    return untokenise(text).lower()


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """Lower-cased word tokens of the original text with their character offsets."""
    return [(m.group().lower(), m.start(), m.end()) for m in WORD_PATTERN.finditer(text)]
