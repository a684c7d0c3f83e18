"""The dashboards, built from the metric contract. ``build_all()`` returns ``{uid: dashboard JSON}``.

Every panel's description names the Trust Services Criterion it evidences. Queries filter on the
``$service``, ``$environment`` (joined from ``target_info``) and ``$model`` variables; panel keys are
stable names the alert rules use to link to a panel (``panel_id(uid, key)``).
"""

from __future__ import annotations

from functools import cache
from typing import Final

from llm_soc2 import semconv as sc
from llm_soc2.provisioning import grafana as g
from llm_soc2.provisioning import sql
from llm_soc2.provisioning.alerts import AUTH_ERRORS, LATENCY_SLO_SECONDS, RISKY_LEVELS
from llm_soc2.provisioning.contract import ENVIRONMENT_LABEL, SERVICE_LABEL, TARGET_INFO, label
from llm_soc2.provisioning.criteria import AREAS
from llm_soc2.provisioning.queries import DASHBOARD_TARGET, by, events, joined, matcher, or_zero, sel

Json = g.Json

OVERVIEW: Final = "llm-soc2-overview"
SECURITY: Final = "llm-soc2-security"
OPERATIONS: Final = "llm-soc2-operations"
CHANGE: Final = "llm-soc2-change"
RISK: Final = "llm-soc2-risk"
PRIVACY: Final = "llm-soc2-privacy"
AUDIT_LOG: Final = "llm-soc2-audit"

RANGE: Final = "$__range"
STEP: Final = "$__rate_interval"

MODEL: Final = label(sc.GEN_AI_REQUEST_MODEL)
PROVIDER: Final = label(sc.GEN_AI_PROVIDER_NAME)
RESPONSE_MODEL: Final = label(sc.GEN_AI_RESPONSE_MODEL)
ERROR_TYPE: Final = label(sc.ERROR_TYPE)
FINGERPRINT: Final = label(sc.API_KEY_FINGERPRINT)
TEMPLATE: Final = label(sc.PROMPT_TEMPLATE_HASH)
LOG_ID: Final = label(sc.ATTR_AUDIT_LOG_ID)
M: Final = f'{MODEL}=~"$model"'


# --------------------------------------------------------------------------------------------------
# Query helpers (all filtered by the dashboard variables)
# --------------------------------------------------------------------------------------------------
def J(inner: str) -> str:
    return joined(inner, DASHBOARD_TARGET)


def in_range(selector: str, labels: tuple[str, ...] = ()) -> str:
    """Events a counter counted in the dashboard's time range."""
    return by(labels, "sum", J(events(selector, RANGE)))


def per_step(selector: str, labels: tuple[str, ...] = ()) -> str:
    """Events per graph step (``increase`` over ``$__rate_interval``)."""
    return by(labels, "sum", J(f"increase({selector}[{STEP}])"))


def per_second(selector: str, labels: tuple[str, ...] = ()) -> str:
    return by(labels, "sum", J(f"rate({selector}[{STEP}])"))


def quantile(q: float, bucket_selector: str, labels: tuple[str, ...] = (), window: str = STEP) -> str:
    return f"histogram_quantile({q}, {by(('le', *labels), 'sum', J(f'rate({bucket_selector}[{window}])'))})"


def latest(selector: str, labels: tuple[str, ...] = (), aggregation: str = "max") -> str:
    return by(labels, aggregation, J(selector))


INTERACTIONS: Final = sel(sc.METRIC_INTERACTIONS, "", M)
OPS: Final = sel(sc.METRIC_OPERATION_DURATION, "count", M)
OPS_OK: Final = sel(sc.METRIC_OPERATION_DURATION, "count", M, matcher(sc.ERROR_TYPE, "=", ""))
OPS_FAILED: Final = sel(sc.METRIC_OPERATION_DURATION, "count", M, matcher(sc.ERROR_TYPE, "!=", ""))
OPS_AUTH: Final = sel(sc.METRIC_OPERATION_DURATION, "count", M, matcher(sc.ERROR_TYPE, "=~", AUTH_ERRORS))
OPS_BUCKET: Final = sel(sc.METRIC_OPERATION_DURATION, "bucket", M)
TTFC_BUCKET: Final = sel(sc.METRIC_TIME_TO_FIRST_CHUNK, "bucket", M)
TOKENS: Final = sel(sc.METRIC_TOKEN_USAGE, "sum", M)
PII: Final = sel(sc.METRIC_PII_FINDINGS, "", M)
SPANS: Final = sel(sc.METRIC_SPANS_PROCESSED, "", M)


def risk(*categories: str) -> str:
    if not categories:
        return sel(sc.METRIC_RISK_EVENTS, "", M)
    return sel(sc.METRIC_RISK_EVENTS, "", M, matcher(sc.ATTR_RISK_CATEGORY, "=~", "|".join(categories)))


def interactions(*matchers: str) -> str:
    return sel(sc.METRIC_INTERACTIONS, "", M, *matchers)


def pii(direction: str) -> str:
    return sel(sc.METRIC_PII_FINDINGS, "", M, matcher(sc.ATTR_DIRECTION, "=", direction))


def audit_records(outcome: str) -> str:
    return sel(sc.METRIC_AUDIT_RECORDS, "", matcher(sc.ATTR_AUDIT_OUTCOME, "=", outcome))


def disposed(kind: str) -> str:
    return sel(sc.METRIC_AUDIT_CONTENT_DISPOSED, "", matcher(sc.ATTR_AUDIT_DISPOSAL, "=", kind))


def success_ratio(labels: tuple[str, ...] = (), window: str = STEP) -> str:
    ok = by(labels, "sum", J(f"increase({OPS_OK}[{window}])"))
    total = by(labels, "sum", J(f"increase({OPS}[{window}])"))
    return f"({ok}) / ({total})"


KEY_OVER_POLICY: Final = (
    f"{sel(sc.METRIC_API_KEY_AGE)} > on (job, instance) group_left () {sel(sc.METRIC_API_KEY_MAX_AGE)}"
)

NO_DRIFT: Final = g.value_mappings({"0": ("No drift", "green"), "1": ("Drift", "red")})


# --------------------------------------------------------------------------------------------------
# Variables
# --------------------------------------------------------------------------------------------------
def _prometheus_variables() -> list[Json]:
    return [
        g.datasource_variable(
            "datasource", "Prometheus", g.PROMETHEUS_TYPE, g.PROMETHEUS_UID, "Prometheus (llm-soc2)"
        ),
        g.query_variable("service", "Service", f"label_values({TARGET_INFO}, {SERVICE_LABEL})", g.PROM),
        g.query_variable(
            "environment",
            "Environment",
            f'label_values({TARGET_INFO}{{{SERVICE_LABEL}=~"$service"}}, {ENVIRONMENT_LABEL})',
            g.PROM,
        ),
        g.query_variable("model", "Model", f"label_values({sel(sc.METRIC_INTERACTIONS)}, {MODEL})", g.PROM),
    ]


