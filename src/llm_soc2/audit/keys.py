"""Checkpoint signing key files.

``<signing key path>`` (default ``$LLM_SOC2_DATA_DIR/keys/checkpoint.key``, mode 0600) holds one
signer key line in the Go note format (``PRIVATE+KEY+<name>+<hash>+<base64>``).
``<signing key path>.pub`` lists every verifier key the deployment has used, oldest first, one per
line (``<name>+<hash>+<base64>``): rotation appends the new key and keeps the old ones listed, so
old checkpoints stay verifiable. Copy the ``.pub`` file to wherever checkpoints are verified.
"""

from __future__ import annotations

import os
from pathlib import Path

from llm_soc2.audit.checkpoint import NoteError, Signer, Verifier
from llm_soc2.errors import ConfigurationError


def public_keys_path(key_path: Path) -> Path:
    return key_path.with_name(key_path.name + ".pub")


def load_signer(key_path: Path) -> Signer | None:
    """The signer in ``key_path``, or None when the file does not exist."""
    try:
        text = key_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigurationError(f"cannot read signing key {key_path}: {exc}") from exc
    try:
        return Signer.from_skey(text)
    except NoteError as exc:
        raise ConfigurationError(f"signing key {key_path}: {exc}") from exc


def load_verifiers(key_path: Path) -> list[Verifier]:
    """Every verifier key listed beside ``key_path`` (plus the current key's own)."""
    verifiers: list[Verifier] = []
    try:
        lines = public_keys_path(key_path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        if line.strip():
            try:
                verifiers.append(Verifier.from_vkey(line))
            except NoteError as exc:
                raise ConfigurationError(f"{public_keys_path(key_path)}: {exc}") from exc
    signer = load_signer(key_path)
    if signer is not None and signer.verifier not in verifiers:
        verifiers.append(signer.verifier)
    return verifiers


def _write_exclusive(path: Path, text: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _append_public(key_path: Path, verifier: Verifier) -> None:
    path = public_keys_path(key_path)
    existing = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    if verifier.vkey in existing:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(verifier.vkey + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def create_signer(key_path: Path, name: str) -> Signer:
    """Create the key file (never overwrites: when two processes race, both get the winner's key)."""
    key_path.parent.mkdir(parents=True, exist_ok=True)
    signer = Signer.generate(name)
    try:
        _write_exclusive(key_path, signer.skey + "\n", 0o600)
    except FileExistsError:
        existing = load_signer(key_path)
        if existing is None:  # pragma: no cover - removed between the two calls
            raise ConfigurationError(f"signing key {key_path} vanished") from None
        signer = existing
    _append_public(key_path, signer.verifier)
    return signer


def rotate_signer(key_path: Path, name: str | None = None) -> tuple[Signer | None, Signer]:
    """Replace the signing key; the old public key stays listed, the old private key is removed."""
    old = load_signer(key_path)
    new = Signer.generate(name or (old.name if old else "llm-soc2-audit"))
    key_path.parent.mkdir(parents=True, exist_ok=True)
    if old is not None:
        _append_public(key_path, old.verifier)
    tmp = key_path.with_name(key_path.name + ".new")
    tmp.unlink(missing_ok=True)
    _write_exclusive(tmp, new.skey + "\n", 0o600)
    os.replace(tmp, key_path)
    dir_fd = os.open(key_path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    _append_public(key_path, new.verifier)
    return old, new
