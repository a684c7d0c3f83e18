"""Confidential content: AES-256-GCM with per-subject data keys wrapped by a master key.

* Master key: 32 bytes from ``LLM_SOC2_CONTENT_KEY`` (hex or base64). Without it raw content is never
  stored.
* Subject data key: 32 random bytes per subject (the hashed end-user id; ``""`` for records without
  one), stored wrapped: ``wrapped = 0x01 || nonce (12) || AES-256-GCM(master, nonce, key,
  aad = "llm-soc2/subject-key\\x00" || key_id)``.
* Sealed blob: ``0x01 || nonce (12) || AES-256-GCM(data key, nonce, canonical JSON of raw content,
  aad = "llm-soc2/content\\x00" || key_id)``. The Merkle leaf commits to ``SHA-256(sealed blob)`` and the
  key id, never to the plaintext.
* Crypto-shredding: deleting the subject's wrapped key makes every sealed blob of that subject
  unreadable; the blobs' digests in the leaves stay valid, so the log still verifies.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from llm_soc2.audit.record import canonical_bytes
from llm_soc2.config import decode_key
from llm_soc2.errors import ConfigurationError, VerificationError

BLOB_VERSION: Final = 1
_KEY_AAD: Final = b"llm-soc2/subject-key\x00"
_CONTENT_AAD: Final = b"llm-soc2/content\x00"
_SPILL_AAD: Final = b"llm-soc2/spill\x00"


def master_key(text: str) -> bytes:
    """Decode ``LLM_SOC2_CONTENT_KEY``; raises :class:`ConfigurationError` unless it is 32 bytes."""
    try:
        key = decode_key(text)
    except ValueError as exc:
        raise ConfigurationError(f"LLM_SOC2_CONTENT_KEY: {exc}") from exc
    if len(key) != 32:
        raise ConfigurationError(f"LLM_SOC2_CONTENT_KEY must be 32 bytes (AES-256), got {len(key)}")
    return key


def new_key_id() -> str:
    return secrets.token_hex(16)


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(12)
    return bytes([BLOB_VERSION]) + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < 1 + 12 + 16 or blob[0] != BLOB_VERSION:
        raise VerificationError("malformed encrypted blob")
    try:
        return AESGCM(key).decrypt(blob[1:13], blob[13:], aad)
    except InvalidTag as exc:
        raise VerificationError("encrypted blob does not authenticate (wrong key or modified)") from exc


def wrap_key(master: bytes, key_id: str, data_key: bytes) -> bytes:
    return _seal(master, data_key, _KEY_AAD + key_id.encode())


def unwrap_key(master: bytes, key_id: str, wrapped: bytes) -> bytes:
    return _open(master, wrapped, _KEY_AAD + key_id.encode())


def new_data_key() -> bytes:
    return secrets.token_bytes(32)


def seal_content(data_key: bytes, key_id: str, content: Mapping[str, Any]) -> bytes:
    return _seal(data_key, canonical_bytes(content), _CONTENT_AAD + key_id.encode())


def open_content(data_key: bytes, key_id: str, blob: bytes) -> bytes:
    return _open(data_key, blob, _CONTENT_AAD + key_id.encode())


def spill_key(master: bytes) -> bytes:
    """Key for raw content parked in local spill files (derived; never stored)."""
    return hashlib.sha256(b"llm-soc2/spill-key\x00" + master).digest()


def seal_spill(key: bytes, plaintext: bytes) -> bytes:
    return _seal(key, plaintext, _SPILL_AAD)


def open_spill(key: bytes, blob: bytes) -> bytes:
    return _open(key, blob, _SPILL_AAD)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
