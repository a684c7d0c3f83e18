"""A real Prometheus holding 180 days of an LLM application's metrics, backfilled with promtool.

The history is synthetic and fully known: every LLM call (time, model, provider, outcome, duration),
every alert episode, one counter reset (an application restart) and one telemetry gap (a stretch with
no scrape at all). :func:`write_openmetrics` turns it into the series the OpenTelemetry Prometheus
exporter exposes (``gen_ai_client_operation_duration_seconds_{bucket,sum,count}`` with
``gen_ai_request_model``, ``gen_ai_provider_name`` and, on failures, ``error_type``) plus the
``ALERTS`` / ``ALERTS_FOR_STATE`` series Prometheus writes for alerting rules, one sample per scrape.
``promtool tsdb create-blocks-from openmetrics`` builds TSDB blocks from it, and :class:`PrometheusServer`
starts a private ``prometheus`` on those blocks (free port, temporary directory, long retention).

The same calls can be written to the audit log (:func:`call_records`), so a report over both sources
must reconcile exactly.

In CI (``CI=true``) a missing ``prometheus``/``promtool`` binary fails the test; elsewhere it skips
(``require_binary`` of ``support.prometheus``, whose helpers this module reuses; its server class is
not, because a backfilled server needs a retention longer than the default 15 days).
"""

from __future__ import annotations

import math
import random
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from llm_soc2 import semconv as sc
from support.prometheus import free_port, require_binary, wait_until

NS = 1_000_000_000
DAY = 86400
SCRAPE = 900  # seconds between samples of the application's metrics
ALERT_EVAL = 60  # seconds between rule evaluations (ALERTS samples)
BUCKETS = (0.32, 1.28, 5.12, math.inf)
DURATION = sc.prometheus_name(sc.METRIC_OPERATION_DURATION, "s", "histogram")
MODEL = sc.prometheus_label(sc.GEN_AI_REQUEST_MODEL)
PROVIDER = sc.prometheus_label(sc.GEN_AI_PROVIDER_NAME)
ERROR = sc.prometheus_label(sc.ERROR_TYPE)
JOB = 'job="llm-app",instance="app:9464"'


@dataclass(frozen=True)
class Call:
    time_ns: int
    model: str
    provider: str
    error_type: str  # "" on success
    duration: float  # seconds


@dataclass(frozen=True)
class Episode:
    alertname: str
    labels: tuple[tuple[str, str], ...]
    active_at: int  # unix seconds: pending from here
    firing_at: int  # firing from here
    resolved_at: int  # last sample strictly before this


@dataclass
class History:
    start: int  # unix seconds, aligned to SCRAPE: the report period starts here
    end: int  # unix seconds, aligned: the report period ends here
    warmup: int  # seconds of history before start (the app was running already)
    calls: list[Call]
    episodes: list[Episode]
    gap: tuple[int, int]  # no sample of any application series with gap[0] < t < gap[1]
    reset: tuple[str, int]  # (model, unix seconds): the app restarted right after this scrape
    models: dict[str, str] = field(default_factory=dict)  # model -> provider

    def in_period(self) -> list[Call]:
        lo, hi = self.start * NS, self.end * NS
        return [c for c in self.calls if lo <= c.time_ns < hi]

    def expected(self) -> dict[str, dict[str, int]]:
        """Calls and failures per model inside the period."""
        result: dict[str, dict[str, int]] = {}
        for call in self.in_period():
            entry = result.setdefault(call.model, {"calls": 0, "errors": 0})
            entry["calls"] += 1
            entry["errors"] += 1 if call.error_type else 0
        return result


