"""Raw evidence from the Prometheus HTTP API: call counts, latency, alert history, telemetry gaps.

Every query sent is recorded (:class:`QueryLog`) with its parameters, so the evidence item can show the
exact PromQL an auditor can run again. Counter increases are computed here from the counter's values
(``last_over_time`` and ``max_over_time`` per step), not with ``increase()``: ``increase()``
extrapolates at the edges of its window and misses the first value of a series created inside it,
while step values give whole numbers that match the application's own count. A reset between two
steps is detected when a step's maximum exceeds its last value; the calls after the reset are added.

Only the standard library is used (``urllib``), with explicit timeouts.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from llm_soc2 import semconv as sc
from llm_soc2.errors import SourceError
from llm_soc2.report.evidence import Period, from_ns, iso
from llm_soc2.report.sources import redact_url

MAX_POINTS: Final = 10_000  # Prometheus refuses more than 11,000 points per series in a range query
STEPS: Final = (60, 300, 900, 1800, 3600, 7200, 21600, 43200, 86400)
GAP_RESOLUTION: Final = 900  # seconds: a 15-minute step with no sample of the call counter is a telemetry gap
ALERT_CHUNK: Final = 7 * 86400  # raw ALERTS samples are read one week at a time
QUANTILES: Final = (0.5, 0.95, 0.99)

DURATION: Final = sc.prometheus_name(sc.METRIC_OPERATION_DURATION, "s", "histogram")
COUNT_SERIES: Final = f"{DURATION}_count"
SUM_SERIES: Final = f"{DURATION}_sum"
BUCKET_SERIES: Final = f"{DURATION}_bucket"
MODEL_LABEL: Final = sc.prometheus_label(sc.GEN_AI_REQUEST_MODEL)
PROVIDER_LABEL: Final = sc.prometheus_label(sc.GEN_AI_PROVIDER_NAME)
ERROR_LABEL: Final = sc.prometheus_label(sc.ERROR_TYPE)
DRIFT_SCORE: Final = sc.prometheus_name(sc.METRIC_DRIFT_SCORE, "", "gauge")
ALERTS: Final = "ALERTS"
ALERTS_FOR_STATE: Final = "ALERTS_FOR_STATE"


@dataclass
class QueryRecord:
    endpoint: str
    query: str
    parameters: dict[str, Any]
    series: int


@dataclass
class ModelCalls:
    model: str
    provider: str
    calls: float = 0.0
    errors: float = 0.0
    duration_sum: float = 0.0
    error_types: dict[str, float] = field(default_factory=dict)
    quantiles: dict[str, float | None] = field(default_factory=dict)  # "0.95" -> seconds


@dataclass(frozen=True)
class AlertEpisode:
    alertname: str
    labels: dict[str, str]
    state: str  # firing | pending
    start: float  # unix seconds of the first sample
    end: float  # unix seconds of the last sample
    active_at: float | None  # from ALERTS_FOR_STATE


@dataclass(frozen=True)
class Gap:
    start: float  # unix seconds
    end: float


@dataclass
class PrometheusData:
    location: str
    version: str
    step: int
    models: dict[str, ModelCalls]
    total_calls: float
    total_errors: float
    episodes: list[AlertEpisode]
    gaps: list[Gap]
    drift_gaps: list[Gap]  # stretches without any drift-monitor gauge sample
    drift_present: bool
    gap_resolution: int
    first_sample: float | None
    last_sample: float | None
    queries: list[QueryRecord]
    raw: dict[str, Any]  # raw answers, written to evidence/prometheus/*.json
    generated_at: datetime


class PrometheusClient:
    """A minimal Prometheus HTTP API client (``/api/v1/query``, ``/api/v1/query_range``)."""

    def __init__(self, url: str, *, timeout: float = 60.0, selector: str = "") -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceError(f"Prometheus URL {url!r} is not an http(s) URL (e.g. http://localhost:9090)")
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        if parts.port:
            netloc += f":{parts.port}"
        self.base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self.location = redact_url(url)
        self.timeout = timeout
        self.selector = selector.strip().strip("{}").strip()
        self._auth = ""
        if parts.username:
            token = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            self._auth = "Basic " + base64.b64encode(token.encode()).decode()
        self.log: list[QueryRecord] = []

    def _call(self, endpoint: str, params: Mapping[str, str]) -> Any:
        url = f"{self.base}/api/v1/{endpoint}"
        data = urllib.parse.urlencode(params).encode() if params else None
        request = urllib.request.Request(url, data=data, method="POST" if data else "GET")  # noqa: S310
        if data:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        if self._auth:
            request.add_header("Authorization", self._auth)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as exc:
            detail = _error_text(exc.read())
            if exc.code in (401, 403):
                raise SourceError(
                    f"Prometheus at {self.location} refused the request (HTTP {exc.code}): check the "
                    f"credentials in --prometheus-url{': ' + detail if detail else ''}"
                ) from None
            raise SourceError(
                f"Prometheus at {self.location} answered HTTP {exc.code} to {endpoint}"
                f"{': ' + detail if detail else ''}"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SourceError(f"Prometheus at {self.location} is unreachable: {reason}") from None
        try:
            payload = json.loads(body)
        except ValueError:
            raise SourceError(
                f"{self.location} did not answer like Prometheus (no JSON from /api/v1/{endpoint}); "
                "check --prometheus-url"
            ) from None
        if not isinstance(payload, dict) or payload.get("status") != "success":
            detail = payload.get("error", "") if isinstance(payload, dict) else ""
            raise SourceError(f"Prometheus at {self.location} rejected a query: {detail or 'unknown error'}")
        return payload.get("data")

    def sel(self, metric: str, *matchers: str) -> str:
        parts = [m for m in (*matchers, self.selector) if m]
        return f"{metric}{{{', '.join(parts)}}}" if parts else metric

    def buildinfo(self) -> dict[str, Any]:
        data = self._call("status/buildinfo", {})
        return data if isinstance(data, dict) else {}

    def instant(self, query: str, at: float) -> list[dict[str, Any]]:
        data = self._call("query", {"query": query, "time": _fmt(at)})
        result = data.get("result", []) if isinstance(data, dict) else []
        self.log.append(QueryRecord("query", query, {"time": _iso_s(at)}, len(result)))
        return list(result)

    def range(self, query: str, start: float, end: float, step: int) -> list[dict[str, Any]]:
        """A range query split into chunks of at most MAX_POINTS steps; series merged by labels."""
        merged: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
        chunk = step * MAX_POINTS
        at = start
        while at <= end:
            chunk_end = min(end, at + chunk)
            data = self._call(
                "query_range", {"query": query, "start": _fmt(at), "end": _fmt(chunk_end), "step": str(step)}
            )
            for series in data.get("result", []) if isinstance(data, dict) else []:
                key = tuple(sorted(series.get("metric", {}).items()))
                entry = merged.setdefault(key, {"metric": series.get("metric", {}), "values": []})
                values = entry["values"]
                for point in series.get("values", []):
                    if not values or float(point[0]) > float(values[-1][0]):
                        values.append(point)
            at = chunk_end + step
        result = list(merged.values())
        self.log.append(
            QueryRecord(
                "query_range",
                query,
                {"start": _iso_s(start), "end": _iso_s(end), "step": f"{step}s"},
                len(result),
            )
        )
        return result


def _fmt(seconds: float) -> str:
    return f"{seconds:.3f}"


def _iso_s(seconds: float) -> str:
    return iso(from_ns(round(seconds * 1e9)))


def _error_text(body: bytes) -> str:
    try:
        payload = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:200]
    return str(payload.get("error", ""))[:200] if isinstance(payload, dict) else ""


def choose_step(seconds: float) -> int:
    """The smallest standard step that keeps a range query under MAX_POINTS points."""
    for step in STEPS:
        if seconds / step <= MAX_POINTS:
            return step
    return math.ceil(seconds / MAX_POINTS)


def counter_increase(last: list[list[Any]], peak: list[list[Any]] | None, started_before: bool) -> float:
    """The increase of one counter series from its per-step last values (and per-step maxima).

    ``started_before``: the series had a value at the period's start; otherwise it was created inside
    the period and its first value counts in full (counters start at zero).
    """
    if not last:
        return 0.0
    peaks = {float(t): float(v) for t, v in peak or []}
    total = 0.0 if started_before else float(last[0][1])
    previous = float(last[0][1])
    for t, v in last[1:]:
        value = float(v)
        top = peaks.get(float(t), value)
        if value >= previous and top <= value:
            total += value - previous
        else:  # a reset within the step: what was counted up to the reset, then everything after it
            total += max(top - previous, 0.0) + value
        previous = value
    return total


def collect(
    client: PrometheusClient,
    period: Period,
    now: Callable[[], datetime],
    progress: Callable[[str], None] | None = None,
) -> PrometheusData:
    """Query everything the report needs from Prometheus over ``period``."""
    say = progress or (lambda _: None)
    build = client.buildinfo()
    start = period.start_ns / 1e9
    end = period.end_ns / 1e9
    seconds = end - start
    step = choose_step(seconds)
    raw: dict[str, Any] = {"buildinfo": build}

    say("prometheus: call counts")
    window = f"[{step}s]"
    last_q = f"last_over_time({client.sel(COUNT_SERIES)}{window})"
    peak_q = f"max_over_time({client.sel(COUNT_SERIES)}{window})"
    last = client.range(last_q, start, end, step)
    peak = client.range(peak_q, start, end, step)
    sum_last = client.range(f"last_over_time({client.sel(SUM_SERIES)}{window})", start, end, step)
    sum_peak = client.range(f"max_over_time({client.sel(SUM_SERIES)}{window})", start, end, step)
    raw["count_last"], raw["count_max"], raw["sum_last"], raw["sum_max"] = last, peak, sum_last, sum_peak

    models: dict[str, ModelCalls] = {}
    total_calls = total_errors = 0.0
    for series, maxima in _paired(last, peak):
        labels = series["metric"]
        values = series["values"]
        started = bool(values) and float(values[0][0]) <= start + 1e-6
        increase = counter_increase(values, maxima, started)
        model = labels.get(MODEL_LABEL, "(unknown)")
        entry = models.setdefault(model, ModelCalls(model, labels.get(PROVIDER_LABEL, "")))
        entry.calls += increase
        total_calls += increase
        error = labels.get(ERROR_LABEL, "")
        if error:
            entry.errors += increase
            total_errors += increase
            entry.error_types[error] = entry.error_types.get(error, 0.0) + increase
    for series, maxima in _paired(sum_last, sum_peak):
        values = series["values"]
        started = bool(values) and float(values[0][0]) <= start + 1e-6
        model = series["metric"].get(MODEL_LABEL, "(unknown)")
        if model in models:
            models[model].duration_sum += counter_increase(values, maxima, started)

    say("prometheus: latency quantiles")
    buckets = f"sum by (le, {MODEL_LABEL}) (increase({client.sel(BUCKET_SERIES)}[{int(seconds)}s]))"
    raw["quantiles"] = {}
    for q in QUANTILES:
        answer = client.instant(f"histogram_quantile({q}, {buckets})", end)
        raw["quantiles"][str(q)] = answer
        for series in answer:
            model = series.get("metric", {}).get(MODEL_LABEL, "(unknown)")
            value = float(series["value"][1])
            if model in models:
                models[model].quantiles[str(q)] = value if math.isfinite(value) else None

    say("prometheus: alert history")
    episodes, raw_alerts = _alert_episodes(client, start, end)
    raw["alerts"] = raw_alerts

    say("prometheus: telemetry gaps")
    gaps, first_sample, last_sample, raw_gaps = _gaps(client, COUNT_SERIES, start, end)
    raw["presence"] = raw_gaps
    drift_gaps, drift_first, _, raw_drift = _gaps(client, DRIFT_SCORE, start, end)
    raw["drift_presence"] = raw_drift
    return PrometheusData(
        location=client.location,
        version=str(build.get("version", "")),
        step=step,
        models=dict(sorted(models.items())),
        total_calls=total_calls,
        total_errors=total_errors,
        episodes=episodes,
        gaps=gaps,
        drift_gaps=drift_gaps,
        drift_present=drift_first is not None,
        gap_resolution=GAP_RESOLUTION,
        first_sample=first_sample,
        last_sample=last_sample,
        queries=list(client.log),
        raw=raw,
        generated_at=now(),
    )


def _paired(
    last: list[dict[str, Any]], peak: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], list[list[Any]] | None]]:
    peaks = {tuple(sorted(s["metric"].items())): s["values"] for s in peak}
    return [(s, peaks.get(tuple(sorted(s["metric"].items())))) for s in last]


def _alert_episodes(client: PrometheusClient, start: float, end: float) -> tuple[list[AlertEpisode], Any]:
    samples: dict[tuple[tuple[str, str], ...], dict[float, float]] = defaultdict(dict)
    active: dict[tuple[tuple[str, str], ...], dict[float, float]] = defaultdict(dict)
    at = start
    raw: list[Any] = []
    while at < end:
        chunk_end = min(end, at + ALERT_CHUNK)
        span = math.ceil(chunk_end - at)
        for name, target in ((ALERTS, samples), (ALERTS_FOR_STATE, active)):
            answer = client.instant(f"{client.sel(name)}[{span}s]", chunk_end)
            raw.append({"query": f"{client.sel(name)}[{span}s]", "time": chunk_end, "result": answer})
            for series in answer:
                key = tuple(sorted(series.get("metric", {}).items()))
                points = target[key]
                for t, v in series.get("values", []):
                    if start <= float(t) <= end:
                        points[float(t)] = float(v)
        at = chunk_end
    episodes: list[AlertEpisode] = []
    for key, points in samples.items():
        labels = dict(key)
        times = sorted(points)
        if not times:
            continue
        interval = _typical_interval(times)
        runs: list[list[float]] = [[times[0]]]
        for t in times[1:]:
            if t - runs[-1][-1] > max(2 * interval, 120.0):
                runs.append([t])
            else:
                runs[-1].append(t)
        state = labels.pop("alertstate", "")
        labels.pop("__name__", None)
        for_key = tuple(sorted({**labels, "__name__": ALERTS_FOR_STATE}.items()))
        for_points = active.get(for_key, {})
        for run in runs:
            activated = [v for t, v in for_points.items() if run[0] - interval <= t <= run[-1]]
            episodes.append(
                AlertEpisode(
                    alertname=labels.get("alertname", ""),
                    labels={k: v for k, v in labels.items() if k != "alertname"},
                    state=state,
                    start=run[0],
                    end=run[-1],
                    active_at=min(activated) if activated else None,
                )
            )
    episodes.sort(key=lambda e: (e.start, e.alertname))
    return episodes, raw


def _typical_interval(times: list[float]) -> float:
    deltas = sorted(b - a for a, b in itertools.pairwise(times) if b > a)
    return deltas[len(deltas) // 2] if deltas else 60.0


def _gaps(
    client: PrometheusClient, metric: str, start: float, end: float
) -> tuple[list[Gap], float | None, float | None, Any]:
    """Stretches of at least one step in which no series of ``metric`` had a sample."""
    step = GAP_RESOLUTION
    query = f"count(count_over_time({client.sel(metric)}[{step}s]))"
    answer = client.range(query, start + step, end, step)
    present = sorted(float(t) for series in answer for t, _ in series.get("values", []))
    gaps: list[Gap] = []
    if not present:
        return [Gap(start, end)], None, None, answer
    expected = start + step
    for t in present:
        if t - expected >= step:  # steps expected..t-step were silent
            gaps.append(Gap(expected - step, t - step))
        expected = t + step
    if end - expected >= 0:
        gaps.append(Gap(expected - step, end))
    return gaps, present[0] - step, present[-1], answer
