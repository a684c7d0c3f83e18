"""``llm-soc2 audit ...`` as an operator and an auditor run it: subprocesses on a real SQLite log.

Exit status 0 OK, 1 a check found tampering, 2 bad input (what is wrong is said on stderr).
``check-proof`` runs in an empty directory with nothing but the proof file and the public key."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_support import CONTENT_KEY, interaction, make_settings, open_log

from llm_soc2.audit import SignedCheckpoint, Verifier, load_trusted_checkpoints
from llm_soc2.audit.proofs import InclusionProof

pytestmark = pytest.mark.integration
CLI = str(Path(sys.executable).with_name("llm-soc2"))


def _env(data: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_SOC2_", "OTEL_", "GRAFANA_"))}
    if data is not None:
        env.update(
            {"LLM_SOC2_DATA_DIR": str(data), "OTEL_SERVICE_NAME": "svc", "LLM_SOC2_CONTENT_KEY": CONTENT_KEY}
        )
    return env


def audit(data: Path | None, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "audit", *args], env=_env(data), cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A log of 30 interactions (and the key record) in ``<tmp>/data``, keys made by ``keygen``."""
    data = tmp_path / "data"
    done = audit(data, "keygen")
    assert done.returncode == 0, done.stderr
    assert "public keys:" in done.stdout
    settings = make_settings(tmp_path)
    log = open_log(f"sqlite:///{(data / 'audit.db').resolve()}", settings)
    log.append([interaction(i, raw=True, subject="user1" if i % 2 else "user2") for i in range(30)])
    log.close()
    return data


def test_checkpoint_status_verify_prove_and_check_proof_offline(data: Path, tmp_path: Path) -> None:
    done = audit(data, "checkpoint")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("llm-soc2/audit/svc\n31\n")
    assert load_trusted_checkpoints([data / "witness"])[-1].size == 31  # handed to the directory witness

    done = audit(data, "status", "--json")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["logs"][0]["size"] == 31
    assert status["logs"][0]["latest_checkpoint"]["size"] == 31

    done = audit(data, "verify")
    assert done.returncode == 0, done.stderr
    assert "log 'svc': OK size=31" in done.stdout

    done = audit(data, "prove", "5", "--out", str(tmp_path / "proof.json"))
    assert done.returncode == 0, done.stderr

    # The auditor's machine: an empty directory, the proof and the public key file, no store.
    auditor = tmp_path / "auditor"
    auditor.mkdir()
    shutil.copy(tmp_path / "proof.json", auditor / "proof.json")
    shutil.copy(data / "keys" / "checkpoint.key.pub", auditor / "log.pub")
    done = audit(None, "check-proof", "proof.json", "--key", "log.pub", cwd=auditor)
    assert done.returncode == 0, done.stderr
    assert "OK: record 5 of log 'svc' (interaction) is included in the checkpoint at size 31" in done.stdout
    assert not (auditor / ".llm-soc2").exists()  # nothing was created on the auditor's side

    # A proof whose record was altered fails with exit 1.
    proof = json.loads((auditor / "proof.json").read_text())
    body = base64.b64decode(proof["body"]).replace(b'"n":5', b'"n":6')
    proof["body"] = base64.b64encode(body).decode()
    (auditor / "forged.json").write_text(json.dumps(proof))
    done = audit(None, "check-proof", "forged.json", "--key", "log.pub", cwd=auditor)
    assert done.returncode == 1
    assert "verification failed: leaf hash does not match the record body" in done.stderr


