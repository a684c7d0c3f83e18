"""The embedded audit store: one SQLite file (WAL, synchronous=FULL), ``sqlite:///abs/path``.

Appends take SQLite's write lock with ``BEGIN IMMEDIATE`` (several processes may share the file;
they serialise per batch). Reads stream through their own connection, so a long verification never
holds up the writer.

Durability: in WAL mode ``synchronous=FULL`` fsyncs the WAL at every commit, so a batch is on disk
when ``append`` returns, even across a power loss. ``NORMAL`` would only survive a process crash (a
power loss can roll back the last commits), which breaks "an acknowledged record is durable"; the
cost of FULL is one fsync per batch (500 records by default), a few microseconds per record.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import Any, Final

from llm_soc2.audit.merkle import NodeId
from llm_soc2.audit.store import (
    PART_CONTENT,
    PART_SEALED,
    RECORD_COLUMNS,
    AppendTx,
    BatchRow,
    CheckpointRow,
    KeyRow,
    RecordFilter,
    RecordRow,
    Store,
    SubjectKeyRow,
)
from llm_soc2.errors import StoreError

SCHEMA_VERSION: Final = 2
_BUSY_TIMEOUT_S: Final = 30.0
_CACHE_KIB: Final = 32 * 1024  # page cache per connection
_READ_MMAP: Final = 1 << 30  # readers map the file instead of copying pages through read()
_INSERT_RECORD: Final = (
    f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) VALUES ({', '.join('?' * len(RECORD_COLUMNS))})"  # noqa: S608
)
_SELECT_RECORD: Final = ", ".join(f"r.{c}" for c in RECORD_COLUMNS)
_SELECT_VERIFY: Final = (
    "SELECT " + ", ".join(f"r.{c}" for c in RECORD_COLUMNS[1:]) + ", c.blob, s.blob FROM records r "  # noqa: S608
    f"LEFT JOIN content c ON c.log_id = r.log_id AND c.seq = r.seq AND c.part = '{PART_CONTENT}' "
    f"LEFT JOIN content s ON s.log_id = r.log_id AND s.seq = r.seq AND s.part = '{PART_SEALED}' "
    "WHERE r.log_id = ? AND r.seq >= ? AND r.seq < ? ORDER BY r.seq"
)


def path_from_url(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise StoreError(f"not a SQLite URL: {url!r} (expected sqlite:///absolute/path)")
    return Path(url[len("sqlite://") :])


def _schema_sql() -> str:
    return resources.files("llm_soc2.audit").joinpath("schema_sqlite.sql").read_text(encoding="utf-8")


class _SQLiteAppendTx(AppendTx):
    def __init__(self, conn: sqlite3.Connection, log_id: str) -> None:
        self._conn = conn
        self._log_id = log_id

    def size(self) -> int:
        row = self._conn.execute("SELECT MAX(seq) FROM records WHERE log_id = ?", (self._log_id,)).fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        return _get_nodes(self._conn, self._log_id, ids)

    def batch(self, batch_id: str) -> BatchRow | None:
        row = self._conn.execute(
            "SELECT first_seq, count, time_unix_nano FROM batches WHERE log_id = ? AND batch_id = ?",
            (self._log_id, batch_id),
        ).fetchone()
        return (
            None if row is None else BatchRow(self._log_id, batch_id, int(row[0]), int(row[1]), int(row[2]))
        )

    def insert(
        self,
        rows: Sequence[tuple[object, ...]],
        content: Sequence[tuple[str, int, str, bytes]],
        nodes: Sequence[tuple[int, int, bytes]],
        batch: BatchRow | None = None,
    ) -> None:
        conn = self._conn
        conn.executemany(_INSERT_RECORD, rows)
        if content:
            conn.executemany("INSERT INTO content (log_id, seq, part, blob) VALUES (?, ?, ?, ?)", content)
        if nodes:
            log_id = self._log_id
            conn.executemany(
                "INSERT INTO nodes (log_id, level, idx, hash) VALUES (?, ?, ?, ?)",
                [(log_id, level, idx, node) for level, idx, node in nodes],
            )
        if batch is not None:
            conn.execute(
                "INSERT INTO batches (log_id, batch_id, first_seq, count, time_unix_nano) VALUES (?, ?, ?, ?, ?)",
                (batch.log_id, batch.batch_id, batch.first_seq, batch.count, batch.time_unix_nano),
            )


def _get_nodes(conn: sqlite3.Connection, log_id: str, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
    out: dict[NodeId, bytes] = {}
    leaves = [idx for level, idx in ids if level == 0]
    inner = [(level, idx) for level, idx in ids if level > 0]
    for chunk in _chunks(leaves, 400):
        marks = ",".join("?" * len(chunk))
        for seq, leaf in conn.execute(
            f"SELECT seq, leaf_hash FROM records WHERE log_id = ? AND seq IN ({marks})",  # noqa: S608
            (log_id, *chunk),
        ):
            out[(0, int(seq))] = bytes(leaf)
    # Point lookups on the primary key: SQLite plans an OR of composite conditions as a scan.
    for level, idx in inner:
        row = conn.execute(
            "SELECT hash FROM nodes WHERE log_id = ? AND level = ? AND idx = ?", (log_id, level, idx)
        ).fetchone()
        if row is not None:
            out[(level, idx)] = bytes(row[0])
    return out


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _where(where: RecordFilter, alias: str = "r") -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if where.log_id is not None:
        clauses.append(f"{alias}.log_id = ?")
        params.append(where.log_id)
    if where.since_ns is not None:
        clauses.append(f"{alias}.time_unix_nano >= ?")
        params.append(where.since_ns)
    if where.until_ns is not None:
        clauses.append(f"{alias}.time_unix_nano < ?")
        params.append(where.until_ns)
    if where.kinds is not None:
        kinds = list(where.kinds)
        if not kinds:
            clauses.append("0")
        else:
            clauses.append(f"{alias}.kind IN ({','.join('?' * len(kinds))})")
            params += kinds
    if where.start_seq is not None:
        clauses.append(f"{alias}.seq >= ?")
        params.append(where.start_seq)
    if where.end_seq is not None:
        clauses.append(f"{alias}.seq < ?")
        params.append(where.end_seq)
    if where.subject is not None:
        clauses.append(f"{alias}.subject = ?")
        params.append(where.subject)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class SQLiteStore(Store):
    def __init__(self, url: str, *, migrate: bool = True) -> None:
        """``migrate=False`` opens an existing store without taking the write lock (readers)."""
        self.url = url
        self.path = path_from_url(url)
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = self._connect()
            if migrate:
                self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the audit store {self.path}: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"cannot create the audit store directory {self.path.parent}: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=_BUSY_TIMEOUT_S
        )
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        return conn

    def _migrate(self) -> None:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_unix_nano INTEGER NOT NULL)"
                )
                row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
                current = row[0] or 0
                if current > SCHEMA_VERSION:
                    raise StoreError(
                        f"the audit store {self.path} has schema version {current}; this llm-soc2 knows {SCHEMA_VERSION}: upgrade llm-soc2"
                    )
                if current < SCHEMA_VERSION:  # the script is idempotent: it brings 0 or 1 to 2
                    for statement in _split_sql(_schema_sql()):
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_version VALUES (?, ?)", (SCHEMA_VERSION, time.time_ns()))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # -- writes -----------------------------------------------------------------------------------
    @contextmanager
    def append(self, log_id: str) -> Iterator[AppendTx]:
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot start an append on {self.path}: {exc}") from exc
            try:
                yield _SQLiteAppendTx(conn, log_id)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(conn)
                raise StoreError(f"append to {self.path} failed: {exc}") from exc
            except BaseException:
                _rollback(conn)
                raise

    def insert_checkpoint(self, row: CheckpointRow) -> bool:
        with self._lock, self._guard("store a checkpoint"):
            cur = self._conn.execute(
                "INSERT INTO checkpoints (log_id, size, root, note, time_unix_nano) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (log_id, size) DO NOTHING",
                (row.log_id, row.size, row.root, row.note, row.time_unix_nano),
            )
            return cur.rowcount == 1

    def insert_key(self, row: KeyRow) -> None:
        with self._lock, self._guard("store a key"):
            self._conn.execute(
                "INSERT INTO keys (key_id, vkey, event, time_unix_nano) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key_id, event) DO NOTHING",
                (row.key_id, row.vkey, row.event, row.time_unix_nano),
            )

    def insert_subject_key(self, row: SubjectKeyRow) -> SubjectKeyRow:
        with self._lock, self._guard("store a subject key"):
            self._conn.execute(
                "INSERT INTO subject_keys (key_id, subject, wrapped, time_unix_nano) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (subject) DO NOTHING",
                (row.key_id, row.subject, row.wrapped, row.time_unix_nano),
            )
        existing = self.subject_key(row.subject)
        return existing if existing is not None else row

    def erase_subject(self, subject: str) -> int:
        with self._lock, self._guard("erase a subject"):
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = conn.execute(
                    "DELETE FROM content WHERE (log_id, seq) IN (SELECT log_id, seq FROM records WHERE subject = ?)",
                    (subject,),
                )
                removed = cur.rowcount
                conn.execute("DELETE FROM subject_keys WHERE subject = ?", (subject,))
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
            return removed

    def purge_content(self, log_id: str | None, before_ns: int) -> int:
        with self._lock, self._guard("purge content"):
            sql = "DELETE FROM content WHERE (log_id, seq) IN (SELECT log_id, seq FROM records WHERE time_unix_nano < ?"
            params: list[Any] = [before_ns]
            if log_id is not None:
                sql += " AND log_id = ?"
                params.append(log_id)
            return self._conn.execute(sql + ")", params).rowcount

    # -- reads ------------------------------------------------------------------------------------
    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(f"cannot {what} in {self.path}: {exc}") from exc

    def size(self, log_id: str) -> int:
        with self._lock, self._guard("read the log size"):
            return _SQLiteAppendTx(self._conn, log_id).size()

    def log_ids(self) -> list[str]:
        with self._lock, self._guard("list logs"):
            # A loose index scan: one probe per log id instead of reading every row.
            out: list[str] = []
            row = self._conn.execute("SELECT MIN(log_id) FROM records").fetchone()
            while row is not None and row[0] is not None:
                out.append(str(row[0]))
                row = self._conn.execute(
                    "SELECT MIN(log_id) FROM records WHERE log_id > ?", (row[0],)
                ).fetchone()
            return out

    def get_nodes(self, log_id: str, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        with self._lock, self._guard("read tree nodes"):
            return _get_nodes(self._conn, log_id, ids)

    def iter_records(self, where: RecordFilter, *, with_content: bool = False) -> Iterator[RecordRow]:
        clause, params = _where(where)
        if with_content:
            sql = (
                f"SELECT {_SELECT_RECORD}, c.blob, s.blob FROM records r "  # noqa: S608
                f"LEFT JOIN content c ON c.log_id = r.log_id AND c.seq = r.seq AND c.part = '{PART_CONTENT}' "
                f"LEFT JOIN content s ON s.log_id = r.log_id AND s.seq = r.seq AND s.part = '{PART_SEALED}'"
                f"{clause} ORDER BY r.log_id, r.seq"
            )
        else:
            sql = f"SELECT {_SELECT_RECORD} FROM records r{clause} ORDER BY r.log_id, r.seq"  # noqa: S608
        conn = self._reader()
        try:
            cursor = conn.execute(sql, params)
            ncols = len(RECORD_COLUMNS)
            while True:
                batch = cursor.fetchmany(2000)
                if not batch:
                    break
                for row in batch:
                    yield RecordRow(
                        log_id=row[0],
                        seq=row[1],
                        columns=tuple(row[2 : ncols - 2]),
                        body=row[ncols - 2],
                        leaf_hash=row[ncols - 1],
                        content=row[ncols] if with_content else None,
                        sealed=row[ncols + 1] if with_content else None,
                    )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read records from {self.path}: {exc}") from exc
        finally:
            conn.close()

    def _reader(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=_BUSY_TIMEOUT_S)
            conn.execute("PRAGMA query_only = ON")
            conn.execute(f"PRAGMA mmap_size = {_READ_MMAP}")
            conn.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        conn.text_factory = str
        return conn

    def iter_verify_rows(self, log_id: str, start: int, end: int) -> Iterator[tuple[Any, ...]]:
        if end <= start:
            return
        conn = self._reader()
        try:
            cursor = conn.execute(_SELECT_VERIFY, (log_id, start, end))
            while batch := cursor.fetchmany(4096):
                yield from batch
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read records from {self.path}: {exc}") from exc
        finally:
            conn.close()

    def count(self, where: RecordFilter) -> int:
        clause, params = _where(where)
        with self._lock, self._guard("count records"):
            return int(self._conn.execute(f"SELECT COUNT(*) FROM records r{clause}", params).fetchone()[0])  # noqa: S608

    def iter_leaf_hashes(self, log_id: str, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        conn = self._reader()
        try:
            cursor = conn.execute(
                "SELECT seq, leaf_hash FROM records WHERE log_id = ? AND seq >= ? AND seq < ? ORDER BY seq",
                (log_id, start, end),
            )
            while batch := cursor.fetchmany(5000):
                for seq, leaf in batch:
                    yield int(seq), bytes(leaf)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read leaf hashes from {self.path}: {exc}") from exc
        finally:
            conn.close()

    def iter_nodes(
        self, log_id: str, level: int, start: int = 0, end: int | None = None
    ) -> Iterator[tuple[int, bytes]]:
        sql = (
            "SELECT idx, hash FROM nodes WHERE log_id = ? AND level = ? AND idx >= ? AND idx < ? ORDER BY idx"
        )
        if end is not None:  # a bounded range: one query on the main connection
            with self._lock, self._guard("read tree nodes"):
                rows = self._conn.execute(sql, (log_id, level, start, end)).fetchall()
            for idx, node in rows:
                yield int(idx), bytes(node)
            return
        conn = self._reader()
        try:
            cursor = conn.execute(sql, (log_id, level, start, 1 << 62))
            while batch := cursor.fetchmany(5000):
                for idx, node in batch:
                    yield int(idx), bytes(node)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read tree nodes from {self.path}: {exc}") from exc
        finally:
            conn.close()

    def max_node_level(self, log_id: str) -> int:
        with self._lock, self._guard("read tree nodes"):
            row = self._conn.execute("SELECT MAX(level) FROM nodes WHERE log_id = ?", (log_id,)).fetchone()
            return int(row[0] or 0)

    def checkpoints(
        self, log_id: str | None, *, since_ns: int | None = None, until_ns: int | None = None
    ) -> list[CheckpointRow]:
        clauses: list[str] = []
        params: list[Any] = []
        if log_id is not None:
            clauses.append("log_id = ?")
            params.append(log_id)
        if since_ns is not None:
            clauses.append("time_unix_nano >= ?")
            params.append(since_ns)
        if until_ns is not None:
            clauses.append("time_unix_nano < ?")
            params.append(until_ns)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        with self._lock, self._guard("read checkpoints"):
            rows = self._conn.execute(
                f"SELECT log_id, size, root, note, time_unix_nano FROM checkpoints{where} ORDER BY log_id, size",  # noqa: S608
                params,
            ).fetchall()
        return [CheckpointRow(r[0], int(r[1]), bytes(r[2]), r[3], int(r[4])) for r in rows]

    def latest_checkpoint(self, log_id: str) -> CheckpointRow | None:
        with self._lock, self._guard("read checkpoints"):
            r = self._conn.execute(
                "SELECT log_id, size, root, note, time_unix_nano FROM checkpoints WHERE log_id = ? ORDER BY size DESC LIMIT 1",
                (log_id,),
            ).fetchone()
        return None if r is None else CheckpointRow(r[0], int(r[1]), bytes(r[2]), r[3], int(r[4]))

    def keys(self) -> list[KeyRow]:
        with self._lock, self._guard("read keys"):
            rows = self._conn.execute(
                "SELECT key_id, vkey, event, time_unix_nano FROM keys ORDER BY time_unix_nano"
            ).fetchall()
        return [KeyRow(r[0], r[1], r[2], int(r[3])) for r in rows]

    def subject_key(self, subject: str) -> SubjectKeyRow | None:
        with self._lock, self._guard("read subject keys"):
            r = self._conn.execute(
                "SELECT subject, key_id, wrapped, time_unix_nano FROM subject_keys WHERE subject = ?",
                (subject,),
            ).fetchone()
        return None if r is None else SubjectKeyRow(r[0], r[1], bytes(r[2]), int(r[3]))

    def subject_key_by_id(self, key_id: str) -> SubjectKeyRow | None:
        with self._lock, self._guard("read subject keys"):
            r = self._conn.execute(
                "SELECT subject, key_id, wrapped, time_unix_nano FROM subject_keys WHERE key_id = ?",
                (key_id,),
            ).fetchone()
        return None if r is None else SubjectKeyRow(r[0], r[1], bytes(r[2]), int(r[3]))

    def existing_subject_key_ids(self, key_ids: Collection[str]) -> set[str]:
        ids = list(key_ids)
        out: set[str] = set()
        with self._lock, self._guard("read subject keys"):
            for chunk in _chunks(ids, 400):
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT key_id FROM subject_keys WHERE key_id IN ({marks})",  # noqa: S608
                    tuple(chunk),
                ).fetchall()
                out.update(str(r[0]) for r in rows)
        return out

    def content(self, log_id: str, seq: int) -> tuple[bytes | None, bytes | None]:
        with self._lock, self._guard("read content"):
            rows = self._conn.execute(
                "SELECT part, blob FROM content WHERE log_id = ? AND seq = ?", (log_id, seq)
            ).fetchall()
        parts = {r[0]: bytes(r[1]) for r in rows}
        return parts.get(PART_CONTENT), parts.get(PART_SEALED)

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._conn.close()


def _rollback(conn: sqlite3.Connection) -> None:
    with suppress(sqlite3.Error):
        conn.execute("ROLLBACK")


def _split_sql(script: str) -> list[str]:
    """Split a schema script into statements (trigger bodies keep their inner semicolons)."""
    statements: list[str] = []
    current: list[str] = []
    in_trigger = False
    for line in script.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("--")):
            continue
        current.append(line)
        upper = stripped.upper()
        if upper.startswith("CREATE TRIGGER"):
            in_trigger = True
        if in_trigger:
            if upper.endswith("END;"):
                statements.append("\n".join(current))
                current, in_trigger = [], False
        elif stripped.endswith(";"):
            statements.append("\n".join(current))
            current = []
    if current:
        statements.append("\n".join(current))
    return statements
