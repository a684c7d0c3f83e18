"""Shared pytest fixtures. Fixture modules live in tests/support/ and are exported here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.grafana_api import grafana_replay
from support.llm import (
    anthropic_client,
    async_anthropic_client,
    async_openai_client,
    fake_provider,
    instrument,
    instrumented,
    openai_client,
    recorder,
)
from support.postgres import postgres_dsn, postgres_server
from support.prometheus_history import llm_history, llm_history_log, llm_history_records, prometheus_history

__all__ = [
    "anthropic_client",
    "async_anthropic_client",
    "async_openai_client",
    "fake_provider",
    "grafana_replay",
    "instrument",
    "instrumented",
    "llm_history",
    "llm_history_log",
    "llm_history_records",
    "openai_client",
    "postgres_dsn",
    "postgres_server",
    "prometheus_history",
    "recorder",
]
