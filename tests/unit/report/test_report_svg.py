"""Charts are well-formed SVG with their labels as text, and escape whatever they print."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # our own output, not untrusted input
from datetime import UTC, datetime, timedelta

from llm_soc2.report.render import svg

NS = "{http://www.w3.org/2000/svg}"


def _texts(document: str) -> list[str]:
    root = ET.fromstring(document)  # noqa: S314 - our own output
    return [t.text or "" for t in root.iter(f"{NS}text")]


def test_stacked_bars() -> None:
    drawing = svg.stacked_bars(
        "calls <per day>", ["01-01", "01-02"], [("ok", svg.BLUE, [3, 5]), ("failed", svg.RED, [1, 0])]
    )
    root = ET.fromstring(drawing)  # noqa: S314 - our own output
    assert root.find(f"{NS}title").text == "calls <per day>"  # type: ignore[union-attr]
    assert "01-01" in _texts(drawing)
    assert len(list(root.iter(f"{NS}rect"))) == 3 + 2  # three non-empty bars, two legend keys


def test_hbars_timeline_and_ring() -> None:
    bars = svg.hbars("availability", [("gpt & co", 0.99, "99 %")], maximum=1, target=(0.995, "objective"))
    assert "gpt & co" in _texts(bars)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    line = svg.timeline("events", [("alert", [(start, start + timedelta(minutes=1), svg.RED, "a")])],
                        start, start + timedelta(days=180))  # fmt: skip
    assert "Feb 2026" in _texts(line)
    ring = svg.ring("status", [("effective", 3, svg.GREEN), ("exceptions", 1, svg.ORANGE)])
    assert "4" in _texts(ring)


def test_nice_numbers() -> None:
    assert [svg.nice_max(v) for v in (0, 0.7, 3, 180, 1234)] == [1.0, 0.8, 4.0, 200.0, 2000.0]
    assert [svg.compact(v) for v in (62.5, 1500, 2_000_000, 7)] == ["62.5", "1.5k", "2M", "7"]
