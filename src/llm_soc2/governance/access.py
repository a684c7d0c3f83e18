"""Access control (SOC 2 CC6): which API keys and end users used the LLM, and whether they should have.

At run time, :class:`AccessTracker` is an enricher of the span processor. Per GenAI span it reads the
API-key fingerprint (``llm_soc2.api_key.fingerprint``, a keyed HMAC: never the key) and the hashed
end-user id (``llm_soc2.end_user.hash``) and:

* writes a ``key`` audit record (``llm_soc2.api_key.event = first_use``) the first time a fingerprint
  is used (with the span's trace link);
* sets ``llm_soc2.api_key.known`` on the exported span when there is a key policy (an allow-list in
  ``LLM_SOC2_KEY_ALLOWLIST`` and/or keys registered with ``llm-soc2 keys register``): ``true`` for an
  allowed, unretired key, ``false`` otherwise (also counted in ``llm_soc2.api_key.unknown``); without
  a policy the attribute is absent;
* feeds the gauges ``llm_soc2.api_key.age`` (seconds since the key's registration or first use,
  whichever is earlier, per fingerprint: fingerprints are few), ``llm_soc2.api_key.max_age`` (the
  rotation policy, ``LLM_SOC2_KEY_MAX_AGE_DAYS``) and ``llm_soc2.end_users.active`` (distinct hashed
  end users in the last hour; never labelled by user).

Registrations and retirements are ``key`` records too (``llm-soc2 keys register|retire``); the tracker
learns them, and first uses from earlier runs, from the audit log on a background thread
(:meth:`AccessTracker.seed`).

Offline, :func:`inventory` builds the CC6 evidence for a period from the audit log: per fingerprint its
first/last use, services, models, age against the policy, registration, retirement, provider 401/403
errors; rotation events; end-user activity counts by hashed id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from llm_soc2 import semconv as sc
from llm_soc2.audit.record import KIND_INTERACTION, KIND_KEY, AuditRecord
from llm_soc2.config import Settings
from llm_soc2.fingerprint import FINGERPRINT_HEX_CHARS
from llm_soc2.governance._background import Throttled
from llm_soc2.governance._common import (
    BoundedSet,
    RecordReader,
    Submit,
    read_records,
    safe_submit,
    span_service,
    span_time,
    trace_ids,
)
from llm_soc2.governance.period import NS_PER_S, Period, format_ns
from llm_soc2.labels import LabelCap

if TYPE_CHECKING:
    from llm_soc2.processor import ProcessedInteraction

_log = logging.getLogger(__name__)

FIRST_USE: Final = "first_use"
REGISTER: Final = "register"
RETIRE: Final = "retire"
KEY_EVENTS: Final = (FIRST_USE, REGISTER, RETIRE)

# Provider answers that mean "this key may not do that": HTTP 401/403 as error.type values or status codes.
_AUTH_ERROR_TYPES: Final = {
    "401": 401,
    "403": 403,
    "AuthenticationError": 401,
    "PermissionDeniedError": 403,
    "authentication_error": 401,
    "permission_error": 403,
    "openai.AuthenticationError": 401,
    "openai.PermissionDeniedError": 403,
    "anthropic.AuthenticationError": 401,
    "anthropic.PermissionDeniedError": 403,
}
_PER_KEY_VALUES: Final = 16  # services / models remembered per key at run time


def is_fingerprint(value: str) -> bool:
    return len(value) == FINGERPRINT_HEX_CHARS and all(ch in "0123456789abcdef" for ch in value)


def auth_error(attributes: Mapping[str, Any]) -> int | None:
    """401 or 403 when the span records a provider authentication/permission error, else ``None``."""
    status = attributes.get(sc.HTTP_RESPONSE_STATUS_CODE)
    if status in (401, 403, "401", "403"):
        return int(status)
    error = attributes.get(sc.ERROR_TYPE)
    if isinstance(error, str):
        return _AUTH_ERROR_TYPES.get(error) or _AUTH_ERROR_TYPES.get(error.rsplit(".", 1)[-1])
    return None


@dataclass
class KeyPolicyState:
    """What the audit log says about keys: registrations, retirements, recorded first uses."""

    registered_at: dict[str, int] = field(default_factory=dict)
    retired: set[str] = field(default_factory=set)
    first_use: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_records(cls, records: Iterable[AuditRecord]) -> KeyPolicyState:
        state = cls()
        latest: dict[str, tuple[int, str]] = {}
        for record in records:
            event, fp = _key_event(record)
            if event is None or fp is None:
                continue
            moment = record.time_unix_nano
            if event == FIRST_USE:
                if fp not in state.first_use or moment < state.first_use[fp]:
                    state.first_use[fp] = moment
                continue
            if event == REGISTER:
                issued = record.attributes.get(sc.API_KEY_REGISTERED_AT)
                at = issued if isinstance(issued, int) and not isinstance(issued, bool) else moment
                state.registered_at[fp] = min(at, state.registered_at.get(fp, at))
            previous = latest.get(fp)
            if previous is None or moment >= previous[0]:
                latest[fp] = (moment, event)
        state.retired = {fp for fp, (_, event) in latest.items() if event == RETIRE}
        return state


def _key_event(record: AuditRecord) -> tuple[str | None, str | None]:
    if record.kind != KIND_KEY:
        return None, None
    event = record.attributes.get(sc.API_KEY_EVENT)
    fp = record.attributes.get(sc.API_KEY_FINGERPRINT)
    if event not in KEY_EVENTS or not isinstance(fp, str):
        return None, None  # e.g. the audit log's own signing-key records (llm_soc2.key.event)
    return str(event), fp


@dataclass
class _KeyUse:
    first: int
    last: int
    count: int = 0
    services: set[str] = field(default_factory=set)
    models: set[str] = field(default_factory=set)


class AccessTracker:
    """The access-control enricher (see the module docstring).

    App-thread cost: a few dict operations per span, no I/O, no lock on the common path. Memory is
    bounded: ``key_capacity`` fingerprints and ``user_capacity`` end-user hashes (beyond it new users
    are not counted until old ones expire; ``user_window`` seconds after their last activity).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        submit: Submit | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        user_window: float = 3600.0,
        user_capacity: int = 50_000,
        key_capacity: int = 256,
        key_active_window: float = 86400.0,
    ) -> None:
        self._settings = settings or Settings.from_env()
        self._submit = submit
        self._allowlist = frozenset(self._settings.key_allowlist)
        self._policy = KeyPolicyState()
        self._allowed: frozenset[str] = self._allowlist
        self._policy_active = bool(self._allowlist)
        self._recorded = BoundedSet(4 * key_capacity)  # fingerprints whose first use is in the log
        self._keys: OrderedDict[str, _KeyUse] = OrderedDict()
        self._key_capacity = key_capacity
        self._key_active_ns = int(key_active_window * NS_PER_S)
        self._keys_lock = threading.Lock()
        self._users: dict[str, int] = {}
        self._user_capacity = user_capacity
        self._user_window_ns = int(user_window * NS_PER_S)
        self._expire = Throttled(self._expire_users, min(60.0, user_window / 4), name="llm-soc2-end-users")
        self._logged: set[str] = set()
        self._fp_label = LabelCap(key_capacity)

        meter = metrics.get_meter(sc.INSTRUMENTATION_SCOPE, meter_provider=meter_provider)
        self._unknown = meter.create_counter(
            sc.METRIC_API_KEY_UNKNOWN,
            "{interaction}",
            "Interactions made with an API key that is not allowed (not in the allow-list or registered, or retired)",
        )
        meter.create_observable_gauge(
            sc.METRIC_API_KEY_AGE,
            [self._observe_ages],
            "s",
            "Age of each API key in use: seconds since its registration or first use",
        )
        meter.create_observable_gauge(
            sc.METRIC_API_KEY_MAX_AGE,
            [self._observe_max_age],
            "s",
            "The API-key rotation policy (LLM_SOC2_KEY_MAX_AGE_DAYS) in seconds",
        )
        meter.create_observable_gauge(
            sc.METRIC_END_USERS_ACTIVE,
            [self._observe_users],
            "{user}",
            "Distinct hashed end-user ids active in the last window",
        )

    def __repr__(self) -> str:
        return f"AccessTracker(allowlist={len(self._allowlist)} keys)"

    # -- state from the audit log -----------------------------------------------------------------------
    def seed(self, policy: KeyPolicyState) -> None:
        """Replace the registration/retirement state and learn recorded first uses."""
        self._policy = policy
        self._recorded.update(list(policy.first_use))
        self._allowed = frozenset((self._allowlist | set(policy.registered_at)) - policy.retired)
        self._policy_active = bool(self._allowlist or policy.registered_at or policy.retired)

    # -- the enricher -------------------------------------------------------------------------------------
    def __call__(self, interaction: ProcessedInteraction) -> None:
        attrs = interaction.attributes
        moment = span_time(interaction.span)
        fp = attrs.get(sc.API_KEY_FINGERPRINT)
        if isinstance(fp, str) and fp:
            self._use_key(fp, interaction, moment)
            if self._policy_active:
                known = fp in self._allowed
                attrs[sc.API_KEY_KNOWN] = known
                if not known:
                    try:
                        self._unknown.add(1, {sc.API_KEY_FINGERPRINT: self._fp_label(fp)})
                    except Exception:
                        self._log_once("metric", "recording llm_soc2.api_key.unknown failed")
        user = attrs.get(sc.END_USER_HASH)
        if isinstance(user, str) and user:
            users = self._users
            if user in users or len(users) < self._user_capacity:
                users[user] = moment
            self._expire.poke()

    def _use_key(self, fp: str, interaction: ProcessedInteraction, moment: int) -> None:
        use = self._keys.get(fp)
        if use is None:
            with self._keys_lock:
                use = self._keys.get(fp)
                if use is None:
                    use = _KeyUse(first=moment, last=moment)
                    self._keys[fp] = use
                    while len(self._keys) > self._key_capacity:
                        self._keys.popitem(last=False)
            if fp not in self._recorded and self._recorded.add(fp):
                self._record_first_use(fp, interaction, moment)
        if moment > use.last:
            use.last = moment
        use.count += 1
        attrs = interaction.attributes
        if len(use.services) < _PER_KEY_VALUES:
            use.services.add(span_service(interaction.span, self._settings.service_name))
        model = attrs.get(sc.GEN_AI_RESPONSE_MODEL) or attrs.get(sc.GEN_AI_REQUEST_MODEL)
        if isinstance(model, str) and model and len(use.models) < _PER_KEY_VALUES:
            use.models.add(model)

    def _record_first_use(self, fp: str, interaction: ProcessedInteraction, moment: int) -> None:
        attrs = interaction.attributes
        trace_id, span_id = trace_ids(interaction.span)
        record_attrs: dict[str, Any] = {
            sc.API_KEY_EVENT: FIRST_USE,
            sc.API_KEY_FINGERPRINT: fp,
        }
        if self._settings.environment:
            record_attrs[sc.DEPLOYMENT_ENVIRONMENT] = self._settings.environment
        for name in (sc.GEN_AI_PROVIDER_NAME, sc.GEN_AI_REQUEST_MODEL, sc.GEN_AI_RESPONSE_MODEL):
            value = attrs.get(name)
            if isinstance(value, str) and value:
                record_attrs[name] = value
        if self._policy_active:
            record_attrs[sc.API_KEY_KNOWN] = fp in self._allowed
        record = AuditRecord(
            kind=KIND_KEY,
            time_unix_nano=moment,
            service=span_service(interaction.span, self._settings.service_name),
            trace_id=trace_id,
            span_id=span_id,
            attributes=record_attrs,
        )
        safe_submit(self._submit, record, self._logged)

    # -- gauges (called on the metric reader's thread) ---------------------------------------------------
    def key_ages(self, now: int | None = None) -> dict[str, float]:
        """Seconds since registration or first use for every key in use (used in the last day by this
        process, or registered and not retired)."""
        current = time.time_ns() if now is None else now
        policy = self._policy
        with self._keys_lock:
            used = {
                fp: use.first for fp, use in self._keys.items() if current - use.last <= self._key_active_ns
            }
        candidates = set(used) | (set(policy.registered_at) - policy.retired)
        ages: dict[str, float] = {}
        for fp in candidates:
            starts = [t for t in (policy.registered_at.get(fp), policy.first_use.get(fp), used.get(fp)) if t]
            if starts:
                ages[fp] = max(0.0, (current - min(starts)) / NS_PER_S)
        return ages

    def active_users(self, now: int | None = None) -> int:
        current = time.time_ns() if now is None else now
        cutoff = current - self._user_window_ns
        return sum(1 for last in list(self._users.values()) if last >= cutoff)

    def _observe_ages(self, _options: CallbackOptions) -> Iterator[Observation]:
        for fp, age in sorted(self.key_ages().items()):
            yield Observation(age, {sc.API_KEY_FINGERPRINT: fp})

    def _observe_max_age(self, _options: CallbackOptions) -> Iterator[Observation]:
        yield Observation(float(self._settings.key_max_age_days * 86400))

    def _observe_users(self, _options: CallbackOptions) -> Iterator[Observation]:
        yield Observation(self.active_users())

    def _expire_users(self) -> None:
        cutoff = time.time_ns() - self._user_window_ns
        for user, last in list(self._users.items()):
            if last < cutoff and self._users.get(user) == last:
                self._users.pop(user, None)

    def _log_once(self, kind: str, message: str) -> None:
        if kind not in self._logged:
            self._logged.add(kind)
            _log.warning("llm-soc2: %s", message, exc_info=True)


