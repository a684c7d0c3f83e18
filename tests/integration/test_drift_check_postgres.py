"""``llm-soc2 drift check`` over a real PostgreSQL audit log gives the same results as over SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_soc2.audit import AuditLog, AuditRecord
from llm_soc2.cli import main
from llm_soc2.config import Settings
from llm_soc2.drift.check import check_log, parse_window, results_equal
from llm_soc2.drift.simulate import DAY, Shift, Traffic

pytestmark = pytest.mark.integration

SHIFT = Shift("category_share", DAY + 12 * 3600, 0.15)
TRAFFIC = Traffic(5150, rate=0.4, shifts=[SHIFT])


def _records() -> list[AuditRecord]:
    out = []
    for begin, end in ((9 * 3600, 15 * 3600), (DAY + 11 * 3600, DAY + 13 * 3600)):
        for _, items in TRAFFIC.stream(begin, end, step=1800):
            for attributes, text, time_ns in items:
                i = len(out)
                model = "gpt-4o-mini" if (i // 2) % 3 else "claude-sonnet-4"
                out.append(
                    AuditRecord(
                        "interaction",
                        time_ns,
                        "svc-a" if i % 2 else "svc-b",
                        attributes={**attributes, "gen_ai.request.model": model},
                        content={"output": text},
                    )
                )
    return out


def _window(begin: float, end: float) -> str:
    from datetime import UTC, datetime

    def iso(seconds: float) -> str:
        return datetime.fromtimestamp(TRAFFIC.start_unix + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return f"{iso(begin)}..{iso(end)}"


REFERENCE = _window(9 * 3600, 15 * 3600)
CURRENT = _window(DAY + 12 * 3600, DAY + 13 * 3600)


def test_postgres_and_sqlite_agree(
    postgres_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = _records()
    settings = Settings(data_dir=tmp_path)
    sqlite_url = f"sqlite:///{tmp_path / 'audit.db'}"
    for url in (sqlite_url, postgres_dsn):
        log = AuditLog.open(url, settings=settings)
        try:
            log.append(records)
        finally:
            log.close()

    reports = []
    for url in (sqlite_url, postgres_dsn):
        log = AuditLog.open(url, settings=settings)
        try:
            reports.append(check_log(log, reference=parse_window(REFERENCE), current=parse_window(CURRENT)))
        finally:
            log.close()
    sqlite_report, postgres_report = reports
    assert sqlite_report.current.records == postgres_report.current.records > 0
    assert sqlite_report.drift
    assert postgres_report.drift
    assert {r.key for r in sqlite_report.results} == {
        (service, model, "chat")
        for service in ("svc-a", "svc-b")
        for model in ("gpt-4o-mini", "claude-sonnet-4")
    }
    assert results_equal(sqlite_report.results, postgres_report.results)

    # the command line: same exit status, same JSON
    monkeypatch.setenv("LLM_SOC2_DATA_DIR", str(tmp_path))
    outputs = []
    for url in (sqlite_url, postgres_dsn):
        target = tmp_path / f"{'pg' if url.startswith('postgres') else 'sqlite'}.json"
        assert (
            main(
                [
                    "drift",
                    "check",
                    "--url",
                    url,
                    "--reference",
                    REFERENCE,
                    "--current",
                    CURRENT,
                    "--json",
                    str(target),
                ]
            )
            == 1
        )
        outputs.append(json.loads(target.read_text()))
    assert outputs[0]["results"] == outputs[1]["results"]
    assert outputs[0]["current"]["records"] == outputs[1]["current"]["records"]
