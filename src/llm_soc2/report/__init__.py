"""SOC 2 evidence reports from the audit log, Prometheus and Grafana.

One call writes a signed, self-verifying bundle (``index.html``, ``report.pdf``, ``report.json``,
``oscal-assessment-results.json``, ``evidence/``, ``manifest.json`` + ``manifest.sig``)::

    from datetime import UTC, datetime
    from llm_soc2.report import generate, verify_bundle

    result = generate(
        "sqlite:////var/lib/app/.llm-soc2/audit.db",        # or a Settings, or None for LLM_SOC2_AUDIT_URL
        datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC), "soc2-2026H1",
        prometheus_url="http://prometheus:9090", grafana_url="http://grafana:3000",
    )
    print(result.status_counts, result.failures)
    assert verify_bundle(result.out_dir).ok

Sources only collect (``sources/``); checks evaluate (``checks/``); the evidence model
(``evidence.py``) is rendered by ``render/``; ``bundle.py`` hashes and signs. Nothing at run time
imports this package.
"""

from __future__ import annotations

from pathlib import Path

from llm_soc2.report.bundle import BundleCheck
from llm_soc2.report.bundle import verify as _verify
from llm_soc2.report.checks import Objectives
from llm_soc2.report.evidence import Period, Report
from llm_soc2.report.generate import ReportResult, generate


def verify_bundle(directory: str | Path, trusted_keys: list[str] | None = None) -> BundleCheck:
    """Check a bundle: every file present and unchanged, nothing added, the manifest's signature valid
    (with ``trusted_keys``, also signed by one of them)."""
    return _verify(Path(directory), trusted_keys or [])


__all__ = ["BundleCheck", "Objectives", "Period", "Report", "ReportResult", "generate", "verify_bundle"]