def build_history(end: int | None = None, days: int = 180, seed: int = 20240601) -> History:
    """A 180-day history ending at ``end`` (default: the last scrape boundary an hour ago)."""
    rng = random.Random(seed)
    if end is None:
        end = int(time.time()) - 3600
    end -= end % SCRAPE
    start = end - days * DAY
    warmup = 2 * DAY
    models = {"gpt-4o-mini": "openai", "claude-sonnet-4": "anthropic", "gpt-4.1": "openai"}
    # the third model is introduced two thirds into the period (its series are born inside it)
    introduced = {
        "gpt-4o-mini": start - warmup,
        "claude-sonnet-4": start - warmup,
        "gpt-4.1": start + 120 * DAY,
    }
    error_rates = {"gpt-4o-mini": 0.004, "claude-sonnet-4": 0.012, "gpt-4.1": 0.03}
    error_kinds = {
        "gpt-4o-mini": ("RateLimitError", "APITimeoutError"),
        "claude-sonnet-4": ("RateLimitError",),
        "gpt-4.1": ("InternalServerError",),
    }
    calls: list[Call] = []
    t = start - warmup
    while t < end:
        for model, provider in models.items():
            if t < introduced[model]:
                continue
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                offset = rng.randrange(1, SCRAPE * NS - 1)  # never on a scrape boundary
                failed = rng.random() < error_rates[model]
                calls.append(
                    Call(
                        time_ns=t * NS + offset,
                        model=model,
                        provider=provider,
                        error_type=rng.choice(error_kinds[model]) if failed else "",
                        duration=round(rng.lognormvariate(-0.3, 0.9), 4),
                    )
                )
        t += SCRAPE
    calls.sort(key=lambda c: c.time_ns)
    gap_start = start + 40 * DAY + 6 * 3600
    gap = (gap_start, gap_start + 6 * 3600)
    reset = ("gpt-4o-mini", start + 75 * DAY + 12 * 3600)
    labels = (("severity", "critical"), ("soc2_criterion", "CC7.2"))
    episodes = []
    for day, minutes in ((10, 25), (55, 90), (101, 12), (150, 240)):
        active = start + day * DAY + 9 * 3600
        firing = active + 300
        episodes.append(Episode("LLMErrorRateHigh", labels, active, firing, firing + minutes * 60))
    episodes.append(
        Episode("LLMPIILeak", (("severity", "warning"), ("soc2_criterion", "P6.3")),
                start + 30 * DAY, start + 30 * DAY + 120, start + 30 * DAY + 1800)
    )  # fmt: skip
    return History(start, end, warmup, calls, episodes, gap, reset, models)


def _labels(model: str, provider: str, error: str, extra: str = "") -> str:
    parts = [f'{MODEL}="{model}"', f'{PROVIDER}="{provider}"']
    if error:
        parts.append(f'{ERROR}="{error}"')
    parts.append(JOB)
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}"


def write_openmetrics(history: History, path: Path) -> int:
    """Write the history as OpenMetrics text (second timestamps, ending in ``# EOF``); returns samples.

    Counters are cumulative per series; the restarted model's series start again from zero after the
    restart and, as with the OpenTelemetry SDK, a series exists only once it has an observation.
    """
    scrape_times = [
        s
        for s in range(history.start - history.warmup, history.end + 1, SCRAPE)
        if not (history.gap[0] < s < history.gap[1])
    ]
    reset_model, reset_at = history.reset
    samples = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(f"# TYPE {DURATION} histogram\n# UNIT {DURATION} seconds\n")
        for key in sorted({(c.model, c.provider, c.error_type) for c in history.calls}):
            model, provider, error = key
            mine = [c for c in history.calls if (c.model, c.provider, c.error_type) == key]
            labels = _labels(model, provider, error)[:-1]
            count, total, buckets = 0, 0.0, [0] * len(BUCKETS)
            index, restarted = 0, False
            for s in scrape_times:
                if model == reset_model and not restarted and s > reset_at:
                    # the restart happened right after the scrape at reset_at: calls after it count anew
                    restarted = True
                    count, total, buckets = 0, 0.0, [0] * len(BUCKETS)
                    while index < len(mine) and mine[index].time_ns <= reset_at * NS:
                        index += 1
                while index < len(mine) and mine[index].time_ns <= s * NS:
                    call = mine[index]
                    count += 1
                    total += call.duration
                    for i, bound in enumerate(BUCKETS):
                        if call.duration <= bound:
                            buckets[i] += 1
                    index += 1
                if count == 0:
                    continue  # no observation yet (or since the restart): the series does not exist
                for bound, in_bucket in zip(BUCKETS, buckets, strict=True):
                    le = "+Inf" if math.isinf(bound) else repr(bound)
                    out.write(f'{DURATION}_bucket{labels},le="{le}"}} {in_bucket} {s}\n')
                out.write(f"{DURATION}_sum{labels}}} {total:.4f} {s}\n")
                out.write(f"{DURATION}_count{labels}}} {count} {s}\n")
                samples += len(BUCKETS) + 2
        drift = sc.prometheus_name(sc.METRIC_DRIFT_SCORE, "", "gauge")
        feature, test = sc.prometheus_label(sc.ATTR_DRIFT_FEATURE), sc.prometheus_label(sc.ATTR_DRIFT_TEST)
        out.write(f"# TYPE {drift} gauge\n")
        for model in sorted(history.models):
            labels = f'{MODEL}="{model}",{feature}="duration",{test}="wasserstein",{JOB}'
            for s in scrape_times:
                if s >= history.start - history.warmup:
                    out.write(f"{drift}{{{labels}}} 0.05 {s}\n")
                    samples += 1
        out.write("# TYPE ALERTS gauge\n")
        for ep in history.episodes:
            extra = ",".join(f'{k}="{v}"' for k, v in ep.labels)
            for state, begin in (("pending", ep.active_at), ("firing", ep.firing_at)):
                stop = ep.firing_at if state == "pending" else ep.resolved_at
                for s in range(begin, stop, ALERT_EVAL):
                    out.write(f'ALERTS{{alertname="{ep.alertname}",alertstate="{state}",{extra}}} 1 {s}\n')
                    samples += 1
        out.write("# TYPE ALERTS_FOR_STATE gauge\n")
        for ep in history.episodes:
            extra = ",".join(f'{k}="{v}"' for k, v in ep.labels)
            for s in range(ep.active_at, ep.resolved_at, ALERT_EVAL):
                out.write(f'ALERTS_FOR_STATE{{alertname="{ep.alertname}",{extra}}} {ep.active_at} {s}\n')
                samples += 1
        out.write("# EOF\n")
    return samples


