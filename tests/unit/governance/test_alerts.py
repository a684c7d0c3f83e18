from __future__ import annotations

from typing import Any

import pytest
from governance_support import alertmanager_payload

from llm_soc2.governance.alerts import ALERTMANAGER, GRAFANA, PayloadError, parse_alertmanager, parse_grafana
from llm_soc2.governance.period import parse_rfc3339


def test_an_alertmanager_v4_notification_is_parsed() -> None:
    notification = parse_alertmanager(alertmanager_payload())
    assert notification.source == ALERTMANAGER
    assert notification.status == "firing"
    assert notification.title == "High-risk interactions"
    assert notification.severity == "critical"
    assert notification.fingerprints == ("c6eadffa33fcdf37",)
    assert notification.alert_names == ("LLMHighRisk",)
    assert notification.starts_at == parse_rfc3339("2025-06-15T15:00:00.123456Z")
    assert notification.ends_at is None  # firing: Go's zero time means "not ended"
    assert notification.url.startswith("http://prometheus:9090/")


def test_a_resolved_notification_carries_the_end() -> None:
    notification = parse_alertmanager(alertmanager_payload("resolved"))
    assert notification.ends_at == parse_rfc3339("2025-06-15T15:10:00Z")


def test_a_grafana_notification_is_parsed() -> None:
    payload = alertmanager_payload(version="1", orgId=1, title="[FIRING:1] LLMHighRisk", state="alerting")
    notification = parse_grafana(payload)
    assert notification.source == GRAFANA
    assert notification.title == "[FIRING:1] LLMHighRisk"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ([], "must be a JSON object"),
        (alertmanager_payload(version="3"), "unsupported Alertmanager webhook payload version"),
        (alertmanager_payload(status="burning"), "'status' must be"),
        (alertmanager_payload(alerts=[]), "'alerts' must be a non-empty list"),
        (alertmanager_payload(alerts=["x"]), r"alerts\[0\] must be a JSON object"),
        (alertmanager_payload(commonLabels={"a": {"b": 1}}), "must be a string"),
        (
            alertmanager_payload(alerts=[{"status": "firing", "startsAt": "yesterday"}]),
            "not an RFC 3339 time",
        ),
        (alertmanager_payload(alerts=[{}] * 1001), "too many alerts"),
        (alertmanager_payload(commonLabels={str(i): "x" for i in range(65)}), "more than 64"),
    ],
)
def test_malformed_notifications_are_rejected_with_the_reason(payload: Any, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        parse_alertmanager(payload)


def test_long_values_are_truncated() -> None:
    payload = alertmanager_payload(commonAnnotations={"summary": "x" * 10_000})
    notification = parse_alertmanager(payload)
    assert len(notification.common_annotations["summary"]) == 2048
    assert len(notification.title) == 200
