"""Tampering the way a DBA would: around the database protections, then ``verify`` against the
checkpoints held by the directory witness. Every tampering must fail verification; the untouched log
must pass. Runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_support import interaction, make_settings, open_log, store_url

from llm_soc2.audit import AuditLog, load_trusted_checkpoints
from llm_soc2.audit.record import leaf_hash
from llm_soc2.audit.witness import DirectoryWitness

pytestmark = pytest.mark.integration


class Tamper:
    """Raw SQL on the store as its superuser/owner, with the append-only protections bypassed."""

    def __init__(self, url: str, how: str = "disable") -> None:
        self.url = url
        self.how = how

    @contextmanager
    def session(self) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
        if self.url.startswith("sqlite"):
            conn = sqlite3.connect(self.url[len("sqlite://") :])
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
                conn.execute(f'DROP TRIGGER "{name}"')

            def run_sqlite(sql: str, *params: Any) -> list[tuple[Any, ...]]:
                return conn.execute(sql, params).fetchall()

            try:
                yield run_sqlite
                conn.commit()
            finally:
                conn.close()
            return
        import psycopg

        with psycopg.connect(self.url) as pg:
            tables = ("records", "nodes", "checkpoints", "keys", "content")
            if self.how == "replica":
                pg.execute("SET session_replication_role = replica")
            else:
                for table in tables:
                    pg.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")  # type: ignore[arg-type]

            def run_pg(sql: str, *params: Any) -> list[tuple[Any, ...]]:
                cur = pg.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
                return cur.fetchall() if cur.description else []

            yield run_pg
            if self.how != "replica":
                for table in tables:
                    pg.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")  # type: ignore[arg-type]
            pg.commit()


@pytest.fixture(params=["sqlite", "postgres"])
def witnessed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[AuditLog, DirectoryWitness]]:
    """A log of 3 batches (40 records), each followed by a signed checkpoint given to a directory witness."""
    url = store_url(request, request.param, tmp_path)
    settings = make_settings(tmp_path)
    log = open_log(url, settings)
    witness = DirectoryWitness(tmp_path / "witness")
    for start, end in ((0, 15), (15, 30), (30, 40)):
        log.append([interaction(i, raw=True) for i in range(start, end)])
        witness.witness(log.checkpoint())
    yield log, witness
    log.close()


def _verify(log: AuditLog, witness: DirectoryWitness) -> Any:
    return log.verify(trusted=load_trusted_checkpoints([witness.directory]))


def test_a_write_cut_short_leaves_no_checkpoint_behind(witnessed: tuple[AuditLog, DirectoryWitness]) -> None:
    # What a process killed while witnessing leaves: its temporary file, never a truncated checkpoint.
    log, witness = witnessed
    checkpoint = log.checkpoint()
    folder = witness.path_for(checkpoint).parent
    stray = folder / ".999.checkpoint.123-abcd.tmp"
    stray.write_text(checkpoint.note[:40])
    before = sorted(p.name for p in folder.glob("*.checkpoint"))
    assert all(not name.startswith(".") for name in before)
    witness.witness(checkpoint)  # the same tree head again: nothing to add, no temporary file of its own
    assert sorted(p.name for p in folder.glob("*.checkpoint")) == before
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == [stray.name]
    assert _verify(log, witness).ok


def test_untouched_log_verifies_against_the_witness(witnessed: tuple[AuditLog, DirectoryWitness]) -> None:
    log, witness = witnessed
    report = _verify(log, witness)
    assert report.ok, report.reason
    assert report.trusted_checked == 3
    assert report.records_checked == log.size() == 41


@pytest.mark.parametrize("how", ["disable", "replica"])
def test_body_edit_is_caught_at_the_record(witnessed: tuple[AuditLog, DirectoryWitness], how: str) -> None:
    log, witness = witnessed
    with Tamper(log.url, how).session() as sql:
        body = sql("SELECT body FROM records WHERE seq = 7")[0][0]
        sql(
            "UPDATE records SET body = ? WHERE seq = 7",
            bytes(body).replace(b"a1b2c3d4e5f60718", b"ffffffffffffffff"),
        )
    report = _verify(log, witness)
    assert not report.ok
    assert report.first_bad_seq == 7
    assert "does not hash to the stored leaf hash" in report.reason


def test_body_edit_with_recomputed_leaf_hash_is_caught_by_the_checkpoint(
    witnessed: tuple[AuditLog, DirectoryWitness],
) -> None:
    log, witness = witnessed
    with Tamper(log.url).session() as sql:
        body = bytes(sql("SELECT body FROM records WHERE seq = 20")[0][0])
        forged = body.replace(b'"n":19', b'"n":91')  # an attribute that is no query column
        assert forged != body
        sql("UPDATE records SET body = ?, leaf_hash = ? WHERE seq = 20", forged, leaf_hash(forged))
    report = _verify(log, witness)
    assert not report.ok
    # Checkpoints were signed at sizes 16 (15 records + the key record), 31 and 41.
    assert report.first_bad_seq == 16
    assert "records 16..30 do not match the" in report.reason


@pytest.mark.parametrize("column", ["model", "risk_level", "risk_score", "subject", "time_unix_nano"])
def test_query_column_edit_is_caught(witnessed: tuple[AuditLog, DirectoryWitness], column: str) -> None:
    log, witness = witnessed
    value: Any = {
        "model": "gpt-4o-mini",
        "risk_level": "critical",
        "risk_score": 0.0,
        "subject": "nobody",
        "time_unix_nano": 1,
    }[column]
    with Tamper(log.url).session() as sql:
        sql(f"UPDATE records SET {column} = ? WHERE seq = 11", value)
    report = _verify(log, witness)
    assert not report.ok
    assert report.first_bad_seq == 11
    assert f"column {column}" in report.reason


def test_row_delete_is_caught(witnessed: tuple[AuditLog, DirectoryWitness]) -> None:
    log, witness = witnessed
    with Tamper(log.url).session() as sql:
        sql("DELETE FROM records WHERE seq = 9")
    report = _verify(log, witness)
    assert not report.ok
    assert report.first_bad_seq == 9
    assert "missing" in report.reason


def test_tail_delete_with_its_checkpoints_is_caught_by_the_witness(
    witnessed: tuple[AuditLog, DirectoryWitness],
) -> None:
    log, witness = witnessed
    with Tamper(log.url).session() as sql:
        sql("DELETE FROM records WHERE seq >= 25")
        sql("DELETE FROM nodes WHERE (idx + 1) * (1 << level) > 25")
        sql("DELETE FROM checkpoints WHERE size > 25")
    report = _verify(log, witness)
    assert not report.ok
    assert report.first_bad_seq == 25
    assert "were removed" in report.reason
    assert log.verify().ok  # without the witness the store alone cannot tell: that is why witnesses exist


def test_truncate_is_caught(witnessed: tuple[AuditLog, DirectoryWitness]) -> None:
    log, witness = witnessed
    with Tamper(log.url).session() as sql:
        for table in ("records", "nodes", "checkpoints", "content"):
            sql(f"DELETE FROM {table}" if log.url.startswith("sqlite") else f"TRUNCATE {table}")
    report = _verify(log, witness)
    assert not report.ok
    assert "were removed" in report.reason


def test_reorder_is_caught(witnessed: tuple[AuditLog, DirectoryWitness]) -> None:
    log, witness = witnessed
    with Tamper(log.url).session() as sql:
        a = sql("SELECT body, leaf_hash FROM records WHERE seq = 3")[0]
        b = sql("SELECT body, leaf_hash FROM records WHERE seq = 4")[0]
        sql("UPDATE records SET body = ?, leaf_hash = ? WHERE seq = 3", bytes(b[0]), bytes(b[1]))
        sql("UPDATE records SET body = ?, leaf_hash = ? WHERE seq = 4", bytes(a[0]), bytes(a[1]))
    report = _verify(log, witness)
    assert not report.ok
    assert report.first_bad_seq == 3
    assert "moved or reordered" in report.reason


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            "UPDATE nodes SET hash = ? WHERE level = 4 AND idx = 1",
            "cached node (4, 1) over records 16..31 differs",
        ),
        (
            "DELETE FROM nodes WHERE level = 4 AND idx = 1",
            "cached node (4, 1) is missing from the node cache",
        ),
        (
            "INSERT INTO nodes (log_id, level, idx, hash) VALUES ('svc', 2, 3, ?)",
            "cached node (2, 3) over records 12..15 differs",
        ),
        (
            "INSERT INTO nodes (log_id, level, idx, hash) VALUES ('svc', 4, 7, ?)",
            "holds node (4, 7) beyond the tree",
        ),
    ],
)
def test_node_cache_edit_is_caught(
    witnessed: tuple[AuditLog, DirectoryWitness], statement: str, expected: str
) -> None:
    log, witness = witnessed
    with Tamper(log.url).session() as sql:
        sql(statement, *([b"\x00" * 32] if "?" in statement else []))
    report = _verify(log, witness)
    assert not report.ok
    assert expected in report.reason


def test_content_edit_is_caught(witnessed: tuple[AuditLog, DirectoryWitness]) -> None:
    log, witness = witnessed
    with Tamper(log.url).session() as sql:
        sql(
            "UPDATE content SET blob = ? WHERE seq = 5 AND part = 'content'",
            b"\x00" * 16 + b'{"input":"forged"}',
        )
    report = _verify(log, witness)
    assert not report.ok
    assert report.first_bad_seq == 5
    assert "content edited" in report.reason


def test_rewrite_and_rehash_of_the_tail_with_a_new_key_is_caught(
    witnessed: tuple[AuditLog, DirectoryWitness], tmp_path: Path
) -> None:
    log, witness = witnessed
    # The attacker removes the tail, rewrites it with this very library and signs with their own key.
    with Tamper(log.url).session() as sql:
        sql("DELETE FROM records WHERE seq >= 20")
        sql("DELETE FROM content WHERE seq >= 20")
        sql("DELETE FROM nodes WHERE (idx + 1) * (1 << level) > 20")
        sql("DELETE FROM checkpoints WHERE size > 20")
    forger = open_log(log.url, make_settings(tmp_path / "attacker"))
    forger.append([interaction(i, raw=True) for i in range(100, 121)])
    forged = forger.checkpoint()
    forger.close()
    assert forged.size == 42
    report = _verify(log, witness)
    assert not report.ok
    assert report.first_bad_seq == 16
    assert "records 16..30 do not match the trusted checkpoint at size 31" in report.reason


def test_restore_of_an_older_sqlite_copy_is_caught(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    log = open_log(url, settings)
    witness = DirectoryWitness(tmp_path / "witness")
    log.append([interaction(i) for i in range(10)])
    witness.witness(log.checkpoint())
    log.close()
    shutil.copy(tmp_path / "audit.db", tmp_path / "backup.db")
    log = open_log(url, settings)
    log.append([interaction(i) for i in range(10, 20)])
    witness.witness(log.checkpoint())
    log.close()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"audit.db{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "backup.db", tmp_path / "audit.db")
    log = open_log(url, settings)
    report = _verify(log, witness)
    log.close()
    assert not report.ok
    assert "truncation or restore of an older copy" in report.reason


def test_restore_of_an_older_postgres_dump_is_caught(postgres_server: Any, tmp_path: Path) -> None:
    name = postgres_server.create_database("restore")
    url = postgres_server.dsn(name)
    settings = make_settings(tmp_path)
    log = open_log(url, settings)
    witness = DirectoryWitness(tmp_path / "witness")
    log.append([interaction(i) for i in range(10)])
    witness.witness(log.checkpoint())
    dump = tmp_path / "dump.sql"
    subprocess.run(
        [postgres_server.bin("pg_dump"), "-d", url, "-f", str(dump)], check=True, capture_output=True
    )
    log.append([interaction(i) for i in range(10, 20)])
    witness.witness(log.checkpoint())
    log.close()
    postgres_server.admin(f'DROP DATABASE "{name}" WITH (FORCE)')
    postgres_server.admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
    subprocess.run(
        [postgres_server.bin("psql"), "-d", url, "-v", "ON_ERROR_STOP=1", "-q", "-f", str(dump)],
        check=True,
        capture_output=True,
    )
    log = open_log(url, settings)
    report = _verify(log, witness)
    log.close()
    assert not report.ok
    assert "truncation or restore of an older copy" in report.reason


def test_writer_refuses_to_sign_after_history_was_rewritten(
    witnessed: tuple[AuditLog, DirectoryWitness],
) -> None:
    log, _ = witnessed
    with Tamper(log.url).session() as sql:
        body = bytes(sql("SELECT body FROM records WHERE seq = 2")[0][0]).replace(b'"n":2', b'"n":7')
        sql("UPDATE records SET body = ?, leaf_hash = ? WHERE seq = 2", body, leaf_hash(body))
        sql("DELETE FROM nodes")
        sql("DELETE FROM checkpoints WHERE size > 16")
    from llm_soc2.errors import VerificationError

    with pytest.raises(VerificationError):
        log.checkpoint()


# --------------------------------------------------------------------------------------------------
# Verification in several processes reports exactly what one pass in seq order reports
# --------------------------------------------------------------------------------------------------
TAMPERINGS: dict[str, list[tuple[str, tuple[Any, ...]]]] = {
    "untouched": [],
    "body edit": [("UPDATE records SET leaf_hash = zeroblob(32) WHERE seq = 150", ())],
    "column edit": [("UPDATE records SET risk_level = 'critical' WHERE seq = 250", ())],
    "row delete": [("DELETE FROM records WHERE seq = 100", ())],
    "inner node edit": [("UPDATE nodes SET hash = zeroblob(32) WHERE level = 4 AND idx = 10", ())],
    "top node edit": [("UPDATE nodes SET hash = zeroblob(32) WHERE level = 6 AND idx = 2", ())],
    "content edit": [("UPDATE content SET blob = x'00' WHERE seq = 120 AND part = 'content'", ())],
}


@pytest.mark.parametrize("case", sorted(TAMPERINGS))
def test_parallel_verification_reports_what_a_single_pass_reports(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llm_soc2.audit import verify

    monkeypatch.setattr(verify, "BLOCK_LEVEL", 4)  # blocks of 16 leaves: 19 blocks over 3 processes
    settings = make_settings(tmp_path)
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    log = open_log(url, settings)
    witness = DirectoryWitness(tmp_path / "witness")
    for start, end in ((0, 37), (37, 180), (180, 300)):
        log.append([interaction(i) for i in range(start, end)])
        witness.witness(log.checkpoint())
    with Tamper(url).session() as sql:
        for statement, params in TAMPERINGS[case]:
            sql(statement, *params)
        if case == "body edit":  # also a rehashed edit further on, caught only by the checkpoint
            body = bytes(sql("SELECT body FROM records WHERE seq = 260")[0][0]).replace(
                b'"n":259', b'"n":952'
            )
            sql("UPDATE records SET body = ?, leaf_hash = ? WHERE seq = 260", body, leaf_hash(body))
    one = _verify_with(log, witness, workers=1)
    here: list[int] = []
    check_chunk = verify._check_chunk

    def counted(*args: Any) -> Any:
        here.append(args[2])
        return check_chunk(*args)

    monkeypatch.setattr(verify, "_check_chunk", counted)
    three = _verify_with(log, witness, workers=3)
    assert here == [0], "the other chunks were not verified by child processes"
    assert (three.ok, three.first_bad_seq, three.reason) == (one.ok, one.first_bad_seq, one.reason)
    assert (three.root, three.records_checked, three.content_checked) == (
        one.root,
        one.records_checked,
        one.content_checked,
    )
    assert three.ok == (case == "untouched"), three.reason
    log.close()


def test_parallel_verification_finds_a_rehashed_edit_by_the_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llm_soc2.audit import verify

    monkeypatch.setattr(verify, "BLOCK_LEVEL", 4)
    settings = make_settings(tmp_path)
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    log = open_log(url, settings)
    witness = DirectoryWitness(tmp_path / "witness")
    for start, end in ((0, 37), (37, 180), (180, 300)):
        log.append([interaction(i) for i in range(start, end)])
        witness.witness(log.checkpoint())
    with Tamper(url).session() as sql:
        body = bytes(sql("SELECT body FROM records WHERE seq = 260")[0][0]).replace(b'"n":259', b'"n":952')
        sql("UPDATE records SET body = ?, leaf_hash = ? WHERE seq = 260", body, leaf_hash(body))
        sql("DELETE FROM nodes")  # the node cache would give it away first otherwise
    reports = [_verify_with(log, witness, workers=w, check_nodes=False) for w in (1, 2, 3)]
    assert {(r.ok, r.first_bad_seq, r.reason) for r in reports} == {(reports[0].ok, 181, reports[0].reason)}
    assert "records 181..300 do not match the stored checkpoint at size 301" in reports[0].reason
    log.close()


def _verify_with(log: AuditLog, witness: DirectoryWitness, *, workers: int, check_nodes: bool = True) -> Any:
    return log.verify(
        trusted=load_trusted_checkpoints([witness.directory]), workers=workers, check_nodes=check_nodes
    )


def test_parallel_verification_on_postgres(
    postgres_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llm_soc2.audit import verify

    monkeypatch.setattr(verify, "BLOCK_LEVEL", 4)
    log = open_log(postgres_dsn, make_settings(tmp_path))
    witness = DirectoryWitness(tmp_path / "witness")
    for start, end in ((0, 37), (37, 180), (180, 300)):
        log.append([interaction(i, raw=True) for i in range(start, end)])
        witness.witness(log.checkpoint())
    one, three = (_verify_with(log, witness, workers=w) for w in (1, 3))
    assert one.ok, one.reason
    assert three.ok, three.reason
    assert (three.root, three.records_checked, three.content_checked, three.nodes_checked) == (
        one.root,
        one.records_checked,
        one.content_checked,
        one.nodes_checked,
    )
    with Tamper(postgres_dsn).session() as sql:
        sql("UPDATE records SET risk_level = 'critical' WHERE seq = 250")
    one, three = (_verify_with(log, witness, workers=w) for w in (1, 3))
    assert (three.ok, three.first_bad_seq, three.reason) == (one.ok, 250, one.reason)
    log.close()