def expected_quantile_bounds(history: History, model: str, q: float) -> tuple[float, float]:
    """The bucket bounds the q-quantile of a model's durations in the period falls between."""
    durations = sorted(c.duration for c in history.in_period() if c.model == model)
    exact = durations[min(len(durations) - 1, math.ceil(q * len(durations)) - 1)]
    lower = max((b for b in BUCKETS if b < exact), default=0.0)
    upper = min(b for b in BUCKETS if b >= exact)
    return lower, upper


def backfill(history: History, data_dir: Path) -> None:
    promtool = require_binary("promtool")
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="om-") as tmp:
        source = Path(tmp) / "history.om"
        write_openmetrics(history, source)
        subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=4320h",
             str(source), str(data_dir)],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip


class PrometheusServer:
    """A private ``prometheus`` process on a data directory (no scrape targets)."""

    def __init__(self, data_dir: Path) -> None:
        self.binary = require_binary("prometheus")
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / "prometheus.log"

    def start(self) -> PrometheusServer:
        config = self.data_dir.parent / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 15s\n")
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [self.binary, f"--config.file={config}", f"--storage.tsdb.path={self.data_dir}",
             "--storage.tsdb.retention.time=20y", f"--web.listen-address=127.0.0.1:{self.port}",
             "--query.max-samples=200000000"],
            stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        process = self.process

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"prometheus exited: {self.log_path.read_text()[-2000:]}")
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:  # noqa: S310
                return bool(response.status == 200)

        try:
            wait_until(ready, 60, "the backfilled Prometheus to become ready")
        except AssertionError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if hasattr(self, "_log"):
            self._log.close()


# ------------------------------------------------------------------------------------------------------
# The same history as audit records
# ------------------------------------------------------------------------------------------------------
KEY_A, KEY_B, KEY_ROGUE = "a1b2c3d4e5f60718", "b2c3d4e5f6071829", "ffffeeee00001111"
TEMPLATES = ("1111aaaa2222bbbb", "3333cccc4444dddd", "5555eeee6666ffff")  # the last one is never approved
PII_TYPES = ("EMAIL", "PHONE", "CREDIT_CARD", "API_KEY")


