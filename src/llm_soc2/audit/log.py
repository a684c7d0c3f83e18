"""``AuditLog``: the tamper-evident audit log over a store (SQLite or PostgreSQL).

Usage::

    from llm_soc2.audit import AuditLog, AuditRecord

    log = AuditLog.open()                      # LLM_SOC2_AUDIT_URL, default sqlite:///.llm-soc2/audit.db
    log.append([AuditRecord(kind="interaction", time_unix_nano=time.time_ns(), attributes={...})])
    checkpoint = log.checkpoint()              # signed C2SP checkpoint (also handed to witnesses by the writer)
    report = log.verify(trusted=[checkpoint])  # recompute everything; report.ok, report.reason
    proof = log.prove(0)                       # self-contained JSON inclusion proof
    for record in log.records(since=datetime(2026, 1, 1, tzinfo=UTC), kinds={"interaction"}):
        ...
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from llm_soc2.audit import crypto, merkle
from llm_soc2.audit.checkpoint import (
    Checkpoint,
    NoteError,
    SignedCheckpoint,
    Signer,
    Verifier,
    origin_for,
)
from llm_soc2.audit.keys import create_signer, load_signer, load_verifiers, rotate_signer
from llm_soc2.audit.proofs import ConsistencyProof, InclusionProof
from llm_soc2.audit.record import (
    ATTR_CONTENT_ROWS,
    ATTR_ERASURE_SUBJECT,
    ATTR_KEY_EVENT,
    ATTR_KEY_PREVIOUS,
    ATTR_KEY_VKEY,
    ATTR_PURGE_BEFORE,
    KIND_ERASURE,
    KIND_KEY,
    KIND_PURGE,
    AuditRecord,
    Sealer,
    clean_text,
    decode,
    leaf_hash,
    parse_content_blob,
    prepare,
)
from llm_soc2.audit.store import (
    PART_CONTENT,
    PART_SEALED,
    BatchRow,
    CheckpointRow,
    KeyRow,
    RecordFilter,
    RecordRow,
    Store,
    SubjectKeyRow,
)
from llm_soc2.audit.verify import VerifyReport, verify_log
from llm_soc2.config import Settings
from llm_soc2.errors import ConfigurationError, StoreError, VerificationError


def open_store(url: str, *, migrate: bool = True) -> Store:
    """A store for ``sqlite:///path`` or ``postgresql://...`` / ``postgres://...``. ``migrate=False``
    opens an existing store for reading without preparing its schema."""
    if url.startswith("sqlite:///"):
        from llm_soc2.audit.store_sqlite import SQLiteStore

        return SQLiteStore(url, migrate=migrate)
    if url.startswith(("postgresql://", "postgres://")):
        from llm_soc2.audit.store_postgres import PostgresStore

        return PostgresStore(url, migrate=migrate)
    raise ConfigurationError(
        f"unsupported audit store URL {url!r}: use sqlite:///abs/path or postgresql://..."
    )


def _ns(value: datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("use timezone-aware datetimes (e.g. datetime.now(UTC))")
    return int(value.timestamp() * 1_000_000_000)


class AuditLog:
    """A tamper-evident log of :class:`AuditRecord`. Thread-safe; one per process is enough."""

    def __init__(self, store: Store, *, log_id: str | None, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.log_id = log_id  # None: reads cover every log
        self.write_log_id = log_id or settings.resolved_audit_log_id
        self._lock = threading.RLock()
        self._signer: Signer | None = None
        self._master: bytes | None = (
            crypto.master_key(settings.content_key_hex) if settings.content_key_hex else None
        )
        self._subject_keys: dict[str, tuple[str, bytes]] = {}
        # log id -> (size, compact range) after this process's last append: saves reading the
        # tree's right edge while nobody else appends (checked against the size under the lock).
        self._frontiers: dict[str, tuple[int, list[bytes]]] = {}

    @classmethod
    def open(
        cls, url: str | None = None, *, log_id: str | None = None, settings: Settings | None = None
    ) -> AuditLog:
        settings = settings or Settings.from_env()
        return cls(open_store(url or settings.resolved_audit_url), log_id=log_id, settings=settings)

    @property
    def url(self) -> str:
        return self.store.url

    # ----------------------------------------------------------------------------------------------
    # Writing
    # ----------------------------------------------------------------------------------------------
    def append(
        self, records: Sequence[AuditRecord], *, log_id: str | None = None, batch_id: str | None = None
    ) -> list[int]:
        """Append records in one transaction; returns their seqs. Durable when this returns.

        With ``batch_id``, the id is stored in the same transaction; when a batch with that id was
        already appended to the log, nothing is appended and the seqs it got are returned (so a
        replay after a crash between commit and bookkeeping does not duplicate records)."""
        return self.append_batch(records, log_id=log_id, batch_id=batch_id)[0]

    def append_batch(
        self, records: Sequence[AuditRecord], *, log_id: str | None = None, batch_id: str | None = None
    ) -> tuple[list[int], bool]:
        """:meth:`append`, also telling whether the records were appended now (False: ``batch_id``
        was already stored and the seqs are those of that earlier batch, which may hold fewer
        records than given)."""
        if not records:
            return [], False
        target = log_id or self.write_log_id
        seal = self._sealer(records)
        salts = os.urandom(16 * len(records))
        prepared = [
            prepare(record, target, salts[16 * i : 16 * i + 16], seal) for i, record in enumerate(records)
        ]
        sha256 = hashlib.sha256
        with self.store.append(target) as tx:
            if batch_id is not None:
                done = tx.batch(batch_id)
                if done is not None:
                    return list(range(done.first_seq, done.first_seq + done.count)), False
            size = tx.size()
            frontier_hashes = self._frontier(tx.get_nodes, target, size)
            rows: list[tuple[object, ...]] = []
            content: list[tuple[str, int, str, bytes]] = []
            leaves: list[bytes] = []
            for seq, (prefix, suffix, columns, blob, sealed) in enumerate(prepared, start=size):
                body = b"".join((prefix, str(seq).encode("ascii"), suffix))
                leaf = sha256(b"\x00" + body).digest()
                leaves.append(leaf)
                rows.append((target, seq, *columns, body, leaf))
                if blob is not None:
                    content.append((target, seq, PART_CONTENT, blob))
                if sealed is not None:
                    content.append((target, seq, PART_SEALED, sealed))
            stack, nodes = merkle.append_leaves(size, frontier_hashes, leaves, merkle.CACHE_MIN_LEVEL)
            batch = None if batch_id is None else BatchRow(target, batch_id, size, len(rows), time.time_ns())
            tx.insert(rows, content, nodes, batch)
        self._frontiers[target] = (size + len(rows), stack)
        return list(range(size, size + len(rows))), True

    def _frontier(self, get_nodes: Any, log_id: str, size: int) -> list[bytes]:
        cached = self._frontiers.get(log_id)
        if cached is not None and cached[0] == size:
            return cached[1]
        front = merkle.frontier(size)
        if not front:
            return []
        try:
            nodes = merkle.assemble(front, get_nodes(merkle.fetch_ids(front)))
        except KeyError as exc:
            raise StoreError(
                f"log {log_id!r}: tree node {exc.args[0]} is missing from the node cache; run `llm-soc2 audit verify`"
            ) from None
        return [nodes[node] for node in front]

    def _sealer(self, records: Sequence[AuditRecord]) -> Sealer | None:
        """Seals raw content under the subject's data key (None without a content key). Cached keys
        of this batch's subjects are checked against the store first (one query), so an erasure
        done by another process takes effect here without a restart."""
        if self._master is None:
            return None
        subjects = {clean_text(r.subject) for r in records if r.raw_content is not None}
        if not subjects:
            return None
        cached = {s: self._subject_keys[s][0] for s in subjects if s in self._subject_keys}
        if cached:
            alive = self.store.existing_subject_key_ids(set(cached.values()))
            for subject, key_id in cached.items():
                if key_id not in alive:
                    self._subject_keys.pop(subject, None)

        def seal(subject: str, raw: Any) -> tuple[str, bytes]:
            key_id, data_key = self._subject_key(subject)
            return key_id, crypto.seal_content(data_key, key_id, raw)

        return seal

    def _subject_key(self, subject: str) -> tuple[str, bytes]:
        assert self._master is not None
        cached = self._subject_keys.get(subject)
        if cached is not None:
            return cached
        row = self.store.subject_key(subject)
        if row is None:
            key_id = crypto.new_key_id()
            data_key = crypto.new_data_key()
            row = self.store.insert_subject_key(
                SubjectKeyRow(
                    subject, key_id, crypto.wrap_key(self._master, key_id, data_key), time.time_ns()
                )
            )
        result = (row.key_id, crypto.unwrap_key(self._master, row.key_id, row.wrapped))
        self._subject_keys[subject] = result
        return result

    # ----------------------------------------------------------------------------------------------
    # Reading
    # ----------------------------------------------------------------------------------------------
    def _filter(
        self,
        log_id: str | None,
        since: datetime | None,
        until: datetime | None,
        kinds: Collection[str] | None,
    ) -> RecordFilter:
        return RecordFilter(
            log_id=log_id if log_id is not None else self.log_id,
            since_ns=_ns(since),
            until_ns=_ns(until),
            kinds=None if kinds is None else sorted(kinds),
        )

    def records(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        kinds: Collection[str] | None = None,
        log_id: str | None = None,
        with_content: bool = True,
    ) -> Iterator[AuditRecord]:
        """Records in ``[since, until)`` ordered by (log id, seq), streamed; content loaded unless purged."""
        for row in self.store.iter_records(
            self._filter(log_id, since, until, kinds), with_content=with_content
        ):
            yield self._row_record(row)

    def _row_record(self, row: RecordRow) -> AuditRecord:
        record = decode(row.body, strict=False)
        if row.content is not None:
            record = dataclasses.replace(record, content=parse_content_blob(row.content))
        return record

    def record(self, seq: int, *, log_id: str | None = None) -> AuditRecord | None:
        target = log_id or self.write_log_id
        for row in self.store.iter_records(
            RecordFilter(log_id=target, start_seq=seq, end_seq=seq + 1), with_content=True
        ):
            return self._row_record(row)
        return None

    def count(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        kinds: Collection[str] | None = None,
        log_id: str | None = None,
    ) -> int:
        return self.store.count(self._filter(log_id, since, until, kinds))

    def log_ids(self) -> list[str]:
        return self.store.log_ids()

    def size(self, log_id: str | None = None) -> int:
        return self.store.size(log_id or self.write_log_id)

    def raw_content(self, seq: int, *, log_id: str | None = None) -> Any:
        """Decrypt a record's raw content; None when none was stored, it was purged or its key destroyed."""
        if self._master is None:
            raise ConfigurationError("LLM_SOC2_CONTENT_KEY is not set: raw content cannot be decrypted")
        target = log_id or self.write_log_id
        record = self.record(seq, log_id=target)
        if record is None or record.sealed_key_id is None:
            return None
        _, sealed = self.store.content(target, seq)
        key = self.store.subject_key_by_id(record.sealed_key_id)
        if sealed is None or key is None:
            return None
        data_key = crypto.unwrap_key(self._master, key.key_id, key.wrapped)
        import json

        return json.loads(crypto.open_content(data_key, key.key_id, sealed))

    # ----------------------------------------------------------------------------------------------
    # Tree heads, checkpoints, proofs
    # ----------------------------------------------------------------------------------------------
    def root(self, size: int | None = None, *, log_id: str | None = None) -> tuple[int, bytes]:
        target = log_id or self.write_log_id
        if size is None:
            size = self.store.size(target)
        return size, self._root_at(target, size)

    def _nodes(self, log_id: str, ids: Sequence[merkle.NodeId]) -> dict[merkle.NodeId, bytes]:
        """Hashes of tree nodes (cached ones read, small ones recomputed from leaf hashes).
        Raises ``KeyError`` naming a missing node."""
        return merkle.assemble(ids, self.store.get_nodes(log_id, merkle.fetch_ids(ids)))

    def _root_at(self, log_id: str, size: int) -> bytes:
        front = merkle.frontier(size)
        try:
            nodes = self._nodes(log_id, front)
            return merkle.fold([nodes[node] for node in front])
        except KeyError as exc:
            raise VerificationError(
                f"log {log_id!r}: tree node {exc.args[0]} is missing from the node cache"
            ) from None

    def signer(self) -> Signer:
        """The checkpoint signing key; created (and recorded in the log) on first use."""
        with self._lock:
            if self._signer is None:
                path = self.settings.resolved_signing_key_path
                signer = load_signer(path)
                if signer is None:
                    signer = create_signer(path, _key_name(self.write_log_id))
                    self._record_key(signer, event="create", previous=None)
                elif not any(k.vkey == signer.vkey for k in self.store.keys()):  # noqa: SIM118
                    self._record_key(signer, event="create", previous=None)
                self._signer = signer
            return self._signer

    def _record_key(self, signer: Signer, *, event: str, previous: Signer | None) -> None:
        now = time.time_ns()
        self.store.insert_key(KeyRow(signer.verifier.key_id, signer.vkey, "add", now))
        attrs: dict[str, Any] = {ATTR_KEY_EVENT: event, ATTR_KEY_VKEY: signer.vkey}
        if previous is not None:
            attrs[ATTR_KEY_PREVIOUS] = previous.vkey
            self.store.insert_key(KeyRow(previous.verifier.key_id, previous.vkey, "retire", now))
        self.append(
            [
                AuditRecord(
                    kind=KIND_KEY, time_unix_nano=now, service=self.settings.service_name, attributes=attrs
                )
            ]
        )

    def rotate_key(self, name: str | None = None) -> Signer:
        """Sign with a new key from now on; the rotation is recorded in the log and a checkpoint signed
        by the new key is issued. The old public key stays listed for verifying old checkpoints."""
        with self._lock:
            old, new = rotate_signer(self.settings.resolved_signing_key_path, name)
            self._signer = new
            self._record_key(new, event="rotate", previous=old)
        self.checkpoint()
        return new

    def verifiers(self, extra: Sequence[Verifier] = ()) -> list[Verifier]:
        """Independently held public keys: the ``.pub`` list beside the signing key plus ``extra``."""
        keys = [*load_verifiers(self.settings.resolved_signing_key_path), *extra]
        return list({v.vkey: v for v in keys}.values())

    def checkpoint(self, *, log_id: str | None = None) -> SignedCheckpoint:
        """Sign a checkpoint of the current tree. Refuses (``VerificationError``) when the tree is not
        consistent with the latest checkpoint this log signed before."""
        target = log_id or self.write_log_id
        signer = self.signer()
        with self._lock:
            size = self.store.size(target)
            root = self._root_at(target, size)
            previous = self.store.latest_checkpoint(target)
            if previous is not None:
                if previous.size > size:
                    raise VerificationError(
                        f"log {target!r} holds {size} records but a checkpoint at size {previous.size} was signed: "
                        "refusing to sign (records were removed)"
                    )
                if self._root_at(target, previous.size) != previous.root:
                    raise VerificationError(
                        f"log {target!r} is not consistent with its checkpoint at size {previous.size}: refusing to sign"
                    )
                if previous.size == size:
                    signed = SignedCheckpoint.from_note(
                        previous.note, log_id=target, time_unix_nano=previous.time_unix_nano
                    )
                    if any(
                        s.key_hash == signer.key_hash and s.name == signer.name for s in signed.signatures()
                    ):
                        return signed
            now = time.time_ns()
            signed = SignedCheckpoint.sign(
                Checkpoint(origin_for(target), size, root), [signer], log_id=target, time_unix_nano=now
            )
            self.store.insert_checkpoint(CheckpointRow(target, size, root, signed.note, now))
            return signed

    def latest_checkpoint(self, *, log_id: str | None = None) -> SignedCheckpoint | None:
        target = log_id or self.write_log_id
        row = self.store.latest_checkpoint(target)
        if row is None:
            return None
        return SignedCheckpoint.from_note(row.note, log_id=row.log_id, time_unix_nano=row.time_unix_nano)

    def checkpoints(
        self, since: datetime | None = None, until: datetime | None = None, *, log_id: str | None = None
    ) -> list[SignedCheckpoint]:
        rows = self.store.checkpoints(
            log_id if log_id is not None else self.log_id, since_ns=_ns(since), until_ns=_ns(until)
        )
        return [
            SignedCheckpoint.from_note(r.note, log_id=r.log_id, time_unix_nano=r.time_unix_nano) for r in rows
        ]

    def prove(
        self, seq: int, *, log_id: str | None = None, checkpoint: SignedCheckpoint | None = None
    ) -> InclusionProof:
        """An inclusion proof of record ``seq`` against ``checkpoint`` (default: the latest, signing a
        new one when the latest does not cover ``seq``)."""
        target = log_id or self.write_log_id
        if checkpoint is None:
            checkpoint = self.latest_checkpoint(log_id=target)
            if checkpoint is None or checkpoint.size <= seq:
                checkpoint = self.checkpoint(log_id=target)
        if not 0 <= seq < checkpoint.size:
            raise VerificationError(f"record {seq} is not in log {target!r} at size {checkpoint.size}")
        planned = merkle.plan(merkle.inclusion_ranges(seq, checkpoint.size))
        ids = [node for part in planned for node in part]
        try:
            nodes = self._nodes(target, [*ids, (0, seq)])
            path = merkle.resolve(planned, nodes)
            leaf = nodes[(0, seq)]
        except KeyError as exc:
            raise VerificationError(
                f"log {target!r}: tree node {exc.args[0]} is missing from the node cache"
            ) from None
        rows = list(self.store.iter_records(RecordFilter(log_id=target, start_seq=seq, end_seq=seq + 1)))
        if not rows:
            raise VerificationError(f"record {seq} of log {target!r} is missing")
        proof = InclusionProof(target, seq, checkpoint.size, rows[0].body, leaf, tuple(path), checkpoint)
        try:
            merkle.verify_inclusion(
                seq, checkpoint.size, leaf_hash(rows[0].body), proof.path, checkpoint.root
            )
        except merkle.ProofError as exc:
            raise VerificationError(
                f"record {seq} of log {target!r} does not prove against the checkpoint: {exc}"
            ) from exc
        return proof

    def consistency(self, old_size: int, new_size: int, *, log_id: str | None = None) -> ConsistencyProof:
        target = log_id or self.write_log_id
        size = self.store.size(target)
        if not 0 <= old_size <= new_size <= size:
            raise VerificationError(
                f"no consistency proof from {old_size} to {new_size} in a log of size {size}"
            )
        old_root = self._root_at(target, old_size)
        new_root = self._root_at(target, new_size)
        path: list[bytes] = []
        if 0 < old_size < new_size:
            planned = merkle.plan(merkle.consistency_ranges(old_size, new_size))
            try:
                nodes = self._nodes(target, [node for part in planned for node in part])
                path = merkle.resolve(planned, nodes)
            except KeyError as exc:
                raise VerificationError(f"log {target!r}: tree node {exc.args[0]} is missing") from None
        return ConsistencyProof(target, old_size, new_size, old_root, new_root, tuple(path))

    # ----------------------------------------------------------------------------------------------
    # Verification
    # ----------------------------------------------------------------------------------------------
    def verify(
        self,
        *,
        start: int | None = None,
        end: int | None = None,
        trusted: Sequence[SignedCheckpoint] = (),
        log_id: str | None = None,
        keys: Sequence[Verifier] = (),
        check_nodes: bool = True,
        workers: int | None = None,
    ) -> VerifyReport:
        """Recompute and check the log(s); see ``verify.py``. ``trusted`` are checkpoints held outside
        the store (witness files); ``keys`` public keys trusted in addition to the local ``.pub`` list;
        ``workers`` processes (default: one per core for large logs, see ``verify.worker_count``)."""
        keyring = self.verifiers(keys)
        targets = (
            [log_id] if log_id is not None else ([self.log_id] if self.log_id is not None else self.log_ids())
        )
        for signed in trusted:
            if signed.log_id and signed.log_id not in targets and log_id is None and self.log_id is None:
                targets.append(signed.log_id)  # a witnessed log that vanished from the store
        reports = [
            verify_log(
                self.store,
                t,
                start=start,
                end=end,
                trusted=trusted,
                keyring=keyring,
                check_nodes=check_nodes,
                workers=workers,
            )
            for t in targets
        ]
        if len(reports) == 1:
            return reports[0]
        combined = VerifyReport(logs=reports, size=sum(r.size for r in reports))
        for r in reports:
            combined.records_checked += r.records_checked
            combined.checkpoints_checked += r.checkpoints_checked
            combined.trusted_checked += r.trusted_checked
            combined.nodes_checked += r.nodes_checked
        bad = next((r for r in reports if not r.ok), None)
        if bad is not None:
            combined.fail(bad.first_bad_seq, bad.reason)
            combined.log_id = bad.log_id
        return combined

    # ----------------------------------------------------------------------------------------------
    # Erasure and retention
    # ----------------------------------------------------------------------------------------------
    def erase(self, subject: str, *, reason: str = "") -> int:
        """Crypto-shred a subject: record the erasure, then delete its content blobs and data key.
        Returns content blobs removed. The Merkle leaves do not change; the log still verifies."""
        if not subject:
            raise ConfigurationError("erase needs a subject (the hashed end-user id)")
        attrs: dict[str, Any] = {ATTR_ERASURE_SUBJECT: subject}
        if reason:
            attrs["llm_soc2.erasure.reason"] = reason
        self.append(
            [
                AuditRecord(
                    kind=KIND_ERASURE,
                    time_unix_nano=time.time_ns(),
                    service=self.settings.service_name,
                    attributes=attrs,
                )
            ]
        )
        removed = self.store.erase_subject(subject)
        self._subject_keys.pop(subject, None)
        self.append(
            [
                AuditRecord(
                    kind=KIND_ERASURE,
                    time_unix_nano=time.time_ns(),
                    service=self.settings.service_name,
                    attributes={**attrs, ATTR_CONTENT_ROWS: removed, "llm_soc2.erasure.phase": "done"},
                )
            ]
        )
        return removed

    def purge(self, older_than: timedelta, *, now: datetime | None = None) -> int:
        """Remove content blobs of records older than ``older_than`` (all logs of the store); the purge
        is recorded first. Returns content blobs removed."""
        now_ns = _ns(now) if now is not None else time.time_ns()
        assert now_ns is not None
        before = now_ns - int(older_than.total_seconds() * 1_000_000_000)
        attrs: dict[str, Any] = {ATTR_PURGE_BEFORE: before}
        targets = self.log_ids() or [self.write_log_id]
        for target in targets:
            self.append(
                [
                    AuditRecord(
                        kind=KIND_PURGE,
                        time_unix_nano=time.time_ns(),
                        service=self.settings.service_name,
                        attributes=attrs,
                    )
                ],
                log_id=target,
            )
        removed = self.store.purge_content(None, before)
        self.append(
            [
                AuditRecord(
                    kind=KIND_PURGE,
                    time_unix_nano=time.time_ns(),
                    service=self.settings.service_name,
                    attributes={**attrs, ATTR_CONTENT_ROWS: removed, "llm_soc2.purge.phase": "done"},
                )
            ]
        )
        return removed

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _key_name(log_id: str) -> str:
    name = origin_for(log_id)
    cleaned = "".join("_" if ch.isspace() or ch == "+" else ch for ch in name)
    return cleaned or "llm-soc2-audit"


def load_trusted_checkpoints(paths: Sequence[Path]) -> list[SignedCheckpoint]:
    """Checkpoints from files or directories (``*.checkpoint`` files, recursively)."""
    from llm_soc2.audit.checkpoint import load_checkpoint_file

    out: list[SignedCheckpoint] = []
    for path in paths:
        files = sorted(path.rglob("*.checkpoint")) if path.is_dir() else [path]
        for file in files:
            try:
                out.append(load_checkpoint_file(file.read_text(encoding="utf-8")))
            except (OSError, NoteError) as exc:
                raise ConfigurationError(f"cannot read checkpoint {file}: {exc}") from exc
    return out
