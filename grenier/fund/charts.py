"""Small SVG charts drawn on the server: no script, no third-party file, readable by a screen reader.

Each chart carries ``role="img"`` and a text summary; the page shows the same figures in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from grenier.core.money import format_cents

WIDTH = 640
HEIGHT = 260
PAD_LEFT = 64
PAD_RIGHT = 12
PAD_TOP = 12
PAD_BOTTOM = 36


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]  # cents
    css_class: str  # colour comes from the stylesheet: .chart .s-credit, .s-contrib...


def _n(value: float) -> str:
    """A coordinate, one decimal: format_html escapes its arguments to text, so numbers are formatted first."""
    return f"{value:.1f}"


def _nice_max(value: int) -> int:
    """A round upper bound for the axis: 1, 2 or 5 times a power of ten (in euros), at least ``value``."""
    euros = max(value, 1) / 100
    magnitude = 1.0
    while magnitude * 10 <= euros:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= euros:
            return int(step * magnitude * 100)
    return int(10 * magnitude * 100)  # pragma: no cover - the loop always returns


def _euros_short(cents: int) -> str:
    euros = cents / 100
    if abs(euros) >= 1_000_000:
        return f"{euros / 1_000_000:.1f} M€".replace(".", ",")
    if abs(euros) >= 10_000:
        return f"{euros / 1000:.0f} k€"
    return format_cents(cents).split(",")[0] + " €"


def grouped_bars(labels: Sequence[str], series: Sequence[Series], *, title: str) -> SafeString:
    """Bars per label, one per series, on a shared euro axis starting at zero."""
    if not labels or not series:
        return SafeString("")
    top = _nice_max(max((max(s.values, default=0) for s in series), default=0))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    group_w = plot_w / len(labels)
    bar_w = group_w * 0.8 / len(series)
    parts: list[str] = []
    for tick in range(5):
        value = top * tick // 4
        y = PAD_TOP + plot_h - plot_h * tick / 4
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>',
                PAD_LEFT,
                WIDTH - PAD_RIGHT,
                _n(y),
                _n(y),
                PAD_LEFT - 6,
                _n(y + 4),
                _euros_short(value),
            )
        )
    for index, label in enumerate(labels):
        x0 = PAD_LEFT + group_w * index + group_w * 0.1
        for number, item in enumerate(series):
            value = item.values[index] if index < len(item.values) else 0
            height = plot_h * max(value, 0) / top
            parts.append(
                format_html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{} — {}: {}</title></rect>',
                    item.css_class,
                    _n(x0 + bar_w * number),
                    _n(PAD_TOP + plot_h - height),
                    _n(max(bar_w - 1, 1)),
                    _n(height),
                    label,
                    item.label,
                    format_cents(value),
                )
            )
        parts.append(
            format_html(
                '<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>',
                _n(x0 + group_w * 0.4),
                HEIGHT - 14,
                label,
            )
        )
    return _svg(title, mark_safe("".join(parts)))  # noqa: S308 - every part was built by format_html


def band(
    labels: Sequence[str],
    low: Sequence[int],
    middle: Sequence[int],
    high: Sequence[int],
    *,
    title: str,
) -> SafeString:
    """A shaded band from ``low`` to ``high`` with the ``middle`` line, and the zero line when the band crosses it."""
    if not labels:
        return SafeString("")
    top = _nice_max(max(max(high, default=0), 0))
    bottom = min(min(low, default=0), 0)
    if bottom < 0:
        bottom = -_nice_max(-bottom)
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    span = max(top - bottom, 1)
    step = plot_w / max(len(labels) - 1, 1)

    def x(index: int) -> float:
        return PAD_LEFT + step * index

    def y(value: int) -> float:
        return PAD_TOP + plot_h * (top - value) / span

    area = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(high)]
    area += [f"{x(i):.1f},{y(v):.1f}" for i, v in reversed(list(enumerate(low)))]
    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(middle))
    parts = [
        format_html(
            '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>',
            PAD_LEFT,
            WIDTH - PAD_RIGHT,
            _n(y(value)),
            _n(y(value)),
            PAD_LEFT - 6,
            _n(y(value) + 4),
            _euros_short(value),
        )
        for value in sorted({top, bottom, 0, (top + bottom) // 2})
    ]
    if bottom < 0:
        parts.append(
            format_html(
                '<line class="zero" x1="{}" x2="{}" y1="{}" y2="{}"/>',
                PAD_LEFT,
                WIDTH - PAD_RIGHT,
                _n(y(0)),
                _n(y(0)),
            )
        )
    parts.append(format_html('<polygon class="band" points="{}"/>', " ".join(area)))
    parts.append(format_html('<polyline class="median" points="{}"/>', line))
    every = max(len(labels) // 12, 1)
    parts.extend(
        format_html(
            '<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>', _n(x(i)), HEIGHT - 14, label
        )
        for i, label in enumerate(labels)
        if i % every == 0 or i == len(labels) - 1
    )
    return _svg(title, mark_safe("".join(parts)))  # noqa: S308 - every part was built by format_html


def _svg(title: str, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" preserveAspectRatio="xMidYMid meet">'
        "<title>{}</title>{}</svg>",
        WIDTH,
        HEIGHT,
        title,
        title,
        body,
    )


def legend(series: Sequence[Series]) -> SafeString:
    return format_html(
        '<ul class="legend">{}</ul>',
        format_html_join(
            "",
            '<li><span class="swatch {}" aria-hidden="true"></span>{}</li>',
            ((s.css_class, s.label) for s in series),
        ),
    )


Band = tuple[Sequence[int], Sequence[int], Sequence[int]]


def compare_bands(labels: Sequence[str], *, current: Band, proposed: Band, title: str) -> SafeString:
    """Two 90 % bands and their medians on one euro axis (``charts.band`` scales each chart to itself, which
    would make two charts look alike when they are not). Drawn like the fund's charts: SVG, role="img"."""
    if not labels:
        return SafeString("")
    highs = [int(v) for v in (*current[2], *proposed[2])]
    lows = [int(v) for v in (*current[0], *proposed[0])]
    top = _nice_max(max(max(highs, default=0), 0))
    bottom = min(min(lows, default=0), 0)
    if bottom < 0:
        bottom = -_nice_max(-bottom)
    width, height = WIDTH, HEIGHT
    # More room than the fund's charts: on a phone the labels are drawn bigger (grenier.css, .chart-compare).
    left, right, upper, lower = 96, PAD_RIGHT + 12, PAD_TOP + 8, PAD_BOTTOM
    plot_w, plot_h = width - left - right, height - upper - lower
    span = max(top - bottom, 1)
    step = plot_w / max(len(labels) - 1, 1)

    def x(index: int) -> str:
        return f"{left + step * index:.1f}"

    def y(value: int) -> str:
        return f"{upper + plot_h * (top - int(value)) / span:.1f}"

    def area(band: Band) -> str:
        low, _mid, high = band
        points = [f"{x(i)},{y(v)}" for i, v in enumerate(high)]
        points += [f"{x(i)},{y(v)}" for i, v in reversed(list(enumerate(low)))]
        return " ".join(points)

    def line(values: Sequence[int]) -> str:
        return " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(values))

    parts = [
        format_html(
            '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>',
            left,
            width - right,
            y(value),
            y(value),
            left - 6,
            f"{float(y(value)) + 4:.1f}",
            _euros_short(value),
        )
        for value in sorted({top, bottom, 0, (top + bottom) // 2})
    ]
    if bottom < 0:
        parts.append(
            format_html(
                '<line class="zero" x1="{}" x2="{}" y1="{}" y2="{}"/>', left, width - right, y(0), y(0)
            )
        )
    parts.append(format_html('<polygon class="band current" points="{}"/>', area(current)))
    parts.append(format_html('<polygon class="band" points="{}"/>', area(proposed)))
    parts.append(format_html('<polyline class="median current" points="{}"/>', line(current[1])))
    parts.append(format_html('<polyline class="median" points="{}"/>', line(proposed[1])))
    every = max(len(labels) // 6, 1)
    parts.extend(
        format_html(
            '<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>', x(i), height - 14, label
        )
        for i, label in enumerate(labels)
        if i % every == 0
    )
    return format_html(
        '<svg class="chart chart-compare" viewBox="0 0 {} {}" role="img" aria-label="{}" preserveAspectRatio="xMidYMid meet">'
        "<title>{}</title>{}</svg>",
        width,
        height,
        title,
        title,
        mark_safe("".join(parts)),  # noqa: S308 - every part was built by format_html
    )


# --- voting, closing, effects --------------------------------------------------------------------------------------
