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

How it runs: records are read in aligned blocks of ``2**16`` leaves; within a block every interior
node is computed in one pass per level and compared with the node cache, and the root at each
checkpoint size inside the block is the fold of the blocks before it and the block's own perfect
subtrees. Blocks are independent, so a large log is verified by several processes (one per core,
each over a contiguous run of blocks) and the parent combines the block roots; the first failure
reported is the same as a single pass in seq order would report. Nothing is skipped: every leaf is
recomputed from its body bytes, every query column is compared with the body, every stored content
blob is hashed, and every root is compared with the checkpoints.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

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
from llm_soc2.audit.store import VERIFY_BODY, Store
from llm_soc2.errors import StoreError
from llm_soc2.semconv import (
    API_KEY_FINGERPRINT,
    END_USER_HASH,
    ERROR_TYPE,
    GEN_AI_OPERATION_NAME,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_SYSTEM,
    PROMPT_TEMPLATE_HASH,
    RISK_LEVEL,
    RISK_SCORE,
)

try:  # several times faster than the stdlib parser; results are cross-checked below where they can differ
    import orjson

    _fast_loads: Callable[[bytes], Any] | None = orjson.loads
    _FAST_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError,)
except ImportError:  # pragma: no cover - orjson is a dependency, but verification must not need it
    _fast_loads = None
    _FAST_ERRORS = ()

