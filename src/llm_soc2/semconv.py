"""Every attribute, metric, event and label name that llm-soc2 reads or writes, in one place.

The OpenTelemetry GenAI names follow the GenAI semantic conventions (semantic-conventions v1.41 and the
semantic-conventions-genai repository). The ``llm_soc2.*`` names are ours. Dashboards, alert rules and the
report use the Prometheus forms of the metric names (see ``prometheus_name``); a test checks that every
name they query is one the code emits.
"""

from __future__ import annotations

import re
from typing import Final

# --------------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------------
GENAI_SCHEMA_URL: Final = "https://opentelemetry.io/schemas/gen-ai/1.42.0"
INSTRUMENTATION_SCOPE: Final = "llm_soc2"

# --------------------------------------------------------------------------------------------------
# OpenTelemetry GenAI span attributes
# --------------------------------------------------------------------------------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_SYSTEM: Final = "gen_ai.system"  # pre-1.37 name of gen_ai.provider.name, still read
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_TOP_K: Final = "gen_ai.request.top_k"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_ENCODING_FORMATS: Final = "gen_ai.request.encoding_formats"
GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"

# Content (opt-in in the conventions; JSON strings on Python spans)
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
GEN_AI_TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"
GEN_AI_CONTENT_ATTRIBUTES: Final = (
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOOL_DEFINITIONS,
)
# Event carrying content when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT is EVENT_*
GEN_AI_INFERENCE_DETAILS_EVENT: Final = "gen_ai.client.inference.operation.details"

# Legacy / third-party content conventions we scrub as well
OPENLLMETRY_PROMPT_PREFIX: Final = "gen_ai.prompt."  # gen_ai.prompt.{i}.content / .role
OPENLLMETRY_COMPLETION_PREFIX: Final = "gen_ai.completion."  # gen_ai.completion.{i}.content
OPENINFERENCE_INPUT_VALUE: Final = "input.value"
OPENINFERENCE_OUTPUT_VALUE: Final = "output.value"
OPENINFERENCE_INPUT_MESSAGES_PREFIX: Final = "llm.input_messages."
OPENINFERENCE_OUTPUT_MESSAGES_PREFIX: Final = "llm.output_messages."
OPENINFERENCE_INVOCATION_PARAMETERS: Final = "llm.invocation_parameters"
OPENINFERENCE_MODEL_NAME: Final = "llm.model_name"
OPENINFERENCE_SPAN_KIND: Final = "openinference.span.kind"

# Operation names
OP_CHAT: Final = "chat"
OP_TEXT_COMPLETION: Final = "text_completion"
OP_EMBEDDINGS: Final = "embeddings"
OP_GENERATE_CONTENT: Final = "generate_content"

# Provider names
PROVIDER_OPENAI: Final = "openai"
PROVIDER_ANTHROPIC: Final = "anthropic"
PROVIDER_AZURE_OPENAI: Final = "azure.ai.openai"
PROVIDER_AWS_BEDROCK: Final = "aws.bedrock"
PROVIDER_GCP_VERTEX_AI: Final = "gcp.vertex_ai"

# gen_ai.token.type and gen_ai.output.type values
TOKEN_TYPE_INPUT: Final = "input"
TOKEN_TYPE_OUTPUT: Final = "output"
OUTPUT_TYPE_TEXT: Final = "text"
OUTPUT_TYPE_JSON: Final = "json"

# --------------------------------------------------------------------------------------------------
# General OpenTelemetry attributes
# --------------------------------------------------------------------------------------------------
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
ERROR_TYPE: Final = "error.type"
ERROR_TYPE_OTHER: Final = "_OTHER"
URL_FULL: Final = "url.full"
URL_QUERY: Final = "url.query"
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"
EXCEPTION_TYPE: Final = "exception.type"
SERVICE_NAME: Final = "service.name"
DEPLOYMENT_ENVIRONMENT: Final = "deployment.environment.name"
ENDUSER_ID: Final = "enduser.id"

# Instrumentation scopes of other GenAI instrumentations we coexist with
ANTHROPIC_SDK_SCOPE: Final = "com.anthropic.sdk.python"

