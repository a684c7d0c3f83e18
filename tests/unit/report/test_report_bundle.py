"""The manifest hashes every file and is signed; verification fails on any change, addition or removal."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llm_soc2.audit import Signer
from llm_soc2.config import Settings
from llm_soc2.errors import ConfigurationError
from llm_soc2.report import bundle


def _bundle(root: Path, signer: Signer) -> None:
    (root / "evidence" / "audit").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>r</title>")
    (root / "evidence" / "audit" / "interactions.csv").write_text("seq\n1\n2\n")
    bundle.write_manifest(
        root, signer, report_id="r1", created=datetime(2026, 1, 1, tzinfo=UTC), key_source="test"
    )


def test_a_fresh_bundle_verifies(tmp_path: Path) -> None:
    signer = Signer.generate("test-report")
    _bundle(tmp_path, signer)
    check = bundle.verify(tmp_path)
    assert check.ok, check.problems
    assert check.files == 2
    assert bundle.verify(tmp_path, [signer.vkey]).trusted_key
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["files"]["evidence/audit/interactions.csv"]["sha256"] == bundle.sha256_file(
        tmp_path / "evidence/audit/interactions.csv"
    )
    assert manifest["signature"]["public_key"] == signer.vkey
    assert "BEGIN PUBLIC KEY" in manifest["signature"]["public_key_pem"]


@pytest.mark.parametrize("tamper", ["change", "add", "remove", "rewrite-manifest", "resign-with-other-key"])
def test_tampering_is_detected(tmp_path: Path, tamper: str) -> None:
    signer = Signer.generate("test-report")
    _bundle(tmp_path, signer)
    csv = tmp_path / "evidence/audit/interactions.csv"
    if tamper == "change":
        csv.write_text("seq\n1\n3\n")
    elif tamper == "add":
        (tmp_path / "evidence/audit/more.csv").write_text("x\n")
    elif tamper == "remove":
        csv.unlink()
    elif tamper == "rewrite-manifest":  # change a file and its hash in the manifest, keep the old signature
        csv.write_text("seq\n9\n")
        manifest = json.loads((tmp_path / "manifest.json").read_text())
        manifest["files"]["evidence/audit/interactions.csv"]["sha256"] = bundle.sha256_file(csv)
        (tmp_path / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    else:  # a forger re-signs everything with their own key: only a pinned key catches it
        csv.write_text("seq\n9\n")
        forger = Signer.generate("forger")
        bundle.write_manifest(tmp_path, forger, report_id="r1", created=datetime(2026, 1, 1, tzinfo=UTC),
                              key_source="forged")  # fmt: skip
        assert bundle.verify(tmp_path).ok
        check = bundle.verify(tmp_path, [signer.vkey])
        assert not check.ok
        assert "not a trusted key" in check.summary()
        return
    check = bundle.verify(tmp_path)
    assert not check.ok
    assert check.problems


def test_bad_input_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        bundle.verify(tmp_path / "missing")
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigurationError, match="not a directory"):
        bundle.verify(tmp_path / "f")
    with pytest.raises(ConfigurationError, match="trusted key"):
        bundle.verify(tmp_path, ["not-a-key"])


def test_the_signing_key_is_the_audit_key_or_a_report_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    signer, source = bundle.signing_key(settings)
    assert source.startswith("report key")
    assert (tmp_path / "data/keys/report.key").exists()
    again, _ = bundle.signing_key(settings)
    assert again.vkey == signer.vkey  # created once, reused
    from llm_soc2.audit.keys import create_signer

    audit = create_signer(settings.resolved_signing_key_path, "llm-soc2-audit")
    chosen, source = bundle.signing_key(settings)
    assert chosen.vkey == audit.vkey
    assert source.startswith("audit checkpoint key")


def test_verification_never_trusts_remembered_digests(tmp_path: Path) -> None:
    """A same-size change within the file system's timestamp granularity is still caught."""
    import os

    signer = Signer.generate("test-report")
    _bundle(tmp_path, signer)
    csv = tmp_path / "evidence/audit/interactions.csv"
    listed = json.loads((tmp_path / "manifest.json").read_text())["files"]["evidence/audit/interactions.csv"]
    before = csv.stat()
    csv.write_text("seq\n1\n3\n")  # same size as "seq\n1\n2\n", and the old mtime put back
    os.utime(csv, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert bundle.sha256_file(csv, remember=True) == listed["sha256"]  # the writer's memory is stale ...
    check = bundle.verify(tmp_path)  # ... verification reads the file again
    assert not check.ok
    assert check.changed == ["evidence/audit/interactions.csv"]
