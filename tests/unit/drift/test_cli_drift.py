"""``llm-soc2 drift``: exit status 0 (no drift), 1 (drift), 2 (error), over a real SQLite audit log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llm_soc2 import semconv
from llm_soc2.audit import AuditLog, AuditRecord
from llm_soc2.cli import main
from llm_soc2.config import Settings
from llm_soc2.drift.simulate import DAY, Shift, Traffic

SHIFT = Shift("latency_mean", DAY + 12 * 3600, 0.5)
TRAFFIC = Traffic(77, rate=0.5, shifts=[SHIFT])


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(TRAFFIC.start_unix + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


REFERENCE = f"{_iso(8 * 3600)}..{_iso(16 * 3600)}"
CALM = f"{_iso(DAY + 11 * 3600)}..{_iso(DAY + 12 * 3600)}"
SHIFTED = f"{_iso(DAY + 12 * 3600)}..{_iso(DAY + 13 * 3600)}"


def write_records(log: AuditLog) -> int:
    count = 0
    for begin, end in ((8 * 3600, 16 * 3600), (DAY + 11 * 3600, DAY + 13 * 3600)):
        batch = []
        for _, items in TRAFFIC.stream(begin, end, step=1800):
            for attributes, text, time_ns in items:
                batch.append(
                    AuditRecord(
                        "interaction", time_ns, "svc", attributes=attributes, content={"output": text}
                    )
                )
        log.append(batch)
        count += len(batch)
    return count


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("drift-cli")
    url = f"sqlite:///{directory / 'audit.db'}"
    log = AuditLog.open(url, settings=Settings(data_dir=directory))
    try:
        write_records(log)
    finally:
        log.close()
    return url


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LLM_SOC2_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LLM_SOC2_AUDIT_URL", raising=False)
    return tmp_path


def test_no_drift_exits_0(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "check", "--url", store, "--reference", REFERENCE, "--current", CALM]) == 0
    out = capsys.readouterr().out
    assert "no drift" in out


def test_drift_exits_1_and_writes_json(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "drift.json"
    code = main(
        [
            "drift",
            "check",
            "--url",
            store,
            "--reference",
            REFERENCE,
            "--current",
            SHIFTED,
            "--json",
            str(target),
        ]
    )
    assert code == 1
    assert "DRIFT" in capsys.readouterr().out
    data = json.loads(target.read_text())
    assert data["drift"] is True
    flagged = {r["feature"] for r in data["results"] if r["flagged"]}
    assert "latency" in flagged
    latency = next(r for r in data["results"] if r["feature"] == "latency")
    assert latency["p_adjusted"] <= data["policy"]["alpha"]
    assert latency["effect"] >= latency["threshold"]


def test_json_to_stdout(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["drift", "check", "--url", store, "--reference", REFERENCE, "--current", CALM, "--json", "-"])
        == 0
    )
    captured = capsys.readouterr()
    assert json.loads(captured.out)["drift"] is False
    assert "no drift" in captured.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reference", "yesterday..now", "--current", CALM], "cannot read the time"),
        (["--reference", REFERENCE, "--current", "2020-01-01..2020-01-02"], "no interaction records"),
        (["--baseline", "missing", "--current", CALM], "no drift baseline"),
        (["--reference", REFERENCE, "--current", CALM, "--alpha", "2"], "--alpha"),
    ],
)
def test_errors_exit_2(store: str, args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "check", "--url", store, *args]) == 2
    assert message in capsys.readouterr().err


def test_unreachable_store_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://nobody:secret@127.0.0.1:1/audit"
    assert main(["drift", "check", "--url", url, "--reference", REFERENCE, "--current", CALM]) == 2
    err = capsys.readouterr().err
    assert "cannot" in err
    assert "secret" not in err


def test_baseline_save_check_show_reset(
    store: str, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["drift", "baseline", "save", "launch", "--url", store, "--reference", REFERENCE]) == 0
    assert (data_dir / "drift" / "baselines" / "launch.json").exists()
    assert main(["drift", "check", "--url", store, "--baseline", "launch", "--current", CALM]) == 0
    assert main(["drift", "check", "--url", store, "--baseline", "launch", "--current", SHIFTED]) == 1
    capsys.readouterr()
    assert main(["drift", "baseline", "show", "launch", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["name"] == "launch"
    assert summary["keys"][0]["model"] == "gpt-4o-mini"
    assert main(["drift", "baseline", "show"]) == 0
    assert "launch" in capsys.readouterr().out
    assert main(["drift", "baseline", "reset", "launch", "--url", store]) == 0
    assert not (data_dir / "drift" / "baselines" / "launch.json").exists()
    assert main(["drift", "baseline", "reset", "launch", "--url", store]) == 2

    log = AuditLog.open(store, settings=Settings(data_dir=data_dir))
    try:
        changes = list(log.records(kinds=["baseline"]))
    finally:
        log.close()
    actions = [r.attributes[semconv.DRIFT_BASELINE_ACTION] for r in changes]
    assert actions[-2:] == ["save", "reset"]
    assert changes[-2].attributes[semconv.DRIFT_BASELINE_SHA256] == summary["sha256"]
