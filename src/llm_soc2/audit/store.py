"""What an audit store provides: append transactions, streaming reads, checkpoints, keys, content.

A store keeps rows; it knows nothing of Merkle proof algebra. The log (``log.py``) plans which nodes
a proof needs (``merkle.py``) and asks the store for them by id.

Tables (the same in SQLite and PostgreSQL; see ``schema_sqlite.sql`` / ``schema_postgres.sql``):

``records``      one row per leaf: ``log_id, seq`` + query columns + ``body`` (canonical bytes) + ``leaf_hash``
``nodes``        cached hashes of complete perfect subtrees, ``(log_id, level, idx) -> hash`` for
                 ``level >= merkle.CACHE_MIN_LEVEL`` (smaller subtrees are recomputed from leaf hashes)
``batches``      ids of batches appended with one (the writer's and spill replay's), with their
                 seq range, written in the same transaction as the records: replaying a batch whose
                 id is present appends nothing, so a replay interrupted after its commit is harmless
``checkpoints``  every signed checkpoint note the log issued
``keys``         verifier keys used to sign checkpoints (``add``/``retire`` events)
``content``      content blobs keyed by ``(log_id, seq, part)``; part ``content`` (salted scrubbed JSON)
                 or ``sealed`` (AES-256-GCM ciphertext of raw content); removable by purge/erase only
``subject_keys`` wrapped per-subject data keys; destroying a row crypto-shreds the subject's content
``schema_version``

``records``, ``nodes``, ``checkpoints``, ``keys`` and ``batches`` are append-only: triggers reject UPDATE, DELETE
and TRUNCATE, and the writer role holds only INSERT and SELECT. ``content`` rejects UPDATE.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Final

from llm_soc2.audit.merkle import NodeId
from llm_soc2.audit.record import QUERY_COLUMNS

PART_CONTENT: Final = "content"
PART_SEALED: Final = "sealed"

RECORD_COLUMNS: Final = ("log_id", "seq", *QUERY_COLUMNS, "body", "leaf_hash")
# Layout of the tuples :meth:`Store.iter_verify_rows` yields:
# (seq, *QUERY_COLUMNS, body, leaf_hash, content blob or None, sealed blob or None).
VERIFY_BODY: Final = 1 + len(QUERY_COLUMNS)


@dataclass(frozen=True)
class RecordRow:
    log_id: str
    seq: int
    columns: tuple[object, ...]  # QUERY_COLUMNS order
    body: bytes
    leaf_hash: bytes
    content: bytes | None = None  # scrubbed-content blob, when stored (and not purged)
    sealed: bytes | None = None  # sealed raw-content blob

    def values(self) -> tuple[object, ...]:
        return (self.log_id, self.seq, *self.columns, self.body, self.leaf_hash)


@dataclass(frozen=True)
class CheckpointRow:
    log_id: str
    size: int
    root: bytes
    note: str
    time_unix_nano: int


@dataclass(frozen=True)
class KeyRow:
    key_id: str  # "<name>+<8 hex>"
    vkey: str
    event: str  # "add" | "retire"
    time_unix_nano: int


@dataclass(frozen=True)
class SubjectKeyRow:
    subject: str
    key_id: str
    wrapped: bytes
    time_unix_nano: int


@dataclass(frozen=True)
class BatchRow:
    log_id: str
    batch_id: str
    first_seq: int
    count: int
    time_unix_nano: int


@dataclass(frozen=True)
class RecordFilter:
    log_id: str | None = None
    since_ns: int | None = None
    until_ns: int | None = None  # exclusive
    kinds: Collection[str] | None = None
    start_seq: int | None = None
    end_seq: int | None = None  # exclusive
    subject: str | None = None


class AppendTx(abc.ABC):
    """One append transaction on one log, holding that log's append lock."""

    @abc.abstractmethod
    def size(self) -> int: ...

    @abc.abstractmethod
    def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]: ...

    @abc.abstractmethod
    def batch(self, batch_id: str) -> BatchRow | None:
        """The batch appended with ``batch_id`` to this log, if any."""

    @abc.abstractmethod
    def insert(
        self,
        rows: Sequence[tuple[object, ...]],
        content: Sequence[tuple[str, int, str, bytes]],
        nodes: Sequence[tuple[int, int, bytes]],
        batch: BatchRow | None = None,
    ) -> None:
        """Insert record rows (``RECORD_COLUMNS`` order), content blobs ``(log_id, seq, part, blob)``,
        tree nodes ``(level, idx, hash)`` of this log and, when given, the batch id row."""