def _audit_variables() -> list[Json]:
    return [
        g.datasource_variable(
            "audit_datasource", "Audit log", g.POSTGRES_TYPE, g.AUDIT_UID, "Audit log (llm-soc2)"
        ),
        g.query_variable("log_id", "Audit log id", sql.LOG_IDS, g.AUDIT, all_value=None),
    ]


def _t(expr: str, legend: str = "", ref: str = "A") -> Json:
    return g.prom_target(expr, legend, ref=ref)


def _i(expr: str, legend: str = "", ref: str = "A", table: bool = False) -> Json:
    return g.prom_target(expr, legend, ref=ref, instant=True, table=table)


# --------------------------------------------------------------------------------------------------
# SOC 2 overview
# --------------------------------------------------------------------------------------------------
def overview() -> g.Board:
    b = g.Board(
        OVERVIEW,
        "LLM SOC 2 — overview",
        "Status of the SOC 2 controls llm-soc2 evidences for LLM interactions, one row per Trust Services "
        "Criteria area. Each panel's description names the criterion; drill down through the dashboard links.",
        _prometheus_variables(),
        time_from="now-7d",
    )
    b.row("Summary")
    b.add(
        "interactions",
        g.stat(
            "LLM interactions",
            "PI1.3, CC2.1: interactions processed in the period — the population auditors sample from.",
            [_i(or_zero(in_range(INTERACTIONS)))],
            red_at=None,
        ),
        w=4,
        h=5,
    )
    b.add(
        "high_risk_rate",
        g.stat(
            "High-risk rate",
            "CC7.2, CC9.1: share of interactions the risk classifiers rated high or critical.",
            [
                _i(
                    f"({or_zero(in_range(interactions(matcher(sc.RISK_LEVEL, '=~', RISKY_LEVELS))))}) / "
                    f"({in_range(INTERACTIONS)})"
                )
            ],
            unit="percentunit",
            red_at=0.05,
            amber_at=0.01,
            decimals=2,
        ),
        w=4,
        h=5,
    )
    b.add(
        "pii_findings",
        g.stat(
            "PII and secret findings",
            "C1.1, P6.1: personal data and secrets the scrubber found (and redacted) in prompts and responses.",
            [_i(or_zero(in_range(PII)))],
            red_at=None,
        ),
        w=4,
        h=5,
    )
    b.add(
        "drift_status",
        g.stat(
            "Drift status",
            "CC7.2: whether any model/feature currently deviates from its baseline (drift monitor).",
            [_i(or_zero(latest(sel(sc.METRIC_DRIFT_DETECTED, "", M))))],
            mappings=NO_DRIFT,
        ),
        w=4,
        h=5,
    )
    b.add(
        "prometheus_alerts",
        g.stat(
            "Prometheus alerts firing",
            "CC7.2, CC7.3: llm-soc2 alerts firing in Prometheus-evaluated rules (alert_rules/prometheus).",
            [_i(or_zero('count(ALERTS{alertstate="firing", soc2_criterion!=""})'))],
        ),
        w=4,
        h=5,
    )
    b.add(
        "firing_alerts",
        g.alertlist(
            "Grafana alerts firing",
            "CC7.2, CC7.3: llm-soc2 Grafana-managed alerts currently firing or pending (labelled soc2_criterion).",
            '{soc2_criterion=~".+"}',
        ),
        w=4,
        h=5,
    )

    b.row("Audit-log integrity (PI1.5)")
    b.add(
        "checkpoint_age",
        g.stat(
            "Age of last checkpoint",
            "PI1.5: time since the audit log last signed a checkpoint (the tree head that proves integrity).",
            [_i(f"time() - ({latest(sel(sc.METRIC_AUDIT_CHECKPOINT_TIME))})")],
            unit="s",
            red_at=900,
            amber_at=300,
        ),
        w=6,
        h=4,
    )
    b.add(
        "writer_backlog",
        g.stat(
            "Writer backlog",
            "PI1.5: audit records queued or spilled and not yet stored.",
            [_i(or_zero(latest(sel(sc.METRIC_AUDIT_BACKLOG), aggregation="sum")))],
            red_at=1000,
            amber_at=100,
        ),
        w=6,
        h=4,
    )
    b.add(
        "lost_records",
        g.stat(
            "Lost records",
            "PI1.5, CC2.1: audit records lost in the period. Must be 0: the audit trail is complete.",
            [_i(or_zero(in_range(audit_records("lost"))))],
        ),
        w=6,
        h=4,
    )
    b.add(
        "verification_failures",
        g.stat(
            "Verification failures",
            "PI1.5, CC7.3: times the stored log did not match a checkpoint it had signed. Must be 0.",
            [_i(or_zero(in_range(sel(sc.METRIC_AUDIT_VERIFY_FAILURES))))],
        ),
        w=6,
        h=4,
    )

    rows: dict[str, list[tuple[str, str, str, Json]]] = {
        "CC6": [
            (
                "cc6_unknown_keys",
                "Unknown API-key uses",
                "CC6.1: interactions made with keys outside LLM_SOC2_KEY_ALLOWLIST.",
                _i(or_zero(in_range(sel(sc.METRIC_API_KEY_UNKNOWN)))),
            ),
            (
                "cc6_keys_overdue",
                "Keys past rotation policy",
                "CC6.1: API keys in use that are older than LLM_SOC2_KEY_MAX_AGE_DAYS.",
                _i(or_zero(f"count({J(KEY_OVER_POLICY)})")),
            ),
            (
                "cc6_auth_failures",
                "401/403 from providers",
                "CC6.1: provider calls rejected as unauthenticated or forbidden.",
                _i(or_zero(in_range(OPS_AUTH))),
            ),
            (
                "cc6_keys_in_use",
                "API keys in use",
                "CC6.1: distinct API-key fingerprints used in the period.",
                _i(
                    or_zero(
                        f"count(({in_range(interactions(matcher(sc.API_KEY_FINGERPRINT, '!=', '')), (FINGERPRINT,))}) > 0)"
                    )
                ),
            ),
        ],
        "CC7": [
            (
                "cc7_injections",
                "Prompt-injection attempts",
                "CC7.2, CC6.6: interactions classified as prompt injection.",
                _i(or_zero(in_range(risk(sc.RISK_PROMPT_INJECTION)))),
            ),
            (
                "cc7_drifting",
                "Features drifting now",
                "CC7.2: model/feature pairs whose latest drift test rejected the baseline.",
                _i(
                    or_zero(
                        f"count(({latest(sel(sc.METRIC_DRIFT_DETECTED, '', M), (MODEL, label(sc.ATTR_DRIFT_FEATURE)))}) == 1)"
                    )
                ),
            ),
            (
                "cc7_incidents",
                "Open incidents",
                "CC7.3, CC7.4: incidents recorded in the audit log and not yet resolved.",
                # Every process reading the same audit log reports the same count: max, not sum.
                _i(or_zero(latest(sel(sc.METRIC_INCIDENTS_OPEN)))),
            ),
            (
                "cc7_instrumentation_errors",
                "Instrumentation errors",
                "CC7.2, CC4.1: failures inside the instrumentation (monitoring coverage gaps).",
                _i(or_zero(in_range(sel(sc.METRIC_INSTRUMENTATION_ERRORS)))),
            ),
        ],
        "CC8": [
            (
                "cc8_unapproved",
                "Unapproved-version interactions",
                "CC8.1: interactions served by a prompt template or model not approved in the registry.",
                _i(or_zero(in_range(interactions(matcher(sc.CHANGE_APPROVED, "=", "false"))))),
            ),
            (
                "cc8_templates",
                "Prompt templates in use",
                "CC8.1: distinct prompt-template hashes seen in the period.",
                _i(
                    or_zero(
                        f"count(({in_range(interactions(matcher(sc.PROMPT_TEMPLATE_HASH, '!=', '')), (TEMPLATE,))}) > 0)"
                    )
                ),
            ),
            (
                "cc8_models",
                "Model versions in use",
                "CC8.1, CC9.2: distinct response model versions returned by providers in the period.",
                _i(or_zero(f"count(({in_range(OPS, (RESPONSE_MODEL,))}) > 0)")),
            ),
            (
                "cc8_unknown",
                "Interactions without approval status",
                "CC8.1: interactions whose version the prompt registry does not cover.",
                _i(or_zero(in_range(interactions(matcher(sc.CHANGE_APPROVED, "=", "unknown"))))),
            ),
        ],
        "CC9": [
            (
                "cc9_high_risk",
                "High-risk interactions",
                "CC9.1, CC3.2: interactions rated high or critical by the risk policy.",
                _i(or_zero(in_range(interactions(matcher(sc.RISK_LEVEL, "=~", RISKY_LEVELS))))),
            ),
            (
                "cc9_providers",
                "Providers in use",
                "CC9.2: LLM vendors (subservice organisations) called in the period.",
                _i(or_zero(f"count(({in_range(OPS, (PROVIDER,))}) > 0)")),
            ),
            (
                "cc9_vendor_success",
                "Vendor success ratio",
                "CC9.2, A1.2: share of provider calls that succeeded in the period.",
                _i(success_ratio(window=RANGE)),
            ),
            (
                "cc9_risk_events",
                "Risk events",
                "CC9.1: risk categories flagged on interactions (all categories).",
                _i(or_zero(in_range(risk()))),
            ),
        ],
        "A1": [
            (
                "a1_success",
                "Availability (successful operations)",
                "A1.1: share of LLM operations that succeeded in the period (objective 99%).",
                _i(success_ratio(window=RANGE)),
            ),
            (
                "a1_p95",
                "p95 latency",
                "A1.1: 95th percentile of LLM operation duration over the period.",
                _i(quantile(0.95, OPS_BUCKET, window=RANGE)),
            ),
            (
                "a1_throughput",
                "Throughput",
                "A1.1: LLM operations per second, averaged over the period.",
                _i(or_zero(by((), "sum", J(f"rate({OPS}[{RANGE}])")))),
            ),
            (
                "a1_tokens",
                "Tokens used",
                "A1.1: input plus output tokens in the period (capacity and quota planning).",
                _i(or_zero(by((), "sum", J(f"increase({TOKENS}[{RANGE}])")))),
            ),
        ],
        "PI1": [
            (
                "pi1_written",
                "Audit records written",
                "PI1.5, CC2.1: records appended to the tamper-evident audit log in the period.",
                _i(or_zero(in_range(audit_records("written")))),
            ),
            (
                "pi1_completeness",
                "Audit completeness",
                "PI1.5: audit records written per interaction processed (below 100% means records are missing).",
                _i(f"({or_zero(in_range(audit_records('written')))}) / ({in_range(INTERACTIONS)})"),
            ),
            (
                "pi1_truncations",
                "Truncated outputs",
                "PI1.4: responses cut off by a token limit (incomplete outputs).",
                _i(or_zero(in_range(risk(sc.RISK_TRUNCATION)))),
            ),
            (
                "pi1_hallucination",
                "Hallucination signals",
                "PI1.4: ungrounded answers and outputs that do not match the requested schema.",
                _i(or_zero(in_range(risk(sc.RISK_UNGROUNDED, sc.RISK_INVALID_OUTPUT)))),
            ),
        ],
        "C1": [
            (
                "c1_output_findings",
                "Sensitive data in outputs",
                "C1.1, P6.3: PII and secrets found in model responses (redacted before export).",
                _i(or_zero(in_range(pii(sc.DIRECTION_OUTPUT)))),
            ),
            (
                "c1_scrub_failures",
                "Scrub failures",
                "C1.1: spans whose content was dropped because it could not be scrubbed (fail closed).",
                _i(or_zero(in_range(sel(sc.METRIC_SCRUB_FAILURES)))),
            ),
            (
                "c1_leakage",
                "Data-leakage events",
                "C1.1: interactions classified as leaking system prompts or confidential data.",
                _i(or_zero(in_range(risk(sc.RISK_DATA_LEAKAGE)))),
            ),
            (
                "c1_purged",
                "Content purged (retention)",
                "C1.2, P4.2: audit records whose stored content was purged at the end of retention.",
                _i(or_zero(in_range(disposed("retention")))),
            ),
        ],
        "P": [
            (
                "p_input_findings",
                "PII sent to providers",
                "P6.1, P6.7: personal data found in prompts, i.e. disclosures to the LLM vendor (redacted).",
                _i(or_zero(in_range(pii(sc.DIRECTION_INPUT)))),
            ),
            (
                "p_erasures",
                "Erasures (crypto-shredding)",
                "P4.3: records whose content was erased on a data-subject request.",
                _i(or_zero(in_range(disposed("erasure")))),
            ),
            (
                "p_end_users",
                "Active end users",
                "P6.7, CC6.1: distinct (hashed) end users in the last hour.",
                _i(or_zero(latest(sel(sc.METRIC_END_USERS_ACTIVE), aggregation="sum"))),
            ),
            (
                "p_pseudonymized",
                "Pseudonymised values",
                "P4.1, C1.1: PII replaced by keyed pseudonyms rather than masked or dropped.",
                _i(
                    or_zero(
                        in_range(
                            sel(
                                sc.METRIC_PII_FINDINGS,
                                "",
                                M,
                                matcher(sc.ATTR_SCRUB_ACTION, "=", "pseudonymize"),
                            )
                        )
                    )
                ),
            ),
        ],
    }
    units = {
        "cc9_vendor_success": ("percentunit", 0.99, 0.999, True),
        "a1_success": ("percentunit", 0.99, 0.999, True),
        "pi1_completeness": ("percentunit", 0.999, 0.9999, True),
        "a1_p95": ("s", 20.0, 10.24, False),
        "a1_throughput": ("ops", None, None, False),
        "a1_tokens": ("short", None, None, False),
        "cc6_keys_in_use": ("short", None, None, False),
        "cc8_templates": ("short", None, None, False),
        "cc8_models": ("short", None, None, False),
        "cc9_providers": ("short", None, None, False),
        "pi1_written": ("short", None, None, False),
        "p_end_users": ("short", None, None, False),
        "p_pseudonymized": ("short", None, None, False),
        "p_input_findings": ("short", None, None, False),
        "c1_purged": ("short", None, None, False),
        "p_erasures": ("short", None, None, False),
        "cc9_risk_events": ("short", None, None, False),
    }
    for area, panels in rows.items():
        b.row(f"{area} · {AREAS[area]}")
        for key, title, description, target in panels:
            unit, red, amber, invert = units.get(key, ("short", 1, None, False))
            b.add(
                key,
                g.stat(title, description, [target], unit=unit, red_at=red, amber_at=amber, invert=invert),
                w=6,
                h=4,
            )
    return b


