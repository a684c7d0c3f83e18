"""Signed checkpoints: C2SP ``tlog-checkpoint`` bodies inside C2SP ``signed-note`` envelopes.

Checkpoint body (c2sp.org/tlog-checkpoint), every line ending in ``\\n``::

    <origin>                 the log's identity, here ``llm-soc2/audit/<log id>``
    <tree size>              decimal, no leading zeros
    <root hash>              standard base64 of the 32-byte RFC 6962 root

Signed note (c2sp.org/signed-note; Go ``golang.org/x/mod/sumdb/note``)::

    <text, ending in \\n>
    \\n
    — <key name> <base64(key ID (4 bytes, big-endian) || Ed25519 signature (64 bytes))>\\n
    ...

The signature is over the text bytes exactly. ``key ID = SHA-256(name || 0x0A || 0x01 || pubkey)[:4]``
(``0x01`` = Ed25519). The dash is U+2014 EM DASH followed by one space.

Key text formats (as Go's ``note.GenerateKey``)::

    signer (private):  PRIVATE+KEY+<name>+<key ID, 8 hex>+<base64(0x01 || 32-byte Ed25519 seed)>
    verifier (public): <name>+<key ID, 8 hex>+<base64(0x01 || 32-byte Ed25519 public key)>

A note is accepted when at least one known key verifies; signatures by unknown keys are ignored
(that is what allows key rotation and witness cosignatures); a known key whose signature does not
verify rejects the note.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

ALG_ED25519: Final = 1
SIGNATURE_PREFIX: Final = "\u2014 "  # em dash + space
MAX_SIGNATURES: Final = 100
ORIGIN_PREFIX: Final = "llm-soc2/audit/"


class NoteError(ValueError):
    """A note, key or checkpoint is malformed or does not verify."""


# --------------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------------
def is_valid_name(name: str) -> bool:
    """Go ``isValidName``: non-empty, no Unicode white space, no ``+``."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def key_hash(name: str, typed_public_key: bytes) -> int:
    """``SHA-256(name || "\\n" || type || public key)[:4]`` as a big-endian integer."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + typed_public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise NoteError("bad base64") from exc


def _parse_hash16(text: str) -> int:
    if len(text) != 8 or any(ch not in "0123456789abcdefABCDEF" for ch in text):
        raise NoteError("malformed key ID")
    return int(text, 16)


@dataclass(frozen=True)
class Verifier:
    """A public key that verifies notes: ``name``, 32-bit key ID, Ed25519 public key."""

    name: str
    key_hash: int
    public_key: bytes

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        name, sep1, rest = vkey.strip().partition("+")
        hash16, sep2, key64 = rest.partition("+")
        if not (sep1 and sep2) or not is_valid_name(name):
            raise NoteError(f"malformed verifier key {vkey!r}")
        khash = _parse_hash16(hash16)
        key = _b64decode(key64)
        if not key:
            raise NoteError("malformed verifier key: empty key")
        if khash != key_hash(name, key):
            raise NoteError(f"verifier key {name}+{hash16}: key ID does not match the key")
        if key[0] != ALG_ED25519:
            raise NoteError(f"verifier key {name}+{hash16}: unknown algorithm {key[0]}")
        if len(key) != 33:
            raise NoteError(f"verifier key {name}+{hash16}: Ed25519 key must be 32 bytes")
        return cls(name, khash, key[1:])

    @property
    def vkey(self) -> str:
        typed = bytes([ALG_ED25519]) + self.public_key
        return f"{self.name}+{self.key_hash:08x}+{base64.b64encode(typed).decode()}"

    @property
    def key_id(self) -> str:
        return f"{self.name}+{self.key_hash:08x}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key that signs notes."""

    name: str
    key_hash: int
    seed: bytes = field(repr=False)

    @classmethod
    def generate(cls, name: str) -> Signer:
        if not is_valid_name(name):
            raise NoteError(f"key name {name!r} must be non-empty without spaces or '+'")
        private = Ed25519PrivateKey.generate()
        seed = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls.from_seed(name, seed)

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        public = (
            Ed25519PrivateKey.from_private_bytes(seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return cls(name, key_hash(name, bytes([ALG_ED25519]) + public), seed)

    @classmethod
    def from_skey(cls, skey: str) -> Signer:
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY" or not is_valid_name(parts[2]):
            raise NoteError("malformed signer key (expected PRIVATE+KEY+<name>+<hash>+<base64>)")
        name, khash = parts[2], _parse_hash16(parts[3])
        key = _b64decode(parts[4])
        if not key:
            raise NoteError("malformed signer key: empty key")
        if key[0] != ALG_ED25519:
            raise NoteError(f"signer key {name}: unknown algorithm {key[0]}")
        if len(key) != 33:
            raise NoteError(f"signer key {name}: Ed25519 seed must be 32 bytes")
        signer = cls.from_seed(name, key[1:])
        if signer.key_hash != khash:
            raise NoteError(f"signer key {name}: key ID does not match the key")
        return signer

    @property
    def skey(self) -> str:
        typed = bytes([ALG_ED25519]) + self.seed
        return f"PRIVATE+KEY+{self.name}+{self.key_hash:08x}+{base64.b64encode(typed).decode()}"

    @property
    def verifier(self) -> Verifier:
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return Verifier(self.name, self.key_hash, public)

    @property
    def vkey(self) -> str:
        return self.verifier.vkey

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


# --------------------------------------------------------------------------------------------------
# Notes
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_hash: int
    signature: bytes

    def line(self) -> str:
        raw = self.key_hash.to_bytes(4, "big") + self.signature
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(raw).decode()}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...]  # verified
    unverified: tuple[NoteSignature, ...] = ()


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """The signed note for ``text`` (which must end in a newline)."""
    if not text.endswith("\n"):
        raise NoteError("malformed note: text must end with a newline")
    message = text.encode("utf-8")
    lines = []
    for signer in signers:
        if not is_valid_name(signer.name):
            raise NoteError("invalid signer")
        lines.append(NoteSignature(signer.name, signer.key_hash, signer.sign(message)).line())
    return text + "\n" + "".join(lines)


