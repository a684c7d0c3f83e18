"""Small inline SVG charts (no JavaScript, no external files): bars over time, horizontal bars,
interval timelines and a status ring. Every chart has a <title> and text labels, so it reads without
colour and prints."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Final

FONT: Final = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"
INK: Final = "#1f2933"
MUTED: Final = "#6b7785"
GRID: Final = "#e3e8ee"
BLUE: Final = "#2f6fbf"
RED: Final = "#c0392b"
ORANGE: Final = "#d9822b"
PURPLE: Final = "#7b4fbf"
GREEN: Final = "#2e7d32"
GREY: Final = "#8a949e"
STATUS_COLOURS: Final = {"effective": GREEN, "exceptions": ORANGE, "not evidenced": GREY}


def _t(text: object) -> str:
    return escape(str(text), quote=True)


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{_t(title)}" style="{FONT};max-width:{width}px">',
        f"<title>{_t(title)}</title>",
    ]


def nice_max(value: float) -> float:
    """The smallest of 1, 2, 4, 5, 8, 10 x 10^k at or above ``value`` (quarters stay round numbers)."""
    if value <= 0:
        return 1.0
    exponent = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 4, 5, 8, 10):
        if value <= step * exponent:
            return float(step * exponent)
    return float(10 * exponent)


def compact(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M".replace(".0M", "M")
    if abs(value) >= 1_000:
        return f"{value / 1_000:.1f}k".replace(".0k", "k")
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def stacked_bars(
    title: str,
    labels: Sequence[str],
    stacks: Sequence[tuple[str, str, Sequence[float]]],
    *,
    width: int = 900,
    height: int = 240,
    tick_every: int = 0,
) -> str:
    """Bars per label (e.g. per day), each split into stacks ``(name, colour, values)`` drawn bottom up."""
    left, right, top, bottom = 52, 12, 28, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(labels))
    totals = [sum(s[2][i] for s in stacks) for i in range(len(labels))]
    top_value = nice_max(max(totals, default=0))
    out = _open(width, height, title)
    for k in range(5):
        value = top_value * k / 4
        y = top + plot_h - plot_h * k / 4
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="{MUTED}">'
            f"{compact(value)}</text>"
        )
    bar_w = plot_w / n
    gap = min(2.0, bar_w * 0.2)
    every = tick_every or max(1, math.ceil(n / 8))
    for i, label in enumerate(labels):
        x = left + i * bar_w
        y = top + plot_h
        tip = ", ".join(f"{name} {compact(values[i])}" for name, _, values in stacks)
        out.append(f"<g><title>{_t(label)}: {_t(tip)}</title>")
        for _name, colour, values in stacks:
            h = plot_h * values[i] / top_value if top_value else 0
            if h > 0:
                y -= h
                out.append(
                    f'<rect x="{x + gap / 2:.2f}" y="{y:.2f}" width="{max(bar_w - gap, 0.6):.2f}" '
                    f'height="{h:.2f}" fill="{colour}"/>'
                )
        out.append("</g>")
        if i % every == 0:
            out.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 16}" font-size="11" '
                f'text-anchor="middle" fill="{MUTED}">{_t(label)}</text>'
            )
    lx = left
    for name, colour, _values in stacks:
        out.append(f'<rect x="{lx}" y="8" width="11" height="11" fill="{colour}"/>')
        out.append(f'<text x="{lx + 15}" y="18" font-size="12" fill="{INK}">{_t(name)}</text>')
        lx += 24 + 7 * len(name)
    out.append("</svg>")
    return "".join(out)


def hbars(
    title: str,
    items: Sequence[tuple[str, float, str]],
    *,
    width: int = 900,
    colour: str = BLUE,
    maximum: float | None = None,
    minimum: float = 0.0,
    target: tuple[float, str] | None = None,
    label_width: int = 220,
) -> str:
    """One horizontal bar per item ``(label, value, text shown at the bar's end)``."""
    row = 24
    top, bottom = 8, 24 if target else 8
    height = top + bottom + row * max(1, len(items))
    left, right = label_width, 190
    plot_w = width - left - right
    high = maximum if maximum is not None else nice_max(max((v for _, v, _ in items), default=0))
    span = max(high - minimum, 1e-12)
    out = _open(width, height, title)
    for i, (label, value, text) in enumerate(items):
        y = top + i * row
        w = plot_w * max(0.0, min(value, high) - minimum) / span
        out.append(
            f'<text x="{left - 8}" y="{y + 16}" font-size="12" text-anchor="end" fill="{INK}">{_t(label)}</text>'
        )
        out.append(f'<rect x="{left}" y="{y + 4}" width="{plot_w}" height="16" fill="{GRID}" opacity="0.5"/>')
        out.append(f'<rect x="{left}" y="{y + 4}" width="{w:.2f}" height="16" fill="{colour}"/>')
        out.append(
            f'<text x="{left + plot_w + 6}" y="{y + 16}" font-size="12" fill="{INK}">{_t(text)}</text>'
        )
    if target is not None:
        value, text = target
        x = left + plot_w * (value - minimum) / span
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - bottom + 4}" stroke="{RED}" '
            'stroke-dasharray="4 3" stroke-width="1.5"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{height - 4}" font-size="11" text-anchor="middle" fill="{RED}">{_t(text)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _month_ticks(start: datetime, end: datetime) -> list[datetime]:
    ticks = []
    cursor = datetime(start.year, start.month, 1, tzinfo=UTC)
    days = (end - start).days
    stride = 1 if days > 60 else 0
    if stride == 0:  # short periods: weekly ticks
        cursor = datetime(start.year, start.month, start.day, tzinfo=UTC)
        while cursor <= end:
            if cursor >= start:
                ticks.append(cursor)
            cursor += timedelta(days=7 if days > 14 else 1)
        return ticks
    while cursor <= end:
        if cursor >= start:
            ticks.append(cursor)
        month = cursor.month + 1
        cursor = cursor.replace(year=cursor.year + (month > 12), month=(month - 1) % 12 + 1)
    return ticks