# --------------------------------------------------------------------------------------------------
# Security and access (CC6)
# --------------------------------------------------------------------------------------------------
def security() -> g.Board:
    b = g.Board(
        SECURITY,
        "LLM SOC 2 — security and access (CC6)",
        "Which credentials reach which LLM vendors, how old they are, who uses them (CC6).",
        _prometheus_variables(),
    )
    b.row("API keys")
    keyed = interactions(matcher(sc.API_KEY_FINGERPRINT, "!=", ""))
    b.add(
        "keys_in_use",
        g.table(
            "API-key fingerprints in use",
            "CC6.1: each provider API key (keyed fingerprint, never the key) and the interactions it made in the period.",
            [_i(f"({in_range(keyed, (PROVIDER, FINGERPRINT))}) > 0", table=True)],
        ),
    )
    b.add(
        "key_age",
        g.bargauge(
            "Key age vs rotation policy",
            "CC6.1: age of each key in use against LLM_SOC2_KEY_MAX_AGE_DAYS (the last bar).",
            [
                _i(
                    latest(sel(sc.METRIC_API_KEY_AGE), (FINGERPRINT,)),
                    f"{{{{{FINGERPRINT}}}}}",
                ),
                _i(latest(sel(sc.METRIC_API_KEY_MAX_AGE)), "rotation policy", ref="B"),
            ],
            unit="s",
        ),
    )
    b.add(
        "new_keys",
        g.table(
            "New keys (first seen in the period)",
            "CC6.2, CC6.1: API keys whose fingerprint was first recorded within the selected time range.",
            [_i(f"({latest(sel(sc.METRIC_API_KEY_AGE), (FINGERPRINT,))}) < $__range_s", table=True)],
            unit="s",
        ),
    )
    b.add(
        "unknown_keys",
        g.timeseries(
            "Interactions with unknown keys",
            "CC6.1, CC6.2: uses of keys outside LLM_SOC2_KEY_ALLOWLIST, per key.",
            [_t(per_step(sel(sc.METRIC_API_KEY_UNKNOWN), (FINGERPRINT,)), f"{{{{{FINGERPRINT}}}}}")],
            bars=True,
        ),
    )
    b.row("Access outcomes")
    b.add(
        "auth_errors",
        g.timeseries(
            "401/403 errors from providers",
            "CC6.1: provider calls rejected as unauthenticated (401) or forbidden (403), by error type.",
            [_t(per_step(OPS_AUTH, (PROVIDER, ERROR_TYPE)), f"{{{{{PROVIDER}}}}} {{{{{ERROR_TYPE}}}}}")],
            bars=True,
        ),
    )
    b.add(
        "interactions_by_key",
        g.timeseries(
            "Interactions per key",
            "CC6.1: traffic per API key; a key used outside its usual pattern is worth a look.",
            [_t(per_second(keyed, (FINGERPRINT,)), f"{{{{{FINGERPRINT}}}}}")],
            unit="ops",
        ),
    )
    b.add(
        "end_users",
        g.timeseries(
            "Active end users",
            "CC6.1, P6.7: distinct hashed end-user ids seen in the last hour (no user ids leave the process).",
            [_t(latest(sel(sc.METRIC_END_USERS_ACTIVE), aggregation="sum"), "end users")],
        ),
    )
    b.add(
        "egress",
        g.table(
            "Egress: provider endpoints",
            "CC6.7: where prompts are transmitted — provider and server address of every call in the period.",
            [_i(f"({in_range(OPS, (PROVIDER, label(sc.SERVER_ADDRESS)))}) > 0", table=True)],
        ),
    )
    return b


