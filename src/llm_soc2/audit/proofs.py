"""Self-contained proofs: JSON files an auditor checks offline with only the log's public key.

Inclusion proof (``llm-soc2-inclusion-proof/v1``)::

    {"format": "llm-soc2-inclusion-proof/v1",
     "log_id": "...", "origin": "llm-soc2/audit/...", "seq": 41, "tree_size": 1000,
     "body": "<base64 canonical record bytes>", "leaf_hash": "<base64>",
     "path": ["<base64 32-byte hash>", ...],           # RFC 6962 audit path, leaf first
     "checkpoint": "<signed note text>",
     "record": {...}}                                   # the decoded body, for humans

Checking: the note verifies with the given key; its origin and size match; ``leaf_hash`` equals
``SHA-256(0x00 || body)``; the body is canonical and names this log and seq; the path leads from the
leaf at ``seq`` to the checkpoint's root (RFC 9162 2.1.3.2).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from llm_soc2.audit import merkle
from llm_soc2.audit.checkpoint import NoteError, SignedCheckpoint, Verifier
from llm_soc2.audit.record import AuditRecord, BodyError, decode, leaf_hash, to_json_dict
from llm_soc2.errors import VerificationError

INCLUSION_FORMAT: Final = "llm-soc2-inclusion-proof/v1"
CONSISTENCY_FORMAT: Final = "llm-soc2-consistency-proof/v1"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(text).encode("ascii"), validate=True)
    except ValueError as exc:
        raise VerificationError(f"proof {what} is not base64") from exc


@dataclass(frozen=True)
class InclusionProof:
    log_id: str
    seq: int
    tree_size: int
    body: bytes
    leaf_hash: bytes
    path: tuple[bytes, ...]
    checkpoint: SignedCheckpoint

    def to_json(self) -> dict[str, Any]:
        try:
            record: dict[str, Any] | None = to_json_dict(decode(self.body, strict=False))
        except BodyError:
            record = None
        return {
            "format": INCLUSION_FORMAT,
            "log_id": self.log_id,
            "origin": self.checkpoint.origin,
            "seq": self.seq,
            "tree_size": self.tree_size,
            "body": _b64(self.body),
            "leaf_hash": _b64(self.leaf_hash),
            "path": [_b64(p) for p in self.path],
            "checkpoint": self.checkpoint.note,
            "record": record,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InclusionProof:
        if data.get("format") != INCLUSION_FORMAT:
            raise VerificationError(
                f"not an inclusion proof (format {data.get('format')!r}, expected {INCLUSION_FORMAT})"
            )
        try:
            checkpoint = SignedCheckpoint.from_note(str(data["checkpoint"]))
            return cls(
                log_id=str(data["log_id"]),
                seq=int(data["seq"]),
                tree_size=int(data["tree_size"]),
                body=_unb64(data["body"], "body"),
                leaf_hash=_unb64(data["leaf_hash"], "leaf_hash"),
                path=tuple(_unb64(p, "path") for p in data["path"]),
                checkpoint=checkpoint,
            )
        except (KeyError, TypeError, ValueError, NoteError) as exc:
            if isinstance(exc, VerificationError):
                raise
            raise VerificationError(f"malformed inclusion proof: {exc}") from exc

    def verify(self, verifiers: Iterable[Verifier]) -> AuditRecord:
        """Check everything offline; returns the proven record or raises :class:`VerificationError`."""
        try:
            self.checkpoint.verify(list(verifiers))
        except NoteError as exc:
            raise VerificationError(f"checkpoint signature: {exc}") from exc
        if self.checkpoint.size != self.tree_size:
            raise VerificationError(
                f"proof is for tree size {self.tree_size} but the checkpoint is at size {self.checkpoint.size}"
            )
        if self.checkpoint.log_id and self.checkpoint.log_id != self.log_id:
            raise VerificationError(f"checkpoint is for log {self.checkpoint.log_id!r}, not {self.log_id!r}")
        if leaf_hash(self.body) != self.leaf_hash:
            raise VerificationError("leaf hash does not match the record body")
        try:
            record = decode(self.body, strict=True)
        except BodyError as exc:
            raise VerificationError(f"record body: {exc}") from exc
        if record.seq != self.seq or record.log_id != self.log_id:
            raise VerificationError(
                f"record body says log {record.log_id!r} seq {record.seq}, proof says {self.log_id!r} seq {self.seq}"
            )
        try:
            merkle.verify_inclusion(self.seq, self.tree_size, self.leaf_hash, self.path, self.checkpoint.root)
        except merkle.ProofError as exc:
            raise VerificationError(f"inclusion proof of record {self.seq}: {exc}") from exc
        return record


@dataclass(frozen=True)
class ConsistencyProof:
    log_id: str
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    path: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CONSISTENCY_FORMAT,
            "log_id": self.log_id,
            "old_size": self.old_size,
            "new_size": self.new_size,
            "old_root": _b64(self.old_root),
            "new_root": _b64(self.new_root),
            "path": [_b64(p) for p in self.path],
        }

    def verify(self) -> None:
        try:
            merkle.verify_consistency(self.old_size, self.new_size, self.path, self.old_root, self.new_root)
        except merkle.ProofError as exc:
            raise VerificationError(f"consistency {self.old_size} -> {self.new_size}: {exc}") from exc
