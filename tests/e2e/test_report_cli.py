"""``llm-soc2 report`` and ``llm-soc2 report verify`` as a user runs them: exit codes, messages, the
bundle, and tampering with any of its files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llm_soc2.config import Settings
from support.grafana_api import TOKEN, GrafanaReplay
from support.prometheus_history import History

pytestmark = pytest.mark.e2e

CLI = str(Path(sys.executable).parent / "llm-soc2")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=600, check=False)


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_SOC2_", "GRAFANA_"))}
    env.update(LLM_SOC2_AUDIT_URL=settings.audit_url, LLM_SOC2_DATA_DIR=str(settings.data_dir), **extra)
    return env


def day(moment: int, offset: int = 0) -> str:
    return datetime.fromtimestamp(moment + offset, UTC).isoformat()


@pytest.fixture(scope="module")
def bundle(
    prometheus_history: tuple[str, History],
    llm_history_log: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A full report through the CLI: audit log, real Prometheus, Grafana replay."""
    url, history = prometheus_history
    out = tmp_path_factory.mktemp("cli") / "report"
    with GrafanaReplay(anchor=datetime.fromtimestamp(history.end, UTC)) as grafana:
        done = run(
            "report", "--from", day(history.start), "--to", day(history.end), "--out", str(out),
            "--prometheus-url", url, "--grafana-url", grafana.url, "--seed", "ab12",
            env=environment(llm_history_log, GRAFANA_TOKEN=TOKEN),
        )  # fmt: skip
    return out, done