# --------------------------------------------------------------------------------------------------
# llm_soc2.* span attributes
# --------------------------------------------------------------------------------------------------
# SOC 2 context recorded by the instrumentation
API_KEY_FINGERPRINT: Final = "llm_soc2.api_key.fingerprint"
PROMPT_TEMPLATE_HASH: Final = "llm_soc2.prompt.template_hash"
END_USER_HASH: Final = "llm_soc2.end_user.hash"
PROVIDER_HOST: Final = "llm_soc2.provider.host"
CONTENT_TRUNCATED: Final = "llm_soc2.content.truncated"
RETRIEVAL_CONTEXT: Final = "llm_soc2.retrieval.context"  # context passed by the app for groundedness
RESPONSE_FORMAT_SCHEMA: Final = "llm_soc2.response_format.schema"  # requested JSON schema, if any
STREAM_OUTCOME: Final = "llm_soc2.stream.outcome"  # how a streamed response ended (values below)
STREAM_COMPLETED: Final = "completed"  # read to the end
STREAM_CLOSED: Final = "closed"  # closed by the application before the end
STREAM_ABANDONED: Final = "abandoned"  # dropped unclosed and garbage-collected
STREAM_FAILED: Final = "failed"  # broke off with an error

# Scrubbing summary (set by the processor on the exported copy)
PII_DETECTED: Final = "llm_soc2.pii.detected"
PII_TYPES: Final = "llm_soc2.pii.types"
PII_COUNT: Final = "llm_soc2.pii.count"
PII_INPUT_DETECTED: Final = "llm_soc2.pii.input.detected"
PII_INPUT_TYPES: Final = "llm_soc2.pii.input.types"
PII_INPUT_COUNT: Final = "llm_soc2.pii.input.count"
PII_OUTPUT_DETECTED: Final = "llm_soc2.pii.output.detected"
PII_OUTPUT_TYPES: Final = "llm_soc2.pii.output.types"
PII_OUTPUT_COUNT: Final = "llm_soc2.pii.output.count"
SCRUB_ERROR: Final = "llm_soc2.scrub.error"
SCRUB_REDACTIONS: Final = "llm_soc2.scrub.redactions"

# Risk assessment (set by the processor on the exported copy)
RISK_SCORE: Final = "llm_soc2.risk.score"
RISK_LEVEL: Final = "llm_soc2.risk.level"
RISK_CATEGORIES: Final = "llm_soc2.risk.categories"
RISK_CATEGORY_SCORE_TEMPLATE: Final = "llm_soc2.risk.{category}.score"
RISK_POLICY_VERSION: Final = "llm_soc2.risk.policy.version"

# Measures of one interaction, set by the processor on the audit record (and read by drift detection)
DURATION: Final = "llm_soc2.duration"  # s, span end - start
PROMPT_CHARS: Final = "llm_soc2.prompt.chars"  # characters of the prompt text (all input messages)
RESPONSE_CHARS: Final = "llm_soc2.response.chars"  # characters of the response text

# Change management
CHANGE_APPROVED: Final = "llm_soc2.change.approved"

