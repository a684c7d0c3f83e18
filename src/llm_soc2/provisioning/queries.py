"""Small PromQL builders shared by the dashboards and the alert rules.

Two conventions hold everywhere:

* Service and environment come from ``target_info`` (resource attributes), joined onto a metric with
  ``* on (job, instance) group_left (service_name, deployment_environment_name) target_info{...}``. That
  works whether the app is scraped directly (Python Prometheus exporter) or its metrics pass through an
  OTel Collector (``job``/``instance`` derived from ``service.name``/``service.instance.id``), and also
  when ``resource_to_telemetry_conversion`` already copied the labels onto every series.
* Counters that only exist after their first event (findings, failures, losses) are counted with
  :func:`events`, because ``increase()`` cannot see a series' first sample: a series that appears with
  value 1 would otherwise count as 0 and a single leaked secret would never alert.
"""

from __future__ import annotations

from typing import Final

from llm_soc2.provisioning.contract import ENVIRONMENT_LABEL, SERVICE_LABEL, TARGET_INFO, label, prom

JOIN_LABELS: Final = (SERVICE_LABEL, ENVIRONMENT_LABEL)

# Grafana template variables used by every dashboard.
DASHBOARD_TARGET: Final = f'{SERVICE_LABEL}=~"$service", {ENVIRONMENT_LABEL}=~"$environment"'


def matcher(attribute: str, op: str, value: str) -> str:
    """``label op "value"`` for a semconv attribute; ``op`` is one of ``= != =~ !~``."""
    if op not in ("=", "!=", "=~", "!~"):
        raise ValueError(f"not a PromQL matcher operator: {op}")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{label(attribute)}{op}"{escaped}"'


def sel(metric: str, series: str = "", *matchers: str) -> str:
    """A series selector for a contract metric (``series`` = bucket|sum|count for histograms)."""
    name = prom(metric, series)
    return f"{name}{{{', '.join(matchers)}}}" if matchers else name


def joined(inner: str, target: str = "") -> str:
    """``inner`` with service and environment labels joined from ``target_info`` (filtered by ``target``)."""
    info = f"{TARGET_INFO}{{{target}}}" if target else TARGET_INFO
    return f"({inner}) * on (job, instance) group_left ({', '.join(JOIN_LABELS)}) {info}"


def events(selector: str, window: str) -> str:
    """Events counted by a counter within ``window``, including the first sample of new series.

    Series that did not exist ``window`` ago contribute their whole value (they were created, from 0,
    within the window); the others contribute ``increase()``.
    """
    return f"({selector} unless {selector} offset {window}) or increase({selector}[{window}])"


def by(labels: tuple[str, ...] | list[str], aggregation: str, inner: str) -> str:
    """``aggregation by (labels) (inner)``; with no labels, ``aggregation (inner)``."""
    if not labels:
        return f"{aggregation} ({inner})"
    return f"{aggregation} by ({', '.join(labels)}) ({inner})"


def ratio(numerator: str, denominator: str) -> str:
    return f"({numerator}) / ({denominator})"


def minimum(left: str, right: str) -> str:
    """Element-wise minimum of two vectors with the same label sets."""
    return f"(({left}) <= ({right})) or ({right})"


def or_zero(expr: str) -> str:
    """``expr`` or a single 0 when it has no series (stat panels then show 0, not "No data")."""
    return f"({expr}) or vector(0)"
