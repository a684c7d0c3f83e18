"""Tamper-evident audit log: canonical records, RFC 6962 Merkle tree, signed C2SP checkpoints,
witnesses, SQLite/PostgreSQL stores, a non-blocking writer, content encryption and crypto-shredding.

The core modules (record, merkle, checkpoint, crypto, stores, log, verify) import no OpenTelemetry;
the writer's metrics and the OTLP witness import it lazily (``otel.py``, ``witness.py``).
"""

from __future__ import annotations

from llm_soc2.audit.checkpoint import Checkpoint, NoteError, SignedCheckpoint, Signer, Verifier
from llm_soc2.audit.log import AuditLog, load_trusted_checkpoints, open_store
from llm_soc2.audit.proofs import ConsistencyProof, InclusionProof
from llm_soc2.audit.record import AuditRecord
from llm_soc2.audit.verify import VerifyReport
from llm_soc2.audit.writer import AuditWriter

__all__ = [
    "AuditLog",
    "AuditRecord",
    "AuditWriter",
    "Checkpoint",
    "ConsistencyProof",
    "InclusionProof",
    "NoteError",
    "SignedCheckpoint",
    "Signer",
    "Verifier",
    "VerifyReport",
    "load_trusted_checkpoints",
    "open_store",
]