# --------------------------------------------------------------------------------------------------
# Operations and availability (CC7, A1)
# --------------------------------------------------------------------------------------------------
def operations() -> g.Board:
    b = g.Board(
        OPERATIONS,
        "LLM SOC 2 — operations and availability (CC7, A1)",
        "Latency, errors, throughput, tokens and drift of LLM operations (CC7.2, A1.1).",
        _prometheus_variables(),
    )
    b.row("Service level")
    b.add(
        "availability",
        g.stat(
            "Successful operations",
            "A1.1: share of LLM operations that succeeded in the period (objective: 99%).",
            [_i(success_ratio(window=RANGE))],
            unit="percentunit",
            red_at=0.99,
            amber_at=0.995,
            invert=True,
            decimals=3,
        ),
        w=6,
        h=4,
    )
    fast = sel(sc.METRIC_OPERATION_DURATION, "bucket", M, f'le="{LATENCY_SLO_SECONDS}"')
    b.add(
        "latency_objective",
        g.stat(
            f"Operations within {LATENCY_SLO_SECONDS} s",
            f"A1.1: share of LLM operations completed within {LATENCY_SLO_SECONDS} s in the period (objective: 95%).",
            [
                _i(
                    f"({by((), 'sum', J(f'increase({fast}[{RANGE}])'))}) / ({by((), 'sum', J(f'increase({OPS}[{RANGE}])'))})"
                )
            ],
            unit="percentunit",
            red_at=0.95,
            amber_at=0.975,
            invert=True,
            decimals=3,
        ),
        w=6,
        h=4,
    )
    b.add(
        "p95_now",
        g.stat(
            "p95 latency",
            "A1.1: 95th percentile duration of LLM operations over the period.",
            [_i(quantile(0.95, OPS_BUCKET, window=RANGE))],
            unit="s",
            red_at=LATENCY_SLO_SECONDS,
            amber_at=5,
        ),
        w=6,
        h=4,
    )
    b.add(
        "drifting_now",
        g.stat(
            "Features drifting now",
            "CC7.2: model/feature pairs whose latest drift test rejected the baseline.",
            [
                _i(
                    or_zero(
                        f"count(({latest(sel(sc.METRIC_DRIFT_DETECTED, '', M), (MODEL, label(sc.ATTR_DRIFT_FEATURE)))}) == 1)"
                    )
                )
            ],
        ),
        w=6,
        h=4,
    )
    b.row("Traffic and errors")
    b.add(
        "throughput",
        g.timeseries(
            "Throughput",
            "A1.1: LLM operations per second by provider and model.",
            [_t(per_second(OPS, (PROVIDER, MODEL)), f"{{{{{PROVIDER}}}}} {{{{{MODEL}}}}}")],
            unit="ops",
        ),
    )
    b.add(
        "error_rate",
        g.timeseries(
            "Error rate by error.type",
            "CC7.2, A1.1: share of LLM operations that failed, by error type (rate limits, timeouts, 5xx ...).",
            [
                _t(
                    f"({per_second(OPS_FAILED, (ERROR_TYPE,))}) / ignoring ({ERROR_TYPE}) group_left () ({per_second(OPS)})",
                    f"{{{{{ERROR_TYPE}}}}}",
                )
            ],
            unit="percentunit",
            stacked=True,
        ),
    )
    b.add(
        "latency",
        g.timeseries(
            "Latency percentiles",
            "A1.1: p50, p95 and p99 duration of LLM operations.",
            [
                _t(quantile(0.5, OPS_BUCKET), "p50"),
                _t(quantile(0.95, OPS_BUCKET), "p95", ref="B"),
                _t(quantile(0.99, OPS_BUCKET), "p99", ref="C"),
            ],
            unit="s",
        ),
    )
    b.add(
        "latency_by_model",
        g.timeseries(
            "p95 latency by model",
            "A1.1: 95th percentile duration per requested model.",
            [_t(quantile(0.95, OPS_BUCKET, (MODEL,)), f"{{{{{MODEL}}}}}")],
            unit="s",
        ),
    )
    b.add(
        "ttfc",
        g.timeseries(
            "Time to first chunk",
            "A1.1: p50 and p95 time until a streamed response starts (streaming operations).",
            [_t(quantile(0.5, TTFC_BUCKET), "p50"), _t(quantile(0.95, TTFC_BUCKET), "p95", ref="B")],
            unit="s",
        ),
    )
    b.add(
        "tokens",
        g.timeseries(
            "Tokens",
            "A1.1: input and output tokens per second by model (capacity, quotas and cost).",
            [
                _t(
                    per_second(TOKENS, (MODEL, label(sc.GEN_AI_TOKEN_TYPE))),
                    f"{{{{{MODEL}}}}} {{{{{label(sc.GEN_AI_TOKEN_TYPE)}}}}}",
                )
            ],
        ),
    )
    b.row("Drift")
    b.add(
        "drift_scores",
        g.timeseries(
            "Drift scores",
            "CC7.2, PI1.3: drift statistic per model and feature against the baseline window.",
            [
                _t(
                    latest(sel(sc.METRIC_DRIFT_SCORE, "", M), (MODEL, label(sc.ATTR_DRIFT_FEATURE))),
                    f"{{{{{MODEL}}}}} {{{{{label(sc.ATTR_DRIFT_FEATURE)}}}}}",
                )
            ],
        ),
    )
    b.add(
        "drift_p_values",
        g.table(
            "Latest drift tests",
            "CC7.2: latest p-value per model, feature and statistical test (small p-values mean drift).",
            [
                _i(
                    latest(
                        sel(sc.METRIC_DRIFT_P_VALUE, "", M),
                        (MODEL, label(sc.ATTR_DRIFT_FEATURE), label(sc.ATTR_DRIFT_TEST)),
                    ),
                    table=True,
                )
            ],
        ),
    )
    b.row("The monitoring itself")
    b.add(
        "spans_processed",
        g.timeseries(
            "GenAI spans processed",
            "CC4.1, CC7.2: spans the llm-soc2 processor scrubbed and classified (the control operating).",
            [_t(per_second(SPANS), "spans/s")],
            unit="ops",
        ),
    )
    b.add(
        "processor_overhead",
        g.timeseries(
            "Processor time per span",
            "CC4.1: p50 and p99 time the processor adds per GenAI span.",
            [
                _t(quantile(0.5, sel(sc.METRIC_PROCESSOR_DURATION, "bucket")), "p50"),
                _t(quantile(0.99, sel(sc.METRIC_PROCESSOR_DURATION, "bucket")), "p99", ref="B"),
            ],
            unit="s",
        ),
    )
    b.add(
        "instrumentation_errors",
        g.timeseries(
            "Instrumentation errors",
            "CC7.2, CC4.1: failures inside the instrumentation, by kind (the app call is never affected).",
            [
                _t(
                    per_step(sel(sc.METRIC_INSTRUMENTATION_ERRORS), (label(sc.ATTR_ERROR_KIND),)),
                    f"{{{{{label(sc.ATTR_ERROR_KIND)}}}}}",
                )
            ],
            bars=True,
        ),
    )
    return b


