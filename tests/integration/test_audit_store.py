"""The same suite on SQLite and on a real PostgreSQL server: append, read back, checkpoints, proofs,
verification, erasure and purge, and the database-level append-only protections."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_support import interaction, make_settings, open_log, store_url

from llm_soc2.audit import AuditLog, AuditRecord
from llm_soc2.audit.merkle import reference_root
from llm_soc2.audit.record import leaf_hash
from llm_soc2.audit.store import RecordFilter
from llm_soc2.errors import VerificationError

pytestmark = pytest.mark.integration

KINDS = ["sqlite", "postgres"]


@pytest.fixture(params=KINDS)
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditLog]:
    url = store_url(request, request.param, tmp_path)
    result = open_log(url, make_settings(tmp_path))
    yield result
    result.close()


def test_append_assigns_contiguous_seqs_and_reads_back_in_order(log: AuditLog) -> None:
    assert log.append([interaction(i) for i in range(5)]) == [0, 1, 2, 3, 4]
    assert log.append([interaction(i) for i in range(5, 8)]) == [5, 6, 7]
    records = list(log.records())
    assert [r.seq for r in records] == list(range(8))
    assert records[3].attributes["n"] == 3
    assert records[3].content == {"input": "question 3", "output": "answer 3"}
    assert records[3].trace_id == f"{3:032x}"
    assert records[3].log_id == "svc"
    assert log.count() == 8


def test_nul_characters_are_stored_and_verified(log: AuditLog) -> None:
    # PostgreSQL text columns cannot hold NUL: a record carrying one must not block the writer forever.
    record = AuditRecord(
        kind="interaction",
        time_unix_nano=1,
        service="svc\x00x",
        attributes={"gen_ai.request.model": "m\x00odel", "note": "a\x00b"},
        content={"input": "q\x00"},
    )
    assert log.append([record]) == [0]
    (stored,) = log.records()
    assert stored.attributes["note"] == "a\x00b"  # the body keeps what was recorded
    report = log.verify()
    assert report.ok, report.summary()


def test_records_filter_by_time_kind_and_log(log: AuditLog) -> None:
    t0 = 1_800_000_000_000_000_000
    log.append([interaction(i, t=t0 + i * 1_000_000_000) for i in range(10)])
    log.append([AuditRecord(kind="drift", time_unix_nano=t0 + 5_500_000_000, attributes={"f": "latency"})])
    log.append([interaction(99, t=t0)], log_id="other")
    since = datetime.fromtimestamp((t0 + 3_000_000_000) / 1e9, tz=UTC)
    until = datetime.fromtimestamp((t0 + 6_000_000_000) / 1e9, tz=UTC)
    got = [(r.kind, r.attributes.get("n")) for r in log.records(since=since, until=until, log_id="svc")]
    assert got == [("interaction", 3), ("interaction", 4), ("interaction", 5), ("drift", None)]
    assert log.count(kinds={"drift"}) == 1
    assert sorted(log.log_ids()) == ["other", "svc"]
    assert [r.log_id for r in log.records(log_id="other")] == ["other"]
    assert log.count() == 12


def test_root_and_proofs_match_an_independent_recomputation(log: AuditLog) -> None:
    log.signer()  # creating the key appends a "key" record (seq 0)
    for start in range(0, 37, 7):
        log.append([interaction(i) for i in range(start, min(start + 7, 37))])
    bodies = [row.body for row in log.store.iter_records(RecordFilter(log_id="svc"))]
    leaves = [leaf_hash(b) for b in bodies]
    size, root = log.root()
    assert (size, root) == (38, reference_root(leaves))
    checkpoint = log.checkpoint()
    assert checkpoint.size == 38
    assert checkpoint.root == root
    for seq in (0, 1, 17, 37):
        assert log.prove(seq).verify(log.verifiers()).seq == seq
    log.append([interaction(i) for i in range(37, 50)])
    consistency = log.consistency(38, 51)
    consistency.verify()
    assert consistency.old_root == root


def test_checkpoints_are_signed_listed_and_never_inconsistent(log: AuditLog) -> None:
    log.append([interaction(i) for i in range(3)])
    first = log.checkpoint()  # creates the key: records 0-2 + the key record
    assert first.size == 4
    assert log.checkpoint().note == first.note  # same size, same key: reused
    log.append([interaction(3)])
    second = log.checkpoint()
    assert [c.size for c in log.checkpoints()] == [4, 5]
    latest = log.latest_checkpoint()
    assert latest is not None
    assert latest.size == second.size
    kinds = [r.kind for r in log.records()]
    assert "key" in kinds  # the key's creation is itself recorded


def test_verify_passes_on_an_untouched_log_with_content_and_sealed_content(log: AuditLog) -> None:
    log.append([interaction(i, raw=True) for i in range(20)])
    signed = log.checkpoint()
    report = log.verify(trusted=[signed])
    assert report.ok, report.reason
    assert report.records_checked == log.size()
    assert report.trusted_checked == 1
    assert report.content_checked == 40
    assert log.raw_content(4) == {"input": "raw question 4 from jane4@example.com"}


def test_erase_crypto_shreds_a_subject_and_the_log_still_verifies(log: AuditLog) -> None:
    log.append([interaction(i, raw=True, subject="alice" if i % 2 else "bob") for i in range(10)])
    signed = log.checkpoint()
    removed = log.erase("alice", reason="GDPR art. 17 request")
    assert removed == 10  # 5 records x (content + sealed)
    assert log.raw_content(1) is None
    assert log.raw_content(2) == {"input": "raw question 2 from jane2@example.com"}
    alice = [r for r in log.records() if r.subject == "alice"]
    assert all(r.content is None for r in alice)
    assert alice[0].sealed_sha256 is not None
    erasures = [r for r in log.records() if r.kind == "erasure"]
    assert erasures
    assert erasures[0].attributes["llm_soc2.erasure.subject"] == "alice"
    report = log.verify(trusted=[signed])
    assert report.ok, report.reason
    assert report.content_removed == 10


def test_purge_removes_old_content_and_is_recorded(log: AuditLog) -> None:
    old = 1_600_000_000_000_000_000
    log.append([interaction(i, t=old) for i in range(4)] + [interaction(i) for i in range(4, 6)])
    removed = log.purge(timedelta(days=30))
    assert removed == 4
    assert [r.content is None for r in log.records(kinds={"interaction"})] == [True] * 4 + [False] * 2
    assert log.count(kinds={"purge"}) == 2
    report = log.verify()
    assert report.ok, report.reason


def test_missing_content_without_a_tombstone_is_caught(log: AuditLog, request: pytest.FixtureRequest) -> None:
    log.append([interaction(i) for i in range(3)])
    if log.url.startswith("sqlite"):
        with sqlite3.connect(log.url[len("sqlite://") :]) as conn:
            conn.execute("DELETE FROM content WHERE seq = 1")
    else:
        import psycopg

        with psycopg.connect(log.url, autocommit=True) as conn:
            conn.execute("DELETE FROM content WHERE seq = 1")
    report = log.verify()
    assert not report.ok
    assert report.first_bad_seq == 1
    assert "no erasure or purge record explains it" in report.reason


def test_database_rejects_update_delete_and_truncate(log: AuditLog) -> None:
    log.append([interaction(i) for i in range(20)], batch_id="b-1")  # 20 leaves: a cached level-4 node
    log.checkpoint()
    if log.url.startswith("sqlite"):
        with sqlite3.connect(log.url[len("sqlite://") :]) as conn:
            for sql in (
                "UPDATE records SET model = 'x'",
                "DELETE FROM records",
                "UPDATE nodes SET hash = x'00'",
                "DELETE FROM checkpoints",
                "DELETE FROM keys",
                "UPDATE content SET blob = x'00'",
                "DELETE FROM batches",
                "UPDATE batches SET count = 0",
            ):
                with pytest.raises(sqlite3.IntegrityError, match="llm-soc2"):
                    conn.execute(sql)
    else:
        import psycopg

        with psycopg.connect(log.url, autocommit=True) as conn:
            for sql in (
                "UPDATE records SET model = 'x'",
                "DELETE FROM records",
                "TRUNCATE records",
                "UPDATE nodes SET hash = '\\x00'",
                "DELETE FROM checkpoints",
                "TRUNCATE keys",
                "UPDATE content SET blob = '\\x00'",
                "TRUNCATE content",
                "DELETE FROM batches",
                "TRUNCATE batches",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                    conn.execute(sql)  # type: ignore[arg-type]
    assert log.verify().ok


def test_prove_rejects_records_outside_the_log(log: AuditLog) -> None:
    log.append([interaction(0)])
    with pytest.raises(VerificationError):
        log.prove(5)


def test_postgres_roles_writer_cannot_change_history_but_can_append(
    postgres_server: object, postgres_dsn: str, tmp_path: Path
) -> None:
    import psycopg

    from llm_soc2.audit.store_postgres import roles_sql

    settings = make_settings(tmp_path)
    owner_log = open_log(postgres_dsn, settings)
    owner_log.append([interaction(0)])
    owner_log.close()
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(roles_sql())  # type: ignore[arg-type]
    writer_dsn = postgres_dsn.replace("postgresql://postgres@", "postgresql://llm_soc2_writer@")
    reader_dsn = postgres_dsn.replace("postgresql://postgres@", "postgresql://llm_soc2_reader@")
    writer_log = open_log(writer_dsn, settings)
    try:
        writer_log.append([interaction(i, raw=True, subject="carol") for i in range(1, 4)])
        writer_log.checkpoint()
        assert writer_log.erase("carol") == 6  # through the SECURITY DEFINER function
        assert writer_log.verify().ok
    finally:
        writer_log.close()
    with psycopg.connect(writer_dsn, autocommit=True) as conn:
        for sql in (
            "UPDATE records SET model = 'x'",
            "DELETE FROM records",
            "TRUNCATE records",
            "DELETE FROM content",
            "ALTER TABLE records DISABLE TRIGGER USER",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)  # type: ignore[arg-type]
    with psycopg.connect(reader_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM records").fetchone()[0] > 0  # type: ignore[index]
        for sql in (
            "INSERT INTO keys VALUES ('a', 'b', 'c', 1)",
            "SELECT * FROM content",
            "SELECT * FROM subject_keys",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)  # type: ignore[arg-type]