def call_records(history: History, seed: int = 7) -> list[Any]:
    """Every call as an ``interaction`` audit record, plus the governance and drift records around them.

    Deterministic for a seed. The attributes are the ones the span processor writes (risk, PII summary,
    key fingerprint, template hash, registry verdict); expectations are computed from the returned
    records by the tests, never written down by hand.
    """
    from llm_soc2.audit import AuditRecord

    rng = random.Random(seed)
    start_ns, end_ns = history.start * NS, history.end * NS
    rotation_ns = start_ns + 100 * DAY * NS
    records: list[Any] = []
    for index, call in enumerate(history.calls):
        roll = rng.random()
        level = "low" if roll < 0.85 else "medium" if roll < 0.95 else "high" if roll < 0.99 else "critical"
        categories: list[str] = []
        if level in ("medium", "high", "critical"):
            categories = [rng.choice((sc.RISK_PROMPT_INJECTION, sc.RISK_DATA_LEAKAGE, sc.RISK_TRUNCATION,
                                      sc.RISK_UNGROUNDED, sc.RISK_REFUSAL))]  # fmt: skip
        input_types = sorted(set(rng.sample(PII_TYPES[:3], rng.randint(1, 2)))) if rng.random() < 0.08 else []
        output_types = ["EMAIL"] if rng.random() < 0.01 else []
        key = KEY_A if call.time_ns < rotation_ns else KEY_B
        known = True
        if index % 997 == 13:
            key, known = KEY_ROGUE, False
        template = TEMPLATES[0] if call.model != "gpt-4.1" else TEMPLATES[1]
        approved: bool = True
        if index % 211 == 5:
            template, approved = TEMPLATES[2], False
        attributes: dict[str, Any] = {
            sc.GEN_AI_OPERATION_NAME: "chat",
            sc.GEN_AI_PROVIDER_NAME: call.provider,
            sc.GEN_AI_REQUEST_MODEL: call.model,
            sc.GEN_AI_USAGE_INPUT_TOKENS: rng.randint(20, 2000),
            sc.GEN_AI_USAGE_OUTPUT_TOKENS: rng.randint(5, 800),
            sc.DURATION: call.duration,
            sc.PROVIDER_HOST: "api.openai.com" if call.provider == "openai" else "api.anthropic.com",
            sc.RISK_LEVEL: level,
            sc.RISK_SCORE: {"low": 0.05, "medium": 0.4, "high": 0.75, "critical": 0.95}[level],
            sc.RISK_CATEGORIES: categories,
            sc.PII_COUNT: len(input_types) + len(output_types),
            sc.PII_TYPES: sorted(set(input_types) | set(output_types)),
            sc.PII_INPUT_COUNT: len(input_types),
            sc.PII_INPUT_TYPES: input_types,
            sc.PII_OUTPUT_COUNT: len(output_types),
            sc.PII_OUTPUT_TYPES: output_types,
            sc.API_KEY_FINGERPRINT: key,
            sc.API_KEY_KNOWN: known,
            sc.PROMPT_TEMPLATE_HASH: template,
            sc.CHANGE_APPROVED: approved,
        }
        if not approved:
            attributes[sc.CHANGE_UNAPPROVED_VERSIONS] = [f"prompt:{template}"]
        if call.error_type:
            attributes[sc.ERROR_TYPE] = call.error_type
        if index % 4001 == 7:
            attributes[sc.SCRUB_ERROR] = "timeout"
        records.append(
            AuditRecord(
                kind="interaction",
                time_unix_nano=call.time_ns,
                service="support-bot",
                trace_id=f"{index:032x}",
                span_id=f"{index:016x}",
                subject=f"user-{rng.randrange(200):04d}",
                attributes=attributes,
            )
        )

    def event(kind: str, at_ns: int, **attributes: Any) -> None:
        records.append(
            AuditRecord(kind=kind, time_unix_nano=at_ns, service="support-bot", attributes=attributes)
        )

    # keys: A registered before the period, B registered at the rotation, the rogue key's first use
    event("key", start_ns - 2 * DAY * NS, **{sc.API_KEY_EVENT: "register", sc.API_KEY_FINGERPRINT: KEY_A,
                                             sc.API_KEY_REGISTERED_AT: start_ns - 2 * DAY * NS})  # fmt: skip
    event("key", rotation_ns - 3600 * NS, **{sc.API_KEY_EVENT: "register", sc.API_KEY_FINGERPRINT: KEY_B,
                                             sc.API_KEY_REPLACES: KEY_A, sc.API_KEY_REGISTERED_AT: rotation_ns})  # fmt: skip
    event("key", rotation_ns + 3600 * NS, **{sc.API_KEY_EVENT: "retire", sc.API_KEY_FINGERPRINT: KEY_A})
    # changes: every template and model first seen; approvals (the third template is never approved,
    # the second one is approved a day after its first use)
    first: dict[tuple[str, str], int] = {}
    for record in records:
        if record.kind != "interaction":
            continue
        a = record.attributes
        for kind, ident in (("prompt", a[sc.PROMPT_TEMPLATE_HASH]), ("model", a[sc.GEN_AI_REQUEST_MODEL])):
            first.setdefault((kind, ident), record.time_unix_nano)
    for (kind, ident), seen in first.items():
        approved_flag = not (kind == "prompt" and ident == TEMPLATES[2])
        event(
            "change", seen, **{sc.CHANGE_KIND: kind, sc.CHANGE_ID: ident, sc.CHANGE_APPROVED: approved_flag}
        )
        if not approved_flag:
            continue
        late = kind == "prompt" and ident == TEMPLATES[1]
        event("approval", seen + (DAY * NS if late else -DAY * NS),
              **{sc.CHANGE_KIND: kind, sc.CHANGE_ID: ident, sc.CHANGE_APPROVER: "alice", sc.CHANGE_TICKET: "CHG-1"})  # fmt: skip
    # drift: three detections, the first followed by a baseline
    for day, feature in ((20, "duration"), (90, "refusal"), (170, "output_tokens")):
        at = start_ns + day * DAY * NS
        event("drift", at, **{sc.ATTR_DRIFT_FEATURE: feature, sc.ATTR_DRIFT_TEST: "wasserstein",
                              sc.GEN_AI_REQUEST_MODEL: "gpt-4o-mini", sc.DRIFT_STATE: "detected",
                              sc.DRIFT_SCORE: 0.31, sc.DRIFT_THRESHOLD: 0.1, sc.DRIFT_P_VALUE: 0.0001})  # fmt: skip
        if day == 20:
            event(
                "baseline", at + 6 * 3600 * NS, **{sc.DRIFT_BASELINE_ACTION: "save", sc.DRIFT_BASELINE: "q3"}
            )
    # incidents from the critical alert episodes: all but the last opened; one never acknowledged
    for number, episode in enumerate(
        e for e in history.episodes if dict(e.labels).get("severity") == "critical"
    ):
        if number == 3:
            break
        opened = episode.firing_at * NS + 120 * NS
        ident = f"INC-{number + 1}"
        common = {sc.INCIDENT_ID: ident, sc.INCIDENT_OPENED_AT: opened, sc.INCIDENT_SEVERITY: "critical",
                  sc.INCIDENT_TITLE: episode.alertname, sc.INCIDENT_ALERT_NAMES: [episode.alertname]}  # fmt: skip
        event("incident", opened, **common, **{sc.INCIDENT_EVENT: "opened", sc.INCIDENT_AT: opened})
        if number != 1:
            event("incident", opened + 1800 * NS, **common,
                  **{sc.INCIDENT_EVENT: "acknowledged", sc.INCIDENT_AT: opened + 1800 * NS})  # fmt: skip
        event("incident", opened + 4 * 3600 * NS, **common,
              **{sc.INCIDENT_EVENT: "resolved", sc.INCIDENT_AT: opened + 4 * 3600 * NS,
                 sc.INCIDENT_NOTE: "rolled back to the previous model" if number != 2 else ""})  # fmt: skip
    records.sort(key=lambda r: r.time_unix_nano)
    del end_ns
    return records


