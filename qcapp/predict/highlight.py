"""Split a question into plain and highlighted parts from the explanation's character spans."""

from __future__ import annotations

from typing import Any


def highlight_segments(text: str, explanation: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Segments ``{"text", "weight"}`` covering ``text``; weight is None where nothing is marked."""
    spans = sorted(
        (item for item in explanation if 0 <= item["start"] < item["end"] <= len(text)),
        key=lambda item: item["start"],
    )
    segments: list[dict[str, Any]] = []
    position = 0
    strongest = max((item["weight"] for item in spans), default=1.0) or 1.0
    for item in spans:
        if item["start"] < position:  # overlapping spans: keep the first
            continue
        if item["start"] > position:
            segments.append({"text": text[position : item["start"]], "weight": None})
        segments.append(
            {
                "text": text[item["start"] : item["end"]],
                "weight": item["weight"],
                "level": min(3, 1 + int(3 * item["weight"] / strongest * 0.999)),
            }
        )
        position = item["end"]
    if position < len(text):
        segments.append({"text": text[position:], "weight": None})
    return segments
