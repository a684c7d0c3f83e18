"""Incidents as audit records: open/ack/resolve, alert notifications, links, durations."""

from __future__ import annotations

import json

import pytest
from governance_support import alertmanager_payload

from llm_soc2 import semconv as sc
from llm_soc2.audit import AuditLog, AuditRecord
from llm_soc2.governance.alerts import parse_alertmanager
from llm_soc2.governance.incidents import (
    ACKNOWLEDGED,
    OPEN,
    OPENED,
    RESOLVED,
    UNCHANGED,
    UPDATED,
    IncidentDesk,
    IncidentError,
    link,
)
from llm_soc2.governance.period import NS_PER_S, Period, parse_rfc3339

STARTS = parse_rfc3339("2025-06-15T15:00:00Z") or 0
MINUTE = 60 * NS_PER_S


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * NS_PER_S)


@pytest.fixture
def clock() -> Clock:
    return Clock(STARTS + MINUTE)


@pytest.fixture
def desk(audit_log: AuditLog, clock: Clock) -> IncidentDesk:
    return IncidentDesk(audit_log, service="llm-soc2", clock=clock)


def _interaction(moment: int, **attrs: object) -> AuditRecord:
    return AuditRecord(
        kind="interaction",
        time_unix_nano=moment,
        service="support-bot",
        trace_id=f"{moment:032x}",
        attributes=attrs,
    )


def test_manual_incident_has_time_to_acknowledge_and_resolve(
    desk: IncidentDesk, clock: Clock, audit_log: AuditLog
) -> None:
    incident = desk.open("PII sent to vendor", severity="high", actor="alice", note="from a customer ticket")
    assert incident.state == OPEN
    clock.advance(300)
    incident = desk.acknowledge(incident.id, actor="bob")
    assert incident.state == ACKNOWLEDGED
    assert incident.tta_seconds == 300
    clock.advance(3600)
    incident = desk.resolve(incident.id, actor="bob", note="prompt filter deployed")
    assert incident.state == RESOLVED
    assert incident.ttr_seconds == 3900
    assert incident.tta_seconds == 300
    assert [(h.event, h.actor) for h in incident.history] == [
        (OPENED, "alice"),
        (ACKNOWLEDGED, "bob"),
        (RESOLVED, "bob"),
    ]

    records = list(audit_log.records(kinds={"incident"}))
    assert [r.attributes[sc.INCIDENT_STATE] for r in records] == [OPEN, ACKNOWLEDGED, RESOLVED]
    assert records[2].attributes[sc.INCIDENT_TTR_SECONDS] == 3900
    assert records[2].attributes[sc.INCIDENT_TTA_SECONDS] == 300
    assert {r.attributes[sc.INCIDENT_ID] for r in records} == {incident.id}


def test_invalid_transitions_say_why(desk: IncidentDesk) -> None:
    incident = desk.open("x")
    desk.resolve(incident.id)
    with pytest.raises(IncidentError, match="already resolved"):
        desk.acknowledge(incident.id)
    with pytest.raises(IncidentError, match="already resolved"):
        desk.resolve(incident.id)
    with pytest.raises(IncidentError, match="no incident"):
        desk.get("INC-nope")
    with pytest.raises(IncidentError, match="title"):
        desk.open("  ")
    other = desk.open("y")
    desk.acknowledge(other.id)
    with pytest.raises(IncidentError, match="already acknowledged"):
        desk.acknowledge(other.id)