def write_log(settings: Any, records: list[Any], *, checkpoint_every: int = 5000) -> None:
    """Append ``records`` to the audit store of ``settings`` through the audit API, signing a checkpoint
    every ``checkpoint_every`` records and at the end."""
    from llm_soc2.audit import AuditLog

    with AuditLog.open(settings=settings) as log:
        for start in range(0, len(records), checkpoint_every):
            log.append(records[start : start + checkpoint_every])
            log.checkpoint()


# ------------------------------------------------------------------------------------------------------
# Fixtures (exported by tests/conftest.py)
# ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def llm_history() -> History:
    """The 180-day history, built once per session."""
    return build_history()


@pytest.fixture(scope="session")
def llm_history_records(llm_history: History) -> list[Any]:
    return call_records(llm_history)


@pytest.fixture(scope="session")
def llm_history_log(llm_history_records: list[Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Settings of a SQLite audit store holding the history's records (read it, do not write to it)."""
    from llm_soc2.config import Settings

    root = tmp_path_factory.mktemp("history-log")
    settings = Settings(
        data_dir=root / "data", service_name="support-bot", audit_url=f"sqlite:///{root / 'audit.db'}"
    )
    write_log(settings, llm_history_records)
    return settings


@pytest.fixture(scope="session")
def prometheus_history(
    llm_history: History, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, History]]:
    """(URL of a real Prometheus holding the 180-day history, the history)."""
    root = tmp_path_factory.mktemp("prometheus-history")
    backfill(llm_history, root / "data")
    server = PrometheusServer(root / "data").start()
    try:
        yield server.url, llm_history
    finally:
        server.stop()
