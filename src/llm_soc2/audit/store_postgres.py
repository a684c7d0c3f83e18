"""The fleet audit store: PostgreSQL through psycopg 3 (extra ``[postgres]``).

Many application processes append to one log concurrently. Each batch is one transaction that takes
the log's advisory lock once (``pg_advisory_xact_lock``), reads the size and the tree's right edge,
assigns a contiguous seq range and writes records, content and new tree nodes with binary ``COPY``.
Batches of different processes serialise on that lock, not per record; different logs never contend.

Streaming reads use a server-side cursor on their own connection.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

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
from llm_soc2.errors import ConfigurationError, StoreError

if TYPE_CHECKING:
    import psycopg

SCHEMA_VERSION: Final = 2
_CONNECT_TIMEOUT_S: Final = 5
_SELECT_RECORD: Final = ", ".join(f"r.{c}" for c in RECORD_COLUMNS)
_SELECT_VERIFY: Final = (
    "SELECT " + ", ".join(f"r.{c}" for c in RECORD_COLUMNS[1:]) + ", c.blob, s.blob FROM records r "  # noqa: S608
    f"LEFT JOIN content c ON c.log_id = r.log_id AND c.seq = r.seq AND c.part = '{PART_CONTENT}' "
    f"LEFT JOIN content s ON s.log_id = r.log_id AND s.seq = r.seq AND s.part = '{PART_SEALED}' "
    "WHERE r.log_id = %s AND r.seq >= %s AND r.seq < %s ORDER BY r.seq"
)
# Binary COPY types of RECORD_COLUMNS (log_id, seq, QUERY_COLUMNS..., body, leaf_hash).
_RECORD_TYPES: Final = (
    "text", "int8", "int8", "text", "text", "text", "text", "text", "text", "text", "float8", "text",
    "text", "text", "text", "text", "bytea", "bytea",
)  # fmt: skip
_COPY_RECORDS: Final = f"COPY records ({', '.join(RECORD_COLUMNS)}) FROM STDIN (FORMAT BINARY)"


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ConfigurationError(
            "the PostgreSQL audit store needs psycopg: pip install 'llm-soc2[postgres]'"
        ) from exc
    return psycopg


def lock_key(log_id: str) -> int:
    """The advisory lock id of a log: first 8 bytes of SHA-256, as a signed 64-bit integer."""
    return int.from_bytes(
        hashlib.sha256(b"llm-soc2/audit/" + log_id.encode()).digest()[:8], "big", signed=True
    )


def _schema_sql() -> str:
    return resources.files("llm_soc2.audit").joinpath("schema_postgres.sql").read_text(encoding="utf-8")


def roles_sql() -> str:
    """The role setup script (owner / writer / reader), see ``roles_postgres.sql``."""
    return resources.files("llm_soc2.audit").joinpath("roles_postgres.sql").read_text(encoding="utf-8")


def _get_nodes(cur: psycopg.Cursor[Any], log_id: str, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
    out: dict[NodeId, bytes] = {}
    leaves = [idx for level, idx in ids if level == 0]
    inner = [(level, idx) for level, idx in ids if level > 0]
    if leaves:
        cur.execute(
            "SELECT seq, leaf_hash FROM records WHERE log_id = %s AND seq = ANY(%s)", (log_id, leaves)
        )
        for seq, leaf in cur.fetchall():
            out[(0, int(seq))] = bytes(leaf)
    if inner:
        cur.execute(
            "SELECT n.level, n.idx, n.hash FROM nodes n JOIN unnest(%s::int[], %s::bigint[]) AS w(level, idx) "
            "ON n.level = w.level AND n.idx = w.idx WHERE n.log_id = %s",
            ([level for level, _ in inner], [idx for _, idx in inner], log_id),
        )
        for level, idx, node in cur.fetchall():
            out[(int(level), int(idx))] = bytes(node)
    return out


def _size(cur: psycopg.Cursor[Any], log_id: str) -> int:
    cur.execute("SELECT seq FROM records WHERE log_id = %s ORDER BY seq DESC LIMIT 1", (log_id,))
    row = cur.fetchone()
    return 0 if row is None else int(row[0]) + 1


class _PostgresAppendTx(AppendTx):
    def __init__(self, cur: psycopg.Cursor[Any], log_id: str) -> None:
        self._cur = cur
        self._log_id = log_id

    def size(self) -> int:
        return _size(self._cur, self._log_id)

    def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        return _get_nodes(self._cur, self._log_id, ids)

    def batch(self, batch_id: str) -> BatchRow | None:
        self._cur.execute(
            "SELECT first_seq, count, time_unix_nano FROM batches WHERE log_id = %s AND batch_id = %s",
            (self._log_id, batch_id),
        )
        row = self._cur.fetchone()
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
        cur = self._cur
        with cur.copy(_COPY_RECORDS) as copy:
            copy.set_types(_RECORD_TYPES)
            write = copy.write_row
            for row in rows:
                write(row)
        if content:
            with cur.copy("COPY content (log_id, seq, part, blob) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(("text", "int8", "text", "bytea"))
                write = copy.write_row
                for item in content:
                    write(item)
        if nodes:
            log_id = self._log_id
            with cur.copy("COPY nodes (log_id, level, idx, hash) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(("text", "int4", "int8", "bytea"))
                write = copy.write_row
                for level, idx, node in nodes:
                    write((log_id, level, idx, node))
        if batch is not None:
            cur.execute(
                "INSERT INTO batches (log_id, batch_id, first_seq, count, time_unix_nano) VALUES (%s, %s, %s, %s, %s)",
                (batch.log_id, batch.batch_id, batch.first_seq, batch.count, batch.time_unix_nano),
            )


def _where(where: RecordFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column, op, value in (
        ("log_id", "=", where.log_id),
        ("time_unix_nano", ">=", where.since_ns),
        ("time_unix_nano", "<", where.until_ns),
        ("seq", ">=", where.start_seq),
        ("seq", "<", where.end_seq),
        ("subject", "=", where.subject),
    ):
        if value is not None:
            clauses.append(f"r.{column} {op} %s")
            params.append(value)
    if where.kinds is not None:
        clauses.append("r.kind = ANY(%s)")
        params.append(list(where.kinds))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class PostgresStore(Store):
    def __init__(self, url: str, *, migrate: bool = True) -> None:
        """``migrate=False`` opens an existing store without checking its schema (readers)."""
        self.url = url
        self._psycopg = _psycopg()
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = None
        if migrate:
            with self._lock:
                self._migrate()

    # -- connections ------------------------------------------------------------------------------
    def _connect(self, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        try:
            conn: psycopg.Connection[Any] = self._psycopg.connect(
                self.url,
                autocommit=autocommit,
                connect_timeout=_CONNECT_TIMEOUT_S,
                application_name="llm-soc2-audit",
            )
        except self._psycopg.Error as exc:
            raise StoreError(f"cannot connect to the audit store {_redact(self.url)}: {exc}") from exc
        return conn

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                with contextlib.suppress(self._psycopg.Error):
                    self._conn.close()
            self._conn = self._connect()
        return self._conn

    @contextmanager
    def _cursor(self, what: str) -> Iterator[psycopg.Cursor[Any]]:
        with self._lock:
            try:
                conn = self._connection()
                with conn.cursor() as cur:
                    yield cur
            except self._psycopg.Error as exc:
                raise StoreError(f"cannot {what} in {_redact(self.url)}: {exc}") from exc

    def _migrate(self) -> None:
        with self._cursor("prepare the schema") as cur, cur.connection.transaction():
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("\x00schema"),))
            cur.execute("SELECT to_regclass('schema_version') IS NOT NULL")
            row = cur.fetchone()
            if not (row and row[0]):
                cur.execute(
                    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_unix_nano BIGINT NOT NULL)"
                )
            cur.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
            current = int(cur.fetchone()[0])  # type: ignore[index]
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"the audit store has schema version {current}; this llm-soc2 knows {SCHEMA_VERSION}: upgrade llm-soc2"
                )
            if current < SCHEMA_VERSION:  # the script is idempotent: it brings 0 or 1 to 2
                cur.execute(_schema_sql())
                cur.execute("INSERT INTO schema_version VALUES (%s, %s)", (SCHEMA_VERSION, time.time_ns()))

    # -- writes -----------------------------------------------------------------------------------
    @contextmanager
    def append(self, log_id: str) -> Iterator[AppendTx]:
        with self._cursor(f"append to log {log_id!r}") as cur, cur.connection.transaction():
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(log_id),))
            yield _PostgresAppendTx(cur, log_id)

    def insert_checkpoint(self, row: CheckpointRow) -> bool:
        with self._cursor("store a checkpoint") as cur:
            cur.execute(
                "INSERT INTO checkpoints (log_id, size, root, note, time_unix_nano) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (log_id, size) DO NOTHING",
                (row.log_id, row.size, row.root, row.note, row.time_unix_nano),
            )
            return cur.rowcount == 1

    def insert_key(self, row: KeyRow) -> None:
        with self._cursor("store a key") as cur:
            cur.execute(
                "INSERT INTO keys (key_id, vkey, event, time_unix_nano) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (key_id, event) DO NOTHING",
                (row.key_id, row.vkey, row.event, row.time_unix_nano),
            )

    def insert_subject_key(self, row: SubjectKeyRow) -> SubjectKeyRow:
        with self._cursor("store a subject key") as cur:
            cur.execute(
                "INSERT INTO subject_keys (key_id, subject, wrapped, time_unix_nano) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (subject) DO NOTHING",
                (row.key_id, row.subject, row.wrapped, row.time_unix_nano),
            )
        existing = self.subject_key(row.subject)
        return existing if existing is not None else row

    def erase_subject(self, subject: str) -> int:
        with self._cursor("erase a subject") as cur:
            cur.execute("SELECT llm_soc2_erase_subject(%s)", (subject,))
            return int(cur.fetchone()[0])  # type: ignore[index]

    def purge_content(self, log_id: str | None, before_ns: int) -> int:
        with self._cursor("purge content") as cur:
            cur.execute("SELECT llm_soc2_purge_content(%s, %s)", (log_id, before_ns))
            return int(cur.fetchone()[0])  # type: ignore[index]

    # -- reads ------------------------------------------------------------------------------------
    def size(self, log_id: str) -> int:
        with self._cursor("read the log size") as cur:
            return _size(cur, log_id)

    def log_ids(self) -> list[str]:
        with self._cursor("list logs") as cur:
            # Loose index scan over the primary key.
            cur.execute(
                "WITH RECURSIVE ids(log_id) AS ("
                " (SELECT log_id FROM records ORDER BY log_id LIMIT 1)"
                " UNION ALL SELECT (SELECT r.log_id FROM records r WHERE r.log_id > ids.log_id ORDER BY r.log_id LIMIT 1)"
                " FROM ids WHERE ids.log_id IS NOT NULL)"
                " SELECT log_id FROM ids WHERE log_id IS NOT NULL"
            )
            return [str(r[0]) for r in cur.fetchall()]

    def get_nodes(self, log_id: str, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        with self._cursor("read tree nodes") as cur:
            return _get_nodes(cur, log_id, ids)

    @contextmanager
    def _stream(self, what: str) -> Iterator[psycopg.Connection[Any]]:
        conn = self._connect(autocommit=False)
        try:
            yield conn
        except self._psycopg.Error as exc:
            raise StoreError(f"cannot {what} from {_redact(self.url)}: {exc}") from exc
        finally:
            conn.close()

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
        ncols = len(RECORD_COLUMNS)
        with self._stream("read records") as conn, conn.cursor(name="llm_soc2_records") as cur:
            cur.itersize = 2000
            cur.execute(sql, params)
            for row in cur:
                yield RecordRow(
                    log_id=row[0],
                    seq=int(row[1]),
                    columns=tuple(row[2 : ncols - 2]),
                    body=bytes(row[ncols - 2]),
                    leaf_hash=bytes(row[ncols - 1]),
                    content=None if not with_content or row[ncols] is None else bytes(row[ncols]),
                    sealed=None if not with_content or row[ncols + 1] is None else bytes(row[ncols + 1]),
                )

    def count(self, where: RecordFilter) -> int:
        clause, params = _where(where)
        with self._cursor("count records") as cur:
            cur.execute(f"SELECT COUNT(*) FROM records r{clause}", params)  # noqa: S608
            return int(cur.fetchone()[0])  # type: ignore[index]

    def iter_leaf_hashes(self, log_id: str, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        if end <= start:
            return
        with self._stream("read leaf hashes") as conn, conn.cursor(name="llm_soc2_leaves") as cur:
            cur.itersize = 10000
            cur.execute(
                "SELECT seq, leaf_hash FROM records WHERE log_id = %s AND seq >= %s AND seq < %s ORDER BY seq",
                (log_id, start, end),
            )
            for seq, leaf in cur:
                yield int(seq), bytes(leaf)

    def iter_verify_rows(self, log_id: str, start: int, end: int) -> Iterator[tuple[Any, ...]]:
        if end <= start:
            return
        with self._stream("read records") as conn, conn.cursor(name="llm_soc2_verify") as cur:
            cur.itersize = 4096
            cur.execute(_SELECT_VERIFY, (log_id, start, end))
            yield from cur

    def iter_nodes(
        self, log_id: str, level: int, start: int = 0, end: int | None = None
    ) -> Iterator[tuple[int, bytes]]:
        sql = "SELECT idx, hash FROM nodes WHERE log_id = %s AND level = %s AND idx >= %s AND idx < %s ORDER BY idx"
        if end is not None:  # a bounded range: one query on the main connection
            with self._cursor("read tree nodes") as cur:
                cur.execute(sql, (log_id, level, start, end))
                rows = cur.fetchall()
            for idx, node in rows:
                yield int(idx), bytes(node)
            return
        with self._stream("read tree nodes") as conn, conn.cursor(name="llm_soc2_nodes") as cur:
            cur.itersize = 10000
            cur.execute(sql, (log_id, level, start, 1 << 62))
            for idx, node in cur:
                yield int(idx), bytes(node)

    def max_node_level(self, log_id: str) -> int:
        with self._cursor("read tree nodes") as cur:
            cur.execute("SELECT MAX(level) FROM nodes WHERE log_id = %s", (log_id,))
            row = cur.fetchone()
            return int(row[0] or 0) if row else 0

    def checkpoints(
        self, log_id: str | None, *, since_ns: int | None = None, until_ns: int | None = None
    ) -> list[CheckpointRow]:
        clauses, params = [], []
        for column, op, value in (
            ("log_id", "=", log_id),
            ("time_unix_nano", ">=", since_ns),
            ("time_unix_nano", "<", until_ns),
        ):
            if value is not None:
                clauses.append(f"{column} {op} %s")
                params.append(value)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        with self._cursor("read checkpoints") as cur:
            cur.execute(
                f"SELECT log_id, size, root, note, time_unix_nano FROM checkpoints{where} ORDER BY log_id, size",  # noqa: S608
                params,
            )
            rows = cur.fetchall()
        return [CheckpointRow(r[0], int(r[1]), bytes(r[2]), r[3], int(r[4])) for r in rows]

    def latest_checkpoint(self, log_id: str) -> CheckpointRow | None:
        with self._cursor("read checkpoints") as cur:
            cur.execute(
                "SELECT log_id, size, root, note, time_unix_nano FROM checkpoints WHERE log_id = %s ORDER BY size DESC LIMIT 1",
                (log_id,),
            )
            r = cur.fetchone()
        return None if r is None else CheckpointRow(r[0], int(r[1]), bytes(r[2]), r[3], int(r[4]))

    def keys(self) -> list[KeyRow]:
        with self._cursor("read keys") as cur:
            cur.execute("SELECT key_id, vkey, event, time_unix_nano FROM keys ORDER BY time_unix_nano")
            rows = cur.fetchall()
        return [KeyRow(r[0], r[1], r[2], int(r[3])) for r in rows]

    def subject_key(self, subject: str) -> SubjectKeyRow | None:
        with self._cursor("read subject keys") as cur:
            cur.execute(
                "SELECT subject, key_id, wrapped, time_unix_nano FROM subject_keys WHERE subject = %s",
                (subject,),
            )
            r = cur.fetchone()
        return None if r is None else SubjectKeyRow(r[0], r[1], bytes(r[2]), int(r[3]))

    def subject_key_by_id(self, key_id: str) -> SubjectKeyRow | None:
        with self._cursor("read subject keys") as cur:
            cur.execute(
                "SELECT subject, key_id, wrapped, time_unix_nano FROM subject_keys WHERE key_id = %s",
                (key_id,),
            )
            r = cur.fetchone()
        return None if r is None else SubjectKeyRow(r[0], r[1], bytes(r[2]), int(r[3]))

    def existing_subject_key_ids(self, key_ids: Collection[str]) -> set[str]:
        with self._cursor("read subject keys") as cur:
            cur.execute("SELECT key_id FROM subject_keys WHERE key_id = ANY(%s)", (list(key_ids),))
            return {str(r[0]) for r in cur.fetchall()}

    def content(self, log_id: str, seq: int) -> tuple[bytes | None, bytes | None]:
        with self._cursor("read content") as cur:
            cur.execute("SELECT part, blob FROM content WHERE log_id = %s AND seq = %s", (log_id, seq))
            parts = {r[0]: bytes(r[1]) for r in cur.fetchall()}
        return parts.get(PART_CONTENT), parts.get(PART_SEALED)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(self._psycopg.Error):
                    self._conn.close()
                self._conn = None


def _redact(url: str) -> str:
    """The URL without its password."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, at, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}{':***' if ':' in creds else ''}{at}{host}"