# --------------------------------------------------------------------------------------------------
# Change management (CC8)
# --------------------------------------------------------------------------------------------------
def change() -> g.Board:
    b = g.Board(
        CHANGE,
        "LLM SOC 2 — change management (CC8)",
        "Prompt templates and model versions in use over time, and whether each was approved (CC8.1).",
        _prometheus_variables(),
        time_from="now-30d",
    )
    templated = interactions(matcher(sc.PROMPT_TEMPLATE_HASH, "!=", ""))
    b.add(
        "model_versions",
        g.timeseries(
            "Model versions over time",
            "CC8.1, CC9.2: response model versions returned by each provider (a version change is a change).",
            [_t(per_second(OPS, (PROVIDER, RESPONSE_MODEL)), f"{{{{{PROVIDER}}}}} {{{{{RESPONSE_MODEL}}}}}")],
            unit="ops",
        ),
    )
    b.add(
        "template_versions",
        g.timeseries(
            "Prompt-template versions over time",
            "CC8.1: interactions per prompt-template hash (a new hash is a changed template).",
            [_t(per_second(templated, (TEMPLATE,)), f"{{{{{TEMPLATE}}}}}")],
            unit="ops",
        ),
    )
    b.add(
        "unapproved",
        g.table(
            "Unapproved versions",
            "CC8.1: prompt templates and models that served traffic without approval in the registry, by environment.",
            [
                _i(
                    f"({in_range(interactions(matcher(sc.CHANGE_APPROVED, '=', 'false')), (ENVIRONMENT_LABEL, MODEL, TEMPLATE))}) > 0",
                    table=True,
                )
            ],
        ),
    )
    b.add(
        "approval_status",
        g.piechart(
            "Interactions by approval status",
            "CC8.1: interactions on approved, unapproved and unregistered (unknown) versions in the period.",
            [
                _i(
                    in_range(INTERACTIONS, (label(sc.CHANGE_APPROVED),)),
                    f"{{{{{label(sc.CHANGE_APPROVED)}}}}}",
                )
            ],
        ),
    )
    before = J(f"{templated} offset {RANGE}")
    b.add(
        "new_templates",
        g.table(
            "Prompt templates first seen in the period",
            "CC8.1: template hashes used in the period that were not in use at its start — each should map to an "
            "approved change.",
            [
                _i(
                    f"(({in_range(templated, (TEMPLATE,))}) > 0) unless on ({TEMPLATE}) ({by((TEMPLATE,), 'sum', before)})",
                    table=True,
                )
            ],
        ),
    )
    ops_before = J(f"{OPS} offset {RANGE}")
    b.add(
        "new_models",
        g.table(
            "Model versions first seen in the period",
            "CC8.1, CC9.2: response model versions returned in the period that were not returned at its start.",
            [
                _i(
                    f"(({in_range(OPS, (PROVIDER, RESPONSE_MODEL))}) > 0) unless on ({PROVIDER}, {RESPONSE_MODEL}) "
                    f"({by((PROVIDER, RESPONSE_MODEL), 'sum', ops_before)})",
                    table=True,
                )
            ],
        ),
    )
    return b