# ------------------------------------------------------------------------------------------------------
# Offline: the CC6 inventory for a period
# ------------------------------------------------------------------------------------------------------
ACTIVE: Final = "active"
RETIRED: Final = "retired"
UNKNOWN: Final = "unknown"


@dataclass
class KeyEntry:
    fingerprint: str
    first_use: int | None = None  # earliest use recorded (first_use record, or the period's interactions)
    first_use_in_period: int | None = None
    last_use: int | None = None  # latest use in the period
    interactions: int = 0  # in the period
    services: set[str] = field(default_factory=set)
    models: set[str] = field(default_factory=set)
    providers: set[str] = field(default_factory=set)
    auth_errors: dict[int, int] = field(default_factory=dict)  # 401/403 -> count in the period
    registered_at: int | None = None
    registered_seq: int | None = None
    owner: str = ""
    replaces: str = ""
    replaced_by: str = ""
    retired_at: int | None = None
    retired_seq: int | None = None
    first_use_seq: int | None = None
    first_use_trace_id: str = ""
    age_days: float | None = None
    overdue: bool = False
    known: bool | None = None  # None: no key policy
    status: str = ACTIVE

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "status": self.status,
            "known": self.known,
            "first_use": format_ns(self.first_use) if self.first_use else None,
            "last_use": format_ns(self.last_use) if self.last_use else None,
            "first_use_in_period": format_ns(self.first_use_in_period) if self.first_use_in_period else None,
            "interactions": self.interactions,
            "services": sorted(self.services),
            "models": sorted(self.models),
            "providers": sorted(self.providers),
            "auth_errors": {str(code): n for code, n in sorted(self.auth_errors.items())},
            "registered_at": format_ns(self.registered_at) if self.registered_at else None,
            "registered_seq": self.registered_seq,
            "owner": self.owner,
            "replaces": self.replaces or None,
            "replaced_by": self.replaced_by or None,
            "retired_at": format_ns(self.retired_at) if self.retired_at else None,
            "retired_seq": self.retired_seq,
            "first_use_seq": self.first_use_seq,
            "first_use_trace_id": self.first_use_trace_id or None,
            "age_days": None if self.age_days is None else round(self.age_days, 2),
            "overdue": self.overdue,
        }


