"""Fixtures for the governance tests: settings, a real audit log (SQLite in a temporary directory) and a
real span pipeline (see governance_support)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from governance_support import Pipeline, build_pipeline, make_settings

from llm_soc2.audit import AuditLog
from llm_soc2.config import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def audit_log(settings: Settings) -> Iterator[AuditLog]:
    log = AuditLog.open(settings.resolved_audit_url, settings=settings)
    yield log
    log.close()


@pytest.fixture
def pipeline(settings: Settings) -> Iterator[Pipeline]:
    built = build_pipeline(settings)
    yield built
    built.tracer_provider.shutdown()