# --------------------------------------------------------------------------------------------------
# Risk and processing integrity (CC9, PI1)
# --------------------------------------------------------------------------------------------------
def risk_board() -> g.Board:
    b = g.Board(
        RISK,
        "LLM SOC 2 — risk and processing integrity (CC9, PI1)",
        "Risk classification of interactions, vendor availability and the completeness of the audit "
        "trail (CC9.1, CC9.2, PI1).",
        _prometheus_variables(),
    )
    category = label(sc.ATTR_RISK_CATEGORY)
    b.row("Risk")
    b.add(
        "risk_levels",
        g.timeseries(
            "Risk levels",
            "CC9.1, CC3.2: interactions per second by assessed risk level.",
            [_t(per_second(INTERACTIONS, (label(sc.RISK_LEVEL),)), f"{{{{{label(sc.RISK_LEVEL)}}}}}")],
            unit="ops",
            stacked=True,
        ),
    )
    b.add(
        "risk_categories",
        g.timeseries(
            "Risk categories",
            "CC9.1: risk events per step by category.",
            [_t(per_step(risk(), (category,)), f"{{{{{category}}}}}")],
            bars=True,
            stacked=True,
        ),
    )
    b.add(
        "injections",
        g.timeseries(
            "Prompt injections",
            "CC6.6, CC7.2: direct and indirect prompt-injection attempts by model.",
            [_t(per_step(risk(sc.RISK_PROMPT_INJECTION), (MODEL,)), f"{{{{{MODEL}}}}}")],
            bars=True,
        ),
        w=8,
    )
    b.add(
        "leakage",
        g.timeseries(
            "Data leakage",
            "C1.1, CC7.2: responses leaking the system prompt, secrets or confidential data.",
            [_t(per_step(risk(sc.RISK_DATA_LEAKAGE), (MODEL,)), f"{{{{{MODEL}}}}}")],
            bars=True,
        ),
        w=8,
    )
    b.add(
        "harmful",
        g.timeseries(
            "Harmful content",
            "CC9.1, PI1.4: responses flagged as harmful.",
            [_t(per_step(risk(sc.RISK_HARMFUL_CONTENT), (MODEL,)), f"{{{{{MODEL}}}}}")],
            bars=True,
        ),
        w=8,
    )
    b.add(
        "hallucination",
        g.timeseries(
            "Hallucination signals",
            "PI1.4: ungrounded answers (not supported by the retrieval context) and invalid structured outputs.",
            [
                _t(
                    per_step(risk(sc.RISK_UNGROUNDED, sc.RISK_INVALID_OUTPUT), (category,)),
                    f"{{{{{category}}}}}",
                )
            ],
            bars=True,
        ),
        w=8,
    )
    b.add(
        "refusals",
        g.timeseries(
            "Refusals",
            "PI1.3: responses in which the model declined the request.",
            [_t(per_step(risk(sc.RISK_REFUSAL), (MODEL,)), f"{{{{{MODEL}}}}}")],
            bars=True,
        ),
        w=8,
    )
    b.add(
        "truncations",
        g.timeseries(
            "Truncations",
            "PI1.4: responses cut off by the token limit (incomplete output).",
            [_t(per_step(risk(sc.RISK_TRUNCATION), (MODEL,)), f"{{{{{MODEL}}}}}")],
            bars=True,
        ),
        w=8,
    )
    b.add(
        "high_risk_by_model",
        g.table(
            "High-risk interactions by model",
            "CC9.1: interactions rated high or critical in the period, by provider, model and level.",
            [
                _i(
                    f"({in_range(interactions(matcher(sc.RISK_LEVEL, '=~', RISKY_LEVELS)), (PROVIDER, MODEL, label(sc.RISK_LEVEL)))}) > 0",
                    table=True,
                )
            ],
        ),
    )
    b.row("Vendors (CC9.2)")
    b.add(
        "vendor_availability",
        g.timeseries(
            "Vendor success ratio",
            "CC9.2, A1.2: share of successful calls per LLM provider (subservice organisation).",
            [_t(success_ratio((PROVIDER,)), f"{{{{{PROVIDER}}}}}")],
            unit="percentunit",
        ),
    )
    b.add(
        "vendor_inventory",
        g.table(
            "Vendor and model inventory",
            "CC9.2: every provider, requested model and returned model version used in the period.",
            [_i(f"({in_range(OPS, (PROVIDER, MODEL, RESPONSE_MODEL))}) > 0", table=True)],
        ),
    )
    b.row("Processing integrity: audit trail (PI1.5)")
    b.add(
        "audit_records",
        g.timeseries(
            "Audit records by outcome",
            "PI1.5, CC2.1: records written, spilled to disk, replayed and lost, per step.",
            [
                _t(
                    per_step(sel(sc.METRIC_AUDIT_RECORDS), (label(sc.ATTR_AUDIT_OUTCOME),)),
                    f"{{{{{label(sc.ATTR_AUDIT_OUTCOME)}}}}}",
                )
            ],
            bars=True,
        ),
        w=8,
    )
    b.add(
        "audit_backlog",
        g.timeseries(
            "Writer backlog",
            "PI1.5: records queued or spilled and not yet stored, per audit log.",
            [_t(latest(sel(sc.METRIC_AUDIT_BACKLOG), (LOG_ID,)), f"{{{{{LOG_ID}}}}}")],
        ),
        w=8,
    )
    b.add(
        "checkpoint_age",
        g.timeseries(
            "Checkpoint age",
            "PI1.5: seconds since each audit log's latest signed checkpoint.",
            [
                _t(
                    f"time() - ({latest(sel(sc.METRIC_AUDIT_CHECKPOINT_TIME), (LOG_ID,))})",
                    f"{{{{{LOG_ID}}}}}",
                )
            ],
            unit="s",
        ),
        w=8,
    )
    b.add(
        "checkpoint_size",
        g.timeseries(
            "Checkpointed tree size",
            "PI1.5: records covered by the latest signed checkpoint, per audit log.",
            [_t(latest(sel(sc.METRIC_AUDIT_CHECKPOINT_SIZE), (LOG_ID,)), f"{{{{{LOG_ID}}}}}")],
        ),
        w=8,
    )
    b.add(
        "audit_witness",
        g.timeseries(
            "Witness failures",
            "PI1.5: checkpoints a witness (file, OTLP log, Grafana annotation) failed to record.",
            [
                _t(
                    per_step(sel(sc.METRIC_AUDIT_WITNESS_FAILURES), (label(sc.ATTR_WITNESS),)),
                    f"{{{{{label(sc.ATTR_WITNESS)}}}}}",
                )
            ],
            bars=True,
        ),
        w=8,
    )
    b.add(
        "audit_completeness",
        g.stat(
            "Records written per interaction",
            "PI1.5: audit records written per interaction processed in the period (event records add to it).",
            [_i(f"({or_zero(in_range(audit_records('written')))}) / ({in_range(INTERACTIONS)})")],
            unit="percentunit",
            red_at=0.999,
            amber_at=0.9999,
            invert=True,
            decimals=2,
        ),
        w=8,
    )
    return b


