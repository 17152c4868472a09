"""What text typed by people may contain: what is removed on input, what is refused, and how
hidden characters are shown to an admin."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# The input rules are written as code point ranges, so that each is one pattern that Python
# and ECMA-262 read alike: the question box counts characters with the server's own rules.
# Controls of the C0 and C1 sets; the white-space ones become a space so words stay apart.
WHITESPACE_CONTROL_RANGES: tuple[tuple[int, int], ...] = ((0x09, 0x0D),)
OTHER_CONTROL_RANGES: tuple[tuple[int, int], ...] = ((0x00, 0x08), (0x0E, 0x1F), (0x7F, 0x9F))
# Embeddings, overrides and isolates reorder the text that follows them, so a question can read
# differently from what it is ("Trojan Source"). Marks (LRM, RLM, ALM) only nudge neutral
# characters and are kept. Tag characters draw nothing and are used to smuggle hidden text.
REMOVED_ON_INPUT_RANGES: tuple[tuple[int, int], ...] = (
    (0x202A, 0x202E),
    (0x2066, 0x2069),
    (0xE0000, 0xE007F),
)
# What str.strip() removes (the characters whose isspace() is true); a test keeps it so.
STRIPPED_RANGES: tuple[tuple[int, int], ...] = (
    (0x09, 0x0D),
    (0x1C, 0x20),
    (0x85, 0x85),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
)

# Code points that draw nothing: white space, controls, zero-width and other format
# characters, fillers, variation selectors. A question needs at least one character outside.
INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0020),
    (0x007F, 0x00A0),
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x1680, 0x1680),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2000, 0x200F),
    (0x2028, 0x202F),
    (0x205F, 0x206F),
    (0x2800, 0x2800),
    (0x3000, 0x3000),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFFB),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def _class_body(ranges: tuple[tuple[int, int], ...]) -> str:
    """A regex character-class body that Python and ECMA-262 (Unicode mode) read alike."""

    def one(code: int) -> str:
        # \\uXXXX for the Basic Multilingual Plane; the character itself beyond it.
        return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)

    return "".join(one(lo) if lo == hi else f"{one(lo)}-{one(hi)}" for lo, hi in ranges)


# The OpenAPI document states this same pattern, so the schema and the check cannot disagree.
VISIBLE_CHARACTER_PATTERN = f"[^{_class_body(INVISIBLE_RANGES)}]"
_WHITESPACE_CONTROLS = re.compile(f"[{_class_body(WHITESPACE_CONTROL_RANGES)}]+")
_OTHER_CONTROLS = re.compile(f"[{_class_body(OTHER_CONTROL_RANGES)}]")
_REMOVED_ON_INPUT = re.compile(f"[{_class_body(REMOVED_ON_INPUT_RANGES)}]")
_VISIBLE = re.compile(VISIBLE_CHARACTER_PATTERN)
# What an admin list spells out: every invisible character except the ordinary space.
_HIDDEN = re.compile(f"[{_class_body(tuple(r for r in INVISIBLE_RANGES if r[0] > 0x20))}]")
_REVEALED_TOO = re.compile("[\x00-\x1f]")


class InvalidText(ValueError):
    """Text that breaks the input rules; the message is shown to the user."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def clean_text(text: str) -> str:
    """Text as it will be stored: controls, reordering bidi controls and tags removed."""
    text = _WHITESPACE_CONTROLS.sub(" ", text)
    return _REMOVED_ON_INPUT.sub("", _OTHER_CONTROLS.sub("", text))


def counting_patterns() -> dict[str, str]:
    """The character classes by which a question's length is counted, for the page's counter.

    Counted as ``len(clean_text(text).strip())`` in code points: white-space controls become
    one space, other controls and the removed characters go, the ends are stripped.
    """
    return {
        "spaces": _class_body(WHITESPACE_CONTROL_RANGES),
        "removed": _class_body(OTHER_CONTROL_RANGES + REMOVED_ON_INPUT_RANGES),
        "stripped": _class_body(STRIPPED_RANGES),
    }


def check_encodable(text: str, what: str) -> None:
    """InvalidText when ``text`` holds a lone surrogate (JSON allows one; UTF-8 does not)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidText(f"The {what} is not valid Unicode text.", "invalid_text") from None


def has_visible_character(text: str) -> bool:
    """True when something in ``text`` would actually show on a screen."""
    return _VISIBLE.search(text) is not None


def clean_note(value: object, max_length: int = 1000) -> str | None:
    """A correction's optional note as stored: None, or cleaned text of at most max_length."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidText(
            f'"note" must be a string of at most {max_length} characters, or null.',
            "invalid_type",
        )
    check_encodable(value, "note")
    if len(value) > max_length:
        raise InvalidText(f'"note" may be at most {max_length} characters long.', "invalid_type")
    note = clean_text(value).strip()
    return note if has_visible_character(note) else None


def reveal_hidden(text: object) -> object:
    """Text for an admin list: each invisible or reordering character spelled out as ⟦U+XXXX⟧."""
    if not isinstance(text, str):
        return text

    def spell(match: re.Match) -> str:
        return f"⟦U+{ord(match.group()):04X}⟧"

    text = _REMOVED_ON_INPUT.sub(spell, text)
    return _REVEALED_TOO.sub(spell, _HIDDEN.sub(spell, text))


# Spreadsheets run a cell as a formula when it starts with one of these, also after white space,
# and some read the full-width forms as the ASCII ones.
FORMULA_STARTS = ("=", "+", "-", "@", "＝", "＋", "－", "＠", "\u2212")


def spreadsheet_cell(value: object) -> str:
    """A CSV cell that no spreadsheet runs as a formula; times as RFC 3339 with an offset."""
    if isinstance(value, datetime):
        return rfc3339(value)
    text = "" if value is None else str(value)
    stripped = text.lstrip()
    if stripped.startswith(FORMULA_STARTS) or (stripped != text and text[:1] in "\t\r\n"):
        return "'" + text
    return text


def rfc3339(moment: datetime) -> str:
    """A time as RFC 3339 with its offset; a naive one (SQLite returns those) is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()