def test_bad_input_says_what_is_wrong_and_exits_2(data: Path, tmp_path: Path) -> None:
    done = audit(data, "prove", "3", "--out", str(tmp_path / "proof.json"))
    assert done.returncode == 0, done.stderr
    other = tmp_path / "other.key"
    assert audit(data, "keygen", "--key-file", str(other)).returncode == 0
    cases = [
        (["check-proof", str(tmp_path / "missing.json"), "--key", str(other) + ".pub"], "missing.json"),
        (
            ["check-proof", str(tmp_path / "proof.json"), "--key", str(other) + ".pub"],
            "none of the given public keys signed the proof's checkpoint",
        ),
        (["check-proof", str(tmp_path / "proof.json"), "--key", "not-a-key"], "bad public key 'not-a-key'"),
        (["prove", "999"], "no record 999 in log 'svc': it holds records 0..30"),
        (["prove", "-1"], "no record -1"),
        (["prove", "three"], "invalid int value: 'three'"),
        (["purge", "--older-than", "3x"], "bad duration '3x': use e.g. 30d, 12h, 90m or 3600s"),
        (["verify", "--checkpoint", str(tmp_path / "nope.checkpoint")], "nope.checkpoint"),
        (["verify", "--key", str(other) + ".pub"], "none of the --key public keys signed"),
        (["keygen"], "already exists"),
        (["status", "--url", "mysql://db/audit"], "unsupported audit store URL"),
    ]
    audit(data, "checkpoint")  # the witness holds a checkpoint: verify --key has something to check
    for args, message in cases:
        done = audit(data, *args)
        assert done.returncode == 2, (args, done.returncode, done.stderr)
        assert message in done.stderr, (args, done.stderr)


def test_verify_names_the_first_bad_record_and_exits_1(data: Path) -> None:
    assert audit(data, "checkpoint").returncode == 0
    db = data / "audit.db"
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER records_no_update")
        body = bytes(conn.execute("SELECT body FROM records WHERE seq = 7").fetchone()[0])
        forged = body.replace(b'"n":7', b'"n":9')
        assert forged != body
        conn.execute("UPDATE records SET body = ? WHERE seq = 7", (forged,))
    done = audit(data, "verify", "--key", str(data / "keys" / "checkpoint.key.pub"))
    assert done.returncode == 1
    assert "FAILED at record 7" in done.stdout
    assert "TAMPERING DETECTED in log 'svc' (first bad record: 7)" in done.stderr
    assert "does not hash to the stored leaf hash" in done.stderr
    done = audit(data, "verify", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["first_bad_seq"] == 7


def test_export_erase_purge_and_rotate_key(data: Path, tmp_path: Path) -> None:
    done = audit(data, "export", "--out", str(tmp_path / "audit.jsonl"))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [line["record"]["seq"] for line in lines][:30] == list(range(30))
    keys = [Verifier.from_vkey(v) for v in (data / "keys" / "checkpoint.key.pub").read_text().split()]
    for line in lines[::7]:
        assert InclusionProof.from_json(line["proof"]).verify(keys).seq == line["record"]["seq"]

    done = audit(data, "erase", "--subject", "user1", "--reason", "GDPR art. 17")
    assert done.returncode == 0, done.stderr
    assert "erased subject user1: 30 content blobs removed" in done.stdout  # 15 records x 2 blobs
    done = audit(data, "purge", "--older-than", "30d")
    assert done.returncode == 0, done.stderr
    assert "0 content blobs removed" in done.stdout

    old_vkey = keys[0].vkey
    done = audit(data, "rotate-key")
    assert done.returncode == 0, done.stderr
    assert f"retired: {old_vkey}" in done.stdout
    new_vkey = done.stdout.split("signing: ")[1].split()[0]
    assert "handed to the witnesses" in done.stdout
    # The rotation's checkpoint reached the directory witness, signed by the new key.
    latest = max(load_trusted_checkpoints([data / "witness"]), key=lambda c: c.size)
    SignedCheckpoint.from_note(latest.note).verify([Verifier.from_vkey(new_vkey)])
    done = audit(data, "verify", "--key", str(data / "keys" / "checkpoint.key.pub"))
    assert done.returncode == 0, done.stderr + done.stdout
    assert "content_removed=30" in done.stdout