def test_alerts_open_update_and_resolve_the_same_incident(
    desk: IncidentDesk, clock: Clock, audit_log: AuditLog
) -> None:
    audit_log.append(
        [
            _interaction(
                STARTS - 2 * MINUTE, **{sc.RISK_CATEGORIES: ["prompt_injection"], sc.RISK_LEVEL: "high"}
            ),
            _interaction(STARTS - MINUTE, **{sc.RISK_CATEGORIES: ["refusal"], sc.RISK_LEVEL: "low"}),
            _interaction(
                STARTS - 30 * NS_PER_S, **{sc.RISK_CATEGORIES: ["prompt_injection"], sc.RISK_LEVEL: "high"}
            ),
            _interaction(
                STARTS - 60 * MINUTE, **{sc.RISK_CATEGORIES: ["prompt_injection"]}
            ),  # before the window
        ]
    )
    opened = desk.handle(parse_alertmanager(alertmanager_payload()))
    assert opened.event == OPENED
    incident = opened.incident
    assert incident.source == "alertmanager"
    assert incident.severity == "critical"
    assert incident.alert_names == ["LLMHighRisk"]
    assert incident.linked_count == 2  # the two prompt-injection interactions in the window
    assert incident.linked_trace_ids == [f"{STARTS - 2 * MINUTE:032x}", f"{STARTS - 30 * NS_PER_S:032x}"]
    assert len(incident.linked_seqs) == 2
    assert (
        json.loads(audit_log.records(kinds={"incident"}).__next__().attributes[sc.INCIDENT_ALERT_LABELS])[
            "llm_soc2_risk_category"
        ]
        == "prompt_injection"
    )

    clock.advance(60)
    assert desk.handle(parse_alertmanager(alertmanager_payload())).event == UNCHANGED  # a repeat
    second = alertmanager_payload()
    second["alerts"].append({**second["alerts"][0], "fingerprint": "0000000000000002"})
    updated = desk.handle(parse_alertmanager(second))
    assert updated.event == UPDATED
    assert updated.incident.id == incident.id
    assert updated.incident.alert_fingerprints == ["0000000000000002", "c6eadffa33fcdf37"]

    clock.advance(540)
    resolved = desk.handle(parse_alertmanager(alertmanager_payload("resolved")))
    assert resolved.event == RESOLVED
    assert resolved.incident.id == incident.id
    assert resolved.incident.ttr_seconds == 600
    assert resolved.incident.tta_seconds is None  # nobody acknowledged it
    assert desk.handle(parse_alertmanager(alertmanager_payload("resolved"))).event == UNCHANGED

    clock.advance(3600)
    again = dict(
        alertmanager_payload(),
        alerts=[{**alertmanager_payload()["alerts"][0], "startsAt": "2025-06-15T16:00:00Z"}],
    )
    reopened = desk.handle(parse_alertmanager(again))
    assert reopened.event == OPENED
    assert reopened.incident.id != incident.id  # a new episode of the same alert group


def test_a_resolved_notification_without_its_firing_opens_and_resolves(desk: IncidentDesk) -> None:
    outcome = desk.handle(parse_alertmanager(alertmanager_payload("resolved")))
    assert outcome.event == RESOLVED
    incident = outcome.incident
    assert incident.opened_at == parse_rfc3339("2025-06-15T15:00:00.123456Z")  # the alert's start
    assert incident.state == RESOLVED
    assert "not received" in incident.history[0].note


def test_listing_by_period_and_state(desk: IncidentDesk, clock: Clock) -> None:
    first = desk.open("first")
    clock.advance(3600)
    desk.resolve(first.id)
    clock.advance(86400)
    second = desk.open("second")
    day_one = Period(STARTS, STARTS + 86400 * NS_PER_S)
    assert [i.id for i in desk.list(day_one)] == [first.id]
    assert [i.id for i in desk.list(None, OPEN)] == [second.id]
    assert [i.id for i in desk.list()] == [first.id, second.id]


def test_links_match_labels_to_attributes(audit_log: AuditLog) -> None:
    audit_log.append(
        [
            _interaction(STARTS, **{sc.GEN_AI_REQUEST_MODEL: "gpt-4o", sc.CHANGE_APPROVED: False}),
            _interaction(STARTS + 1, **{sc.GEN_AI_REQUEST_MODEL: "gpt-4o", sc.CHANGE_APPROVED: True}),
            _interaction(STARTS + 2, **{sc.GEN_AI_REQUEST_MODEL: "claude", sc.PII_TYPES: ["EMAIL"]}),
        ]
    )
    window = (STARTS, STARTS + MINUTE)
    assert link(audit_log, *window, {"gen_ai_request_model": "gpt-4o"}).count == 2
    assert (
        link(
            audit_log, *window, {"gen_ai_request_model": "gpt-4o", "llm_soc2_change_approved": "false"}
        ).count
        == 1
    )
    assert link(audit_log, *window, {"llm_soc2_pii_type": "EMAIL"}).count == 1
    assert link(audit_log, *window, {"service_name": "other"}).count == 0
    assert (
        link(audit_log, *window, {"alertname": "X", "instance": "y"}).count == 3
    )  # unmapped labels: the window
    assert link(audit_log, *window, {}, limit=2).seqs == (1, 2)
