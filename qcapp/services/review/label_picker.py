"""The card's label picker: every fine class with a short two-letter code and what to match.

A code is the coarse class's initial and then the first letter of the fine class's own name
that no other class of the same coarse class took yet (``ENTY:animal`` is ``ea``,
``ENTY:event`` ``ee``, ``ENTY:letter`` ``et``), so `/`, two letters and Enter reach any class.
The codes follow from the taxonomy alone: they only move when the taxonomy itself changes.
"""

from __future__ import annotations

from functools import cache

from training import taxonomy

from .label_help import labels_with_help

EXAMPLES_SHOWN = 2


@cache
def label_codes() -> dict[str, str]:
    """Every fine label's two-letter code, unique over the taxonomy."""
    codes: dict[str, str] = {}
    taken: set[str] = set()
    for label in taxonomy.FINE_LABELS:
        coarse, fine = label.split(":", 1)
        letters = [c for c in fine.lower() if c.isalpha()] + list("abcdefghijklmnopqrstuvwxyz")
        code = next(coarse[0].lower() + c for c in letters if coarse[0].lower() + c not in taken)
        taken.add(code)
        codes[label] = code
    return codes


def picker_entries() -> list[dict]:
    """Each fine class as the picker shows and matches it: code, label, name, definition and
    a few typical training questions."""
    codes = label_codes()
    entries = []
    for coarse in labels_with_help():
        for fine in coarse["fine"]:
            examples = fine.get("examples", [])[:EXAMPLES_SHOWN]
            entries.append(
                {
                    "code": codes[fine["label"]],
                    "label": fine["label"],
                    "name": fine["name"],
                    "coarse_name": coarse["name"],
                    "definition": fine["definition"],
                    "examples": examples,
                    # What type-ahead text is matched against, lower case.
                    "search": " ".join(
                        [fine["label"], fine["name"], coarse["name"], fine["definition"], *examples]
                    ).lower(),
                }
            )
    return entries