# --------------------------------------------------------------------------------------------------
# Confidentiality and privacy (C1, P)
# --------------------------------------------------------------------------------------------------
def privacy() -> g.Board:
    b = g.Board(
        PRIVACY,
        "LLM SOC 2 — confidentiality and privacy (C1, P)",
        "Personal data and secrets found in LLM traffic, how they were redacted, and what was disposed "
        "of (C1, P4, P6).",
        _prometheus_variables(),
    )
    pii_type = label(sc.ATTR_PII_TYPE)
    direction = label(sc.ATTR_DIRECTION)
    b.add(
        "pii_by_type",
        g.timeseries(
            "PII by type and direction",
            "C1.1, P6.1: findings per step by entity type and direction (input = sent to the vendor).",
            [_t(per_step(PII, (pii_type, direction)), f"{{{{{pii_type}}}}} ({{{{{direction}}}}})")],
            bars=True,
            stacked=True,
        ),
    )
    b.add(
        "redactions",
        g.piechart(
            "Redactions by action",
            "C1.1, P4.1: how findings were redacted in the period: masked, pseudonymised (keyed) or dropped.",
            [_i(in_range(PII, (label(sc.ATTR_SCRUB_ACTION),)), f"{{{{{label(sc.ATTR_SCRUB_ACTION)}}}}}")],
        ),
    )
    b.add(
        "pii_input",
        g.bargauge(
            "PII in prompts (disclosed to vendors, redacted)",
            "P6.1, P6.7: personal data found in prompts in the period, by type.",
            [_i(in_range(pii(sc.DIRECTION_INPUT), (pii_type,)), f"{{{{{pii_type}}}}}")],
        ),
        w=8,
    )
    b.add(
        "pii_output",
        g.bargauge(
            "PII and secrets in responses",
            "C1.1, P6.3: personal data and secrets found in model responses in the period, by type.",
            [_i(in_range(pii(sc.DIRECTION_OUTPUT), (pii_type,)), f"{{{{{pii_type}}}}}")],
        ),
        w=8,
    )
    b.add(
        "disclosures",
        g.table(
            "Disclosures by vendor",
            "P6.7, P6.1: accounting of personal data sent to each LLM provider in the period (by type, redacted).",
            [_i(f"({in_range(pii(sc.DIRECTION_INPUT), (PROVIDER, pii_type))}) > 0", table=True)],
        ),
        w=8,
    )
    b.add(
        "scrub_failures",
        g.timeseries(
            "Scrub failures",
            "C1.1: content dropped because it could not be scrubbed in time or at all (fail closed), by reason.",
            [
                _t(
                    per_step(sel(sc.METRIC_SCRUB_FAILURES), (label(sc.ATTR_ERROR_KIND),)),
                    f"{{{{{label(sc.ATTR_ERROR_KIND)}}}}}",
                )
            ],
            bars=True,
        ),
    )
    disposal = label(sc.ATTR_AUDIT_DISPOSAL)
    b.add(
        "disposal",
        g.timeseries(
            "Retention and erasure events",
            "C1.2, P4.2, P4.3: audit-record content purged at the end of retention or crypto-shredded on request.",
            [_t(per_step(sel(sc.METRIC_AUDIT_CONTENT_DISPOSED), (disposal,)), f"{{{{{disposal}}}}}")],
            bars=True,
        ),
    )
    b.add(
        "purged_total",
        g.stat(
            "Content purged (retention)",
            "C1.2, P4.2: records whose content was purged in the period.",
            [_i(or_zero(in_range(disposed("retention"))))],
            red_at=None,
        ),
        w=6,
        h=4,
    )
    b.add(
        "erased_total",
        g.stat(
            "Content erased (requests)",
            "P4.3: records crypto-shredded on data-subject requests in the period.",
            [_i(or_zero(in_range(disposed("erasure"))))],
            red_at=None,
        ),
        w=6,
        h=4,
    )
    return b


