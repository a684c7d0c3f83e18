"""The spill file: header and spill id, replay batches and their ids, torn tails, corrupt frames."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_soc2.audit.record import AuditRecord
from llm_soc2.audit.spill import SpillCorrupt, SpillFile


def _records(start: int, end: int) -> list[AuditRecord]:
    return [AuditRecord(kind="interaction", time_unix_nano=i, attributes={"n": i}) for i in range(start, end)]


def test_replay_batches_keep_a_failed_batch_together_and_get_stable_ids(tmp_path: Path) -> None:
    spill = SpillFile(tmp_path)
    spill.append(_records(0, 3), sync=True, batch_id="tx-1")
    spill.append(_records(3, 8), sync=True)
    spill_id = spill.spill_id
    assert spill_id
    first = spill.read_batch(100)
    assert ([r.attributes["n"] for r in first.records], first.batch_id) == ([0, 1, 2], "tx-1")
    again = spill.read_batch(100)  # nothing committed: the same frames and the same id
    assert (again.batch_id, again.ends) == (first.batch_id, first.ends)
    spill.commit(first.ends[-1], 3)
    second = spill.read_batch(2)
    assert [r.attributes["n"] for r in second.records] == [3, 4]
    assert second.batch_id == f"{spill_id}:{first.ends[-1]}"
    # A restart (a new SpillFile on the same directory) sees the same id and offset.
    reopened = SpillFile(tmp_path)
    assert (reopened.spill_id, reopened.pending) == (spill_id, 5)
    assert reopened.read_batch(2).batch_id == second.batch_id
    reopened.commit(reopened.read_batch(5).ends[-1], 5)
    assert not reopened.path.exists()
    # A new incarnation of the file gets a new id: its batch ids never collide with the old ones.
    reopened.append(_records(8, 9), sync=True)
    assert reopened.spill_id not in (None, spill_id)


def test_a_torn_tail_is_ignored_and_cut_off_before_new_frames(tmp_path: Path) -> None:
    spill = SpillFile(tmp_path)
    spill.append(_records(0, 4), sync=True)
    spill.close()
    with open(spill.path, "ab") as handle:  # a crash in the middle of writing a frame
        handle.write(b"\x00\x00\x01\x00\x12\x34")
    reopened = SpillFile(tmp_path)
    assert reopened.pending == 4
    reopened.append(_records(4, 6), sync=True)
    batch = reopened.read_batch(100)
    assert [r.attributes["n"] for r in batch.records] == list(range(6))


def test_a_corrupt_frame_inside_the_file_stops_replay(tmp_path: Path) -> None:
    spill = SpillFile(tmp_path)
    spill.append(_records(0, 4), sync=True)
    spill.close()
    data = bytearray(spill.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    spill.path.write_bytes(bytes(data))
    reopened = SpillFile(tmp_path)

    def replay_all() -> None:
        for _ in range(5):
            batch = reopened.read_batch(1)
            reopened.commit(batch.ends[-1], 1)

    with pytest.raises(SpillCorrupt):
        replay_all()
    lost = reopened.quarantine()
    assert lost >= 1
    assert list(tmp_path.glob("records.spill.corrupt-*"))
