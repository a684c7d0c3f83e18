"""Helpers shared by the audit integration tests (real SQLite files and a real PostgreSQL server)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from llm_soc2.audit import AuditLog, AuditRecord
from llm_soc2.config import Settings

CONTENT_KEY = "5c" * 32


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "service_name": "svc",
        "content_key_hex": CONTENT_KEY,
        "audit_flush_interval": 0.02,
    }
    values.update(overrides)
    return Settings(**values)


def store_url(request: pytest.FixtureRequest, kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'audit.db'}"
    return str(request.getfixturevalue("postgres_dsn"))


def interaction(
    i: int, *, subject: str = "", content: bool = True, raw: bool = False, t: int | None = None
) -> AuditRecord:
    return AuditRecord(
        kind="interaction",
        time_unix_nano=t if t is not None else time.time_ns(),
        service="svc",
        trace_id=f"{i:032x}",
        span_id=f"{i:016x}",
        subject=subject or f"user{i % 3}",
        attributes={
            "gen_ai.request.model": "gpt-4o" if i % 2 else "claude-sonnet",
            "gen_ai.provider.name": "openai" if i % 2 else "anthropic",
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.input_tokens": 10 + i,
            "llm_soc2.risk.score": i / 10,
            "llm_soc2.risk.level": "low" if i % 5 else "high",
            "llm_soc2.api_key.fingerprint": "a1b2c3d4e5f60718",
            "n": i,
        },
        content={"input": f"question {i}", "output": f"answer {i}"} if content else None,
        raw_content={"input": f"raw question {i} from jane{i}@example.com"} if raw else None,
    )


def open_log(url: str, settings: Settings, log_id: str | None = None) -> AuditLog:
    return AuditLog.open(url, log_id=log_id, settings=settings)
