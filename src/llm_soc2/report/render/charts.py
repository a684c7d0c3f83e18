"""The report's charts as inline SVG, drawn from ``Report.charts`` (plain data, also in report.json)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from llm_soc2.report.evidence import Report, utc
from llm_soc2.report.render import svg


def _when(text: str) -> datetime:
    return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def _rebucket(
    daily: list[dict[str, Any]], keys: tuple[str, ...]
) -> tuple[list[str], dict[str, list[float]], str]:
    """Daily rows as days (<= 92 days) or ISO weeks (longer periods)."""
    if len(daily) <= 92:
        labels = [row["date"][5:] for row in daily]
        return labels, {k: [float(row[k]) for row in daily] for k in keys}, "day"
    weeks: list[str] = []
    values: dict[str, list[float]] = {k: [] for k in keys}
    for i in range(0, len(daily), 7):
        chunk = daily[i : i + 7]
        weeks.append(chunk[0]["date"][5:])
        for k in keys:
            values[k].append(float(sum(row[k] for row in chunk)))
    return weeks, values, "week"


def interactions(report: Report) -> str:
    daily = report.charts.get("daily", [])
    labels, values, unit = _rebucket(daily, ("ok", "errors"))
    return svg.stacked_bars(
        f"LLM interactions per {unit}: succeeded and failed",
        labels,
        [("succeeded", svg.BLUE, values["ok"]), ("failed", svg.RED, values["errors"])],
    )


def risk_and_pii(report: Report) -> str:
    daily = report.charts.get("daily", [])
    labels, values, unit = _rebucket(daily, ("risk_events", "pii"))
    return svg.stacked_bars(
        f"High/critical risk events and interactions with personal data per {unit}",
        labels,
        [
            ("high/critical risk", svg.ORANGE, values["risk_events"]),
            ("personal data", svg.PURPLE, values["pii"]),
        ],
    )


def availability(report: Report) -> str:
    models = report.charts.get("models", [])
    target = float(report.system.get("objectives", {}).get("availability", 0.995))
    values = [m.get("availability") for m in models if m.get("availability") is not None]
    low = min([*values, target], default=target)
    floor = max(0.0, min(low - (1 - low) * 0.5, target - 0.005))
    items = [
        (m["model"], float(m["availability"]), f"{m['availability'] * 100:.3f} %")
        for m in models
        if m.get("availability") is not None
    ]
    return svg.hbars(
        "Availability per model over the period",
        items,
        maximum=1.0,
        minimum=floor,
        colour=svg.GREEN,
        target=(target, f"objective {target * 100:.2f} %"),
    )


def latency(report: Report) -> str:
    models = report.charts.get("models", [])
    target = float(report.system.get("objectives", {}).get("latency_p95", 10.0))
    items = [
        (m["model"], float(m["p95"]), f"p95 {m['p95']:.2f} s (p50 {m['p50']:.2f})")
        for m in models
        if m.get("p95") is not None
    ]
    top = svg.nice_max(max([*(v for _, v, _ in items), target], default=target))
    return svg.hbars(
        "95th percentile latency per model (audit log)",
        items,
        maximum=top,
        target=(target, f"objective {target:g} s"),
    )


def events(report: Report) -> str:
    period = report.period
    rows: list[tuple[str, list[tuple[datetime, datetime, str, str]]]] = []
    alerts: dict[str, list[tuple[datetime, datetime, str, str]]] = {}
    for episode in report.charts.get("alerts", []):
        if episode.get("state") != "firing":
            continue
        colour = svg.RED if episode.get("severity") == "critical" else svg.ORANGE
        start, end = _when(episode["start"]), _when(episode["end"])
        alerts.setdefault(f"alert {episode['alertname']}", []).append(
            (
                start,
                max(end, start + timedelta(minutes=1)),
                colour,
                f"{episode['alertname']} {episode['start']} - {episode['end']}",
            )
        )
    rows.extend(sorted(alerts.items()))
    gaps = [
        (_when(g["start"]), _when(g["end"]), svg.GREY, f"no metrics {g['start']} - {g['end']}")
        for g in report.charts.get("gaps", [])
    ]
    if gaps:
        rows.append(("telemetry gaps", gaps))
    drift = [
        (
            _when(d["time"]),
            _when(d["time"]) + timedelta(hours=1),
            svg.PURPLE,
            f"drift {d['feature']} of {d['model']}",
        )
        for d in report.charts.get("drift", [])
    ]
    if drift:
        rows.append(("drift detections", drift))
    incidents = [
        (
            _when(i["opened"]),
            _when(i.get("resolved") or i["opened"]),
            svg.BLUE,
            f"incident {i['id']}: {i['title']}",
        )
        for i in report.charts.get("incidents", [])
    ]
    if incidents:
        rows.append(("incidents", incidents))
    return svg.timeline(
        "Alerts, telemetry gaps, drift and incidents over the period", rows, period.start, period.end
    )


def counts(title: str, pairs: list[tuple[str, int]], colour: str) -> str:
    total = sum(v for _, v in pairs) or 1
    items = [(label, float(value), f"{value:,} ({value / total * 100:.1f} %)") for label, value in pairs]
    return svg.hbars(title, items, colour=colour, width=900, label_width=220)


def status(report: Report) -> str:
    tally = report.status_counts()
    return svg.ring(
        "Criteria by status",
        [
            (name, tally[name], svg.STATUS_COLOURS[name])
            for name in ("effective", "exceptions", "not evidenced")
        ],
    )