# Governance records (audit-log kinds "change", "approval", "key", "incident"; see llm_soc2.governance)
CHANGE_KIND: Final = "llm_soc2.change.kind"  # "prompt" | "model"
CHANGE_ID: Final = "llm_soc2.change.id"  # the template hash or the model version
CHANGE_APPROVER: Final = "llm_soc2.change.approver"
CHANGE_TICKET: Final = "llm_soc2.change.ticket"
CHANGE_APPROVED_ON: Final = "llm_soc2.change.approved_on"  # ISO date from the registry
CHANGE_NOTE: Final = "llm_soc2.change.note"
CHANGE_REGISTRY_SHA256: Final = "llm_soc2.change.registry.sha256"
CHANGE_FIRST_SEEN: Final = "llm_soc2.change.first_seen"  # unix ns, on approvals of versions already seen
# span: ("prompt:<hash>", "model:<name>")
CHANGE_UNAPPROVED_VERSIONS: Final = "llm_soc2.change.unapproved_versions"
API_KEY_KNOWN: Final = "llm_soc2.api_key.known"  # span: fingerprint in the allow-list or registered
API_KEY_EVENT: Final = "llm_soc2.api_key.event"  # "first_use" | "register" | "retire"
API_KEY_REGISTERED_AT: Final = "llm_soc2.api_key.registered_at"  # unix ns the key was issued
API_KEY_REPLACES: Final = "llm_soc2.api_key.replaces"  # fingerprint of the key a registration rotates out
API_KEY_OWNER: Final = "llm_soc2.api_key.owner"
API_KEY_NOTE: Final = "llm_soc2.api_key.note"
INCIDENT_ID: Final = "llm_soc2.incident.id"
INCIDENT_EVENT: Final = "llm_soc2.incident.event"  # opened | acknowledged | resolved | updated
INCIDENT_STATE: Final = "llm_soc2.incident.state"  # open | acknowledged | resolved (after the event)
INCIDENT_AT: Final = "llm_soc2.incident.at"  # unix ns the state change happened
INCIDENT_OPENED_AT: Final = "llm_soc2.incident.opened_at"  # unix ns
INCIDENT_TITLE: Final = "llm_soc2.incident.title"
INCIDENT_SEVERITY: Final = "llm_soc2.incident.severity"
INCIDENT_SOURCE: Final = "llm_soc2.incident.source"  # alertmanager | grafana | pagerduty | manual
INCIDENT_DEDUPE_KEY: Final = "llm_soc2.incident.dedupe_key"
INCIDENT_ACTOR: Final = "llm_soc2.incident.actor"
INCIDENT_NOTE: Final = "llm_soc2.incident.note"
INCIDENT_ALERT_NAMES: Final = "llm_soc2.incident.alert.names"
INCIDENT_ALERT_FINGERPRINTS: Final = "llm_soc2.incident.alert.fingerprints"
INCIDENT_ALERT_LABELS: Final = "llm_soc2.incident.alert.labels"  # JSON object of the common labels
INCIDENT_ALERT_ANNOTATIONS: Final = "llm_soc2.incident.alert.annotations"  # JSON object
INCIDENT_ALERT_STARTS_AT: Final = "llm_soc2.incident.alert.starts_at"  # unix ns
INCIDENT_ALERT_ENDS_AT: Final = "llm_soc2.incident.alert.ends_at"  # unix ns
INCIDENT_URL: Final = "llm_soc2.incident.url"  # alert generator / PagerDuty incident URL
INCIDENT_EXTERNAL_ID: Final = "llm_soc2.incident.external_id"  # e.g. the PagerDuty incident id
INCIDENT_WINDOW_START: Final = "llm_soc2.incident.window.start"  # unix ns
INCIDENT_WINDOW_END: Final = "llm_soc2.incident.window.end"  # unix ns
INCIDENT_LINKED_SEQS: Final = "llm_soc2.incident.linked.seqs"  # audit seqs (most recent, bounded)
INCIDENT_LINKED_TRACE_IDS: Final = "llm_soc2.incident.linked.trace_ids"  # bounded
INCIDENT_LINKED_COUNT: Final = "llm_soc2.incident.linked.count"  # all matching records in the window
INCIDENT_TTA_SECONDS: Final = "llm_soc2.incident.time_to_acknowledge"  # s, on acknowledged/resolved
INCIDENT_TTR_SECONDS: Final = "llm_soc2.incident.time_to_resolve"  # s, on resolved

# Audit
AUDIT_SEQUENCE: Final = "llm_soc2.audit.seq"

# Risk categories and levels
RISK_PROMPT_INJECTION: Final = "prompt_injection"
RISK_DATA_LEAKAGE: Final = "data_leakage"
RISK_HARMFUL_CONTENT: Final = "harmful_content"
RISK_REFUSAL: Final = "refusal"
RISK_TRUNCATION: Final = "truncation"
RISK_UNGROUNDED: Final = "ungrounded"
RISK_INVALID_OUTPUT: Final = "invalid_output"
RISK_CATEGORIES_ALL: Final = (
    RISK_PROMPT_INJECTION,
    RISK_DATA_LEAKAGE,
    RISK_HARMFUL_CONTENT,
    RISK_REFUSAL,
    RISK_TRUNCATION,
    RISK_UNGROUNDED,
    RISK_INVALID_OUTPUT,
)
RISK_LEVELS: Final = ("low", "medium", "high", "critical")

DIRECTION_INPUT: Final = "input"
DIRECTION_OUTPUT: Final = "output"


def risk_category_score_attribute(category: str) -> str:
    return RISK_CATEGORY_SCORE_TEMPLATE.format(category=category)