@dataclass
class KeyEvent:
    """A rotation event: a key introduced (first use), registered or retired in the period."""

    time_unix_nano: int
    event: str  # "introduced" | "registered" | "retired"
    fingerprint: str
    seq: int | None
    replaces: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "time": format_ns(self.time_unix_nano),
            "event": self.event,
            "fingerprint": self.fingerprint,
            "seq": self.seq,
            "replaces": self.replaces or None,
        }


@dataclass
class Inventory:
    period: Period
    max_age_days: int
    policy: str  # "allowlist+registry" | "allowlist" | "registry" | "none"
    keys: list[KeyEntry]
    events: list[KeyEvent]
    end_users: dict[str, int]  # hashed id -> interactions in the period
    unattributed_interactions: int  # interactions without a key fingerprint
    auth_errors: dict[int, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period.to_json(),
            "max_age_days": self.max_age_days,
            "policy": self.policy,
            "keys": [k.to_json() for k in self.keys],
            "events": [e.to_json() for e in self.events],
            "end_users": {
                "distinct": len(self.end_users),
                "interactions": dict(sorted(self.end_users.items())),
            },
            "unattributed_interactions": self.unattributed_interactions,
            "auth_errors": {str(code): n for code, n in sorted(self.auth_errors.items())},
        }