def test_report_writes_a_verified_bundle(bundle: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, done = bundle
    assert done.returncode == 0, done.stderr
    assert f"report written to {out} (verified)" in done.stdout
    for name in ("index.html", "report.pdf", "report.json", "oscal-assessment-results.json", "manifest.json",
                 "manifest.sig", "evidence/audit/interactions.csv", "evidence/samples/risk-events.json",
                 "evidence/prometheus/calls.json", "evidence/grafana/alert-rules.json"):  # fmt: skip
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    listed = set(manifest["files"])
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert listed == on_disk - {"manifest.json", "manifest.sig"}
    verified = run("report", "verify", str(out))
    assert verified.returncode == 0, verified.stderr
    assert f"{len(listed)} files match the manifest" in verified.stdout
    report = json.loads((out / "report.json").read_text())
    assert all(s["ok"] for s in report["sources"] if s["requested"])
    assert report["status_counts"]["not evidenced"] < 26


@pytest.mark.parametrize("tamper", ["change", "add", "remove", "manifest", "signature", "remove-manifest"])
def test_any_tampering_fails_verification(
    tamper: str, bundle: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    source, _ = bundle
    out = tmp_path / "copy"
    shutil.copytree(source, out)
    if tamper == "change":
        target = out / "evidence/audit/risk-events.csv"
        target.write_bytes(target.read_bytes().replace(b"critical", b"low", 1))
        expected = "evidence/audit/risk-events.csv was changed"
    elif tamper == "add":
        (out / "evidence/extra.csv").write_text("seq\n1\n")
        expected = "evidence/extra.csv is not in the manifest (added)"
    elif tamper == "remove":
        (out / "report.pdf").unlink()
        expected = "report.pdf is missing"
    elif tamper == "manifest":
        manifest = json.loads((out / "manifest.json").read_text())
        manifest["files"]["report.pdf"]["sha256"] = "0" * 64
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        expected = "manifest.sig does not verify"
    elif tamper == "signature":
        (out / "manifest.sig").write_text("AAAA\n")
        expected = "does not verify"
    else:
        (out / "manifest.json").unlink()
        expected = "manifest.json is missing"
    done = run("report", "verify", str(out))
    assert done.returncode == 1
    assert expected in done.stderr


def test_verify_pins_the_signing_key(
    bundle: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    out, _ = bundle
    key = json.loads((out / "manifest.json").read_text())["signature"]["public_key"]
    assert run("report", "verify", str(out), "--public-key", key).returncode == 0
    other = "someone+1a2b3c4d+AQ" + "A" * 42 + "="
    done = run("report", "verify", str(out), "--public-key", other)
    assert done.returncode == 2  # a malformed key is bad input
    assert "trusted key" in done.stderr
    from llm_soc2.audit import Signer

    stranger = Signer.generate("stranger").vkey
    done = run("report", "verify", str(out), "--public-key", stranger)
    assert done.returncode == 1
    assert "not a trusted key" in done.stderr


def test_verify_bad_input_exits_2(tmp_path: Path) -> None:
    done = run("report", "verify", str(tmp_path / "nothing"))
    assert done.returncode == 2
    assert "does not exist" in done.stderr
    (tmp_path / "file.txt").write_text("x")
    done = run("report", "verify", str(tmp_path / "file.txt"))
    assert done.returncode == 2
    assert "is not a directory" in done.stderr


def test_bad_input_says_what_is_wrong(
    llm_history: History, llm_history_log: Settings, tmp_path: Path
) -> None:
    env = environment(llm_history_log)
    start, end = day(llm_history.start), day(llm_history.end)
    cases = [
        (["report", "--to", end, "--out", str(tmp_path / "a")], "--from is required"),
        (["report", "--from", "yesterday-ish", "--to", end, "--out", str(tmp_path / "a")], "--from: 'yesterday-ish'"),
        (["report", "--from", end, "--to", start, "--out", str(tmp_path / "a")], "is not before"),
        (["report", "--from", start, "--to", end], "--out DIR is required"),
        (["report", "--from", start, "--to", end, "--out", str(tmp_path / "a"), "--seed", "xyz"], "hexadecimal"),
        (["report", "--from", start, "--to", end, "--out", str(tmp_path / "a"), "--availability", "1.5"],
         "--availability must be in (0, 1]"),
        (["report", "--from", start, "--to", end, "--out", str(tmp_path / "a"),
          "--url", "postgresql://report:pw@127.0.0.1:9/audit"], "audit store postgresql://report:***@127.0.0.1:9/audit"),
        (["report", "--from", day(llm_history.end, 86400 * 30), "--to", day(llm_history.end, 86400 * 31),
          "--out", str(tmp_path / "a")], "holds no record between"),
    ]  # fmt: skip
    for args, message in cases:
        done = run(*args, env=env)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "a").exists()


def test_failed_backend_writes_the_report_and_exits_2(
    llm_history: History, llm_history_log: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = run(
        "report", "--from", day(llm_history.start), "--to", day(llm_history.end), "--out", str(out),
        "--prometheus-url", "http://127.0.0.1:9", "--no-pdf", env=environment(llm_history_log),
    )  # fmt: skip
    assert done.returncode == 2
    assert "Prometheus at http://127.0.0.1:9 is unreachable" in done.stderr
    assert "criteria that need prometheus are marked not evidenced" in done.stderr
    assert run("report", "verify", str(out)).returncode == 0
    report = json.loads((out / "report.json").read_text())
    statuses = {c["criterion"]["id"]: c["status"] for c in report["criteria"]}
    assert statuses["A1.1"] == "not evidenced"
    assert statuses["CC2.1"] == "effective"


def test_missing_pdf_extra_is_reported(
    llm_history: History, llm_history_log: Settings, tmp_path: Path
) -> None:
    blocker = (
        "import sys; sys.modules['reportlab'] = None\n"
        "from llm_soc2.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    args = [
        "report",
        "--from",
        day(llm_history.start),
        "--to",
        day(llm_history.end),
        "--out",
        str(tmp_path / "o"),
    ]
    done = subprocess.run([sys.executable, "-c", blocker, *args], capture_output=True, text=True,
                          env=environment(llm_history_log), timeout=300, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "report.pdf needs reportlab: pip install 'llm-soc2[pdf]' (or pass --no-pdf)" in done.stderr
    done = subprocess.run([sys.executable, "-c", blocker, *args, "--no-pdf"], capture_output=True, text=True,
                          env=environment(llm_history_log), timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "o" / "report.pdf").exists()


def test_json_output_for_scripts(llm_history: History, llm_history_log: Settings, tmp_path: Path) -> None:
    done = run(
        "report", "--from", day(llm_history.start), "--to", day(llm_history.end), "--out", str(tmp_path / "o"),
        "--no-pdf", "--json", "--type", "1", "--progress", env=environment(llm_history_log),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "llm-soc2 report [" in done.stderr  # --progress: stages on stderr ...
    assert "records" in done.stderr  # ... and the audit log's bar
    summary = json.loads(done.stdout)
    assert summary["verified"]
    assert summary["files"]["pdf"] is None
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["report_type"] == 1
    assert all(s["size"] <= 1 for s in report["samples"])  # Type I: one walkthrough item per population