# --------------------------------------------------------------------------------------------------
# Audit log (PostgreSQL)
# --------------------------------------------------------------------------------------------------
def audit_log() -> g.Board:
    b = g.Board(
        AUDIT_LOG,
        "LLM SOC 2 — audit log",
        "The tamper-evident audit log in PostgreSQL: high-risk interactions (scrubbed), signed "
        "checkpoints, sequence completeness, incidents, changes and disposals (PI1.5, CC7.3, CC8.1, P4.3).",
        _audit_variables(),
        time_from="now-7d",
    )
    trace_link = [
        {
            "matcher": {"id": "byName", "options": "trace_id"},
            "properties": [
                {
                    "id": "links",
                    "value": [
                        {
                            "title": "Open trace in Tempo",
                            "url": "/explore?left="
                            + '{"datasource":"'
                            + g.TEMPO_UID
                            + '","queries":[{"refId":"A","queryType":'
                            '"traceql","query":"${__value.raw}"}]}',
                        }
                    ],
                }
            ],
        }
    ]
    b.row("Integrity")
    b.add(
        "checkpoint_age",
        g.stat(
            "Age of last checkpoint",
            "PI1.5: seconds since the latest signed checkpoint of the selected logs (from the store itself).",
            [g.sql_target(sql.CHECKPOINT_AGE)],
            unit="s",
            red_at=900,
            amber_at=300,
            datasource=g.AUDIT,
        ),
        w=6,
        h=4,
    )
    b.add(
        "uncheckpointed",
        g.stat(
            "Records not yet checkpointed",
            "PI1.5: records appended after the latest signed checkpoint (not yet bound by a signed tree head).",
            [g.sql_target(sql.UNCHECKPOINTED)],
            red_at=10000,
            amber_at=1000,
            datasource=g.AUDIT,
        ),
        w=6,
        h=4,
    )
    b.add(
        "sequence_gaps",
        g.stat(
            "Sequence gaps",
            "PI1.5, CC2.1: missing sequence numbers across the selected logs. Must be 0 (population completeness).",
            [g.sql_target(sql.SEQUENCE_GAPS)],
            datasource=g.AUDIT,
        ),
        w=6,
        h=4,
    )
    b.add(
        "records_in_period",
        g.stat(
            "Records in period",
            "PI1.5, CC2.1: audit records of all kinds appended in the selected period.",
            [g.sql_target(sql.RECORDS_IN_PERIOD)],
            red_at=None,
            datasource=g.AUDIT,
        ),
        w=6,
        h=4,
    )
    b.add(
        "log_completeness",
        g.table(
            "Logs: size, sequence and checkpoint coverage",
            "PI1.5, CC2.1: per audit log — records, first and last sequence number, gaps, and the latest checkpoint.",
            [g.sql_target(sql.LOG_SUMMARY)],
            datasource=g.AUDIT,
        ),
        w=24,
        h=6,
    )
    b.add(
        "records_by_kind",
        g.timeseries(
            "Records per hour by kind",
            "PI1.5, CC2.1: interactions and event records appended per hour, by kind.",
            [g.sql_target(sql.RECORDS_BY_KIND, fmt="time_series")],
            bars=True,
            stacked=True,
            datasource=g.AUDIT,
        ),
        w=24,
    )
    b.row("Interactions")
    b.add(
        "high_risk",
        g.table(
            "Latest high-risk interactions (scrubbed)",
            "CC7.2, CC9.1: the latest interactions rated high or critical, with their scrubbed content (never raw) and "
            "a link to the trace.",
            [g.sql_target(sql.HIGH_RISK)],
            datasource=g.AUDIT,
            hide=(),
            links=trace_link,
        ),
        w=24,
        h=10,
    )
    b.row("Checkpoints and keys")
    b.add(
        "checkpoints",
        g.table(
            "Signed checkpoints",
            "PI1.5: checkpoints (signed tree heads) the log issued in the period: size, root hash and the signed note.",
            [g.sql_target(sql.CHECKPOINTS)],
            datasource=g.AUDIT,
            hide=(),
        ),
        w=16,
        h=8,
    )
    b.add(
        "signing_keys",
        g.table(
            "Checkpoint signing keys",
            "PI1.5, CC6.1: verifier keys added to or retired from checkpoint signing.",
            [g.sql_target(sql.SIGNING_KEYS)],
            datasource=g.AUDIT,
            hide=(),
        ),
        w=8,
        h=8,
    )
    b.row("Events")
    b.add(
        "incidents",
        g.table(
            "Incidents",
            "CC7.3, CC7.4: incident records in the period with their attributes.",
            [g.sql_target(sql.events("incident"))],
            datasource=g.AUDIT,
            hide=(),
        ),
        w=12,
    )
    b.add(
        "changes",
        g.table(
            "Changes and approvals",
            "CC8.1: change and approval records (prompt templates, models, policies) in the period.",
            [g.sql_target(sql.events("change", "approval"))],
            datasource=g.AUDIT,
            hide=(),
        ),
        w=12,
    )
    b.add(
        "drift_events",
        g.table(
            "Drift events",
            "CC7.2: drift detections and baselines recorded in the period.",
            [g.sql_target(sql.events("drift", "baseline"))],
            datasource=g.AUDIT,
            hide=(),
        ),
        w=12,
    )
    b.add(
        "disposals",
        g.table(
            "Retention purges and erasures",
            "C1.2, P4.2, P4.3: purge and crypto-shredding records in the period (what was disposed of, and when).",
            [g.sql_target(sql.events("purge", "erasure"))],
            datasource=g.AUDIT,
            hide=(),
        ),
        w=12,
    )
    return b


BUILDERS: Final = (overview, security, operations, change, risk_board, privacy, audit_log)


@cache
def boards() -> dict[str, g.Board]:
    result: dict[str, g.Board] = {}
    for builder in BUILDERS:
        board = builder()
        result[board.uid] = board
    return result


def build_all() -> dict[str, Json]:
    return {uid: board.build() for uid, board in boards().items()}


def panel_id(uid: str, key: str) -> int:
    board = boards()[uid]
    if key not in board.ids:
        raise KeyError(f"dashboard {uid} has no panel {key!r}")
    return board.ids[key]
