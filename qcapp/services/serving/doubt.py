"""What a result says of the model's doubt, worded from the very numbers the page shows.

The fine answer is the most likely fine class inside the most likely coarse class, so a class
of another coarse class can be more likely on its own: 27% for DESC:manner beside an answer of
ENTY:techmeth at 6%, when the entity classes share 40% and the description classes less. Every
sentence here is therefore built from the shown numbers ranked as shown, never from the
answer's own confidence alone: the class named first is the one with the highest number, and a
stated maximum is the highest shown.
"""

from __future__ import annotations

from typing import Any

# Below this fine confidence the answer is given as a guess ("not sure: maybe X or Y"): on
# questions it never saw, the quick model's top label was right 27% of the time there and
# 51% just above it (bench/RESULTS.md, "Low confidence: when the answer is a guess").
UNSURE_BELOW = 0.4
# Alternatives under 1% are not listed on the result page.
LISTED_FROM = 0.01


def shown_percent(confidence: float) -> str:
    """A confidence as the page shows it: a whole percentage ("27%")."""
    return f"{float(confidence) * 100:.0f}%"


def is_confident(fine_confidence: float, alternatives: list[dict]) -> bool:
    """Whether the fine label is an answer rather than a guess.

    A guess when its confidence is under UNSURE_BELOW, or when another fine class gets more
    (then the model's own numbers say the answer is not its most likely class).
    """
    best_other = max((float(a["confidence"]) for a in alternatives), default=0.0)
    return float(fine_confidence) >= UNSURE_BELOW and best_other <= float(fine_confidence)


def shown_alternatives(result: dict[str, Any]) -> list[dict]:
    """The alternatives the result page lists (those of at least LISTED_FROM)."""
    return [a for a in result["alternatives"] if a["confidence"] >= LISTED_FROM]


def ranked_classes(result: dict[str, Any]) -> list[dict]:
    """The answer and the listed alternatives, highest shown number first (the answer first
    among equals), each with its shown percentage and whether it is the answer."""
    answer = {**result["fine"], "answer": True}
    others = [{**a, "answer": False} for a in shown_alternatives(result)]
    classes = [{**c, "percent": shown_percent(c["confidence"])} for c in (answer, *others)]
    return sorted(
        classes, key=lambda c: (-int(c["percent"][:-1]), not c["answer"], -c["confidence"])
    )


def doubt_summary(result: dict[str, Any]) -> dict[str, Any] | None:
    """What the "Not sure" sentence says, or None when the answer is confident.

    ``named``: the classes it names, highest first (the top one, and the answer or else the
    runner-up); ``most``: the highest shown percentage, which no fine class exceeds;
    ``outranked``: another class gets more than the answer, which the sentence then explains
    by the answer's coarse class (``coarse``, its shown percentage in ``coarse_percent``).
    """
    if result["confident"]:
        return None
    ranked = ranked_classes(result)
    top = ranked[0]
    answer = next(c for c in ranked if c["answer"])
    outranked = not top["answer"]
    named = [top, answer] if outranked else ranked[:2]
    return {
        "named": named,
        "most": top["percent"],
        "outranked": outranked,
        "answer": answer,
        "coarse": result["coarse"],
        "coarse_percent": shown_percent(result["coarse"]["confidence"]),
    }
