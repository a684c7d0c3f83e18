"""The evidence bundle: every file hashed in ``manifest.json``, the manifest signed with Ed25519.

``manifest.json`` lists every other file of the bundle with its SHA-256 and size, and the signer's
public key (Go note verifier format ``<name>+<key id>+<base64>``, plus PEM). ``manifest.sig`` holds the
base64 Ed25519 signature of ``DOMAIN || manifest.json bytes``; the domain prefix keeps a report signature
from ever being mistaken for a checkpoint signature made with the same key.

The key is the audit log's checkpoint signing key when this machine holds it (so the deployment's
published ``.pub`` list verifies reports too), otherwise a report key created on first use under
``$LLM_SOC2_DATA_DIR/keys/report.key``. :func:`verify` fails on any changed, added or missing file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from llm_soc2.audit.checkpoint import NoteError, Signer, Verifier
from llm_soc2.audit.keys import create_signer, load_signer
from llm_soc2.config import Settings
from llm_soc2.errors import ConfigurationError
from llm_soc2.report.evidence import iso

MANIFEST: Final = "manifest.json"
SIGNATURE: Final = "manifest.sig"
FORMAT: Final = "llm-soc2-report-bundle/1"
DOMAIN: Final = b"llm-soc2 report manifest v1\n"
REPORT_KEY_NAME: Final = "llm-soc2-report"
CHUNK: Final = 1 << 20


_HASHES: dict[tuple[str, int, int], str] = {}


def sha256_file(path: Path, *, remember: bool = False) -> str:
    """SHA-256 of a file. With ``remember`` (while a bundle is being written, never when one is
    verified) the digest is kept by (path, size, mtime), so a large population file is read once while
    its evidence item, the OSCAL back-matter and the manifest are built."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    known = _HASHES.get(key) if remember else None
    if known is not None:
        return known
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    if remember:
        if len(_HASHES) > 10_000:
            _HASHES.clear()
        _HASHES[key] = value
    return value


def signing_key(settings: Settings, explicit: Path | None = None) -> tuple[Signer, str]:
    """The signer and where it came from."""
    if explicit is not None:
        signer = load_signer(explicit)
        if signer is None:
            raise ConfigurationError(f"signing key {explicit} does not exist")
        return signer, str(explicit)
    audit_key = settings.resolved_signing_key_path
    signer = load_signer(audit_key)
    if signer is not None:
        return signer, f"audit checkpoint key {audit_key}"
    report_key = settings.data_dir / "keys" / "report.key"
    signer = load_signer(report_key)
    if signer is None:
        signer = create_signer(report_key, REPORT_KEY_NAME)
    return signer, f"report key {report_key}"


def bundle_files(root: Path) -> list[str]:
    """Every regular file under ``root`` but the manifest and its signature, as sorted POSIX paths."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            rel = Path(dirpath, name).relative_to(root).as_posix()
            if rel not in (MANIFEST, SIGNATURE):
                out.append(rel)
    return sorted(out)


def write_manifest(root: Path, signer: Signer, *, report_id: str, created: datetime,
                   key_source: str) -> dict[str, Any]:  # fmt: skip
    files = {
        rel: {"sha256": sha256_file(root / rel, remember=True), "size": (root / rel).stat().st_size}
        for rel in bundle_files(root)
    }
    verifier = signer.verifier
    pem = (
        Ed25519PublicKey.from_public_bytes(verifier.public_key)
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    manifest = {
        "format": FORMAT,
        "report_id": report_id,
        "created": iso(created),
        "hash_algorithm": "sha256",
        "files": files,
        "signature": {
            "algorithm": "ed25519",
            "file": SIGNATURE,
            "signed_bytes": "the UTF-8 line 'llm-soc2 report manifest v1' + LF, then manifest.json as stored",
            "public_key": verifier.vkey,
            "public_key_pem": pem,
            "key_source": key_source,
        },
    }
    data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    (root / MANIFEST).write_bytes(data)
    (root / SIGNATURE).write_text(base64.b64encode(signer.sign(DOMAIN + data)).decode() + "\n")
    return manifest


@dataclass
class BundleCheck:
    ok: bool
    files: int = 0
    key: str = ""
    trusted_key: bool = False
    problems: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.ok:
            trust = "a trusted key" if self.trusted_key else f"the key in the manifest ({self.key})"
            return f"bundle OK: {self.files} files match the manifest, signature verified with {trust}"
        return "bundle FAILED: " + "; ".join(self.problems)


def verify(root: Path, trusted_keys: Sequence[str] = ()) -> BundleCheck:
    """Check a bundle directory. Raises ConfigurationError when ``root`` is not a directory or a trusted
    key is malformed (bad input); returns a failed check for anything wrong inside the bundle."""
    if not root.exists():
        raise ConfigurationError(f"{root} does not exist")
    if not root.is_dir():
        raise ConfigurationError(f"{root} is not a directory (give the report's output directory)")
    trusted: list[Verifier] = []
    for text in trusted_keys:
        try:
            trusted.append(Verifier.from_vkey(text))
        except NoteError as exc:
            raise ConfigurationError(f"trusted key {text!r}: {exc}") from exc
    check = BundleCheck(ok=False)
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        check.problems.append(f"{MANIFEST} is missing")
        return check
    data = manifest_path.read_bytes()
    try:
        manifest = json.loads(data)
        listed: dict[str, Any] = manifest["files"]
        vkey = str(manifest["signature"]["public_key"])
    except (ValueError, KeyError, TypeError) as exc:
        check.problems.append(f"{MANIFEST} is not a valid manifest ({exc})")
        return check
    check.key = vkey
    try:
        verifier = Verifier.from_vkey(vkey)
    except NoteError as exc:
        check.problems.append(f"the manifest's public key is malformed ({exc})")
        return check
    signature_path = root / SIGNATURE
    if not signature_path.is_file():
        check.problems.append(f"{SIGNATURE} is missing")
    else:
        try:
            signature = base64.b64decode(signature_path.read_text().strip(), validate=True)
        except (ValueError, binascii.Error):
            signature = b""
        if not verifier.verify(DOMAIN + data, signature):
            check.problems.append(
                f"the signature in {SIGNATURE} does not verify: {MANIFEST} was changed or re-signed"
            )
    if trusted:
        check.trusted_key = any(t.vkey == verifier.vkey for t in trusted)
        if not check.trusted_key:
            check.problems.append(f"the bundle is signed by {verifier.key_id}, which is not a trusted key")
    present = set(bundle_files(root))
    for rel in sorted(set(listed) - present):
        check.missing.append(rel)
        check.problems.append(f"{rel} is missing")
    for rel in sorted(present - set(listed)):
        check.added.append(rel)
        check.problems.append(f"{rel} is not in the manifest (added)")
    for rel in sorted(present & set(listed)):
        entry = listed[rel]
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if sha256_file(root / rel) != expected:
            check.changed.append(rel)
            check.problems.append(f"{rel} was changed (SHA-256 differs from the manifest)")
    check.files = len(listed) if isinstance(listed, dict) else 0
    check.ok = not check.problems
    return check