# --------------------------------------------------------------------------------------------------
# Metric attribute (label) names of our own metrics
# --------------------------------------------------------------------------------------------------
ATTR_RISK_CATEGORY: Final = "llm_soc2.risk.category"
ATTR_RISK_LEVEL: Final = RISK_LEVEL
ATTR_PII_TYPE: Final = "llm_soc2.pii.type"
ATTR_DIRECTION: Final = "llm_soc2.direction"
ATTR_ERROR_KIND: Final = "llm_soc2.error.kind"
ATTR_DRIFT_FEATURE: Final = "llm_soc2.drift.feature"
ATTR_DRIFT_TEST: Final = "llm_soc2.drift.test"  # ks, brown_forsythe, wasserstein, psi, chi2, cohen_h, js
ATTR_AUDIT_LOG_ID: Final = "llm_soc2.audit.log_id"
ATTR_AUDIT_OUTCOME: Final = "llm_soc2.audit.outcome"
ATTR_WITNESS: Final = "llm_soc2.witness"
ATTR_SCRUB_ACTION: Final = "llm_soc2.scrub.action"  # mask | pseudonymize | drop (on pii.findings)
ATTR_AUDIT_DISPOSAL: Final = "llm_soc2.audit.disposal"  # retention | erasure (on audit.content.disposed)

# --------------------------------------------------------------------------------------------------
# Metrics (OpenTelemetry names; the Prometheus form is derived by prometheus_name())
# --------------------------------------------------------------------------------------------------
# GenAI semantic conventions
METRIC_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"  # s, histogram
METRIC_TOKEN_USAGE: Final = "gen_ai.client.token.usage"  # {token}, histogram
METRIC_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.operation.time_to_first_chunk"  # s, histogram
METRIC_TIME_PER_OUTPUT_CHUNK: Final = "gen_ai.client.operation.time_per_output_chunk"  # s, histogram

DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
TOKEN_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip

# Ours
METRIC_INSTRUMENTATION_ERRORS: Final = "llm_soc2.instrumentation.errors"  # {error}, counter
METRIC_SPANS_PROCESSED: Final = "llm_soc2.spans.processed"  # {span}, counter
METRIC_PROCESSOR_DURATION: Final = "llm_soc2.processor.duration"  # s, histogram
METRIC_PII_FINDINGS: Final = "llm_soc2.pii.findings"  # {finding}, counter
METRIC_SCRUB_FAILURES: Final = "llm_soc2.scrub.failures"  # {failure}, counter
METRIC_RISK_EVENTS: Final = "llm_soc2.risk.events"  # {event}, counter
METRIC_INTERACTIONS: Final = "llm_soc2.interactions"  # {interaction}, counter
METRIC_AUDIT_RECORDS: Final = (
    "llm_soc2.audit.records"  # {record}, counter; outcome=written|spilled|replayed|lost
)
METRIC_AUDIT_BACKLOG: Final = "llm_soc2.audit.backlog"  # {record}, gauge; queued + spilled, not yet stored
METRIC_AUDIT_CHECKPOINT_TIME: Final = "llm_soc2.audit.checkpoint.time"  # s (unix time), gauge
METRIC_AUDIT_CHECKPOINT_SIZE: Final = "llm_soc2.audit.checkpoint.size"  # {record}, gauge
METRIC_AUDIT_VERIFY_FAILURES: Final = "llm_soc2.audit.verification.failures"  # {failure}, counter
METRIC_AUDIT_WITNESS_FAILURES: Final = "llm_soc2.audit.witness.failures"  # {failure}, counter
# The drift gauges are dimensionless but are created with NO unit (""), not "1": the OTel Collector's
# Prometheus translation appends "_ratio" to gauges with unit "1", the Python exporter does not; with no
# unit both produce the same name.
METRIC_DRIFT_SCORE: Final = "llm_soc2.drift.score"  # no unit, gauge
METRIC_DRIFT_P_VALUE: Final = "llm_soc2.drift.p_value"  # no unit, gauge
METRIC_DRIFT_DETECTED: Final = "llm_soc2.drift.detected"  # no unit, gauge (0/1)
METRIC_CHANGE_UNAPPROVED: Final = "llm_soc2.change.unapproved"  # {interaction}, counter
METRIC_API_KEY_AGE: Final = "llm_soc2.api_key.age"  # s, gauge
METRIC_API_KEY_MAX_AGE: Final = "llm_soc2.api_key.max_age"  # s, gauge; rotation policy
METRIC_API_KEY_UNKNOWN: Final = "llm_soc2.api_key.unknown"  # {interaction}, counter
METRIC_END_USERS_ACTIVE: Final = "llm_soc2.end_users.active"  # {user}, gauge
METRIC_INCIDENTS_OPEN: Final = "llm_soc2.incidents.open"  # {incident}, gauge
METRIC_AUDIT_CONTENT_DISPOSED: Final = "llm_soc2.audit.content.disposed"  # {record}, counter

