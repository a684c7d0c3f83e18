"""``llm-soc2 demo``: runs on embedded defaults and records what the sample application did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent


def test_demo_records_the_sample_application(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LLM_SOC2_"))}
    out = tmp_path / "demo"
    result = subprocess.run(
        [str(BIN / "llm-soc2"), "demo", "--out", str(out)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-4000:]
    assert "[1/" in result.stdout
    assert "GenAI spans:" in result.stdout
    spans = [json.loads(line) for line in (out / "spans.jsonl").read_text().splitlines()]
    names = Counter(s["name"] for s in spans if "gen_ai.operation.name" in s["attributes"])
    assert set(names) == {"chat gpt-4o-mini", "chat claude-sonnet-4-6", "embeddings text-embedding-3-small"}
    # 7 sample-app chats, 600 of shifting traffic, 1 after the key rotation, >= 2 around the prompt change.
    assert names["chat gpt-4o-mini"] >= 610
    assert names["chat claude-sonnet-4-6"] == 3
    assert names["embeddings text-embedding-3-small"] == 1
    assert all(s["scope"] == "llm_soc2" for s in spans if s["name"] in names)
    errors = [s for s in spans if "error.type" in s["attributes"]]
    assert sorted(s["attributes"]["error.type"] for s in errors) == ["OverloadedError", "RateLimitError"]
    text = (out / "spans.jsonl").read_text()
    assert "jane.doe@example.com" not in text  # scrubbed before export
    assert "4111 1111 1111 1111" not in text
    assert "gen_ai_client_operation_duration_seconds_bucket" in (out / "metrics.prom").read_text()
    assert (out / "data").is_dir()

    # The fleet-wide drift check over the audit log finds the half-way shift.
    drift = json.loads((out / "drift-check.json").read_text())
    assert drift["drift"] is True

    # The prompt change is flagged before its approval and cleared after it.
    approvals = [
        s["attributes"].get("llm_soc2.change.approved") for s in spans if s["name"] == "chat gpt-4o-mini"
    ]
    assert False in approvals
    assert approvals[-1] is True

    # The audit log and the report bundle verify with the standalone commands an auditor would run.
    audit_env = {**env, "LLM_SOC2_DATA_DIR": str(out / "data"), "OTEL_SERVICE_NAME": "llm-soc2-demo"}
    verify = subprocess.run(
        [str(BIN / "llm-soc2"), "audit", "verify", "--witness-dir", str(out / "data" / "witness")],
        env=audit_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    bundle = subprocess.run(
        [str(BIN / "llm-soc2"), "report", "verify", str(out / "report")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bundle.returncode == 0, bundle.stdout + bundle.stderr
    for name in ("index.html", "report.json", "oscal-assessment-results.json", "manifest.json"):
        assert (out / "report" / name).is_file()
    assert f"SOC 2 report: {out / 'report' / 'index.html'}" in result.stdout
