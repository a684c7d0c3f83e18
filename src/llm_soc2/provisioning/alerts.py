"""The alerts: one source of truth for the Grafana rules, the Prometheus rules and their unit tests.

Each :class:`Alert` is ``query op threshold``: ``query`` is PromQL that returns one series per thing to
alert on (service, provider, key ...), and the alert fires while a series' value passes the threshold
for ``for_``. The Prometheus rule's ``expr`` is ``(query) op threshold``; the Grafana rule queries
``query`` (refId A), reduces it (B) and applies the same threshold (C). No series means nothing to alert
on (Grafana ``noDataState: OK``).

Every alert carries a ``severity`` (critical pages, warning notifies) and a ``soc2_criterion`` label,
a runbook in ``alert_rules/runbooks/<name>.md``, a dashboard panel to open, and two test cases that
``promtool test rules`` runs: ``bad`` (the alert fires with the expected labels and value) and ``good``
(silent). Test series are built from the metric contract, so their names follow the code's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from llm_soc2 import semconv as sc
from llm_soc2.provisioning.contract import ENVIRONMENT_LABEL, SERVICE_LABEL, TARGET_INFO, label, prom
from llm_soc2.provisioning.queries import by, events, joined, matcher, minimum, ratio, sel

Severity = Literal["critical", "warning"]
ValueFormat = Literal["number", "percent", "duration"]

RUNBOOK_BASE: Final = "https://github.com/llm-soc2/llm-soc2/blob/main/alert_rules/runbooks"
PRODUCTION_ENVIRONMENTS: Final = "prod|production"
ERROR_SLO: Final = 0.99  # operations that succeed
LATENCY_SLO: Final = 0.95  # operations that complete within LATENCY_SLO_SECONDS
LATENCY_SLO_SECONDS: Final = 10.24  # a bucket boundary of semconv.DURATION_BUCKETS
AUTH_ERRORS: Final = ".*(AuthenticationError|PermissionDeniedError)|401|403"
RISKY_LEVELS: Final = "high|critical"

# Test fixtures: the scrape target and resource every test case's series belong to.
TEST_JOB: Final = "llm-app"
TEST_INSTANCE: Final = "10.0.0.7:9464"
TEST_SERVICE: Final = "support-bot"
TEST_MODEL: Final = "gpt-4o-mini"
TEST_PROVIDER: Final = sc.PROVIDER_OPENAI
TEST_LOG: Final = "support-bot"


@dataclass(frozen=True)
class Case:
    """A promtool test case: input series, when to evaluate, and the alerts expected then.

    ``expect`` holds one mapping per expected alert: its expression labels plus ``value``, the text the
    summary's value placeholder renders to (what ``humanize*`` prints).
    """

    series: tuple[tuple[str, str], ...]
    eval_time: str
    expect: tuple[Mapping[str, str], ...] = ()
    environment: str = "production"


@dataclass(frozen=True)
class Alert:
    name: str
    criterion: str
    severity: Severity
    query: str
    op: Literal[">", "<"]
    threshold: float
    for_: str
    summary: str  # Go template text; "{value}" is replaced by the formatted value
    description: str
    dashboard: str  # dashboard uid
    panel: str  # panel key in that dashboard (see dashboards.py)
    bad: Case
    good: Case
    value_format: ValueFormat = "number"
    also: tuple[str, ...] = field(default=())  # further criteria the alert evidences

    @property
    def expr(self) -> str:
        return f"({self.query}) {self.op} {_number(self.threshold)}"

    @property
    def runbook_url(self) -> str:
        return f"{RUNBOOK_BASE}/{self.name}.md"

    @property
    def uid(self) -> str:
        """Stable Grafana rule uid (at most 40 characters)."""
        words = []
        word = ""
        for char in self.name.removeprefix("LLM"):
            if char.isupper() and word:
                words.append(word)
                word = ""
            word += char.lower()
        words.append(word)
        return ("llm-soc2-" + "-".join(words))[:40]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


# --------------------------------------------------------------------------------------------------
# Labels and selectors
# --------------------------------------------------------------------------------------------------
SVC: Final = SERVICE_LABEL
ENV: Final = ENVIRONMENT_LABEL
MODEL: Final = label(sc.GEN_AI_REQUEST_MODEL)
PROVIDER: Final = label(sc.GEN_AI_PROVIDER_NAME)
LOG_ID: Final = label(sc.ATTR_AUDIT_LOG_ID)
FINGERPRINT: Final = label(sc.API_KEY_FINGERPRINT)

_INTERACTIONS: Final = sel(sc.METRIC_INTERACTIONS)
_OPS: Final = sel(sc.METRIC_OPERATION_DURATION, "count")
_OPS_FAILED: Final = sel(sc.METRIC_OPERATION_DURATION, "count", matcher(sc.ERROR_TYPE, "!=", ""))
_OPS_OK: Final = sel(sc.METRIC_OPERATION_DURATION, "count", matcher(sc.ERROR_TYPE, "=", ""))
_OPS_FAST: Final = sel(sc.METRIC_OPERATION_DURATION, "bucket", f'le="{_number(LATENCY_SLO_SECONDS)}"')
_SPANS: Final = sel(sc.METRIC_SPANS_PROCESSED)


def _sum_rate(selector: str, window: str, labels: tuple[str, ...] = (SVC,)) -> str:
    return by(labels, "sum", joined(f"rate({selector}[{window}])"))


def _error_burn(window: str) -> str:
    return f"({ratio(_sum_rate(_OPS_FAILED, window), _sum_rate(_OPS, window))}) / {_number(round(1 - ERROR_SLO, 6))}"


def _latency_burn(window: str) -> str:
    total = _sum_rate(_OPS, window)
    slow = f"({total}) - ({_sum_rate(_OPS_FAST, window)})"
    return f"({ratio(slow, total)}) / {_number(round(1 - LATENCY_SLO, 6))}"


def _audit_written(window: str) -> str:
    written = sel(sc.METRIC_AUDIT_RECORDS, "", matcher(sc.ATTR_AUDIT_OUTCOME, "=", "written"))
    return by((SVC, LOG_ID), "sum", joined(f"increase({written}[{window}])"))


# --------------------------------------------------------------------------------------------------
# Test series helpers
# --------------------------------------------------------------------------------------------------
def series(metric: str, part: str = "", **attributes: str) -> str:
    """A promtool series selector for a contract metric; keyword names are semconv attribute keys with
    dots written as double underscores (``gen_ai__request__model``), or Prometheus labels (``le``)."""
    labels = {"job": TEST_JOB, "instance": TEST_INSTANCE}
    for key, value in attributes.items():
        labels[label(key.replace("__", "."))] = value
    body = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{prom(metric, part)}{{{body}}}"


def target_info(environment: str) -> str:
    return (
        f'{TARGET_INFO}{{job="{TEST_JOB}", instance="{TEST_INSTANCE}", {SVC}="{TEST_SERVICE}", '
        f'{ENV}="{environment}"}}'
    )


_GENAI: Final[dict[str, str]] = {
    "gen_ai__operation__name": sc.OP_CHAT,
    "gen_ai__provider__name": TEST_PROVIDER,
    "gen_ai__request__model": TEST_MODEL,
}


def _interaction(**attributes: str) -> str:
    return series(sc.METRIC_INTERACTIONS, **_GENAI, **attributes)


def _ops(part: str = "count", **attributes: str) -> str:
    return series(sc.METRIC_OPERATION_DURATION, part, **_GENAI, **attributes)


# --------------------------------------------------------------------------------------------------
# The alerts
# --------------------------------------------------------------------------------------------------
ALERTS: Final[tuple[Alert, ...]] = (
    Alert(
        name="LLMHighRiskInteractionRate",
        criterion="CC7.2",
        also=("CC9.1",),
        severity="warning",
        query=(
            f"({ratio(_sum_rate(sel(sc.METRIC_INTERACTIONS, '', matcher(sc.RISK_LEVEL, '=~', RISKY_LEVELS)), '15m'), _sum_rate(_INTERACTIONS, '15m'))})"
            f" and on ({SVC}) ({by((SVC,), 'sum', joined(f'increase({_INTERACTIONS}[15m])'))} > 20)"
        ),
        op=">",
        threshold=0.05,
        for_="15m",
        value_format="percent",
        summary="{value} of {{ $labels.service_name }}'s LLM interactions were high or critical risk over 15 minutes",
        description=(
            "The share of interactions the risk classifiers rated high or critical is above 5% (at least 20 "
            "interactions in 15 minutes). Anomaly monitoring for CC7.2; the risk assessment behind it is "
            "CC9.1 evidence."
        ),
        dashboard="llm-soc2-risk",
        panel="risk_levels",
        bad=Case(
            series=(
                (_interaction(**{"llm_soc2__risk__level": "low"}), "0+18x60"),
                (_interaction(**{"llm_soc2__risk__level": "high"}), "0+2x60"),
            ),
            eval_time="40m",
            expect=({SVC: TEST_SERVICE, "value": "10%"},),
        ),
        good=Case(
            series=(
                (_interaction(**{"llm_soc2__risk__level": "low"}), "0+20x60"),
                (_interaction(**{"llm_soc2__risk__level": "high"}), "0x60"),
            ),
            eval_time="40m",
        ),
    ),
    Alert(
        name="LLMPromptInjectionBurst",
        criterion="CC6.6",
        also=("CC7.2",),
        severity="critical",
        query=by(
            (SVC,),
            "sum",
            joined(
                events(
                    sel(
                        sc.METRIC_RISK_EVENTS,
                        "",
                        matcher(sc.ATTR_RISK_CATEGORY, "=", sc.RISK_PROMPT_INJECTION),
                    ),
                    "5m",
                )
            ),
        ),
        op=">",
        threshold=4,
        for_="0m",
        summary="{value} prompt-injection attempts against {{ $labels.service_name }} in 5 minutes",
        description=(
            "At least 5 interactions in 5 minutes were classified as prompt injection: a threat from outside "
            "the system boundary (CC6.6) and an anomaly to evaluate as a possible incident (CC7.2, CC7.3)."
        ),
        dashboard="llm-soc2-risk",
        panel="injections",
        bad=Case(
            series=(
                (
                    series(
                        sc.METRIC_RISK_EVENTS,
                        **_GENAI,
                        **{
                            "llm_soc2__risk__category": sc.RISK_PROMPT_INJECTION,
                            "llm_soc2__risk__level": "high",
                        },
                    ),
                    "0x10 3 6 9 9 9",
                ),
            ),
            eval_time="13m",
            expect=({SVC: TEST_SERVICE, "value": "9"},),
        ),
        good=Case(
            series=(
                (
                    series(
                        sc.METRIC_RISK_EVENTS,
                        **_GENAI,
                        **{
                            "llm_soc2__risk__category": sc.RISK_PROMPT_INJECTION,
                            "llm_soc2__risk__level": "high",
                        },
                    ),
                    "0x10 1 2 2 2 2",
                ),
            ),
            eval_time="13m",
        ),
    ),
    Alert(
        name="LLMSensitiveDataInOutput",
        criterion="C1.1",
        also=("P6.3",),
        severity="critical",
        query=by(
            (SVC, MODEL, label(sc.ATTR_PII_TYPE)),
            "sum",
            joined(
                events(
                    sel(sc.METRIC_PII_FINDINGS, "", matcher(sc.ATTR_DIRECTION, "=", sc.DIRECTION_OUTPUT)),
                    "10m",
                )
            ),
        ),
        op=">",
        threshold=0,
        for_="0m",
        summary=(
            "{value} {{ $labels.llm_soc2_pii_type }} finding(s) in {{ $labels.gen_ai_request_model }} output "
            "({{ $labels.service_name }})"
        ),
        description=(
            "The scrubber found personal data or a secret in a model response (it was redacted before export). "
            "A possible disclosure of confidential information (C1.1) to record and evaluate (P6.3)."
        ),
        dashboard="llm-soc2-privacy",
        panel="pii_by_type",
        bad=Case(
            series=(
                (
                    series(
                        sc.METRIC_PII_FINDINGS,
                        **_GENAI,
                        **{
                            "llm_soc2__pii__type": "CREDIT_CARD",
                            "llm_soc2__direction": "output",
                            "llm_soc2__scrub__action": "mask",
                        },
                    ),
                    "_x10 1 1 1",
                ),
            ),
            eval_time="12m",
            expect=(
                {SVC: TEST_SERVICE, MODEL: TEST_MODEL, label(sc.ATTR_PII_TYPE): "CREDIT_CARD", "value": "1"},
            ),
        ),
        good=Case(
            series=(
                (
                    series(
                        sc.METRIC_PII_FINDINGS,
                        **_GENAI,
                        **{
                            "llm_soc2__pii__type": "EMAIL",
                            "llm_soc2__direction": "input",
                            "llm_soc2__scrub__action": "mask",
                        },
                    ),
                    "_x10 1 1 1",
                ),
                (
                    series(
                        sc.METRIC_PII_FINDINGS,
                        **_GENAI,
                        **{
                            "llm_soc2__pii__type": "EMAIL",
                            "llm_soc2__direction": "output",
                            "llm_soc2__scrub__action": "mask",
                        },
                    ),
                    "1x15",
                ),
            ),
            eval_time="13m",
        ),
    ),
    Alert(
        name="LLMScrubFailures",
        criterion="C1.1",
        also=("PI1.5",),
        severity="warning",
        query=by(
            (SVC, label(sc.ATTR_ERROR_KIND)), "sum", joined(events(sel(sc.METRIC_SCRUB_FAILURES), "15m"))
        ),
        op=">",
        threshold=0,
        for_="0m",
        summary="{value} GenAI span(s) of {{ $labels.service_name }} could not be scrubbed ({{ $labels.llm_soc2_error_kind }}); their content was dropped",
        description=(
            "Scrubbing failed and the processor dropped the content (fail closed), so nothing confidential "
            "left the process (C1.1), but the exported spans and audit records lack that content (PI1.5)."
        ),
        dashboard="llm-soc2-privacy",
        panel="scrub_failures",
        bad=Case(
            series=((series(sc.METRIC_SCRUB_FAILURES, **{"llm_soc2__error__kind": "timeout"}), "0x5 1 2 3"),),
            eval_time="8m",
            expect=({SVC: TEST_SERVICE, label(sc.ATTR_ERROR_KIND): "timeout", "value": "3"},),
        ),
        good=Case(
            series=((series(sc.METRIC_SCRUB_FAILURES, **{"llm_soc2__error__kind": "timeout"}), "0x40"),),
            eval_time="30m",
        ),
    ),
    Alert(
        name="LLMDriftDetected",
        criterion="CC7.2",
        also=("PI1.3",),
        severity="warning",
        query=by((SVC, MODEL, label(sc.ATTR_DRIFT_FEATURE)), "max", joined(sel(sc.METRIC_DRIFT_DETECTED))),
        op=">",
        threshold=0,
        for_="30m",
        summary=(
            "{{ $labels.llm_soc2_drift_feature }} of {{ $labels.gen_ai_request_model }} has drifted for 30 minutes "
            "({{ $labels.service_name }})"
        ),
        description=(
            "The drift monitor's statistical test has rejected the baseline for at least 30 minutes: the "
            "model's behaviour changed (CC7.2 anomaly monitoring; PI1.3 processing as specified)."
        ),
        dashboard="llm-soc2-operations",
        panel="drift_scores",
        bad=Case(
            series=(
                (
                    series(
                        sc.METRIC_DRIFT_DETECTED,
                        **{
                            "gen_ai__request__model": TEST_MODEL,
                            "llm_soc2__drift__feature": "response_length",
                            "llm_soc2__drift__test": "ks",
                        },
                    ),
                    "0x5 1x60",
                ),
            ),
            eval_time="40m",
            expect=({SVC: TEST_SERVICE, MODEL: TEST_MODEL, label(sc.ATTR_DRIFT_FEATURE): "response_length"},),
        ),
        good=Case(
            series=(
                (
                    series(
                        sc.METRIC_DRIFT_DETECTED,
                        **{
                            "gen_ai__request__model": TEST_MODEL,
                            "llm_soc2__drift__feature": "response_length",
                            "llm_soc2__drift__test": "ks",
                        },
                    ),
                    "0x5 1x20 0x30",
                ),
            ),
            eval_time="40m",
        ),
    ),
    Alert(
        name="LLMErrorBudgetFastBurn",
        criterion="A1.1",
        also=("CC7.2",),
        severity="critical",
        query=minimum(_error_burn("1h"), _error_burn("5m")),
        op=">",
        threshold=14.4,
        for_="2m",
        summary="{{ $labels.service_name }} is burning its LLM error budget {value}x too fast (1h and 5m windows)",
        description=(
            "Failed LLM operations over both the last hour and the last 5 minutes exceed 14.4 times the error "
            "budget of a 99% success objective: at this rate a 30-day budget is gone in about 2 days. "
            "Availability monitoring (A1.1)."
        ),
        dashboard="llm-soc2-operations",
        panel="error_rate",
        bad=Case(
            series=(
                (_ops(), "0+50x80"),
                (_ops(**{"error__type": "RateLimitError"}), "0+50x80"),
            ),
            eval_time="70m",
            expect=({SVC: TEST_SERVICE, "value": "50"},),
        ),
        good=Case(
            series=(
                (_ops(), "0+199x80"),
                (_ops(**{"error__type": "RateLimitError"}), "0+1x80"),
            ),
            eval_time="70m",
        ),
    ),
    Alert(
        name="LLMErrorBudgetSlowBurn",
        criterion="A1.1",
        severity="warning",
        query=minimum(_error_burn("6h"), _error_burn("30m")),
        op=">",
        threshold=6,
        for_="15m",
        summary="{{ $labels.service_name }} is burning its LLM error budget {value}x too fast (6h and 30m windows)",
        description=(
            "Failed LLM operations over the last 6 hours and 30 minutes exceed 6 times the error budget of a 99% "
            "success objective: a 30-day budget is gone in 5 days. Availability monitoring (A1.1)."
        ),
        dashboard="llm-soc2-operations",
        panel="error_rate",
        bad=Case(
            series=(
                (_ops(), "0+90x60"),
                (_ops(**{"error__type": "APITimeoutError"}), "0+10x60"),
            ),
            eval_time="40m",
            expect=({SVC: TEST_SERVICE, "value": "10"},),
        ),
        good=Case(
            series=(
                (_ops(), "0+98x60"),
                (_ops(**{"error__type": "APITimeoutError"}), "0+2x60"),
            ),
            eval_time="40m",
        ),
    ),
    Alert(
        name="LLMLatencyBudgetFastBurn",
        criterion="A1.1",
        severity="critical",
        query=minimum(_latency_burn("1h"), _latency_burn("5m")),
        op=">",
        threshold=14.4,
        for_="2m",
        summary=(
            "{{ $labels.service_name }} is burning its LLM latency budget {value}x too fast (1h and 5m windows)"
        ),
        description=(
            "Operations slower than 10.24 s over the last hour and 5 minutes exceed 14.4 times the budget of a "
            "95%-within-10.24-s objective. Capacity and performance monitoring (A1.1)."
        ),
        dashboard="llm-soc2-operations",
        panel="latency",
        bad=Case(
            series=(
                (_ops("bucket", le="10.24"), "0+10x80"),
                (_ops(), "0+100x80"),
            ),
            eval_time="70m",
            expect=({SVC: TEST_SERVICE, "value": "18"},),
        ),
        good=Case(
            series=(
                (_ops("bucket", le="10.24"), "0+99x80"),
                (_ops(), "0+100x80"),
            ),
            eval_time="70m",
        ),
    ),
    Alert(
        name="LLMLatencyBudgetSlowBurn",
        criterion="A1.1",
        severity="warning",
        query=minimum(_latency_burn("6h"), _latency_burn("30m")),
        op=">",
        threshold=6,
        for_="15m",
        summary=(
            "{{ $labels.service_name }} is burning its LLM latency budget {value}x too fast (6h and 30m windows)"
        ),
        description=(
            "Operations slower than 10.24 s over the last 6 hours and 30 minutes exceed 6 times the budget of a "
            "95%-within-10.24-s objective. Capacity and performance monitoring (A1.1)."
        ),
        dashboard="llm-soc2-operations",
        panel="latency",
        bad=Case(
            series=(
                (_ops("bucket", le="10.24"), "0+60x60"),
                (_ops(), "0+100x60"),
            ),
            eval_time="40m",
            expect=({SVC: TEST_SERVICE, "value": "8"},),
        ),
        good=Case(
            series=(
                (_ops("bucket", le="10.24"), "0+90x60"),
                (_ops(), "0+100x60"),
            ),
            eval_time="40m",
        ),
    ),
    Alert(
        name="LLMProviderOutage",
        criterion="CC9.2",
        also=("A1.2",),
        severity="critical",
        query=(
            f"(({by((SVC, PROVIDER), 'sum', joined(f'increase({_OPS_OK}[10m])'))})"
            f" or (({by((SVC, PROVIDER), 'sum', joined(f'increase({_OPS}[10m])'))}) * 0))"
            f" and on ({SVC}, {PROVIDER}) (({by((SVC, PROVIDER), 'sum', joined(f'increase({_OPS}[10m])'))}) > 4)"
        ),
        op="<",
        threshold=1,
        for_="5m",
        summary="No successful {{ $labels.gen_ai_provider_name }} calls from {{ $labels.service_name }} in 10 minutes",
        description=(
            "Every call to this provider failed for 10 minutes (at least 5 attempts): the vendor (a subservice "
            "organisation, CC9.2) is unavailable to this service. Follow the business-continuity plan (A1.2)."
        ),
        dashboard="llm-soc2-risk",
        panel="vendor_availability",
        bad=Case(
            series=(
                (_ops(), "0+10x10 100x30"),
                (_ops(**{"error__type": "APIConnectionError"}), "0x10 0+10x30"),
            ),
            eval_time="30m",
            expect=({SVC: TEST_SERVICE, PROVIDER: TEST_PROVIDER, "value": "0"},),
        ),
        good=Case(
            series=(
                (_ops(), "0+10x40"),
                (_ops(**{"error__type": "APIConnectionError"}), "0x10 0+10x30"),
            ),
            eval_time="30m",
        ),
    ),
    Alert(
        name="LLMAuditRecordsLost",
        criterion="PI1.5",
        also=("CC2.1",),
        severity="critical",
        query=by(
            (SVC, LOG_ID),
            "sum",
            joined(
                events(sel(sc.METRIC_AUDIT_RECORDS, "", matcher(sc.ATTR_AUDIT_OUTCOME, "=", "lost")), "15m")
            ),
        ),
        op=">",
        threshold=0,
        for_="0m",
        summary="{value} audit record(s) of log {{ $labels.llm_soc2_audit_log_id }} were lost ({{ $labels.service_name }})",
        description=(
            "The audit writer could neither store nor spill some records: the audit trail of LLM interactions "
            "is incomplete (PI1.5, CC2.1). Losses are counted, never silent."
        ),
        dashboard="llm-soc2-overview",
        panel="lost_records",
        bad=Case(
            series=(
                (
                    series(
                        sc.METRIC_AUDIT_RECORDS,
                        **{"llm_soc2__audit__log_id": TEST_LOG, "llm_soc2__audit__outcome": "lost"},
                    ),
                    "0x20 0 3 3",
                ),
            ),
            eval_time="22m",
            expect=({SVC: TEST_SERVICE, LOG_ID: TEST_LOG, "value": "3"},),
        ),
        good=Case(
            series=(
                (
                    series(
                        sc.METRIC_AUDIT_RECORDS,
                        **{"llm_soc2__audit__log_id": TEST_LOG, "llm_soc2__audit__outcome": "lost"},
                    ),
                    "0x30",
                ),
                (
                    series(
                        sc.METRIC_AUDIT_RECORDS,
                        **{"llm_soc2__audit__log_id": TEST_LOG, "llm_soc2__audit__outcome": "written"},
                    ),
                    "0+10x30",
                ),
            ),
            eval_time="22m",
        ),
    ),
    Alert(
        name="LLMAuditWriterBacklog",
        criterion="PI1.5",
        severity="warning",
        query=by((SVC, LOG_ID), "max", joined(sel(sc.METRIC_AUDIT_BACKLOG))),
        op=">",
        threshold=1000,
        for_="10m",
        summary="{value} audit records of log {{ $labels.llm_soc2_audit_log_id }} are waiting to be stored ({{ $labels.service_name }})",
        description=(
            "The audit writer has held more than 1000 unstored records for 10 minutes: the store is slow or "
            "unavailable and records are at risk once the spill space fills (PI1.5)."
        ),
        dashboard="llm-soc2-risk",
        panel="audit_backlog",
        bad=Case(
            series=((series(sc.METRIC_AUDIT_BACKLOG, **{"llm_soc2__audit__log_id": TEST_LOG}), "0+200x30"),),
            eval_time="30m",
            expect=({SVC: TEST_SERVICE, LOG_ID: TEST_LOG, "value": "6k"},),
        ),
        good=Case(
            series=(
                (
                    series(sc.METRIC_AUDIT_BACKLOG, **{"llm_soc2__audit__log_id": TEST_LOG}),
                    "0x5 5000 5000 0x20",
                ),
            ),
            eval_time="25m",
        ),
    ),
    Alert(
        name="LLMAuditCheckpointStale",
        criterion="PI1.5",
        severity="warning",
        query=(
            f"(time() - (({by((SVC, LOG_ID), 'max', joined(sel(sc.METRIC_AUDIT_CHECKPOINT_TIME)))})"
            f" or (({by((SVC, LOG_ID), 'max', joined(sel(sc.METRIC_AUDIT_RECORDS)))}) * 0)))"
            f" and on ({SVC}, {LOG_ID}) (({_audit_written('15m')}) > 0)"
        ),
        op=">",
        threshold=900,
        for_="5m",
        value_format="duration",
        summary="No signed checkpoint for audit log {{ $labels.llm_soc2_audit_log_id }} for {value} while records are written ({{ $labels.service_name }})",
        description=(
            "Records are being appended but no checkpoint has been signed for over 15 minutes: new records are "
            "not yet bound by a signed tree head, so their integrity cannot be proven to a holder of the last "
            "checkpoint (PI1.5)."
        ),
        dashboard="llm-soc2-risk",
        panel="checkpoint_age",
        bad=Case(
            series=(
                (
                    series(sc.METRIC_AUDIT_CHECKPOINT_TIME, **{"llm_soc2__audit__log_id": TEST_LOG}),
                    "0+60x10 600x40",
                ),
                (
                    series(
                        sc.METRIC_AUDIT_RECORDS,
                        **{"llm_soc2__audit__log_id": TEST_LOG, "llm_soc2__audit__outcome": "written"},
                    ),
                    "0+10x50",
                ),
            ),
            eval_time="35m",
            expect=({SVC: TEST_SERVICE, LOG_ID: TEST_LOG, "value": "25m 0s"},),
        ),
        good=Case(
            series=(
                (series(sc.METRIC_AUDIT_CHECKPOINT_TIME, **{"llm_soc2__audit__log_id": "busy"}), "0+60x50"),
                (
                    series(
                        sc.METRIC_AUDIT_RECORDS,
                        **{"llm_soc2__audit__log_id": "busy", "llm_soc2__audit__outcome": "written"},
                    ),
                    "0+10x50",
                ),
                (
                    series(sc.METRIC_AUDIT_CHECKPOINT_TIME, **{"llm_soc2__audit__log_id": "idle"}),
                    "0+60x10 600x40",
                ),
                (
                    series(
                        sc.METRIC_AUDIT_RECORDS,
                        **{"llm_soc2__audit__log_id": "idle", "llm_soc2__audit__outcome": "written"},
                    ),
                    "0+10x10 100x40",
                ),
            ),
            eval_time="35m",
        ),
    ),
    Alert(
        name="LLMAuditVerificationFailed",
        criterion="PI1.5",
        also=("CC7.3",),
        severity="critical",
        query=by((SVC, LOG_ID), "sum", joined(events(sel(sc.METRIC_AUDIT_VERIFY_FAILURES), "15m"))),
        op=">",
        threshold=0,
        for_="0m",
        summary="Audit log {{ $labels.llm_soc2_audit_log_id }} failed verification against a signed checkpoint ({{ $labels.service_name }})",
        description=(
            "The stored log does not match a checkpoint it signed earlier: records were altered, removed or "
            "reordered. Treat as a security event (CC7.3); the integrity of the audit trail (PI1.5) is in doubt."
        ),
        dashboard="llm-soc2-audit",
        panel="checkpoints",
        bad=Case(
            series=(
                (
                    series(sc.METRIC_AUDIT_VERIFY_FAILURES, **{"llm_soc2__audit__log_id": TEST_LOG}),
                    "_x5 1 1 1",
                ),
            ),
            eval_time="7m",
            expect=({SVC: TEST_SERVICE, LOG_ID: TEST_LOG, "value": "1"},),
        ),
        good=Case(
            series=(
                (series(sc.METRIC_AUDIT_VERIFY_FAILURES, **{"llm_soc2__audit__log_id": TEST_LOG}), "0x30"),
            ),
            eval_time="20m",
        ),
    ),
    Alert(
        name="LLMAuditWitnessFailing",
        criterion="PI1.5",
        severity="warning",
        query=by(
            (SVC, LOG_ID, label(sc.ATTR_WITNESS)),
            "sum",
            joined(events(sel(sc.METRIC_AUDIT_WITNESS_FAILURES), "30m")),
        ),
        op=">",
        threshold=2,
        for_="0m",
        summary="Witness {{ $labels.llm_soc2_witness }} failed {value} times in 30 minutes for audit log {{ $labels.llm_soc2_audit_log_id }}",
        description=(
            "Checkpoints are signed but a witness (checkpoint file, OTLP log record or Grafana annotation) did "
            "not record them: tampering would be harder to prove to an outside party (PI1.5)."
        ),
        dashboard="llm-soc2-risk",
        panel="audit_witness",
        bad=Case(
            series=(
                (
                    series(
                        sc.METRIC_AUDIT_WITNESS_FAILURES,
                        **{"llm_soc2__audit__log_id": TEST_LOG, "llm_soc2__witness": "grafana"},
                    ),
                    "0x30 1 2 3 4",
                ),
            ),
            eval_time="34m",
            expect=({SVC: TEST_SERVICE, LOG_ID: TEST_LOG, label(sc.ATTR_WITNESS): "grafana", "value": "4"},),
        ),
        good=Case(
            series=(
                (
                    series(
                        sc.METRIC_AUDIT_WITNESS_FAILURES,
                        **{"llm_soc2__audit__log_id": TEST_LOG, "llm_soc2__witness": "grafana"},
                    ),
                    "0x30 1 1 1 1",
                ),
            ),
            eval_time="34m",
        ),
    ),
    Alert(
        name="LLMApiKeyRotationOverdue",
        criterion="CC6.1",
        severity="warning",
        query=by(
            (SVC, FINGERPRINT),
            "max",
            joined(
                f"{sel(sc.METRIC_API_KEY_AGE)} - on (job, instance) group_left () {sel(sc.METRIC_API_KEY_MAX_AGE)}"
            ),
        ),
        op=">",
        threshold=0,
        for_="15m",
        value_format="duration",
        summary=(
            "API key {{ $labels.llm_soc2_api_key_fingerprint }} used by "
            "{{ $labels.service_name }} is {value} past the rotation policy"
        ),
        description=(
            "A provider API key in use is older than LLM_SOC2_KEY_MAX_AGE_DAYS. Credential lifecycle "
            "management is part of logical access security (CC6.1)."
        ),
        dashboard="llm-soc2-security",
        panel="key_age",
        bad=Case(
            series=(
                (
                    series(
                        sc.METRIC_API_KEY_AGE,
                        **{
                            "llm_soc2__api_key__fingerprint": "3f2a9c1b5e7d4a60",
                        },
                    ),
                    "7862400+60x30",
                ),
                (series(sc.METRIC_API_KEY_MAX_AGE), "7776000x30"),
            ),
            eval_time="20m",
            expect=(
                {
                    SVC: TEST_SERVICE,
                    FINGERPRINT: "3f2a9c1b5e7d4a60",
                    "value": "1d 0h 20m 0s",
                },
            ),
        ),
        good=Case(
            series=(
                (
                    series(
                        sc.METRIC_API_KEY_AGE,
                        **{
                            "llm_soc2__api_key__fingerprint": "3f2a9c1b5e7d4a60",
                        },
                    ),
                    "86400+60x30",
                ),
                (series(sc.METRIC_API_KEY_MAX_AGE), "7776000x30"),
            ),
            eval_time="20m",
        ),
    ),
    Alert(
        name="LLMUnknownApiKey",
        criterion="CC6.1",
        also=("CC6.2",),
        severity="critical",
        query=by((SVC, FINGERPRINT), "sum", joined(events(sel(sc.METRIC_API_KEY_UNKNOWN), "15m"))),
        op=">",
        threshold=0,
        for_="0m",
        summary=(
            "{{ $labels.service_name }} made {value} LLM call(s) with API key "
            "{{ $labels.llm_soc2_api_key_fingerprint }}, which is not in the allowlist"
        ),
        description=(
            "An API key whose fingerprint is not in LLM_SOC2_KEY_ALLOWLIST was used: an unregistered credential "
            "(CC6.1, CC6.2). Confirm who issued it, then add it to the allowlist or revoke it."
        ),
        dashboard="llm-soc2-security",
        panel="unknown_keys",
        bad=Case(
            series=(
                (
                    series(
                        sc.METRIC_API_KEY_UNKNOWN,
                        **{
                            "llm_soc2__api_key__fingerprint": "9d1e44a0c2b7f318",
                        },
                    ),
                    "_x3 1 2 2",
                ),
            ),
            eval_time="6m",
            expect=({SVC: TEST_SERVICE, FINGERPRINT: "9d1e44a0c2b7f318", "value": "2"},),
        ),
        good=Case(
            series=(
                (
                    series(
                        sc.METRIC_API_KEY_UNKNOWN,
                        **{
                            "llm_soc2__api_key__fingerprint": "9d1e44a0c2b7f318",
                        },
                    ),
                    "3x40",
                ),
            ),
            eval_time="30m",
        ),
    ),
    Alert(
        name="LLMUnapprovedChangeInProduction",
        criterion="CC8.1",
        severity="warning",
        query=by(
            (SVC, ENV, MODEL, label(sc.PROMPT_TEMPLATE_HASH)),
            "sum",
            joined(
                events(sel(sc.METRIC_INTERACTIONS, "", matcher(sc.CHANGE_APPROVED, "=", "false")), "15m"),
                f'{ENV}=~"{PRODUCTION_ENVIRONMENTS}"',
            ),
        ),
        op=">",
        threshold=0,
        for_="0m",
        summary=(
            "{value} production interaction(s) of {{ $labels.service_name }} used an unapproved version: model "
            "{{ $labels.gen_ai_request_model }}, prompt template {{ $labels.llm_soc2_prompt_template_hash }}"
        ),
        description=(
            "A prompt template or model that is not approved in the prompt registry "
            "(LLM_SOC2_PROMPT_REGISTRY) served production traffic: a change that bypassed change management "
            "(CC8.1)."
        ),
        dashboard="llm-soc2-change",
        panel="unapproved",
        bad=Case(
            series=(
                (
                    _interaction(
                        **{
                            "llm_soc2__risk__level": "low",
                            "llm_soc2__prompt__template_hash": "a1b2c3d4e5f60718",
                            "llm_soc2__change__approved": "false",
                        }
                    ),
                    "_x3 1 2",
                ),
            ),
            eval_time="5m",
            expect=(
                {
                    SVC: TEST_SERVICE,
                    ENV: "production",
                    MODEL: TEST_MODEL,
                    label(sc.PROMPT_TEMPLATE_HASH): "a1b2c3d4e5f60718",
                    "value": "2",
                },
            ),
        ),
        good=Case(
            series=(
                (
                    _interaction(
                        **{
                            "llm_soc2__risk__level": "low",
                            "llm_soc2__prompt__template_hash": "a1b2c3d4e5f60718",
                            "llm_soc2__change__approved": "false",
                        }
                    ),
                    "_x3 1 2",
                ),
            ),
            eval_time="5m",
            environment="staging",
        ),
    ),
    Alert(
        name="LLMTelemetryMissing",
        criterion="CC7.2",
        also=("CC4.1",),
        severity="critical",
        query=f"group by (job) (max_over_time({_SPANS}[6h])) unless group by (job) ({_SPANS})",
        op=">",
        threshold=0,
        for_="10m",
        summary="llm-soc2 metrics from job {{ $labels.job }} stopped arriving",
        description=(
            "A scrape job that exported llm-soc2 metrics in the last 6 hours has not for 10 minutes: the app, "
            "its exporter or the collector is down, and monitoring evidence has a gap (CC7.2, CC4.1)."
        ),
        dashboard="llm-soc2-overview",
        panel="interactions",
        bad=Case(
            series=((series(sc.METRIC_SPANS_PROCESSED), "0+5x20 stale"),),
            eval_time="40m",
            expect=({"job": TEST_JOB},),
        ),
        good=Case(
            series=((series(sc.METRIC_SPANS_PROCESSED), "0+5x60"),),
            eval_time="40m",
        ),
    ),
    Alert(
        name="LLMTelemetryAbsent",
        criterion="CC7.2",
        also=("CC4.1",),
        severity="critical",
        query=f"absent({_SPANS})",
        op=">",
        threshold=0,
        for_="10m",
        summary="No llm-soc2 metrics reach Prometheus",
        description=(
            "No series of the span processor exists at all: llm-soc2 is not configured, its metrics are not "
            "exported or not scraped. Nothing is being monitored (CC7.2, CC4.1)."
        ),
        dashboard="llm-soc2-overview",
        panel="interactions",
        bad=Case(series=(), eval_time="15m", expect=({},)),
        good=Case(series=((series(sc.METRIC_SPANS_PROCESSED), "0x30"),), eval_time="15m"),
    ),
    Alert(
        name="LLMProviderAuthErrors",
        criterion="CC6.1",
        severity="warning",
        query=by(
            (SVC, PROVIDER),
            "sum",
            joined(
                events(
                    sel(sc.METRIC_OPERATION_DURATION, "count", matcher(sc.ERROR_TYPE, "=~", AUTH_ERRORS)),
                    "10m",
                )
            ),
        ),
        op=">",
        threshold=2,
        for_="5m",
        summary=(
            "{value} authentication or permission failures (401/403) calling {{ $labels.gen_ai_provider_name }} "
            "from {{ $labels.service_name }} in 10 minutes"
        ),
        description=(
            "The provider keeps rejecting the service's credentials: a revoked or rotated key, or a key used "
            "outside its permissions (CC6.1)."
        ),
        dashboard="llm-soc2-security",
        panel="auth_errors",
        bad=Case(
            series=((_ops(**{"error__type": "AuthenticationError"}), "_x5 0+2x30"),),
            eval_time="25m",
            expect=({SVC: TEST_SERVICE, PROVIDER: TEST_PROVIDER, "value": "20"},),
        ),
        good=Case(
            series=((_ops(**{"error__type": "RateLimitError"}), "0+2x30"),),
            eval_time="25m",
        ),
    ),
)


def alert(name: str) -> Alert:
    for item in ALERTS:
        if item.name == name:
            return item
    raise KeyError(name)