def _check_text(msg: str) -> None:
    for ch in msg:
        if ord(ch) < 0x20 and ch != "\n":
            raise NoteError("malformed note: control character")
    try:
        msg.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NoteError("malformed note: not UTF-8") from exc


def open_note(msg: str | bytes, verifiers: Iterable[Verifier]) -> Note:
    """Parse a signed note and check its signatures (Go ``note.Open``). Raises :class:`NoteError`."""
    if isinstance(msg, bytes):
        try:
            msg = msg.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("malformed note: not UTF-8") from exc
    _check_text(msg)
    split = msg.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no signature block")
    text, sigs = msg[: split + 1], msg[split + 2 :]
    if not sigs or not sigs.endswith("\n"):
        raise NoteError("malformed note: signature block must end with a newline")
    known: dict[tuple[str, int], list[Verifier]] = {}
    for verifier in verifiers:
        known.setdefault((verifier.name, verifier.key_hash), []).append(verifier)
    message = text.encode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen: set[tuple[str, int]] = set()
    seen_unverified: set[str] = set()
    for count, line in enumerate(sigs[:-1].split("\n"), start=1):
        if count > MAX_SIGNATURES:
            raise NoteError("malformed note: too many signatures")
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("malformed note: signature line must start with an em dash")
        name, _, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not is_valid_name(name) or not b64:
            raise NoteError("malformed note: bad signature line")
        raw = _b64decode(b64)
        if len(raw) < 5:
            raise NoteError("malformed note: signature too short")
        khash = int.from_bytes(raw[:4], "big")
        signature = NoteSignature(name, khash, raw[4:])
        candidates = known.get((name, khash))
        if not candidates:
            if line not in seen_unverified:
                seen_unverified.add(line)
                unverified.append(signature)
            continue
        if len(candidates) > 1 and len({c.public_key for c in candidates}) > 1:
            raise NoteError(f"ambiguous key {name}+{khash:08x}")
        if (name, khash) in seen:
            continue
        seen.add((name, khash))
        if not candidates[0].verify(message, raw[4:]):
            raise NoteError(f"invalid signature for key {name}+{khash:08x}")
        verified.append(signature)
    if not verified:
        raise NoteError("note has no verifiable signatures")
    return Note(text, tuple(verified), tuple(unverified))