BLOCK_LEVEL = 16  # blocks of 2**16 leaves (read at each verification: tests use small blocks)
PARALLEL_FROM: Final = 200_000  # records to re-hash before verification uses several processes
MAX_WORKERS: Final = 8
_MEMBERS: Final = frozenset(
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


class _Failed(Exception):
    def __init__(self, seq: int | None, reason: str) -> None:
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


@dataclass
class _Block:
    """One aligned block of leaves as verified: its root when complete, and the perfect subtrees of
    ``[start, s)`` for each wanted size ``s`` inside it."""

    start: int
    root: bytes | None
    partials: list[tuple[int, list[bytes]]]


@dataclass
class _Chunk:
    start: int
    end: int
    blocks: list[_Block] = field(default_factory=list)
    failure: tuple[int | None, str] | None = None
    node_failures: list[tuple[int, int, int, str]] = field(default_factory=list)  # level, idx, seq, why
    records_checked: int = 0
    content_checked: int = 0
    nodes_checked: int = 0
    erasures: list[tuple[int, str]] = field(default_factory=list)
    purges: list[tuple[int, int]] = field(default_factory=list)
    missing: list[tuple[int, str, int]] = field(default_factory=list)


def _reference_doc(body: bytes) -> dict[str, Any]:
    """The body parsed by the stdlib (the reference), with the precise reason when malformed."""
    try:
        doc = json.loads(body[1:]) if body[:1] == b"\x01" else None
    except ValueError:
        doc = None
    if type(doc) is not dict or doc.keys() != _MEMBERS:
        decode(body, strict=False)  # raises with the precise reason
        raise BodyError("body does not have exactly the version-1 members")
    return doc


def _parse(body: bytes) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """The body's document and the query columns it implies. orjson reads it when its reading
    cannot differ from the stdlib's for what is checked (strings, 64-bit integers); otherwise, and
    for erasure/purge records, the stdlib parser (the reference) does."""
    if _fast_loads is not None and body[:1] == b"\x01":
        try:
            doc = _fast_loads(body[1:])
        except _FAST_ERRORS:
            doc = None
        if type(doc) is dict and doc.keys() == _MEMBERS:
            columns = _fast_columns(doc)
            if columns is not None:
                return doc, columns
    doc = _reference_doc(body)
    return doc, columns_from_document(doc)


def _fast_columns(doc: dict[str, Any]) -> tuple[Any, ...] | None:
    """``columns_from_document`` for a document whose column sources are strings (None otherwise)."""
    attrs = doc["attributes"]
    if (
        type(attrs) is not dict
        or type(doc["seq"]) is not int
        or type(doc["time_unix_nano"]) is not int
        or doc["kind"] in (KIND_ERASURE, KIND_PURGE)
    ):
        return None
    get = attrs.get
    model = get(GEN_AI_REQUEST_MODEL) or get(GEN_AI_RESPONSE_MODEL)
    provider = get(GEN_AI_PROVIDER_NAME) or get(GEN_AI_SYSTEM)
    operation = get(GEN_AI_OPERATION_NAME)
    error = get(ERROR_TYPE)
    level = get(RISK_LEVEL)
    key_fp = get(API_KEY_FINGERPRINT)
    template = get(PROMPT_TEMPLATE_HASH)
    subject = doc["subject"]
    if not subject:
        subject = get(END_USER_HASH)
        if subject is not None and type(subject) is not str:
            return None
        subject = subject or ""
    if not (
        (model is None or type(model) is str)
        and (provider is None or type(provider) is str)
        and (operation is None or type(operation) is str)
        and (error is None or type(error) is str)
        and (level is None or type(level) is str)
        and (key_fp is None or type(key_fp) is str)
        and (template is None or type(template) is str)
    ):
        return None
    raw_score = get(RISK_SCORE)
    score: float | None = None
    if type(raw_score) is float:
        if raw_score - raw_score == 0.0:
            score = raw_score
    elif type(raw_score) is int:
        return None  # rare: the reference path converts exactly
    columns = (
        doc["time_unix_nano"],
        doc["kind"],
        doc["service"],
        model,
        provider,
        operation,
        error,
        level,
        score,
        key_fp,
        template,
        subject,
        doc["trace_id"],
        doc["span_id"],
    )
    if any(type(value) is str and "\x00" in value for value in columns):
        return None  # NUL is replaced in columns; the reference path applies the same replacement
    return columns


def _check_chunk(
    store: Store,
    log_id: str,
    start: int,
    end: int,
    lo: int,
    hi: int,
    size: int,
    wanted: Sequence[int],
    check_nodes: bool,
    block_level: int,
) -> _Chunk:
    """Verify leaves ``[start, end)`` (``start`` aligned to a block): records in ``[lo, hi)`` from their
    bytes, the others from their stored leaf hashes."""
    chunk = _Chunk(start, end)
    block = 1 << block_level
    leaves: list[bytes] = []
    block_start = start
    sha256 = hashlib.sha256
    failed = False

    def close_block() -> None:
        nonlocal block_start, leaves
        count = len(leaves)
        levels = merkle.levels(leaves, block_level)
        partials: list[tuple[int, list[bytes]]] = []
        first = bisect.bisect_right(wanted, block_start)
        last = bisect.bisect_right(wanted, block_start + count)
        for target in wanted[first:last]:
            partials.append(
                (
                    target,
                    [
                        levels[lv][ix - (block_start >> lv)]
                        for lv, ix in merkle.subtree_nodes(block_start, target)
                    ],
                )
            )
        root = levels[block_level][0] if count == block else None
        chunk.blocks.append(_Block(block_start, root, partials))
        if check_nodes and not failed:
            _check_block_nodes(store, log_id, block_start, levels, chunk, block_level)
        block_start += count
        leaves = []

    expected = start
    try:
        for a, b, checked in (
            (start, min(end, lo), False),
            (max(start, lo), min(end, hi), True),
            (max(start, hi), end, False),
        ):
            if a >= b:
                continue
            if not checked:
                for seq, leaf in store.iter_leaf_hashes(log_id, a, b):
                    if seq != expected:
                        raise _Failed(expected, f"record {expected} is missing (next stored seq is {seq})")
                    leaves.append(leaf)
                    expected += 1
                    if len(leaves) == block:
                        close_block()
            else:
                for row in store.iter_verify_rows(log_id, a, b):
                    at = row[0]
                    if at != expected:
                        raise _Failed(expected, f"record {expected} is missing (next stored seq is {at})")
                    body = row[VERIFY_BODY]
                    stored_leaf = row[VERIFY_BODY + 1]
                    if sha256(b"\x00" + body).digest() != stored_leaf:
                        raise _Failed(
                            at,
                            f"record {at}: the body does not hash to the stored leaf hash (record edited)",
                        )
                    _check_record(at, body, row, log_id, chunk)
                    leaves.append(stored_leaf)
                    expected += 1
                    chunk.records_checked += 1
                    if len(leaves) == block:
                        close_block()
            if expected < b:
                raise _Failed(expected, f"record {expected} is missing (the log size says {size})")
    except _Failed as exc:
        failed = True
        chunk.failure = (exc.seq, exc.reason)
    if leaves:
        close_block()
    return chunk


def _check_record(seq: int, body: bytes, row: tuple[Any, ...], log_id: str, chunk: _Chunk) -> None:
    try:
        doc, columns = _parse(body)
    except (BodyError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _Failed(seq, f"record {seq}: malformed body: {exc}") from None
    if doc["seq"] != seq or doc["log_id"] != log_id:
        raise _Failed(
            seq,
            f"record {seq}: the body belongs at log {doc['log_id']!r} seq {doc['seq']} (records moved or reordered)",
        )
    stored = row[1:VERIFY_BODY]
    if columns != stored:
        for name, want, have in zip(QUERY_COLUMNS, columns, stored, strict=True):
            if want != have:
                raise _Failed(
                    seq,
                    f"record {seq}: column {name} is {_fmt(have)} but the body says {_fmt(want)} (column edited)",
                )
    content = doc["content"]
    blob = row[VERIFY_BODY + 2]
    if content is None:
        if blob is not None:
            raise _Failed(seq, f"record {seq}: a content blob is stored but the record commits to none")
    elif blob is None:
        chunk.missing.append((seq, doc["subject"], doc["time_unix_nano"]))
    elif hashlib.sha256(blob).hexdigest() != content["sha256"]:
        raise _Failed(
            seq, f"record {seq}: the content blob does not match the digest in the record (content edited)"
        )
    else:
        chunk.content_checked += 1
    sealed = doc["sealed"]
    blob = row[VERIFY_BODY + 3]
    if sealed is None:
        if blob is not None:
            raise _Failed(
                seq, f"record {seq}: a sealed content blob is stored but the record commits to none"
            )
    elif blob is None:
        chunk.missing.append((seq, doc["subject"], doc["time_unix_nano"]))
    elif hashlib.sha256(blob).hexdigest() != sealed["sha256"]:
        raise _Failed(
            seq,
            f"record {seq}: the sealed content blob does not match the digest in the record (content edited)",
        )
    else:
        chunk.content_checked += 1
    kind = doc["kind"]
    if kind == KIND_ERASURE:
        chunk.erasures.append((seq, str(doc["attributes"].get(ATTR_ERASURE_SUBJECT, ""))))
    elif kind == KIND_PURGE:
        before = doc["attributes"].get(ATTR_PURGE_BEFORE)
        if isinstance(before, int):
            chunk.purges.append((seq, before))


def _node_failure(level: int, index: int, reason: str) -> tuple[int, int, int, str]:
    return (level, index, index << level, reason)


def _edited(level: int, index: int) -> str:
    return (
        f"cached node ({level}, {index}) over records {index << level}..{((index + 1) << level) - 1} "
        "differs from the recomputed hash (node cache edited)"
    )


def _check_block_nodes(
    store: Store, log_id: str, block_start: int, levels: list[list[bytes]], chunk: _Chunk, block_level: int
) -> None:
    """Compare the node cache inside one block with the recomputed nodes: every stored node must be
    equal, and every complete node of a cached level must be stored."""
    for level in range(1, block_level + 1):
        computed = levels[level]
        base = block_start >> level
        seen = 0
        for index, node in store.iter_nodes(log_id, level, base, base + (1 << (block_level - level))):
            local = index - base
            if local >= len(computed):
                chunk.node_failures.append(_node_failure(level, index, _beyond(level, index, -1)))
                break
            if computed[local] != node:
                chunk.node_failures.append(_node_failure(level, index, _edited(level, index)))
                break
            if local != seen and level >= merkle.CACHE_MIN_LEVEL:
                chunk.node_failures.append(
                    _node_failure(level, base + seen, _missing_node(level, base + seen))
                )
                break
            seen = local + 1
            chunk.nodes_checked += 1
        else:
            if level >= merkle.CACHE_MIN_LEVEL and seen < len(computed):
                chunk.node_failures.append(
                    _node_failure(level, base + seen, _missing_node(level, base + seen))
                )


def _beyond(level: int, index: int, size: int) -> str:
    tree = f" of size {size}" if size >= 0 else ""
    return f"the node cache holds node ({level}, {index}) beyond the tree{tree}"


def _missing_node(level: int, index: int) -> str:
    return f"cached node ({level}, {index}) is missing from the node cache"


def _chunk_worker(
    url: str,
    log_id: str,
    start: int,
    end: int,
    lo: int,
    hi: int,
    size: int,
    wanted: list[int],
    check_nodes: bool,
    block_level: int,
) -> _Chunk:
    """One contiguous chunk on its own connection to the store (in a verification process)."""
    from llm_soc2.audit.log import open_store

    store = open_store(url, migrate=False)
    try:
        return _check_chunk(store, log_id, start, end, lo, hi, size, wanted, check_nodes, block_level)
    finally:
        store.close()


def _worker_main() -> int:
    """``python -m llm_soc2.audit.verify``: arguments pickled on stdin, the chunk pickled on stdout.

    A plain child process rather than ``multiprocessing``: it never re-imports the caller's main
    module, and it may be started from a daemonic process."""
    args = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - written by our own parent process
    try:
        result: tuple[str, Any] = ("ok", _chunk_worker(*args))
    except StoreError as exc:
        result = ("store", str(exc))
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
    return 0


def worker_count(records: int, requested: int | None = None) -> int:
    """Processes to verify ``records`` re-hashed records with: ``requested``, else one per core from
    :data:`PARALLEL_FROM` records on."""
    if requested is not None:
        return max(1, requested)
    if records < PARALLEL_FROM:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def _split(size: int, workers: int, block_level: int) -> list[tuple[int, int]]:
    block = 1 << block_level
    blocks = -(-size // block)
    if blocks == 0:
        return [(0, 0)]
    per = -(-blocks // max(1, min(workers, blocks)))
    return [(b * block, min(size, (b + per) * block)) for b in range(0, blocks, per)]


def _run_chunks(
    store: Store,
    log_id: str,
    ranges: list[tuple[int, int]],
    lo: int,
    hi: int,
    size: int,
    wanted: list[int],
    check_nodes: bool,
    block_level: int,
) -> list[_Chunk]:
    """Verify the chunks: the first here, the others in child processes started first; a chunk
    whose process cannot run is verified here."""
    procs: list[subprocess.Popen[bytes] | None] = [None] * len(ranges)
    env = dict(os.environ)  # the children import this very package, wherever it was imported from
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    for i, (a, b) in enumerate(ranges[1:], start=1):
        payload = pickle.dumps((store.url, log_id, a, b, lo, hi, size, wanted, check_nodes, block_level))
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "llm_soc2.audit.verify"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            assert child.stdin is not None
            child.stdin.write(payload)
            child.stdin.close()
            child.stdin = None  # written: communicate() only reads
        except OSError:
            continue
        procs[i] = child
    results: list[_Chunk] = []
    try:
        for i, (a, b) in enumerate(ranges):
            proc = procs[i]
            chunk: _Chunk | None = None
            if proc is not None:
                out, _err = proc.communicate()
                if proc.returncode == 0 and out:
                    status, value = pickle.loads(out)  # noqa: S301 - our own child's output
                    if status == "store":
                        raise StoreError(value)
                    chunk = value
            if chunk is None:
                chunk = _check_chunk(store, log_id, a, b, lo, hi, size, wanted, check_nodes, block_level)
            results.append(chunk)
    finally:
        for left in procs:
            if left is not None and left.poll() is None:
                left.kill()
                left.wait()
    return results


def verify_log(
    store: Store,
    log_id: str,
    *,
    start: int | None = None,
    end: int | None = None,
    trusted: Sequence[SignedCheckpoint] = (),
    keyring: Sequence[Verifier] = (),
    check_nodes: bool = True,
    workers: int | None = None,
) -> VerifyReport:
    """Verify one log. ``keyring`` are the keys trusted independently of the store; ``workers``
    processes (default: :func:`worker_count`)."""
    report = VerifyReport(log_id=log_id)
    size = store.size(log_id)
    report.size = size
    lo = 0 if start is None else max(0, start)
    hi = size if end is None else min(end, size)
    lo = min(lo, max(hi, 0))

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

    matched_size = 0

    def check_target(at: int, root: bytes) -> VerifyReport | None:
        nonlocal matched_size
        for desc, expected in targets.get(at, ()):
            if expected != root:
                return report.fail(
                    matched_size,
                    f"records {matched_size}..{at - 1} do not match the {desc}: recomputed root "
                    f"{base64.b64encode(root).decode()} != {base64.b64encode(expected).decode()} "
                    "(records rewritten, reordered, inserted or removed)",
                )
        if at in targets:
            matched_size = at
        return None

    if (failed := check_target(0, merkle.EMPTY_ROOT)) is not None:
        return failed

    wanted = sorted({*(t for t in targets if t > 0), size} - {0})
    block_level = BLOCK_LEVEL
    ranges = _split(size, worker_count(hi - lo, workers), block_level)
    chunks = _run_chunks(store, log_id, ranges, lo, hi, size, wanted, check_nodes, block_level)

    # Combine the blocks in seq order: the first failure is the one a single pass would meet first.
    top = merkle.CompactRange()
    top_levels: dict[int, bytearray] = {}

    def emit(level: int, _index: int, node: bytes) -> None:
        top_levels.setdefault(block_level + level, bytearray()).extend(node)

    final_root = merkle.EMPTY_ROOT
    for chunk in chunks:
        report.records_checked += chunk.records_checked
        report.content_checked += chunk.content_checked
        report.nodes_checked += chunk.nodes_checked
        for block in chunk.blocks:
            for at, partial in block.partials:
                root = merkle.fold([*top.hashes(), *partial])
                if at == size:
                    final_root = root
                if (failed := check_target(at, root)) is not None:
                    return failed
            if block.root is not None:
                top.push(block.root, emit)
        if chunk.failure is not None:
            return report.fail(*chunk.failure)

    erasures = [e for chunk in chunks for e in chunk.erasures]
    purges = [p for chunk in chunks for p in chunk.purges]
    erased_after: dict[str, int] = {}
    for e_seq, e_subject in erasures:
        erased_after[e_subject] = max(erased_after.get(e_subject, -1), e_seq)
    for chunk in chunks:
        for seq, subject, time_ns in chunk.missing:
            explained = erased_after.get(subject, -1) > seq or any(
                p_seq > seq and time_ns < before for p_seq, before in purges
            )
            if not explained:
                return report.fail(
                    seq,
                    f"record {seq}: its content blob is missing and no erasure or purge record explains it",
                )
            report.content_removed += 1

    if check_nodes:
        node_failures = [f for chunk in chunks for f in chunk.node_failures]
        node_failures += _check_top_nodes(store, log_id, size, top_levels, report, block_level)
        if node_failures:
            _level, _index, seq, reason = min(node_failures)
            return report.fail(seq, reason)

    report.root = base64.b64encode(final_root).decode()
    return report


def _check_top_nodes(
    store: Store,
    log_id: str,
    size: int,
    top_levels: dict[int, bytearray],
    report: VerifyReport,
    block_level: int,
) -> list[tuple[int, int, int, str]]:
    """Nodes above the blocks, and nodes anywhere that lie beyond the tree."""
    failures: list[tuple[int, int, int, str]] = []
    highest = max([store.max_node_level(log_id), *top_levels, 0])
    for level in range(1, highest + 1):
        count = size >> level
        for index, _node in store.iter_nodes(log_id, level, count, 1 << 62):
            failures.append(_node_failure(level, index, _beyond(level, index, size)))
            break
        if level <= block_level:
            continue
        computed = top_levels.get(level, bytearray())
        seen = 0
        for index, node in store.iter_nodes(log_id, level, 0, count):
            if computed[index * 32 : index * 32 + 32] != node:
                failures.append(_node_failure(level, index, _edited(level, index)))
                break
            if index != seen:
                failures.append(_node_failure(level, seen, _missing_node(level, seen)))
                break
            seen = index + 1
            report.nodes_checked += 1
        else:
            if seen < count:
                failures.append(_node_failure(level, seen, _missing_node(level, seen)))
    return failures


if __name__ == "__main__":  # run as a verification process: use the importable module's classes
    from llm_soc2.audit import verify as _verify

    sys.exit(_verify._worker_main())
