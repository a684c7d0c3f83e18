"""Access control through the real span processor and a real SQLite audit log."""

from __future__ import annotations

import time
from pathlib import Path

from governance_support import SERVICE, Pipeline, build_pipeline, make_settings

from llm_soc2 import semconv as sc
from llm_soc2.audit import AuditLog, AuditRecord
from llm_soc2.governance.access import (
    FIRST_USE,
    REGISTER,
    RETIRE,
    AccessTracker,
    KeyPolicyState,
    auth_error,
    inventory,
    key_record,
)
from llm_soc2.governance.period import NS_PER_S, Period

OLD_KEY = "0000000000000a11"
NEW_KEY = "0000000000000b22"
STRANGER = "0000000000000c33"
DAY = 86400 * NS_PER_S


def _use(
    pipeline: Pipeline, fingerprint: str | None, user: str | None = None, **extra: object
) -> dict[str, object]:
    span = pipeline.span({sc.API_KEY_FINGERPRINT: fingerprint, sc.END_USER_HASH: user, **extra})
    return dict(span.attributes or {})


def test_first_use_of_each_key_is_recorded_once_with_a_trace_link(pipeline: Pipeline) -> None:
    attrs = _use(pipeline, OLD_KEY)
    _use(pipeline, OLD_KEY)
    _use(pipeline, NEW_KEY)
    records = pipeline.kinds("key")
    assert [(r.attributes[sc.API_KEY_EVENT], r.attributes[sc.API_KEY_FINGERPRINT]) for r in records] == [
        (FIRST_USE, OLD_KEY),
        (FIRST_USE, NEW_KEY),
    ]
    assert records[0].service == SERVICE
    assert records[0].attributes[sc.GEN_AI_REQUEST_MODEL] == "gpt-4o"
    assert records[0].trace_id
    assert sc.API_KEY_KNOWN not in attrs  # no allow-list, nothing registered: no key policy


def test_keys_outside_the_allowlist_are_flagged_and_counted(tmp_path: Path) -> None:
    pipeline = build_pipeline(make_settings(tmp_path, key_allowlist=(OLD_KEY,)))
    assert _use(pipeline, OLD_KEY)[sc.API_KEY_KNOWN] is True
    assert _use(pipeline, STRANGER)[sc.API_KEY_KNOWN] is False
    _use(pipeline, STRANGER)
    assert pipeline.metric(sc.METRIC_API_KEY_UNKNOWN) == [({sc.API_KEY_FINGERPRINT: STRANGER}, 2)]


def test_registered_keys_are_known_and_retired_ones_are_not(pipeline: Pipeline) -> None:
    now = time.time_ns()
    state = KeyPolicyState.from_records(
        [
            key_record(REGISTER, OLD_KEY, now=now - 2 * DAY),
            key_record(REGISTER, NEW_KEY, now=now - DAY, replaces=OLD_KEY),
            key_record(RETIRE, OLD_KEY, now=now),
        ]
    )
    assert state.retired == {OLD_KEY}
    pipeline.governance.access.seed(state)
    assert _use(pipeline, NEW_KEY)[sc.API_KEY_KNOWN] is True
    assert _use(pipeline, OLD_KEY)[sc.API_KEY_KNOWN] is False  # a retired key still in use


def test_key_age_counts_from_registration_or_first_use(pipeline: Pipeline) -> None:
    now = time.time_ns()
    tracker: AccessTracker = pipeline.governance.access
    tracker.seed(
        KeyPolicyState.from_records(
            [key_record(REGISTER, OLD_KEY, registered_at=now - 100 * DAY, now=now - DAY)]
        )
    )
    _use(pipeline, OLD_KEY)
    _use(pipeline, NEW_KEY)
    ages = dict(
        (labels[sc.API_KEY_FINGERPRINT], value) for labels, value in pipeline.metric(sc.METRIC_API_KEY_AGE)
    )
    assert 99.9 < ages[OLD_KEY] / 86400 < 100.1  # overdue against the 90-day default
    assert ages[NEW_KEY] < 60  # first used just now
    assert pipeline.metric(sc.METRIC_API_KEY_MAX_AGE) == [({}, 90 * 86400.0)]


def test_active_end_users_are_counted_not_labelled(pipeline: Pipeline) -> None:
    for user in ("u1", "u2", "u1", "u3"):
        _use(pipeline, OLD_KEY, user=f"{user:0>16}")
    assert pipeline.metric(sc.METRIC_END_USERS_ACTIVE) == [({}, 3)]


