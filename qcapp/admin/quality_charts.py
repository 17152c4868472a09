"""Live-quality charts: a reliability diagram and corrections per class as small multiples.

They use the same accessible frame as charts.py (figure, title, desc, hidden table).
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from ..services.insight.quality import ReliabilityBin
from .charts import (
    TEXT,
    WIDTH,
    _empty,
    _figure,
    _labelled,
    _number,
    _short,
    _table,
    colour_of,
    day_label_step,
)

PLOT_LEFT, PLOT_TOP, PLOT_SIZE = 56, 16, 220


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def reliability_diagram(
    chart_id: str, title: str, bins: Sequence[ReliabilityBin], error: float | None
) -> Markup:
    """Observed accuracy per confidence bin against mean confidence, with the diagonal."""
    total = sum(b.count for b in bins)
    if not total:
        return _empty(chart_id, title, "No reviewed predictions yet.")
    height = PLOT_TOP + PLOT_SIZE + 40

    def x(value: float) -> float:
        return PLOT_LEFT + PLOT_SIZE * value

    def y(value: float) -> float:
        return PLOT_TOP + PLOT_SIZE * (1 - value)

    parts = []
    for step in range(5):
        value = step / 4
        parts.append(
            f'<line x1="{x(0)}" x2="{x(1)}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#ddd"/>'
            f'<text x="{x(0) - 4}" y="{y(value) + 4:.1f}" text-anchor="end" {TEXT}>'
            f"{value:.0%}</text>"
            f'<text x="{x(value):.1f}" y="{y(0) + 14:.1f}" text-anchor="middle" {TEXT}>'
            f"{value:.0%}</text>"
        )
    parts.append(
        f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(1)}" stroke="#999"'
        ' stroke-dasharray="4 3"><title>perfect calibration</title></line>'
        f'<text x="{x(0.5)}" y="{height - 6}" text-anchor="middle" {TEXT}>'
        "mean confidence of the bin</text>"
        f'<text x="12" y="{y(0.5)}" text-anchor="middle" {TEXT}'
        f' transform="rotate(-90 12 {y(0.5)})">observed accuracy</text>'
    )
    filled = [b for b in bins if b.count]
    points = [(x(b.mean_confidence), y(b.accuracy), b) for b in filled]
    path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _b in points)
    parts.append(f'<polyline points="{path}" fill="none" stroke="#4e79a7" stroke-width="2"/>')
    for px, py, b in points:
        label = (
            f"{b.low:.0%}–{b.high:.0%}: {b.right} of {b.count} right ({b.accuracy:.0%}),"
            f" mean confidence {b.mean_confidence:.0%}"
        )
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="#4e79a7">'
            f"<title>{escape(label)}</title></circle>"
            f'<text x="{px:.1f}" y="{py - 8:.1f}" text-anchor="middle" {TEXT}>'
            f"n={_number(b.count)}</text>"
        )
    legend_x = x(1) + 40
    parts.append(
        f'<line x1="{legend_x}" x2="{legend_x + 24}" y1="30" y2="30" stroke="#999"'
        f' stroke-dasharray="4 3"/><text x="{legend_x + 30}" y="34" {TEXT}>perfect calibration'
        f'</text><circle cx="{legend_x + 12}" cy="50" r="4" fill="#4e79a7"/>'
        f'<text x="{legend_x + 30}" y="54" {TEXT}>observed accuracy (n = reviewed)</text>'
        f'<text x="{legend_x}" y="80" {TEXT}>{_number(total)} reviewed predictions</text>'
        f'<text x="{legend_x}" y="96" {TEXT}>calibration error {_percent(error)}</text>'
    )
    worst = max(filled, key=lambda b: abs(b.accuracy - b.mean_confidence))
    description = (
        f"{_number(total)} reviewed predictions in {len(filled)} of {len(bins)} confidence bins;"
        f" expected calibration error {error:.1%}. Largest gap: confidence"
        f" {worst.low:.0%}–{worst.high:.0%}, {worst.accuracy:.0%} right at a mean confidence of"
        f" {worst.mean_confidence:.0%}."
    )
    rows = [
        (
            f"{b.low:.0%}–{b.high:.0%}",
            b.count,
            b.right,
            _percent(b.mean_confidence),
            _percent(b.accuracy),
        )
        for b in bins
    ]
    table = _table(
        title, ("Confidence", "Reviewed", "Right", "Mean confidence", "Observed accuracy"), rows
    )
    return _figure(chart_id, title, description, "".join(parts), table, height)


def small_multiples(
    chart_id: str, title: str, days: Sequence[str], series: dict[str, Sequence[int]]
) -> Markup:
    """One row of daily bars per class, all on the same scale (e.g. corrections per class)."""
    totals = {label: sum(values) for label, values in series.items()}
    if not any(totals.values()):
        return _empty(chart_id, title, "No corrections in this period.")
    label_width, total_width, row_height = 96, 56, 34
    plot_width = WIDTH - label_width - total_width
    slot = plot_width / len(days)
    maximum = max(max(values) for values in series.values())
    height = row_height * len(series) + 28
    parts = []
    for row, (label, values) in enumerate(series.items()):
        top = row_height * row + 4
        base = top + row_height - 8
        colour = colour_of(label.split(":", 1)[0])
        parts.append(
            f'<text x="{label_width - 6}" y="{base - 4}" text-anchor="end" {TEXT}>'
            f"{escape(label)}</text>"
            f'<line x1="{label_width}" x2="{label_width + plot_width}" y1="{base}" y2="{base}"'
            ' stroke="#ddd"/>'
            f'<text x="{label_width + plot_width + 6}" y="{base - 4}" {TEXT}>'
            f"{_number(totals[label])}</text>"
        )
        for n, (day, value) in enumerate(zip(days, values, strict=True)):
            if value:
                bar = (row_height - 10) * value / maximum
                parts.append(
                    f'<rect x="{label_width + slot * n + 1:.1f}" y="{base - bar:.1f}"'
                    f' width="{max(slot - 2, 1):.1f}" height="{bar:.1f}" fill="{colour}">'
                    f"<title>{escape(day)} {escape(label)}: {_number(value)}</title></rect>"
                )
    axis_y = height - 8
    parts.extend(
        f'<text x="{label_width + slot * (n + 0.5):.1f}" y="{axis_y}" text-anchor="middle"'
        f" {TEXT}>{escape(day)}</text>"
        for n, day in enumerate(_short(days))
        if _labelled(n, len(days), day_label_step(len(days)))
    )
    description = f"Corrections in the last {len(days)} days by predicted class: " + ", ".join(
        f"{label} {_number(total)}" for label, total in totals.items()
    )
    rows = [(day, *(values[n] for values in series.values())) for n, day in enumerate(days)]
    table = _table(title, ("Day", *series), rows)
    return _figure(chart_id, title, description, "".join(parts), table, height)