def inventory(
    log: RecordReader,
    period: Period,
    *,
    max_age_days: int,
    allowlist: Iterable[str] = (),
    log_id: str | None = None,
    now: int | None = None,
) -> Inventory:
    """The CC6 evidence for ``period`` from ``key`` and ``interaction`` records (see the module doc).

    Age is measured from the earlier of registration and first use, at the end of the period (or at
    retirement); a key is *overdue* when it was used in the period after exceeding ``max_age_days``, or
    is registered, unretired and over age at the end of the period.
    """
    allowed_list = frozenset(allowlist)
    entries: dict[str, KeyEntry] = {}
    events: list[KeyEvent] = []

    def entry(fp: str) -> KeyEntry:
        found = entries.get(fp)
        if found is None:
            found = entries[fp] = KeyEntry(fp)
        return found

    latest_event: dict[str, tuple[int, str]] = {}
    for record in read_records(log, until=period.end, kinds=(KIND_KEY,), log_id=log_id):
        event, fp = _key_event(record)
        if event is None or fp is None:
            continue
        item, moment, attrs = entry(fp), record.time_unix_nano, record.attributes
        if event == FIRST_USE:
            if item.first_use is None or moment < item.first_use:
                item.first_use, item.first_use_seq, item.first_use_trace_id = (
                    moment,
                    record.seq,
                    record.trace_id,
                )
            continue
        if event == REGISTER:
            issued = attrs.get(sc.API_KEY_REGISTERED_AT)
            at = issued if isinstance(issued, int) and not isinstance(issued, bool) else moment
            if item.registered_at is None or at < item.registered_at:
                item.registered_at, item.registered_seq = at, record.seq
            item.owner = str(attrs.get(sc.API_KEY_OWNER, "") or item.owner)
            replaces = attrs.get(sc.API_KEY_REPLACES)
            if isinstance(replaces, str) and replaces:
                item.replaces = replaces
                entry(replaces).replaced_by = fp
            if moment in period:
                events.append(KeyEvent(moment, "registered", fp, record.seq, item.replaces))
        elif event == RETIRE and moment in period:
            events.append(KeyEvent(moment, "retired", fp, record.seq))
        previous = latest_event.get(fp)
        if previous is None or moment >= previous[0]:
            latest_event[fp] = (moment, event)
            if event == RETIRE:
                item.retired_at, item.retired_seq = moment, record.seq
            else:
                item.retired_at, item.retired_seq = None, None

    end_users: dict[str, int] = {}
    unattributed = 0
    auth_totals: dict[int, int] = {}
    for record in read_records(
        log, since=period.start, until=period.end, kinds=(KIND_INTERACTION,), log_id=log_id
    ):
        attrs, moment = record.attributes, record.time_unix_nano
        code = auth_error(attrs)
        if code is not None:
            auth_totals[code] = auth_totals.get(code, 0) + 1
        user = attrs.get(sc.END_USER_HASH)
        if isinstance(user, str) and user:
            end_users[user] = end_users.get(user, 0) + 1
        fp = attrs.get(sc.API_KEY_FINGERPRINT)
        if not isinstance(fp, str) or not fp:
            unattributed += 1
            continue
        item = entry(fp)
        if item.first_use is None or moment < item.first_use:
            item.first_use = moment
        if item.first_use_in_period is None or moment < item.first_use_in_period:
            item.first_use_in_period = moment
        if item.last_use is None or moment > item.last_use:
            item.last_use = moment
        item.interactions += 1
        item.services.add(record.service)
        for name in (sc.GEN_AI_RESPONSE_MODEL, sc.GEN_AI_REQUEST_MODEL):
            model = attrs.get(name)
            if isinstance(model, str) and model:
                item.models.add(model)
                break
        provider = attrs.get(sc.GEN_AI_PROVIDER_NAME) or attrs.get(sc.GEN_AI_SYSTEM)
        if isinstance(provider, str) and provider:
            item.providers.add(provider)
        if code is not None:
            item.auth_errors[code] = item.auth_errors.get(code, 0) + 1

    registered = {fp for fp, item in entries.items() if item.registered_at is not None}
    retired = {fp for fp, item in entries.items() if item.retired_at is not None}
    policy_active = bool(allowed_list or registered or retired)
    allowed = (allowed_list | registered) - retired
    max_age_ns = max_age_days * 86400 * NS_PER_S
    horizon = min(period.end, time.time_ns() if now is None else now)
    for fp, item in entries.items():
        starts = [t for t in (item.registered_at, item.first_use) if t is not None]
        start = min(starts) if starts else None
        if item.first_use is not None and item.first_use in period:
            events.append(KeyEvent(item.first_use, "introduced", fp, item.first_use_seq, item.replaces))
        if start is not None:
            end = item.retired_at if item.retired_at is not None else horizon
            item.age_days = max(0, end - start) / (86400 * NS_PER_S)
            used_overdue = item.last_use is not None and item.last_use - start > max_age_ns
            held_overdue = (
                item.retired_at is None and item.registered_at is not None and horizon - start > max_age_ns
            )
            item.overdue = used_overdue or held_overdue
        if policy_active:
            item.known = fp in allowed
        item.status = RETIRED if item.retired_at is not None else (UNKNOWN if item.known is False else ACTIVE)

    keys = sorted(
        (item for item in entries.values() if is_fingerprint(item.fingerprint) or item.interactions),
        key=lambda k: (k.first_use or 0, k.fingerprint),
    )
    events.sort(key=lambda e: (e.time_unix_nano, e.fingerprint))
    policy = "+".join(
        name for name, on in (("allowlist", allowed_list), ("registry", registered or retired)) if on
    )
    return Inventory(
        period=period,
        max_age_days=max_age_days,
        policy=policy or "none",
        keys=keys,
        events=events,
        end_users=end_users,
        unattributed_interactions=unattributed,
        auth_errors=auth_totals,
    )


def key_record(
    event: str,
    fingerprint: str,
    *,
    service: str = "",
    registered_at: int | None = None,
    replaces: str = "",
    owner: str = "",
    note: str = "",
    now: int | None = None,
) -> AuditRecord:
    """A ``register`` or ``retire`` record (``llm-soc2 keys register|retire``)."""
    attrs: dict[str, Any] = {sc.API_KEY_EVENT: event, sc.API_KEY_FINGERPRINT: fingerprint}
    if registered_at is not None:
        attrs[sc.API_KEY_REGISTERED_AT] = registered_at
    if replaces:
        attrs[sc.API_KEY_REPLACES] = replaces
    if owner:
        attrs[sc.API_KEY_OWNER] = owner
    if note:
        attrs[sc.API_KEY_NOTE] = note
    return AuditRecord(
        kind=KIND_KEY,
        time_unix_nano=time.time_ns() if now is None else now,
        service=service,
        attributes=attrs,
    )