def test_end_user_memory_is_bounded(pipeline: Pipeline) -> None:
    pipeline.governance.access._user_capacity = 2
    for user in ("a", "b", "c", "a"):
        _use(pipeline, OLD_KEY, user=f"{user:0>16}")
    assert pipeline.metric(sc.METRIC_END_USERS_ACTIVE) == [({}, 2)]  # "c" arrived when the table was full


def test_auth_errors_are_recognised_by_type_or_status() -> None:
    assert auth_error({sc.ERROR_TYPE: "AuthenticationError", sc.HTTP_RESPONSE_STATUS_CODE: 401}) == 401
    assert auth_error({sc.ERROR_TYPE: "PermissionDeniedError"}) == 403
    assert auth_error({sc.HTTP_RESPONSE_STATUS_CODE: 403}) == 403
    assert auth_error({sc.ERROR_TYPE: "RateLimitError", sc.HTTP_RESPONSE_STATUS_CODE: 429}) is None


def _interaction(moment: int, fingerprint: str | None, **attrs: object) -> AuditRecord:
    attributes: dict[str, object] = {sc.GEN_AI_REQUEST_MODEL: "gpt-4o", sc.GEN_AI_PROVIDER_NAME: "openai"}
    if fingerprint:
        attributes[sc.API_KEY_FINGERPRINT] = fingerprint
    attributes.update(attrs)
    return AuditRecord(kind="interaction", time_unix_nano=moment, service=SERVICE, attributes=attributes)


def test_inventory_shows_rotation_usage_age_and_errors(audit_log: AuditLog) -> None:
    now = time.time_ns()
    t0 = now - 120 * DAY
    audit_log.append(
        [
            AuditRecord(
                kind="key",
                time_unix_nano=t0,
                service=SERVICE,
                trace_id="ab" * 16,
                attributes={sc.API_KEY_EVENT: FIRST_USE, sc.API_KEY_FINGERPRINT: OLD_KEY},
            ),
            _interaction(t0, OLD_KEY, **{sc.END_USER_HASH: "u" * 16}),
            _interaction(now - 10 * DAY, OLD_KEY, **{sc.END_USER_HASH: "u" * 16}),
            key_record(REGISTER, NEW_KEY, now=now - 5 * DAY, replaces=OLD_KEY, owner="platform"),
            _interaction(
                now - 4 * DAY, NEW_KEY, **{sc.END_USER_HASH: "v" * 16, sc.GEN_AI_RESPONSE_MODEL: "gpt-4o-x"}
            ),
            key_record(RETIRE, OLD_KEY, now=now - 3 * DAY),
            _interaction(
                now - 2 * DAY,
                NEW_KEY,
                **{sc.ERROR_TYPE: "AuthenticationError", sc.HTTP_RESPONSE_STATUS_CODE: 401},
            ),
            _interaction(now - DAY, STRANGER),
            _interaction(now - DAY, None),
        ]
    )
    period = Period(now - 30 * DAY, now)
    result = inventory(audit_log, period, max_age_days=90, now=now)
    keys = {k.fingerprint: k for k in result.keys}
    old, new, stranger = keys[OLD_KEY], keys[NEW_KEY], keys[STRANGER]

    assert old.first_use == t0  # from its first_use record, before the period
    assert old.last_use == now - 10 * DAY
    assert old.interactions == 1
    assert old.overdue  # used in the period at 110 days old
    assert old.status == "retired"
    assert old.replaced_by == NEW_KEY
    assert 116.9 < (old.age_days or 0) < 117.1  # lifetime: first use to retirement

    assert new.registered_at == now - 5 * DAY
    assert new.first_use == now - 4 * DAY
    assert new.last_use == now - 2 * DAY
    assert new.models == {"gpt-4o-x", "gpt-4o"}
    assert new.services == {SERVICE}
    assert new.auth_errors == {401: 1}
    assert new.known is True
    assert not new.overdue
    assert new.owner == "platform"

    assert stranger.known is False  # registered keys make a policy; this one is not in it
    assert stranger.status == "unknown"
    assert result.policy == "registry"
    assert result.auth_errors == {401: 1}
    assert result.end_users == {"u" * 16: 1, "v" * 16: 1}
    assert result.unattributed_interactions == 1
    assert [(e.event, e.fingerprint) for e in result.events] == [
        ("registered", NEW_KEY),
        ("introduced", NEW_KEY),
        ("retired", OLD_KEY),
        ("introduced", STRANGER),
    ]
