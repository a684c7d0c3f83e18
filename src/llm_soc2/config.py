"""One settings object for everything llm-soc2 does at run time.

OpenTelemetry's own variables (``OTEL_SERVICE_NAME``, ``OTEL_EXPORTER_OTLP_*``, ``OTEL_TRACES_EXPORTER``,
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` ...) keep their meaning; ours are ``LLM_SOC2_*``.
Every variable is listed in ``VARIABLES`` with its default and meaning; the README table is generated
from the same list (``llm-soc2 config --markdown``), so the two cannot drift apart.

A bad value never raises into the application: it is logged once and the default is used.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

_log = logging.getLogger(__name__)


class ContentCapture(enum.Enum):
    """Where message content is recorded (``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``)."""

    NO_CONTENT = "NO_CONTENT"
    SPAN_ONLY = "SPAN_ONLY"
    EVENT_ONLY = "EVENT_ONLY"
    SPAN_AND_EVENT = "SPAN_AND_EVENT"

    @property
    def on_span(self) -> bool:
        return self in (ContentCapture.SPAN_ONLY, ContentCapture.SPAN_AND_EVENT)

    @property
    def on_event(self) -> bool:
        return self in (ContentCapture.EVENT_ONLY, ContentCapture.SPAN_AND_EVENT)

    @classmethod
    def parse(cls, value: str) -> ContentCapture:
        normalised = value.strip().upper()
        if normalised in ("TRUE", "1", "YES", "ON"):
            return cls.SPAN_ONLY
        if normalised in ("FALSE", "0", "NO", "OFF"):
            return cls.NO_CONTENT
        return cls(normalised)


@dataclass(frozen=True)
class Variable:
    """One configuration variable: its name, default (as text), and what it means."""

    name: str
    default: str
    description: str
    owner: str = "llm-soc2"  # "OpenTelemetry" for variables OpenTelemetry defines


# The documented variables. OpenTelemetry's exporter variables (OTEL_EXPORTER_OTLP_*) are read by the SDK
# exporters themselves and are listed once in the README, not here.
VARIABLES: Final[tuple[Variable, ...]] = (
    Variable(
        "OTEL_SERVICE_NAME",
        "unknown_service",
        "Service name; also the default audit log id.",
        "OpenTelemetry",
    ),
    Variable(
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        "SPAN_ONLY",
        "Where prompts and responses are recorded: NO_CONTENT, SPAN_ONLY, EVENT_ONLY, SPAN_AND_EVENT "
        "(true/false accepted). Our default captures, because the processor scrubs before export.",
        "OpenTelemetry",
    ),
    Variable(
        "OTEL_SDK_DISABLED", "false", "Disable everything (no instrumentation, no pipeline).", "OpenTelemetry"
    ),
    Variable(
        "LLM_SOC2_DATA_DIR", ".llm-soc2", "Embedded state: SQLite audit log, keys, spill files, baselines."
    ),
    Variable(
        "LLM_SOC2_SECRET_KEY",
        "(generated in LLM_SOC2_DATA_DIR/secret.key)",
        "Deployment key (hex or base64, >= 32 bytes) for API-key fingerprints, end-user hashes and "
        "pseudonyms. Share it across a fleet so fingerprints match.",
    ),
    Variable(
        "LLM_SOC2_MAX_CONTENT_BYTES",
        "262144",
        "Content attributes larger than this are truncated (JSON kept valid).",
    ),
    Variable("LLM_SOC2_PII_ACTION", "mask", "Default redaction: mask, pseudonymize or drop."),
    Variable(
        "LLM_SOC2_PII_ACTIONS",
        "",
        "Per-entity actions, e.g. EMAIL=pseudonymize,CREDIT_CARD=drop.",
    ),
    Variable(
        "LLM_SOC2_PII_DISABLED", "", "Comma-separated detector entities to switch off, e.g. IP_ADDRESS."
    ),
    Variable(
        "LLM_SOC2_PII_NER",
        "false",
        "Enable person/location detection through Presidio + spaCy (extra [ner]).",
    ),
    Variable(
        "LLM_SOC2_SCRUB_TIMEOUT_MS",
        "50",
        "Per-span scrub budget, in CPU time of the scanning thread (waiting for the GIL or a core does not count); over it the content is dropped (fail closed).",
    ),
    Variable(
        "LLM_SOC2_PROCESSOR_BACKGROUND",
        "true",
        "Scrub, classify and audit GenAI spans, and record client histograms, on background threads.",
    ),
    Variable(
        "LLM_SOC2_PROCESSOR_QUEUE_SIZE",
        "512",
        "Items waiting for each background thread; past it the calling thread does its own work.",
    ),
    Variable(
        "LLM_SOC2_RISK_POLICY",
        "(built in)",
        "Path to a YAML risk policy mapping categories and scores to levels.",
    ),
    Variable("LLM_SOC2_AUDIT", "true", "Record every GenAI interaction in the tamper-evident audit log."),
    Variable(
        "LLM_SOC2_AUDIT_URL",
        "sqlite:///$LLM_SOC2_DATA_DIR/audit.db",
        "Audit store: a sqlite:/// path or a postgresql:// DSN.",
    ),
    Variable("LLM_SOC2_AUDIT_LOG_ID", "(service.name)", "Audit log id (one Merkle tree per log id)."),
    Variable(
        "LLM_SOC2_AUDIT_QUEUE_SIZE",
        "10000",
        "Records the app may hand over before the writer spills to disk.",
    ),
    Variable("LLM_SOC2_AUDIT_BATCH_SIZE", "500", "Records committed per transaction."),
    Variable("LLM_SOC2_AUDIT_FLUSH_INTERVAL", "1.0", "Seconds between writer flushes."),
    Variable("LLM_SOC2_CHECKPOINT_EVERY", "1000", "Sign a checkpoint every N records..."),
    Variable("LLM_SOC2_CHECKPOINT_INTERVAL", "60", "...or every T seconds, and on shutdown."),
    Variable(
        "LLM_SOC2_SIGNING_KEY",
        "$LLM_SOC2_DATA_DIR/keys/checkpoint.key",
        "Ed25519 checkpoint signing key file.",
    ),
    Variable(
        "LLM_SOC2_WITNESS_DIR",
        "$LLM_SOC2_DATA_DIR/witness",
        "Directory witness for checkpoints (e.g. a WORM mount).",
    ),
    Variable(
        "LLM_SOC2_CONTENT_KEY",
        "",
        "Master key (hex/base64, 32 bytes) to store raw content AES-256-GCM encrypted.",
    ),
    Variable("LLM_SOC2_RETENTION_DAYS", "365", "Retention period for content (purge removes older content)."),
    Variable("LLM_SOC2_DRIFT", "true", "Run the online drift monitor."),
    Variable("LLM_SOC2_DRIFT_INTERVAL", "60", "Seconds between drift tests."),
    Variable("LLM_SOC2_DRIFT_WINDOW", "1800", "Current-window length in seconds."),
    Variable(
        "LLM_SOC2_DRIFT_BASELINE",
        "(rolling)",
        "Name of a saved drift baseline (`llm-soc2 drift baseline save`) to compare with; empty: a rolling "
        "reference of the previous days at the same time of day.",
    ),
    Variable("LLM_SOC2_KEY_MAX_AGE_DAYS", "90", "API-key rotation policy: keys older than this are flagged."),
    Variable(
        "LLM_SOC2_KEY_ALLOWLIST",
        "",
        "Comma-separated API-key fingerprints that are expected; others are flagged.",
    ),
    Variable(
        "LLM_SOC2_PROMPT_REGISTRY",
        "llm-soc2.prompts.yaml",
        "Registry of approved prompt templates and models.",
    ),
    Variable(
        "LLM_SOC2_ENVIRONMENT", "(deployment.environment.name)", "Environment name recorded with changes."
    ),
    Variable(
        "LLM_SOC2_SERVE_TOKEN",
        "",
        "Bearer token `llm-soc2 serve` requires on every request but /healthz (>= 16 characters; "
        "`--token-file` reads it from a file instead). Read by `serve` only, never shown by `config`.",
    ),
    Variable(
        "LLM_SOC2_PAGERDUTY_TOKEN",
        "",
        "PagerDuty REST API token for `llm-soc2 incident sync --pagerduty` (extra [pagerduty]).",
        "pdpyras",
    ),
    Variable("GRAFANA_URL", "", "Grafana base URL (annotations witness, report source).", "grafana-client"),
    Variable("GRAFANA_TOKEN", "", "Grafana service-account token.", "grafana-client"),
)


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    _log.warning("%s=%r is not a boolean; using %s", name, raw, default)
    return default


def _env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        _log.warning("%s=%r is not an integer; using %s", name, raw, default)
        return default
    if value < minimum:
        _log.warning("%s=%r is below %s; using %s", name, raw, minimum, default)
        return default
    return value


def _env_float(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        _log.warning("%s=%r is not a number; using %s", name, raw, default)
        return default
    if not value >= minimum:  # also rejects NaN
        _log.warning("%s=%r is below %s; using %s", name, raw, minimum, default)
        return default
    return value


def _env_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _env_mapping(env: Mapping[str, str], name: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in _env_list(env, name):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            _log.warning("%s: ignoring %r (expected KEY=VALUE)", name, item)
            continue
        result[key.strip().upper()] = value.strip().lower()
    return result


def decode_key(text: str) -> bytes:
    """Decode a key given as hex or base64 (standard or URL-safe)."""
    import base64
    import binascii

    value = text.strip()
    try:
        return bytes.fromhex(value)
    except ValueError:
        pass
    try:
        return base64.b64decode(
            value + "=" * (-len(value) % 4),
            altchars=b"-_" if "-" in value or "_" in value else None,
            validate=True,
        )
    except (binascii.Error, ValueError) as exc:
        raise ValueError("key is neither hex nor base64") from exc


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. Build it with ``Settings.from_env()`` or pass fields explicitly."""

    service_name: str = "unknown_service"
    environment: str = ""
    sdk_disabled: bool = False
    content_capture: ContentCapture = ContentCapture.SPAN_ONLY
    data_dir: Path = Path(".llm-soc2")
    secret_key_hex: str = ""  # resolved lazily by deployment_key() when empty
    max_content_bytes: int = 262_144
    pii_action: str = "mask"
    pii_actions: Mapping[str, str] = field(default_factory=dict)
    pii_disabled: tuple[str, ...] = ()
    pii_ner: bool = False
    scrub_timeout_ms: float = 50.0
    processor_background: bool = True
    processor_queue_size: int = 512  # spans hold up to twice LLM_SOC2_MAX_CONTENT_BYTES each
    risk_policy: str = ""
    audit_enabled: bool = True
    audit_url: str = ""
    audit_log_id: str = ""
    audit_queue_size: int = 10_000
    audit_batch_size: int = 500
    audit_flush_interval: float = 1.0
    checkpoint_every: int = 1000
    checkpoint_interval: float = 60.0
    signing_key_path: str = ""
    witness_dir: str = ""
    content_key_hex: str = ""
    retention_days: int = 365
    drift_enabled: bool = True
    drift_interval: float = 60.0
    drift_window: float = 1800.0
    drift_baseline: str = ""
    key_max_age_days: int = 90
    key_allowlist: tuple[str, ...] = ()
    prompt_registry: str = "llm-soc2.prompts.yaml"
    grafana_url: str = ""
    grafana_token: str = dataclasses.field(default="", repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        service = env.get("OTEL_SERVICE_NAME", "").strip() or _service_from_resource(env) or "unknown_service"
        capture_raw = env.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "")
        capture = ContentCapture.SPAN_ONLY
        if capture_raw.strip():
            try:
                capture = ContentCapture.parse(capture_raw)
            except ValueError:
                _log.warning(
                    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=%r is not one of %s; using SPAN_ONLY",
                    capture_raw,
                    ", ".join(m.value for m in ContentCapture),
                )
        data_dir = Path(env.get("LLM_SOC2_DATA_DIR", "").strip() or ".llm-soc2")
        action = env.get("LLM_SOC2_PII_ACTION", "mask").strip().lower() or "mask"
        if action not in ("mask", "pseudonymize", "drop"):
            _log.warning("LLM_SOC2_PII_ACTION=%r is not mask, pseudonymize or drop; using mask", action)
            action = "mask"
        values: dict[str, Any] = {
            "service_name": service,
            "environment": env.get("LLM_SOC2_ENVIRONMENT", "").strip() or _environment_from_resource(env),
            "sdk_disabled": _env_bool(env, "OTEL_SDK_DISABLED", False),
            "content_capture": capture,
            "data_dir": data_dir,
            "secret_key_hex": env.get("LLM_SOC2_SECRET_KEY", "").strip(),
            "max_content_bytes": _env_int(env, "LLM_SOC2_MAX_CONTENT_BYTES", 262_144, minimum=256),
            "pii_action": action,
            "pii_actions": _env_mapping(env, "LLM_SOC2_PII_ACTIONS"),
            "pii_disabled": tuple(x.upper() for x in _env_list(env, "LLM_SOC2_PII_DISABLED")),
            "pii_ner": _env_bool(env, "LLM_SOC2_PII_NER", False),
            "scrub_timeout_ms": _env_float(env, "LLM_SOC2_SCRUB_TIMEOUT_MS", 50.0, minimum=0.1),
            "processor_background": _env_bool(env, "LLM_SOC2_PROCESSOR_BACKGROUND", True),
            "processor_queue_size": _env_int(env, "LLM_SOC2_PROCESSOR_QUEUE_SIZE", 512, minimum=1),
            "risk_policy": env.get("LLM_SOC2_RISK_POLICY", "").strip(),
            "audit_enabled": _env_bool(env, "LLM_SOC2_AUDIT", True),
            "audit_url": env.get("LLM_SOC2_AUDIT_URL", "").strip(),
            "audit_log_id": env.get("LLM_SOC2_AUDIT_LOG_ID", "").strip(),
            "audit_queue_size": _env_int(env, "LLM_SOC2_AUDIT_QUEUE_SIZE", 10_000, minimum=1),
            "audit_batch_size": _env_int(env, "LLM_SOC2_AUDIT_BATCH_SIZE", 500, minimum=1),
            "audit_flush_interval": _env_float(env, "LLM_SOC2_AUDIT_FLUSH_INTERVAL", 1.0, minimum=0.01),
            "checkpoint_every": _env_int(env, "LLM_SOC2_CHECKPOINT_EVERY", 1000, minimum=1),
            "checkpoint_interval": _env_float(env, "LLM_SOC2_CHECKPOINT_INTERVAL", 60.0, minimum=0.1),
            "signing_key_path": env.get("LLM_SOC2_SIGNING_KEY", "").strip(),
            "witness_dir": env.get("LLM_SOC2_WITNESS_DIR", "").strip(),
            "content_key_hex": env.get("LLM_SOC2_CONTENT_KEY", "").strip(),
            "retention_days": _env_int(env, "LLM_SOC2_RETENTION_DAYS", 365, minimum=1),
            "drift_enabled": _env_bool(env, "LLM_SOC2_DRIFT", True),
            "drift_interval": _env_float(env, "LLM_SOC2_DRIFT_INTERVAL", 60.0, minimum=0.01),
            "drift_window": _env_float(env, "LLM_SOC2_DRIFT_WINDOW", 1800.0, minimum=1.0),
            "drift_baseline": env.get("LLM_SOC2_DRIFT_BASELINE", "").strip(),
            "key_max_age_days": _env_int(env, "LLM_SOC2_KEY_MAX_AGE_DAYS", 90, minimum=1),
            "key_allowlist": _env_list(env, "LLM_SOC2_KEY_ALLOWLIST"),
            "prompt_registry": env.get("LLM_SOC2_PROMPT_REGISTRY", "").strip() or "llm-soc2.prompts.yaml",
            "grafana_url": env.get("GRAFANA_URL", "").strip(),
            "grafana_token": env.get("GRAFANA_TOKEN", "").strip(),
        }
        values.update(overrides)
        return cls(**values)

    # ----------------------------------------------------------------------------------------------
    # Derived values
    # ----------------------------------------------------------------------------------------------
    @property
    def resolved_audit_url(self) -> str:
        return self.audit_url or f"sqlite:///{(self.data_dir / 'audit.db').resolve()}"

    @property
    def resolved_audit_log_id(self) -> str:
        return self.audit_log_id or self.service_name

    @property
    def resolved_signing_key_path(self) -> Path:
        return (
            Path(self.signing_key_path)
            if self.signing_key_path
            else self.data_dir / "keys" / "checkpoint.key"
        )

    @property
    def resolved_witness_dir(self) -> Path:
        return Path(self.witness_dir) if self.witness_dir else self.data_dir / "witness"

    def __post_init__(self) -> None:
        if not isinstance(self.data_dir, Path):  # a str (or any os.PathLike) is as good as a Path
            object.__setattr__(self, "data_dir", Path(self.data_dir))

    def deployment_key(self) -> bytes:
        """The deployment's HMAC key: from ``LLM_SOC2_SECRET_KEY`` or a key file created once in the data dir."""
        if self.secret_key_hex:
            key = decode_key(self.secret_key_hex)
            if len(key) < 32:
                raise ValueError("LLM_SOC2_SECRET_KEY must hold at least 32 bytes")
            return key
        return _load_or_create_key_file(self.data_dir / "secret.key")


def _load_or_create_key_file(path: Path) -> bytes:
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    # O_EXCL: when two processes race, the loser reads the winner's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex())
    return key


def _resource_attributes(env: Mapping[str, str]) -> dict[str, str]:
    pairs = {}
    for item in env.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, sep, value = item.partition("=")
        if sep:
            pairs[key.strip()] = value.strip()
    return pairs


def _service_from_resource(env: Mapping[str, str]) -> str:
    return _resource_attributes(env).get("service.name", "")


def _environment_from_resource(env: Mapping[str, str]) -> str:
    attrs = _resource_attributes(env)
    return attrs.get("deployment.environment.name", "") or attrs.get("deployment.environment", "")


def markdown_table() -> str:
    """The README's configuration table."""
    lines = ["| Variable | Default | Defined by | Meaning |", "|---|---|---|---|"]
    for var in VARIABLES:
        lines.append(f"| `{var.name}` | `{var.default}` | {var.owner} | {var.description} |")
    return "\n".join(lines)