class Store(abc.ABC):
    """An audit store. Methods raise :class:`llm_soc2.errors.StoreError` on failure."""

    url: str

    @abc.abstractmethod
    def append(self, log_id: str) -> AbstractContextManager[AppendTx]:
        """A transaction holding ``log_id``'s append lock; commits on normal exit."""

    @abc.abstractmethod
    def size(self, log_id: str) -> int: ...

    @abc.abstractmethod
    def log_ids(self) -> list[str]: ...

    @abc.abstractmethod
    def get_nodes(self, log_id: str, ids: Sequence[NodeId]) -> dict[NodeId, bytes]: ...

    @abc.abstractmethod
    def iter_records(self, where: RecordFilter, *, with_content: bool = False) -> Iterator[RecordRow]:
        """Records ordered by ``(log_id, seq)``, streamed."""

    @abc.abstractmethod
    def count(self, where: RecordFilter) -> int: ...

    @abc.abstractmethod
    def iter_leaf_hashes(self, log_id: str, start: int, end: int) -> Iterator[tuple[int, bytes]]: ...

    @abc.abstractmethod
    def iter_verify_rows(self, log_id: str, start: int, end: int) -> Iterator[tuple[Any, ...]]:
        """Records ``[start, end)`` of one log as plain tuples (layout: ``VERIFY_BODY``), ordered by seq,
        streamed with their content blobs: the verifier's read path."""

    @abc.abstractmethod
    def iter_nodes(
        self, log_id: str, level: int, start: int = 0, end: int | None = None
    ) -> Iterator[tuple[int, bytes]]:
        """Cached nodes of one level with ``start <= idx < end``, ordered by index."""

    @abc.abstractmethod
    def max_node_level(self, log_id: str) -> int: ...

    @abc.abstractmethod
    def insert_checkpoint(self, row: CheckpointRow) -> bool:
        """Store a checkpoint; False when one of that size is already stored."""

    @abc.abstractmethod
    def checkpoints(
        self, log_id: str | None, *, since_ns: int | None = None, until_ns: int | None = None
    ) -> list[CheckpointRow]: ...

    @abc.abstractmethod
    def latest_checkpoint(self, log_id: str) -> CheckpointRow | None: ...

    @abc.abstractmethod
    def insert_key(self, row: KeyRow) -> None: ...

    @abc.abstractmethod
    def keys(self) -> list[KeyRow]: ...

    @abc.abstractmethod
    def subject_key(self, subject: str) -> SubjectKeyRow | None: ...

    @abc.abstractmethod
    def subject_key_by_id(self, key_id: str) -> SubjectKeyRow | None: ...

    @abc.abstractmethod
    def insert_subject_key(self, row: SubjectKeyRow) -> SubjectKeyRow:
        """Store a subject key; when the subject already has one, return that one instead."""

    @abc.abstractmethod
    def existing_subject_key_ids(self, key_ids: Collection[str]) -> set[str]:
        """Which of ``key_ids`` still exist (erasure deletes them); one query."""

    @abc.abstractmethod
    def content(self, log_id: str, seq: int) -> tuple[bytes | None, bytes | None]: ...

    @abc.abstractmethod
    def erase_subject(self, subject: str) -> int:
        """Delete the subject's content blobs and data keys; returns content rows removed."""

    @abc.abstractmethod
    def purge_content(self, log_id: str | None, before_ns: int) -> int:
        """Delete content blobs of records older than ``before_ns``; returns rows removed."""

    @abc.abstractmethod
    def close(self) -> None: ...
