"""The audit-log dashboard's SQL, run against the real PostgreSQL audit schema as the read-only role
Grafana uses (``llm_soc2_reader`` from roles_postgres.sql).

The log is written through ``llm_soc2.audit.AuditLog`` (interactions, incidents, changes, approvals,
drift events, a checkpoint, an erasure and a purge); each panel's SQL is expanded exactly as Grafana
expands ``$__unixEpochNanoFilter`` and ``$log_id`` and must return the rows the log holds.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from llm_soc2 import semconv as sc
from llm_soc2.audit import AuditLog, AuditRecord
from llm_soc2.config import Settings
from llm_soc2.provisioning import dashboards, sql

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
LOG_ID = "support-bot"


def audit_dashboard() -> dict[str, Any]:
    return json.loads((REPO / "dashboards" / "llm-soc2" / f"{dashboards.AUDIT_LOG}.json").read_text())


def interaction(i: int, level: str, now: int) -> AuditRecord:
    return AuditRecord(
        kind="interaction",
        time_unix_nano=now - (100 - i) * 1_000_000_000,
        service="support-bot",
        trace_id=f"{i + 1:032x}",
        span_id=f"{i + 1:016x}",
        subject=f"user{i % 4}",
        attributes={
            sc.GEN_AI_OPERATION_NAME: "chat",
            sc.GEN_AI_PROVIDER_NAME: "openai",
            sc.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
            sc.RISK_LEVEL: level,
            sc.RISK_SCORE: 0.9 if level in ("high", "critical") else 0.1,
            sc.RISK_CATEGORIES: ["prompt_injection"] if level == "critical" else [],
            sc.PII_TYPES: ["EMAIL"] if i % 3 == 0 else [],
            sc.API_KEY_FINGERPRINT: "3f2a9c1b5e7d4a60",
            sc.PROMPT_TEMPLATE_HASH: "a1b2c3d4e5f60718",
        },
        content={"input": f"question {i}", "output": f"answer {i}"},
    )


def event(kind: str, now: int, **attributes: Any) -> AuditRecord:
    return AuditRecord(
        kind=kind, time_unix_nano=now, service="support-bot", subject="", attributes=attributes
    )


@pytest.fixture
def reader_dsn(postgres_dsn: str, tmp_path: Path) -> tuple[str, int, int]:
    """A populated audit database; returns the reader's DSN, the number of records and the checkpoint size."""
    import psycopg

    from llm_soc2.audit.store_postgres import roles_sql

    settings = Settings(data_dir=tmp_path / "data", service_name=LOG_ID, content_key_hex="5c" * 32)
    log = AuditLog.open(postgres_dsn, settings=settings)
    now = time.time_ns()
    try:
        levels = ["low", "medium", "high", "critical"]
        log.append([interaction(i, levels[i % 4], now) for i in range(20)])
        log.append(
            [
                event(
                    "incident", now, **{"llm_soc2.incident.id": "INC-1", "llm_soc2.incident.state": "open"}
                ),
                event(
                    "change",
                    now,
                    **{"llm_soc2.change.kind": "prompt", "llm_soc2.change.id": "a1b2c3d4e5f60718"},
                ),
                event(
                    "approval",
                    now,
                    **{"llm_soc2.change.id": "a1b2c3d4e5f60718", "llm_soc2.change.ticket": "CHG-1"},
                ),
                event("drift", now, **{sc.ATTR_DRIFT_FEATURE: "response_length", sc.ATTR_DRIFT_TEST: "ks"}),
            ]
        )
        checkpoint = log.checkpoint()
        log.erase("user1")  # appends an erasure record
        log.purge(timedelta(days=365))  # appends a purge record
    finally:
        log.close()
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(roles_sql())  # type: ignore[arg-type]
        total = conn.execute("SELECT count(*) FROM records").fetchone()[0]  # type: ignore[index]
    return (
        postgres_dsn.replace("postgresql://postgres@", "postgresql://llm_soc2_reader@"),
        total,
        checkpoint.size,
    )


def run(dsn: str, text: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    import psycopg

    now = time.time_ns()
    expanded = sql.expand(text, start_ns=now - 7 * 86400 * 10**9, end_ns=now + 60 * 10**9, log_ids=[LOG_ID])
    with psycopg.connect(dsn, autocommit=True) as conn:
        cursor = conn.execute(expanded)  # type: ignore[arg-type]
        columns = [c.name for c in cursor.description or []]
        return columns, cursor.fetchall()


def test_every_audit_panel_query_runs_as_the_reader_and_returns_rows(
    reader_dsn: tuple[str, int, int],
) -> None:
    dsn, _, _ = reader_dsn
    dashboard = audit_dashboard()
    ran = 0
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            columns, rows = run(dsn, target["rawSql"])
            assert rows, f"{panel['title']}: no rows"
            if target["format"] == "time_series":
                assert columns[:2] == ["time", "metric"], panel["title"]
            ran += 1
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            _, rows = run(dsn, variable["query"])
            assert rows == [(LOG_ID,)]
    assert ran == len([t for p in dashboard["panels"] for t in p.get("targets", [])]) > 10


def test_integrity_panels_report_the_log_state(reader_dsn: tuple[str, int, int]) -> None:
    dsn, total, checkpointed = reader_dsn
    assert run(dsn, sql.SEQUENCE_GAPS)[1] == [(0,)]
    assert run(dsn, sql.UNCHECKPOINTED)[1] == [(total - checkpointed,)]
    assert run(dsn, sql.RECORDS_IN_PERIOD)[1] == [(total,)]
    (age,) = run(dsn, sql.CHECKPOINT_AGE)[1][0]
    assert 0 <= float(age) < 120
    columns, rows = run(dsn, sql.LOG_SUMMARY)
    summary = dict(zip(columns, rows[0], strict=True))
    assert summary["records"] == total
    assert summary["first seq"] == 0
    assert summary["last seq"] == total - 1
    assert summary["missing"] == 0
    assert summary["checkpointed size"] == checkpointed


def test_high_risk_panel_shows_scrubbed_attributes_only(reader_dsn: tuple[str, int, int]) -> None:
    dsn, _, _ = reader_dsn
    columns, rows = run(dsn, sql.HIGH_RISK)
    table = [dict(zip(columns, row, strict=True)) for row in rows]
    assert len(table) == 10  # 5 high + 5 critical of the 20 interactions
    assert {row["risk"] for row in table} == {"high", "critical"}
    critical = [row for row in table if row["risk"] == "critical"]
    assert all(json.loads(row["categories"]) == ["prompt_injection"] for row in critical)
    assert all(len(row["trace_id"]) == 32 for row in table)
    assert not any(
        "question" in str(value) or "answer" in str(value) for row in table for value in row.values()
    )


def test_event_panels_list_their_kinds(reader_dsn: tuple[str, int, int]) -> None:
    dsn, _, _ = reader_dsn
    for kinds in (("incident",), ("change", "approval"), ("drift", "baseline"), ("purge", "erasure")):
        columns, rows = run(dsn, sql.events(*kinds))
        found = {dict(zip(columns, row, strict=True))["kind"] for row in rows}
        assert found == set(kinds) - {"baseline"}, kinds


def test_the_reader_cannot_read_content() -> None:
    """The panels never touch the content table, which the reader role may not read."""
    for text in (sql.HIGH_RISK, sql.CHECKPOINTS, sql.LOG_SUMMARY, sql.events("incident")):
        assert " content" not in text.replace("convert_from", "")