def timeline(
    title: str,
    rows: Sequence[tuple[str, Sequence[tuple[datetime, datetime, str, str]]]],
    start: datetime,
    end: datetime,
    *,
    width: int = 900,
    label_width: int = 200,
) -> str:
    """Intervals on a time axis, one row per label; each interval is ``(from, to, colour, tooltip)``.
    Intervals shorter than a pixel are drawn one pixel wide so that brief alerts stay visible."""
    row = 26
    top, bottom = 6, 26
    height = top + bottom + row * max(1, len(rows))
    left, right = label_width, 16
    plot_w = width - left - right
    total = max((end - start).total_seconds(), 1.0)

    def x_of(moment: datetime) -> float:
        return left + plot_w * min(max((moment - start).total_seconds() / total, 0.0), 1.0)

    out = _open(width, height, title)
    for tick in _month_ticks(start, end):
        x = x_of(tick)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - bottom}" stroke="{GRID}"/>')
        out.append(
            f'<text x="{x:.1f}" y="{height - 8}" font-size="11" text-anchor="middle" fill="{MUTED}">'
            f"{tick.strftime('%d %b' if (end - start).days <= 60 else '%b %Y')}</text>"
        )
    for i, (label, intervals) in enumerate(rows):
        y = top + i * row
        out.append(
            f'<text x="{left - 8}" y="{y + 17}" font-size="12" text-anchor="end" fill="{INK}">{_t(label)}</text>'
        )
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y + 13}" y2="{y + 13}" stroke="{GRID}"/>')
        for begin, finish, colour, tip in intervals:
            x0, x1 = x_of(begin), x_of(finish)
            out.append(
                f'<rect x="{x0:.2f}" y="{y + 5}" width="{max(x1 - x0, 2.0):.2f}" height="16" rx="2" '
                f'fill="{colour}"><title>{_t(tip)}</title></rect>'
            )
    if not rows:
        out.append(
            f'<text x="{left}" y="{top + 17}" font-size="12" fill="{MUTED}">nothing in the period</text>'
        )
    out.append("</svg>")
    return "".join(out)


def ring(title: str, parts: Sequence[tuple[str, int, str]], *, size: int = 180) -> str:
    """A ring split by ``(label, value, colour)`` with the total in the middle."""
    total = sum(v for _, v, _ in parts)
    r, stroke = size * 0.36, size * 0.14
    c = size / 2
    out = _open(size, size, title)
    circumference = 2 * math.pi * r
    offset = 0.0
    out.append(
        f'<circle cx="{c}" cy="{c}" r="{r:.2f}" fill="none" stroke="{GRID}" stroke-width="{stroke:.2f}"/>'
    )
    for label, value, colour in parts:
        if value <= 0 or total <= 0:
            continue
        length = circumference * value / total
        out.append(
            f'<circle cx="{c}" cy="{c}" r="{r:.2f}" fill="none" stroke="{colour}" stroke-width="{stroke:.2f}" '
            f'stroke-dasharray="{length:.3f} {circumference - length:.3f}" stroke-dashoffset="{-offset:.3f}" '
            f'transform="rotate(-90 {c} {c})"><title>{_t(label)}: {value}</title></circle>'
        )
        offset += length
    out.append(
        f'<text x="{c}" y="{c + 2}" font-size="{size * 0.2:.0f}" font-weight="600" text-anchor="middle" '
        f'fill="{INK}">{total}</text>'
    )
    out.append(
        f'<text x="{c}" y="{c + size * 0.14:.1f}" font-size="{size * 0.075:.0f}" text-anchor="middle" '
        f'fill="{MUTED}">criteria</text>'
    )
    out.append("</svg>")
    return "".join(out)
