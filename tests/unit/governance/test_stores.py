"""The governance records on both audit stores: SQLite and a real PostgreSQL server (``postgres_dsn``)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from llm_soc2 import semconv as sc
from llm_soc2.audit import AuditLog, AuditRecord
from llm_soc2.config import Settings
from llm_soc2.governance import IncidentDesk, approve, inventory, population, read_registry
from llm_soc2.governance.access import REGISTER, RETIRE, key_record
from llm_soc2.governance.changes import APPROVED_LATE
from llm_soc2.governance.period import NS_PER_S, Period

FP = "00000000000000aa"
HASH = "0123456789abcdef"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def store_log(request: pytest.FixtureRequest, settings: Settings) -> Iterator[AuditLog]:
    url = (
        settings.resolved_audit_url if request.param == "sqlite" else request.getfixturevalue("postgres_dsn")
    )
    log = AuditLog.open(url, settings=settings)
    yield log
    log.close()


def test_governance_records_round_trip(store_log: AuditLog, settings: Settings) -> None:
    now = time.time_ns()
    store_log.append(
        [
            AuditRecord(
                kind="change",
                time_unix_nano=now - 10 * NS_PER_S,
                service="svc",
                trace_id="ab" * 16,
                attributes={sc.CHANGE_KIND: "prompt", sc.CHANGE_ID: HASH, sc.DEPLOYMENT_ENVIRONMENT: "prod"},
            ),
            AuditRecord(
                kind="interaction",
                time_unix_nano=now - 9 * NS_PER_S,
                service="svc",
                trace_id="cd" * 16,
                attributes={
                    sc.API_KEY_FINGERPRINT: FP,
                    sc.CHANGE_APPROVED: False,
                    sc.CHANGE_UNAPPROVED_VERSIONS: [f"prompt:{HASH}"],
                    sc.RISK_CATEGORIES: ["data_leakage"],
                },
            ),
            key_record(REGISTER, FP, registered_at=now - 200 * 86400 * NS_PER_S, now=now - 8 * NS_PER_S),
            key_record(RETIRE, FP, now=now - 7 * NS_PER_S),
        ]
    )
    approve(settings.prompt_registry, HASH, ticket="CHG-7", approver="erin", log=store_log)
    period = Period(now - 60 * NS_PER_S, time.time_ns() + NS_PER_S)
    [change] = population(store_log, period, read_registry(settings.prompt_registry)).changes
    assert change.status == APPROVED_LATE
    assert change.unapproved_interactions == 1

    [key] = inventory(store_log, period, max_age_days=90).keys
    assert key.status == "retired"
    assert key.overdue
    assert key.interactions == 1

    desk = IncidentDesk(store_log, service="svc")
    incident = desk.open(
        "leak", labels={"llm_soc2_risk_category": "data_leakage"}, window=(now - 60 * NS_PER_S, now)
    )
    assert incident.linked_trace_ids == ["cd" * 16]
    desk.acknowledge(incident.id, actor="oncall")
    resolved = desk.resolve(incident.id, actor="oncall")
    assert resolved.tta_seconds is not None
    assert resolved.ttr_seconds is not None
    assert resolved.ttr_seconds >= resolved.tta_seconds
    assert [i.state for i in desk.list()] == ["resolved"]