def parse_note_unverified(msg: str) -> tuple[str, list[NoteSignature]]:
    """Split a note into text and signatures without checking them."""
    _check_text(msg)
    split = msg.rfind("\n\n")
    if split < 0 or not msg.endswith("\n"):
        raise NoteError("malformed note")
    text, sigs = msg[: split + 1], msg[split + 2 :]
    out = []
    for line in sigs[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("malformed note: signature line must start with an em dash")
        name, _, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        raw = _b64decode(b64)
        if len(raw) < 5 or not is_valid_name(name):
            raise NoteError("malformed note: bad signature line")
        out.append(NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return text, out


# --------------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------------
def origin_for(log_id: str) -> str:
    """The checkpoint origin of a log id (unique per log; no newlines)."""
    return ORIGIN_PREFIX + log_id.replace("\n", " ").replace("\r", " ")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        ext = "".join(line + "\n" for line in self.extensions)
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n{ext}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        if not text.endswith("\n"):
            raise NoteError("malformed checkpoint: must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or not lines[0]:
            raise NoteError("malformed checkpoint: needs origin, size and root lines")
        origin, size_text, root_text = lines[0], lines[1], lines[2]
        if not size_text.isascii() or not size_text.isdigit() or (len(size_text) > 1 and size_text[0] == "0"):
            raise NoteError(f"malformed checkpoint: bad tree size {size_text!r}")
        root = _b64decode(root_text)
        if len(root) != 32:
            raise NoteError("malformed checkpoint: root must be 32 bytes")
        if any(not line for line in lines[3:]):
            raise NoteError("malformed checkpoint: empty extension line")
        return cls(origin, int(size_text), root, tuple(lines[3:]))


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint and the signed note that carries it."""

    checkpoint: Checkpoint
    note: str
    log_id: str = ""
    time_unix_nano: int = 0

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @property
    def root(self) -> bytes:
        return self.checkpoint.root

    @property
    def origin(self) -> str:
        return self.checkpoint.origin

    @classmethod
    def sign(
        cls, checkpoint: Checkpoint, signers: Sequence[Signer], *, log_id: str = "", time_unix_nano: int = 0
    ) -> SignedCheckpoint:
        return cls(checkpoint, sign_note(checkpoint.text(), signers), log_id, time_unix_nano)

    @classmethod
    def from_note(cls, note: str, *, log_id: str = "", time_unix_nano: int = 0) -> SignedCheckpoint:
        """Parse (without checking signatures: use :meth:`verify`)."""
        text, _ = parse_note_unverified(note)
        checkpoint = Checkpoint.parse(text)
        if not log_id and checkpoint.origin.startswith(ORIGIN_PREFIX):
            log_id = checkpoint.origin[len(ORIGIN_PREFIX) :]
        return cls(checkpoint, note, log_id, time_unix_nano)

    def verify(self, verifiers: Iterable[Verifier]) -> Note:
        note = open_note(self.note, verifiers)
        if Checkpoint.parse(note.text) != self.checkpoint:
            raise NoteError("note text does not match the checkpoint")
        return note

    def signatures(self) -> list[NoteSignature]:
        return parse_note_unverified(self.note)[1]

    def to_json(self) -> dict[str, Any]:
        return {
            "log_id": self.log_id,
            "origin": self.origin,
            "size": self.size,
            "root": base64.b64encode(self.root).decode(),
            "time_unix_nano": self.time_unix_nano,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SignedCheckpoint:
        return cls.from_note(
            str(data["note"]),
            log_id=str(data.get("log_id", "")),
            time_unix_nano=int(data.get("time_unix_nano", 0)),
        )


def load_checkpoint_file(text: str) -> SignedCheckpoint:
    """A checkpoint from a file: a bare signed note or the JSON form."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            return SignedCheckpoint.from_json(json.loads(text))
        except (KeyError, ValueError, TypeError) as exc:
            raise NoteError(f"not a checkpoint: {exc}") from exc
    return SignedCheckpoint.from_note(text)
