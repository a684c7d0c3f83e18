"""The changes / keys / incident subcommands, run through ``llm_soc2.cli.main`` on a real SQLite log."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from governance_support import SECRET_KEY_HEX

from llm_soc2 import semconv as sc
from llm_soc2.audit import AuditLog, AuditRecord
from llm_soc2.cli import main
from llm_soc2.config import Settings
from llm_soc2.fingerprint import fingerprint

HASH = "0123456789abcdef"
FP = "00000000000000f1"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LLM_SOC2_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LLM_SOC2_SECRET_KEY", SECRET_KEY_HEX)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "support-bot")
    monkeypatch.setenv("LLM_SOC2_PROMPT_REGISTRY", str(tmp_path / "llm-soc2.prompts.yaml"))
    for name in (
        "LLM_SOC2_AUDIT_URL",
        "LLM_SOC2_AUDIT_LOG_ID",
        "LLM_SOC2_KEY_ALLOWLIST",
        "LLM_SOC2_ENVIRONMENT",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_changes_approve_list_and_check(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = AuditLog.open(settings=Settings.from_env())
    log.append(
        [
            AuditRecord(
                kind="change",
                time_unix_nano=1_700_000_000 * 10**9,
                service="support-bot",
                trace_id="ab" * 16,
                attributes={sc.CHANGE_KIND: "prompt", sc.CHANGE_ID: HASH, sc.DEPLOYMENT_ENVIRONMENT: "prod"},
            )
        ]
    )
    log.close()
    code, out, err = run(
        capsys, "changes", "approve", HASH, "--ticket", "CHG-123", "--approver", "alice", "--note", "v2"
    )
    assert code == 0, err
    assert "approved prompt 0123456789abcdef (CHG-123, alice" in out
    assert "seq 1" in out
    doc = run_json(capsys, "changes", "list", "--from", "2020-01-01")
    [change] = doc["changes"]
    assert change["id"] == HASH
    assert change["status"] == "approved_late"  # approved after it was first seen
    assert change["approval"]["ticket"] == "CHG-123"
    assert change["trace_id"] == "ab" * 16
    code, out, _ = run(capsys, "changes", "list")
    assert code == 0
    assert HASH in out
    assert "approved_late" in out
    code, out, _ = run(capsys, "changes", "check")
    assert code == 0
    assert "1 prompt template(s)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["changes", "approve", HASH, "--ticket", "T", "--approver", " "], "--approver is empty"),
        (
            ["changes", "approve", "xyz", "--kind", "prompt", "--ticket", "T", "--approver", "a"],
            "not a prompt template hash",
        ),
        (
            ["changes", "approve", HASH, "--ticket", "T", "--approver", "a", "--date", "soon"],
            "not an ISO date",
        ),
        (["changes", "list", "--from", "2025-02-01", "--to", "2025-01-01"], "period is empty"),
        (["changes", "list", "--from", "last week"], "is not a time"),
        (["changes", "check"], "no registry"),
        (["keys", "register", "not-a-fingerprint"], "is not a key fingerprint"),
        (["keys", "register", FP, "--replaces", FP], "names the key being registered"),
        (["keys", "register", FP, "--created", "someday"], "--created"),
        (["keys", "list", "--users", "-1"], "--users"),
        (["keys", "retire", "--key-env", "NO_SUCH_VARIABLE"], "no key on $NO_SUCH_VARIABLE"),
        (["incident", "ack", "INC-missing"], "no incident"),
        (["incident", "open", "--title", "x", "--label", "novalue"], "expected NAME=VALUE"),
        (["incident", "open", "--title", "x\ny"], "one line"),
        (["incident", "sync", "--pagerduty"], "LLM_SOC2_PAGERDUTY_TOKEN"),
    ],
)
def test_bad_input_is_explained_and_exits_2(
    env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.delenv("LLM_SOC2_PAGERDUTY_TOKEN", raising=False)
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert err.startswith("llm-soc2: error: ")


def test_missing_required_options_exit_2(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["changes", "approve", HASH, "--approver", "alice"])
    assert exit_info.value.code == 2
    assert "--ticket" in capsys.readouterr().err


def test_an_unreachable_audit_store_is_an_error(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "incident", "list", "--audit-url", "mysql://nowhere")
    assert code == 2
    assert "audit" in err


def test_keys_register_retire_and_list(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = "sk-live-example-key-000000000000"
    expected = fingerprint(raw, bytes.fromhex(SECRET_KEY_HEX), purpose="api_key")
    monkeypatch.setattr("sys.stdin", io.StringIO(raw + "\n"))
    code, out, err = run(
        capsys, "keys", "register", "--key-stdin", "--created", "2025-01-01", "--owner", "platform"
    )
    assert code == 0, err
    assert expected in out
    assert raw not in out + err
    code, out, _ = run(capsys, "keys", "register", FP, "--replaces", expected)
    assert code == 0
    code, _, err = run(capsys, "keys", "register", FP)
    assert code == 2
    assert "already registered" in err
    assert run(capsys, "keys", "retire", expected, "--note", "rotated")[0] == 0
    code, _, err = run(capsys, "keys", "retire", expected)
    assert code == 2
    assert "already retired" in err

    doc = run_json(capsys, "keys", "list")
    keys = {k["fingerprint"]: k for k in doc["keys"]}
    assert keys[expected]["status"] == "retired"
    assert keys[expected]["owner"] == "platform"
    assert keys[expected]["registered_at"] == "2025-01-01T00:00:00Z"
    assert keys[FP]["replaces"] == expected
    assert [e["event"] for e in doc["events"]] == ["registered", "registered", "retired"]
    log = AuditLog.open(settings=Settings.from_env())
    assert all(raw not in json.dumps(dict(r.attributes)) for r in log.records())
    log.close()
    code, out, _ = run(capsys, "keys", "list")
    assert code == 0
    assert "retired" in out


def test_incident_open_ack_resolve_list(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "incident", "open", "--title", "Jailbreak wave", "--severity", "high", "--by", "alice"
    )
    assert code == 0, err
    incident_id = out.split()[1].rstrip(":")
    assert run(capsys, "incident", "ack", incident_id, "--by", "bob")[0] == 0
    code, out, _ = run(capsys, "incident", "resolve", incident_id, "--note", "blocked", "--by", "bob")
    assert code == 0
    assert "resolved" in out
    doc = run_json(capsys, "incident", "list")
    [incident] = doc["incidents"]
    assert incident["id"] == incident_id
    assert incident["state"] == "resolved"
    assert incident["time_to_acknowledge_seconds"] >= 0
    assert incident["time_to_resolve_seconds"] >= incident["time_to_acknowledge_seconds"]
    assert [h["actor"] for h in incident["history"]] == ["alice", "bob", "bob"]
    code, out, _ = run(capsys, "incident", "show", incident_id)
    assert code == 0
    assert "Jailbreak wave" in out
    assert run_json(capsys, "incident", "list", "--state", "open")["incidents"] == []


def test_the_cli_constants_match_the_library() -> None:
    from llm_soc2.cli import incident, keys
    from llm_soc2.governance import access, incidents

    assert incident.STATES == incidents.STATES
    assert (keys.REGISTER, keys.RETIRE) == (access.REGISTER, access.RETIRE)
