"""Server-side SVG charts: no JavaScript, nothing inline to run, every text escaped.

Each chart is a <figure> holding an <svg role="img"> with a <title> and <desc>, a visible
<figcaption>, and a visually hidden table of the same numbers for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

# Tableau 10: distinguishable colours that stay readable on white.
COARSE_COLOURS = {
    "ABBR": "#4e79a7",
    "DESC": "#f28e2b",
    "ENTY": "#59a14f",
    "HUM": "#e15759",
    "LOC": "#76b7b2",
    "NUM": "#b07aa1",
}
FALLBACK_COLOUR = "#9c755f"
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 36
TEXT = 'font-family="sans-serif" font-size="11" fill="#333"'


def colour_of(label: str) -> str:
    """The fill colour of a coarse class (or a neutral one for anything else)."""
    return COARSE_COLOURS.get(label, FALLBACK_COLOUR)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}"


def _table(caption: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f'<th scope="col">{escape(cell)}</th>' for cell in header)
    body = "".join(
        "<tr>"
        + f'<th scope="row">{escape(row[0])}</th>'
        + "".join(f"<td>{escape(cell)}</td>" for cell in row[1:])
        + "</tr>"
        for row in rows
    )
    # The hiding wrapper is a div: a table ignores its own 1 px width and widened phone pages.
    return (
        f'<div class="sr-only"><table><caption>{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _figure(
    chart_id: str, title: str, description: str, body: str, table: str, height: int = HEIGHT
) -> Markup:
    chart_id = str(escape(chart_id))
    return Markup(
        f'<figure class="qc-figure" id="{chart_id}">'
        f'<svg class="qc-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}"'
        f' role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>{body}</svg>'
        f'<figcaption class="small text-muted">{escape(title)}: {escape(description)}</figcaption>'
        f"{table}</figure>"
    )


def _empty(chart_id: str, title: str, message: str) -> Markup:
    body = (
        f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" {TEXT}>'
        f"{escape(message)}</text>"
    )
    return _figure(chart_id, title, message, body, "")


def _y_axis(maximum: float, plot_height: float, percent: bool = False) -> str:
    """Three gridlines with their values, from 0 to ``maximum``."""
    parts = []
    for step in range(4):
        value = maximum * step / 3
        y = TOP + plot_height - plot_height * step / 3
        label = f"{value:.0%}" if percent else _number(round(value))
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" {TEXT}>{label}</text>'
        )
    return "".join(parts)


def day_label_step(count: int) -> int:
    """Label every 7th day of a month's axis; longer ranges get about six labels, no overlap."""
    return 7 if count <= 42 else -(-count // 6)


def _labelled(position: int, count: int, every: int) -> bool:
    """Whether an axis position gets a label: the last one, and every ``every``-th before it."""
    return (count - 1 - position) % every == 0


def _x_labels(labels: Sequence[str], slot: float, every: int) -> str:
    y = HEIGHT - BOTTOM + 14
    return "".join(
        f'<text x="{LEFT + slot * (n + 0.5):.1f}" y="{y}" text-anchor="middle" {TEXT}>'
        f"{escape(label)}</text>"
        for n, label in enumerate(labels)
        if _labelled(n, len(labels), every)
    )


def _legend(labels: Sequence[str]) -> str:
    y = HEIGHT - 8
    return "".join(
        f'<rect x="{LEFT + n * 80}" y="{y - 9}" width="10" height="10" fill="{colour_of(label)}"/>'
        f'<text x="{LEFT + n * 80 + 14}" y="{y}" {TEXT}>{escape(label)}</text>'
        for n, label in enumerate(labels)
    )


def bar_chart(
    chart_id: str, title: str, labels: Sequence[str], values: Sequence[int], unit: str
) -> Markup:
    """Vertical bars, one per label (e.g. queries per day)."""
    if not any(values):
        return _empty(chart_id, title, f"No {unit} in this period.")
    plot_height = HEIGHT - TOP - BOTTOM
    maximum = max(values)
    slot = (WIDTH - LEFT - RIGHT) / len(values)
    bars = []
    for n, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = plot_height * value / maximum
        bars.append(
            f'<rect x="{LEFT + slot * n + 1:.1f}" y="{TOP + plot_height - height:.1f}"'
            f' width="{max(slot - 2, 1):.1f}" height="{height:.1f}" fill="#4e79a7">'
            f"<title>{escape(label)}: {_number(value)} {escape(unit)}</title></rect>"
        )
    axis = _x_labels(_short(labels), slot, day_label_step(len(labels)))
    body = _y_axis(maximum, plot_height) + "".join(bars) + axis
    description = f"{_number(sum(values))} {unit} in total, at most {_number(maximum)} a day."
    table = _table(title, ("Day", unit.capitalize()), list(zip(labels, values, strict=True)))
    return _figure(chart_id, title, description, body, table)


def _short(days: Sequence[str]) -> list[str]:
    """'2026-11-26' as '11-26' so thirty labels fit under the axis."""
    return [day[5:] if len(day) == 10 else day for day in days]


def stacked_bar_chart(
    chart_id: str, title: str, labels: Sequence[str], series: dict[str, Sequence[int]]
) -> Markup:
    """Vertical bars per label, each split by series (e.g. predicted coarse class per day)."""
    totals = [sum(column) for column in zip(*series.values(), strict=True)] if series else []
    if not any(totals):
        return _empty(chart_id, title, "No predictions in this period.")
    plot_height = HEIGHT - TOP - BOTTOM - 14
    maximum = max(totals)
    slot = (WIDTH - LEFT - RIGHT) / len(labels)
    bars = []
    for n, label in enumerate(labels):
        y = TOP + plot_height
        for name, values in series.items():
            height = plot_height * values[n] / maximum
            if values[n]:
                y -= height
                bars.append(
                    f'<rect x="{LEFT + slot * n + 1:.1f}" y="{y:.1f}"'
                    f' width="{max(slot - 2, 1):.1f}" height="{height:.1f}"'
                    f' fill="{colour_of(name)}">'
                    f"<title>{escape(label)} {escape(name)}: {_number(values[n])}</title></rect>"
                )
    x_labels = "".join(
        f'<text x="{LEFT + slot * (n + 0.5):.1f}" y="{TOP + plot_height + 14}"'
        f' text-anchor="middle" {TEXT}>{escape(label)}</text>'
        for n, label in enumerate(_short(labels))
        if _labelled(n, len(labels), day_label_step(len(labels)))
    )
    body = _y_axis(maximum, plot_height) + "".join(bars) + x_labels + _legend(list(series))
    shares = {name: sum(values) for name, values in series.items()}
    description = "Share of the period: " + ", ".join(
        f"{name} {count / sum(totals):.0%}" for name, count in shares.items() if count
    )
    rows = [(label, *(values[n] for values in series.values())) for n, label in enumerate(labels)]
    return _figure(chart_id, title, description, body, _table(title, ("Day", *series), rows))


def rate_chart(chart_id: str, title: str, rows: Sequence[tuple[str, int, int]]) -> Markup:
    """Horizontal bars of part/whole per label (e.g. corrections per prediction per class)."""
    if not any(whole for _label, whole, _part in rows):
        return _empty(chart_id, title, "No predictions yet.")
    rates = [(label, part / whole if whole else 0.0, whole, part) for label, whole, part in rows]
    top_rate = max(rate for _label, rate, _whole, _part in rates) or 1.0
    row_height = 24
    height = TOP + row_height * len(rates) + 8
    plot_width = WIDTH - LEFT - RIGHT - 170
    bars = []
    for n, (label, rate, whole, part) in enumerate(rates):
        y = TOP + row_height * n
        width = plot_width * rate / top_rate
        text = f"{rate:.1%} ({_number(part)} of {_number(whole)})"
        bars.append(
            f'<text x="{LEFT - 4}" y="{y + 15}" text-anchor="end" {TEXT}>{escape(label)}</text>'
            f'<rect x="{LEFT}" y="{y + 4}" width="{width:.1f}" height="{row_height - 8}"'
            f' fill="{colour_of(label)}"><title>{escape(label)}: {escape(text)}</title></rect>'
            f'<text x="{LEFT + width + 6:.1f}" y="{y + 15}" {TEXT}>{escape(text)}</text>'
        )
    description = "Corrections per prediction, by predicted class: " + ", ".join(
        f"{label} {rate:.1%}" for label, rate, _whole, _part in rates
    )
    table = _table(
        title,
        ("Class", "Predictions", "Corrections", "Rate"),
        [(label, whole, part, f"{rate:.1%}") for label, rate, whole, part in rates],
    )
    return _figure(chart_id, title, description, "".join(bars), table, height)


def line_chart(
    chart_id: str, title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]]
) -> Markup:
    """Lines of fractions between 0 and 1 across labels (e.g. accuracy per model version)."""
    known = [value for values in series.values() for value in values if value is not None]
    if not known:
        return _empty(chart_id, title, "No model version has recorded accuracy yet.")
    plot_height = HEIGHT - TOP - BOTTOM - 14
    slot = (WIDTH - LEFT - RIGHT) / len(labels)
    colours = ("#4e79a7", "#e15759", "#59a14f")
    parts, legend = [_y_axis(1.0, plot_height, percent=True)], []
    for index, (name, values) in enumerate(series.items()):
        colour = colours[index % len(colours)]
        points = [
            (LEFT + slot * (n + 0.5), TOP + plot_height * (1 - value), label, value)
            for n, (label, value) in enumerate(zip(labels, values, strict=True))
            if value is not None
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _label, _value in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.extend(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
            f"<title>{escape(label)} {escape(name)}: {value:.1%}</title></circle>"
            for x, y, label, value in points
        )
        legend.append(
            f'<rect x="{LEFT + index * 140}" y="{HEIGHT - 17}" width="10" height="10"'
            f' fill="{colour}"/><text x="{LEFT + index * 140 + 14}" y="{HEIGHT - 8}" {TEXT}>'
            f"{escape(name)}</text>"
        )
    every = max(1, len(labels) // 6)
    x_labels = "".join(
        f'<text x="{LEFT + slot * (n + 0.5):.1f}" y="{TOP + plot_height + 14}"'
        f' text-anchor="middle" {TEXT}>{escape(label[:18])}</text>'
        for n, label in enumerate(labels)
        if _labelled(n, len(labels), every)
    )
    latest = {name: values[-1] for name, values in series.items() if values[-1] is not None}
    description = f"{len(labels)} version(s); latest: " + (
        ", ".join(f"{name} {value:.1%}" for name, value in latest.items()) or "not recorded"
    )
    rows = [
        (label, *("" if values[n] is None else f"{values[n]:.1%}" for values in series.values()))
        for n, label in enumerate(labels)
    ]
    body = "".join(parts) + x_labels + "".join(legend)
    return _figure(chart_id, title, description, body, _table(title, ("Version", *series), rows))


def heatmap(
    chart_id: str, title: str, labels: Sequence[str], counts: dict[tuple[str, str], int]
) -> Markup:
    """A square matrix of counts, rows predicted and columns corrected (a confusion matrix)."""
    total = sum(counts.values())
    if not total:
        return _empty(chart_id, title, "No corrections yet.")
    cell, left, top = 44, 110, 40
    height = top + cell * len(labels) + 12
    maximum = max(counts.values())
    parts = [
        f'<text x="{left + cell * len(labels) / 2}" y="12" text-anchor="middle" {TEXT}>'
        "corrected to</text>"
        f'<text x="8" y="{top - 8}" {TEXT}>predicted</text>'
    ]
    for n, label in enumerate(labels):
        parts.append(
            f'<text x="{left + cell * (n + 0.5)}" y="{top - 8}" text-anchor="middle" {TEXT}>'
            f"{escape(label)}</text>"
            f'<text x="{left - 6}" y="{top + cell * (n + 0.5) + 4}" text-anchor="end" {TEXT}>'
            f"{escape(label)}</text>"
        )
    for row, predicted in enumerate(labels):
        for column, corrected in enumerate(labels):
            value = counts.get((predicted, corrected), 0)
            shade = 0.08 + 0.92 * value / maximum if value else 0.0
            ink = "#fff" if shade > 0.55 else "#333"
            parts.append(
                f'<rect x="{left + cell * column}" y="{top + cell * row}" width="{cell - 2}"'
                f' height="{cell - 2}" fill="#e15759" fill-opacity="{shade:.2f}" stroke="#eee">'
                f"<title>predicted {escape(predicted)}, corrected to {escape(corrected)}:"
                f" {_number(value)}</title></rect>"
                f'<text x="{left + cell * (column + 0.5) - 1}" y="{top + cell * (row + 0.5) + 4}"'
                f' text-anchor="middle" font-family="sans-serif" font-size="11" fill="{ink}">'
                f"{_number(value)}</text>"
            )
    off_diagonal = sum(value for (p, c), value in counts.items() if p != c)
    description = (
        f"{_number(total)} corrections; {_number(off_diagonal)} change the coarse class, "
        "the rest only the fine class."
    )
    rows = [
        (f"predicted {predicted}", *(counts.get((predicted, c), 0) for c in labels))
        for predicted in labels
    ]
    table = _table(title, ("Predicted", *(f"corrected to {c}" for c in labels)), rows)
    return _figure(chart_id, title, description, "".join(parts), table, height)