# Attributes of drift events (log record ``llm_soc2.drift`` and audit records of kind "drift"/"baseline");
# the event also carries ATTR_DRIFT_FEATURE, ATTR_DRIFT_TEST, service.name, gen_ai.request.model and
# gen_ai.operation.name.
DRIFT_STATE: Final = "llm_soc2.drift.state"  # detected | resolved
DRIFT_SCORE: Final = "llm_soc2.drift.score"  # the effect size compared with the threshold
DRIFT_THRESHOLD: Final = "llm_soc2.drift.threshold"  # the effect-size floor
DRIFT_P_VALUE: Final = "llm_soc2.drift.p_value"  # raw p-value of the significance test
DRIFT_P_VALUE_ADJUSTED: Final = "llm_soc2.drift.p_value.adjusted"  # Benjamini-Hochberg adjusted
DRIFT_ALPHA: Final = "llm_soc2.drift.alpha"  # false-discovery rate of one check
DRIFT_SIGNIFICANCE_TEST: Final = "llm_soc2.drift.significance_test"  # ks | brown_forsythe | chi2
DRIFT_STATISTIC: Final = "llm_soc2.drift.statistic"  # the significance test's statistic
DRIFT_PERSISTENCE: Final = "llm_soc2.drift.persistence"  # consecutive flagged checks required
DRIFT_REFERENCE_COUNT: Final = "llm_soc2.drift.reference.count"  # effective reference sample size
DRIFT_CURRENT_COUNT: Final = "llm_soc2.drift.current.count"  # current-window sample size
DRIFT_REFERENCE_KIND: Final = "llm_soc2.drift.reference.kind"  # seasonal | pooled
DRIFT_WINDOW: Final = "llm_soc2.drift.window"  # s, current-window length
DRIFT_TOP_CATEGORIES: Final = "llm_soc2.drift.top_categories"  # ["refusal: 4.0% -> 14.1%", ...]
DRIFT_BASELINE: Final = "llm_soc2.drift.baseline"  # baseline name, or "rolling"
DRIFT_BASELINE_ACTION: Final = "llm_soc2.drift.baseline.action"  # save | reset
DRIFT_BASELINE_SHA256: Final = "llm_soc2.drift.baseline.sha256"  # digest of the saved baseline file
DRIFT_BASELINE_START: Final = "llm_soc2.drift.baseline.start_time_unix_nano"
DRIFT_BASELINE_END: Final = "llm_soc2.drift.baseline.end_time_unix_nano"
DRIFT_BASELINE_COUNT: Final = "llm_soc2.drift.baseline.count"  # interactions summarised

# --------------------------------------------------------------------------------------------------
# Events / log records we emit
# --------------------------------------------------------------------------------------------------
EVENT_CHECKPOINT: Final = "llm_soc2.audit.checkpoint"
EVENT_DRIFT: Final = "llm_soc2.drift"
EVENT_DRIFT_BASELINE: Final = "llm_soc2.drift.baseline"  # a drift baseline was saved, replaced or reset
EVENT_CHANGE: Final = "llm_soc2.change"
EVENT_INCIDENT: Final = "llm_soc2.incident"

# --------------------------------------------------------------------------------------------------
# Prometheus names, as the OpenTelemetry Python Prometheus exporter (0.66b2) produces them
# --------------------------------------------------------------------------------------------------
_UNIT_SUFFIXES: Final = {
    "s": "seconds",
    "ms": "milliseconds",
    "By": "bytes",
    "%": "percent",
}
_NON_ALNUM = re.compile(r"[^a-zA-Z0-9:]")
_LABEL_NON_ALNUM = re.compile(r"[^a-zA-Z0-9]")


def prometheus_name(name: str, unit: str = "", kind: str = "gauge") -> str:
    """The Prometheus metric name for an OpenTelemetry metric.

    ``kind`` is ``counter`` (adds ``_total``), ``histogram`` (the base of ``_bucket``/``_sum``/``_count``)
    or ``gauge``. Curly-brace annotations like ``{token}`` and the unit ``1`` add no suffix.
    """
    base = _NON_ALNUM.sub("_", name)
    if base[:1].isdigit():
        base = "_" + base
    suffix = _UNIT_SUFFIXES.get(unit, "")
    if suffix and not base.endswith("_" + suffix):
        base = f"{base}_{suffix}"
    if kind == "counter" and not base.endswith("_total"):
        base += "_total"
    return base


def prometheus_label(name: str) -> str:
    """The Prometheus label name for an attribute key (dots and colons become underscores)."""
    label = _LABEL_NON_ALNUM.sub("_", name)
    return "_" + label if label[:1].isdigit() else label
