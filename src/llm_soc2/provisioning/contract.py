"""The metric contract between the code that records metrics and the dashboards and alert rules.

Every metric a dashboard panel or an alert rule queries is listed here once, with the OpenTelemetry
instrument (name, unit, kind) and the attributes the emitting component puts on it. The Prometheus
names and labels are *derived* (``semconv.prometheus_name`` / ``semconv.prometheus_label``), never
written by hand, so a renamed constant changes the dashboards and rules with it.

Resource attributes (``service.name``, ``deployment.environment.name``) are not metric attributes: the
Prometheus exporter (and the OTel Collector's Prometheus exporters) put them on ``target_info`` only, and
queries join them in with ``* on (job, instance) group_left (...) target_info`` (see ``queries.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from llm_soc2 import semconv as sc

Kind = Literal["counter", "histogram", "gauge"]

# Who records each metric (for the report and for the people implementing it).
INSTRUMENTATION: Final = "instrumentation (llm_soc2.instrumentation)"
PROCESSOR: Final = "span processor (llm_soc2.processor)"
AUDIT: Final = "audit writer (llm_soc2.audit)"
DRIFT: Final = "drift monitor (llm_soc2.drift)"
GOVERNANCE: Final = "governance (llm_soc2.governance: access and change tracking)"

GENAI_BASE: Final = (sc.GEN_AI_OPERATION_NAME, sc.GEN_AI_PROVIDER_NAME, sc.GEN_AI_REQUEST_MODEL)
GENAI_CLIENT: Final = (*GENAI_BASE, sc.GEN_AI_RESPONSE_MODEL, sc.SERVER_ADDRESS, sc.SERVER_PORT)
DRIFT_ATTRIBUTES: Final = (
    sc.GEN_AI_REQUEST_MODEL,
    sc.GEN_AI_OPERATION_NAME,
    sc.ATTR_DRIFT_FEATURE,
    sc.ATTR_DRIFT_TEST,
)


@dataclass(frozen=True)
class MetricSpec:
    """One OpenTelemetry instrument as the dashboards and rules rely on it.

    ``attributes`` are the metric attributes (never resource attributes). ``when`` says when the series
    exist: ``always`` once the component runs and has seen traffic, ``on_event`` only after the first
    occurrence of what they count (failures, losses ...).
    """

    name: str
    unit: str
    kind: Kind
    attributes: tuple[str, ...]
    emitter: str
    description: str
    when: Literal["always", "on_event"] = "always"
    buckets: tuple[float, ...] = ()

    @property
    def prometheus_name(self) -> str:
        return sc.prometheus_name(self.name, self.unit, self.kind)

    @property
    def series_names(self) -> tuple[str, ...]:
        base = self.prometheus_name
        if self.kind == "histogram":
            return (f"{base}_bucket", f"{base}_sum", f"{base}_count")
        return (base,)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(sc.prometheus_label(attribute) for attribute in self.attributes)

    def series_labels(self, series: str) -> frozenset[str]:
        """The labels a series of this metric carries (``le`` only on ``_bucket``), without scrape labels."""
        labels = set(self.labels)
        if series.endswith("_bucket") and self.kind == "histogram":
            labels.add("le")
        return frozenset(labels)


METRICS: Final[tuple[MetricSpec, ...]] = (
    # ---------------------------------------------------------------- GenAI semantic conventions
    MetricSpec(
        sc.METRIC_OPERATION_DURATION, "s", "histogram", (*GENAI_CLIENT, sc.ERROR_TYPE), INSTRUMENTATION,
        "Duration of each client operation; error.type (the exception class name, e.g. AuthenticationError) "
        "only on failures.",
        buckets=sc.DURATION_BUCKETS,
    ),
    MetricSpec(
        sc.METRIC_TOKEN_USAGE, "{token}", "histogram", (*GENAI_CLIENT, sc.GEN_AI_TOKEN_TYPE), INSTRUMENTATION,
        "Tokens per operation; gen_ai.token.type is input or output.",
        buckets=sc.TOKEN_BUCKETS,
    ),
    MetricSpec(
        sc.METRIC_TIME_TO_FIRST_CHUNK, "s", "histogram", GENAI_CLIENT, INSTRUMENTATION,
        "Time from request to the first streamed chunk (streaming operations only).",
        buckets=sc.DURATION_BUCKETS,
    ),
    MetricSpec(
        sc.METRIC_INSTRUMENTATION_ERRORS, "{error}", "counter", (sc.ATTR_ERROR_KIND,), INSTRUMENTATION,
        "Failures inside the instrumentation itself (the wrapped call is never affected).",
        when="on_event",
    ),
    # ---------------------------------------------------------------- span processor
    MetricSpec(
        sc.METRIC_SPANS_PROCESSED, "{span}", "counter", GENAI_BASE, PROCESSOR,
        "GenAI spans processed. Recorded once with value 0 and no attributes when the processor starts, "
        "so the series exists before the first span.",
    ),
    MetricSpec(
        sc.METRIC_PROCESSOR_DURATION, "s", "histogram", (), PROCESSOR,
        "Time the processor spends on one GenAI span (scrub + classify + hand-offs).",
    ),
    MetricSpec(
        sc.METRIC_INTERACTIONS, "{interaction}", "counter",
        (
            *GENAI_BASE, sc.ERROR_TYPE, sc.RISK_LEVEL, sc.API_KEY_FINGERPRINT, sc.PROMPT_TEMPLATE_HASH,
            sc.CHANGE_APPROVED,
        ),
        PROCESSOR,
        "One per GenAI interaction. error.type empty on success; llm_soc2.risk.level low|medium|high|critical "
        "(unknown when classification failed); llm_soc2.change.approved true|false|unknown. Fingerprints "
        "and template hashes are capped (at most 100 distinct values, then _OTHER).",
    ),
    MetricSpec(
        sc.METRIC_PII_FINDINGS, "{finding}", "counter",
        (*GENAI_BASE, sc.ATTR_PII_TYPE, sc.ATTR_DIRECTION, sc.ATTR_SCRUB_ACTION), PROCESSOR,
        "PII and secret findings by entity type, direction (input|output) and the redaction applied "
        "(mask|pseudonymize|drop).",
        when="on_event",
    ),
    MetricSpec(
        sc.METRIC_SCRUB_FAILURES, "{failure}", "counter", (sc.ATTR_ERROR_KIND,), PROCESSOR,
        "Content dropped because it could not be scrubbed (fail closed).",
        when="on_event",
    ),
    MetricSpec(
        sc.METRIC_RISK_EVENTS, "{event}", "counter", (*GENAI_BASE, sc.ATTR_RISK_CATEGORY, sc.ATTR_RISK_LEVEL),
        PROCESSOR, "One per risk category flagged on an interaction.",
        when="on_event",
    ),
    MetricSpec(
        sc.METRIC_API_KEY_AGE, "s", "gauge", (sc.API_KEY_FINGERPRINT,), GOVERNANCE,
        "Age of each API key in use (seconds since its registration or first recorded use).",
    ),
    MetricSpec(
        sc.METRIC_API_KEY_MAX_AGE, "s", "gauge", (), GOVERNANCE,
        "The rotation policy (LLM_SOC2_KEY_MAX_AGE_DAYS in seconds), so rules compare against the app's setting.",
    ),
    MetricSpec(
        sc.METRIC_API_KEY_UNKNOWN, "{interaction}", "counter", (sc.API_KEY_FINGERPRINT,), GOVERNANCE,
        "Interactions made with a key that is not in LLM_SOC2_KEY_ALLOWLIST (never counted when the "
        "allowlist is empty).",
        when="on_event",
    ),
    MetricSpec(
        sc.METRIC_END_USERS_ACTIVE, "{user}", "gauge", (), GOVERNANCE,
        "Distinct hashed end users seen in the last hour.",
    ),
    # ---------------------------------------------------------------- audit writer
    MetricSpec(
        sc.METRIC_AUDIT_RECORDS, "{record}", "counter", (sc.ATTR_AUDIT_LOG_ID, sc.ATTR_AUDIT_OUTCOME), AUDIT,
        "Records handled by the writer by outcome written|spilled|replayed|lost; every outcome is recorded "
        "with 0 when the writer starts.",
    ),
    MetricSpec(
        sc.METRIC_AUDIT_BACKLOG, "{record}", "gauge", (sc.ATTR_AUDIT_LOG_ID,), AUDIT,
        "Records queued or spilled and not yet stored.",
    ),
    MetricSpec(
        sc.METRIC_AUDIT_CHECKPOINT_TIME, "s", "gauge", (sc.ATTR_AUDIT_LOG_ID,), AUDIT,
        "Unix time of the latest signed checkpoint (read from the store at start).",
    ),
    MetricSpec(
        sc.METRIC_AUDIT_CHECKPOINT_SIZE, "{record}", "gauge", (sc.ATTR_AUDIT_LOG_ID,), AUDIT,
        "Tree size of the latest signed checkpoint.",
    ),
    MetricSpec(
        sc.METRIC_AUDIT_VERIFY_FAILURES, "{failure}", "counter", (sc.ATTR_AUDIT_LOG_ID,), AUDIT,
        "Failed verifications of the log against a checkpoint.",
        when="on_event",
    ),
    MetricSpec(
        sc.METRIC_AUDIT_WITNESS_FAILURES, "{failure}", "counter", (sc.ATTR_AUDIT_LOG_ID, sc.ATTR_WITNESS), AUDIT,
        "Checkpoints a witness (file, OTLP log, Grafana annotation) failed to record.",
        when="on_event",
    ),
    MetricSpec(
        sc.METRIC_AUDIT_CONTENT_DISPOSED, "{record}", "counter", (sc.ATTR_AUDIT_LOG_ID, sc.ATTR_AUDIT_DISPOSAL),
        AUDIT, "Records whose content was purged (retention) or crypto-shredded (erasure).",
        when="on_event",
    ),
    MetricSpec(
        sc.METRIC_INCIDENTS_OPEN, "{incident}", "gauge", (), GOVERNANCE,
        "Incidents recorded in the audit log and not yet resolved.",
    ),
    # ---------------------------------------------------------------- drift monitor
    MetricSpec(
        sc.METRIC_DRIFT_SCORE, "", "gauge", DRIFT_ATTRIBUTES,
        DRIFT, "Latest drift statistic per model and feature.",
    ),
    MetricSpec(
        sc.METRIC_DRIFT_P_VALUE, "", "gauge", DRIFT_ATTRIBUTES,
        DRIFT, "p-value of the latest drift test.",
    ),
    MetricSpec(
        sc.METRIC_DRIFT_DETECTED, "", "gauge", DRIFT_ATTRIBUTES,
        DRIFT, "1 while the latest test found drift, else 0.",
    ),
)  # fmt: skip

# Labels every scraped series has, and the labels the exporter adds to every metric series.
SCRAPE_LABELS: Final = frozenset({"job", "instance"})
SCOPE_LABELS: Final = frozenset({"otel_scope_name", "otel_scope_version", "otel_scope_schema_url"})

# target_info: the resource, as the Python exporter and the Collector expose it.
TARGET_INFO: Final = "target_info"
RESOURCE_ATTRIBUTES: Final = (sc.SERVICE_NAME, sc.DEPLOYMENT_ENVIRONMENT)
SERVICE_LABEL: Final = sc.prometheus_label(sc.SERVICE_NAME)
ENVIRONMENT_LABEL: Final = sc.prometheus_label(sc.DEPLOYMENT_ENVIRONMENT)

# Series Prometheus itself produces from alerting rules.
ALERTS: Final = "ALERTS"
ALERT_LABELS: Final = frozenset({"alertname", "alertstate", "severity", "soc2_criterion"})


def metric(name: str) -> MetricSpec:
    """The spec of an OpenTelemetry metric name (a ``semconv.METRIC_*`` constant)."""
    for spec in METRICS:
        if spec.name == name:
            return spec
    raise KeyError(f"{name} is not in the metric contract (llm_soc2.provisioning.contract.METRICS)")


def prom(name: str, series: str = "") -> str:
    """The Prometheus series name of a metric; ``series`` is ``bucket``, ``sum`` or ``count`` for histograms."""
    spec = metric(name)
    if spec.kind == "histogram":
        if series not in ("bucket", "sum", "count"):
            raise ValueError(f"{name} is a histogram: say which series (bucket, sum or count)")
        return f"{spec.prometheus_name}_{series}"
    if series:
        raise ValueError(f"{name} is a {spec.kind}: it has no {series} series")
    return spec.prometheus_name


def label(attribute: str) -> str:
    """The Prometheus label of an attribute (a ``semconv`` constant)."""
    return sc.prometheus_label(attribute)


def known_series() -> Mapping[str, frozenset[str]]:
    """Every series name the code exposes -> the labels it carries (scrape and scope labels included)."""
    result: dict[str, frozenset[str]] = {}
    for spec in METRICS:
        for series in spec.series_names:
            result[series] = spec.series_labels(series) | SCRAPE_LABELS | SCOPE_LABELS
    result[TARGET_INFO] = frozenset(label(a) for a in RESOURCE_ATTRIBUTES) | SCRAPE_LABELS
    result[ALERTS] = ALERT_LABELS
    return result


def by_emitter() -> Iterator[tuple[str, list[MetricSpec]]]:
    for emitter in (INSTRUMENTATION, PROCESSOR, GOVERNANCE, AUDIT, DRIFT):
        yield emitter, [spec for spec in METRICS if spec.emitter == emitter]


def markdown_table() -> str:
    """The contract as a Markdown table (for the README and the report)."""
    lines = [
        "| OpenTelemetry metric | Unit | Kind | Attributes | Prometheus series | Labels | Recorded by |",
        "|---|---|---|---|---|---|---|",
    ]
    for spec in METRICS:
        attributes = ", ".join(f"`{a}`" for a in spec.attributes) or "none"
        labels = ", ".join(f"`{name}`" for name in spec.labels) or "none"
        series = ", ".join(f"`{s}`" for s in spec.series_names)
        lines.append(
            f"| `{spec.name}` | `{spec.unit or '(none)'}` | {spec.kind} | {attributes} | {series} | {labels} "
            f"| {spec.emitter} |"
        )
    return "\n".join(lines)
