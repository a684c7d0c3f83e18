"""Full verification of a stored log, from the bytes up.

For each record: the seq is contiguous; ``leaf_hash == SHA-256(0x00 || body)``; the body parses and
names its own log and seq (so a reordering is caught); every query column equals what the body says
(so editing a column is caught); stored content blobs hash to the digests the body commits to, and a
missing blob is explained by a later erasure or purge record. Then the tree: every cached interior
node equals the recomputed one, and the recomputed root at each checkpoint's size equals the
checkpoint's root -- for the checkpoints in the store (their signatures checked against the known
keys) and for the *trusted* checkpoints the caller holds from outside the store (witness files, an
auditor's copy). Only the latter detect a rewrite-and-rehash or a truncation done by someone who
controls the database: the store cannot attest to itself.

Verification stops at the first failure and names the first bad record and the reason.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from json import loads
from typing import Any

from llm_soc2.audit import merkle
from llm_soc2.audit.checkpoint import NoteError, SignedCheckpoint, Verifier
from llm_soc2.audit.record import (
    ATTR_ERASURE_SUBJECT,
    ATTR_PURGE_BEFORE,
    KIND_ERASURE,
    KIND_PURGE,
    QUERY_COLUMNS,
    BodyError,
    columns_from_document,
    decode,
)
from llm_soc2.audit.store import RecordFilter, Store

_MEMBERS = frozenset(
    (
        "attributes",
        "content",
        "kind",
        "log_id",
        "sealed",
        "seq",
        "service",
        "span_id",
        "subject",
        "time_unix_nano",
        "trace_id",
    )
)


@dataclass
class VerifyReport:
    """The outcome of :meth:`AuditLog.verify`. ``ok`` is False on the first problem found."""

    ok: bool = True
    log_id: str = ""
    size: int = 0
    root: str = ""  # base64 root at ``size``
    first_bad_seq: int | None = None
    reason: str = ""
    records_checked: int = 0
    nodes_checked: int = 0
    checkpoints_checked: int = 0
    trusted_checked: int = 0
    content_checked: int = 0
    content_removed: int = 0  # blobs missing and explained by erasure/purge records
    notes: list[str] = field(default_factory=list)
    logs: list[VerifyReport] = field(default_factory=list)  # per log when several were verified

    def fail(self, seq: int | None, reason: str) -> VerifyReport:
        self.ok = False
        self.first_bad_seq = seq
        self.reason = reason
        return self

    def summary(self) -> str:
        if self.logs:
            return "\n".join(r.summary() for r in self.logs)
        if not self.ok:
            where = f" at record {self.first_bad_seq}" if self.first_bad_seq is not None else ""
            return f"log {self.log_id!r}: FAILED{where}: {self.reason}"
        return (
            f"log {self.log_id!r}: OK size={self.size} root={self.root} records={self.records_checked} "
            f"nodes={self.nodes_checked} checkpoints={self.checkpoints_checked} trusted={self.trusted_checked} "
            f"content={self.content_checked} content_removed={self.content_removed}"
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok,
            "log_id": self.log_id,
            "size": self.size,
            "root": self.root,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
            "records_checked": self.records_checked,
            "nodes_checked": self.nodes_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "trusted_checked": self.trusted_checked,
            "content_checked": self.content_checked,
            "content_removed": self.content_removed,
            "notes": self.notes,
        }
        if self.logs:
            out["logs"] = [r.to_json() for r in self.logs]
        return out


def _fmt(value: object) -> str:
    return repr(value)


def verify_log(
    store: Store,
    log_id: str,
    *,
    start: int | None = None,
    end: int | None = None,
    trusted: Sequence[SignedCheckpoint] = (),
    keyring: Sequence[Verifier] = (),
    check_nodes: bool = True,
) -> VerifyReport:
    """Verify one log. ``keyring`` are the keys trusted independently of the store."""
    report = VerifyReport(log_id=log_id)
    size = store.size(log_id)
    report.size = size
    lo = 0 if start is None else max(0, start)
    hi = size if end is None else min(end, size)

    store_keys: list[Verifier] = []
    for key_row in store.keys():  # noqa: SIM118
        try:
            store_keys.append(Verifier.from_vkey(key_row.vkey))
        except NoteError:
            return report.fail(None, f"the keys table holds a malformed key {key_row.key_id!r}")
    independent = list(keyring)
    if not independent:
        independent = store_keys
        report.notes.append(
            "no independent public keys given: checkpoint signatures checked against the store's keys table"
        )
    all_keys = list({v.vkey: v for v in [*independent, *store_keys]}.values())

    # Targets: size -> [(description, root)]
    targets: dict[int, list[tuple[str, bytes]]] = {}
    stored = store.checkpoints(log_id)
    for cp_row in stored:
        signed = SignedCheckpoint.from_note(cp_row.note, log_id=log_id)
        desc = f"stored checkpoint at size {cp_row.size}"
        try:
            signed.verify(all_keys)
        except NoteError as exc:
            return report.fail(None, f"{desc}: signature does not verify ({exc})")
        if signed.size != cp_row.size or signed.root != cp_row.root:
            return report.fail(None, f"{desc}: the size/root columns differ from the signed note")
        if signed.size > size:
            return report.fail(
                size, f"{desc} covers {signed.size} records but the log holds {size}: records were removed"
            )
        targets.setdefault(cp_row.size, []).append((desc, cp_row.root))
    report.checkpoints_checked = len(stored)

    origin_prefix = f"llm-soc2/audit/{log_id}"
    trusted_here = [t for t in trusted if t.origin == origin_prefix or t.log_id == log_id]
    for signed in trusted_here:
        desc = f"trusted checkpoint at size {signed.size}"
        try:
            signed.verify(independent)
        except NoteError as exc:
            return report.fail(None, f"{desc}: signature does not verify with the trusted keys ({exc})")
        if signed.size > size:
            return report.fail(
                size,
                f"the log holds {size} records but a {desc} covers {signed.size}: "
                f"records {size}..{signed.size - 1} were removed (truncation or restore of an older copy)",
            )
        targets.setdefault(signed.size, []).append((desc, signed.root))
    report.trusted_checked = len(trusted_here)

    compact = merkle.CompactRange()
    levels: dict[int, bytearray] = {}

    def emit(level: int, _index: int, node: bytes) -> None:
        buf = levels.get(level)
        if buf is None:
            buf = levels[level] = bytearray()
        buf += node

    push_emit = emit if check_nodes else None
    matched_size = 0

    def check_targets() -> VerifyReport | None:
        nonlocal matched_size
        wanted = targets.get(compact.size)
        if not wanted:
            return None
        root = compact.root()
        for desc, expected in wanted:
            if expected != root:
                return report.fail(
                    matched_size,
                    f"records {matched_size}..{compact.size - 1} do not match the {desc}: recomputed root "
                    f"{base64.b64encode(root).decode()} != {base64.b64encode(expected).decode()} "
                    "(records rewritten, reordered, inserted or removed)",
                )
        matched_size = compact.size
        return None

    if 0 in targets and (failed := check_targets()) is not None:
        return failed

    # Records before the range: stored leaf hashes only.
    expected = 0
    for seq, leaf in store.iter_leaf_hashes(log_id, 0, lo):
        if seq != expected:
            return report.fail(expected, f"record {expected} is missing (next stored seq is {seq})")
        compact.push(leaf, push_emit)
        expected += 1
        if (failed := check_targets()) is not None:
            return failed

    erasures: list[tuple[int, str]] = []
    purges: list[tuple[int, int]] = []
    missing: list[tuple[int, str, int]] = []
    sha256 = hashlib.sha256
    for row in store.iter_records(RecordFilter(log_id=log_id, start_seq=lo, end_seq=hi), with_content=True):
        seq = row.seq
        if seq != expected:
            return report.fail(expected, f"record {expected} is missing (next stored seq is {seq})")
        body = row.body
        if sha256(b"\x00" + body).digest() != row.leaf_hash:
            return report.fail(
                seq, f"record {seq}: the body does not hash to the stored leaf hash (record edited)"
            )
        try:
            doc = loads(body[1:]) if body[:1] == b"\x01" else None
            if not isinstance(doc, dict) or doc.keys() != _MEMBERS:
                decode(body, strict=False)  # raises with the precise reason
                raise BodyError("body does not have exactly the version-1 members")
            columns = columns_from_document(doc)
        except (BodyError, ValueError, TypeError, KeyError, AttributeError) as exc:
            return report.fail(seq, f"record {seq}: malformed body: {exc}")
        if doc["seq"] != seq or doc["log_id"] != log_id:
            return report.fail(
                seq,
                f"record {seq}: the body belongs at log {doc['log_id']!r} seq {doc['seq']} (records moved or reordered)",
            )
        content, sealed = doc["content"], doc["sealed"]
        if columns != row.columns:
            for name, want, have in zip(QUERY_COLUMNS, columns, row.columns, strict=True):
                if want != have:
                    return report.fail(
                        seq,
                        f"record {seq}: column {name} is {_fmt(have)} but the body says {_fmt(want)} (column edited)",
                    )
        for part, digest, blob in (
            ("content", None if content is None else content["sha256"], row.content),
            ("sealed content", None if sealed is None else sealed["sha256"], row.sealed),
        ):
            if digest is None:
                if blob is not None:
                    return report.fail(
                        seq, f"record {seq}: a {part} blob is stored but the record commits to none"
                    )
                continue
            if blob is None:
                missing.append((seq, doc["subject"], doc["time_unix_nano"]))
                continue
            if sha256(blob).hexdigest() != digest:
                return report.fail(
                    seq,
                    f"record {seq}: the {part} blob does not match the digest in the record (content edited)",
                )
            report.content_checked += 1
        kind = doc["kind"]
        if kind == KIND_ERASURE:
            erasures.append((seq, str(doc["attributes"].get(ATTR_ERASURE_SUBJECT, ""))))
        elif kind == KIND_PURGE:
            before = doc["attributes"].get(ATTR_PURGE_BEFORE)
            if isinstance(before, int):
                purges.append((seq, before))
        compact.push(row.leaf_hash, push_emit)
        expected += 1
        report.records_checked += 1
        if (failed := check_targets()) is not None:
            return failed
    if expected < hi:
        return report.fail(expected, f"record {expected} is missing (the log size says {size})")

    for seq, leaf in store.iter_leaf_hashes(log_id, hi, size):
        if seq != expected:
            return report.fail(expected, f"record {expected} is missing (next stored seq is {seq})")
        compact.push(leaf, push_emit)
        expected += 1
        if (failed := check_targets()) is not None:
            return failed
    if expected != size:
        return report.fail(expected, f"record {expected} is missing (the log size says {size})")

    for seq, subject, time_ns in missing:
        explained = any(e_seq > seq and e_subject == subject for e_seq, e_subject in erasures) or any(
            p_seq > seq and time_ns < before for p_seq, before in purges
        )
        if not explained:
            return report.fail(
                seq, f"record {seq}: its content blob is missing and no erasure or purge record explains it"
            )
        report.content_removed += 1

    if check_nodes:
        top = max([store.max_node_level(log_id), *levels, 0])
        for level in range(1, top + 1):
            computed = levels.get(level, bytearray())
            count = size >> level
            index = -1
            for index, node in store.iter_nodes(log_id, level):
                if index >= count:
                    return report.fail(
                        index << level,
                        f"the node cache holds node ({level}, {index}) beyond the tree of size {size}",
                    )
                if computed[index * 32 : index * 32 + 32] != node:
                    return report.fail(
                        index << level,
                        f"cached node ({level}, {index}) over records {index << level}..{((index + 1) << level) - 1} "
                        "differs from the recomputed hash (node cache edited)",
                    )
                report.nodes_checked += 1
            if report.nodes_checked and index + 1 < count and store.max_node_level(log_id) >= level:
                missing_at = index + 1
                return report.fail(
                    missing_at << level, f"cached node ({level}, {missing_at}) is missing from the node cache"
                )

    report.root = base64.b64encode(compact.root()).decode()
    return report
