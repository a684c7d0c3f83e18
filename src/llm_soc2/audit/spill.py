"""Local spill files: where audit records wait while the store is slow or down.

A writer keeps two files in ``<data_dir>/spill/<log-id-safe>/``: ``records.spill`` for batches the
writer thread could not store, and ``overflow.spill`` for records the application thread parked
because the queue was full (see ``writer.py`` for the order they are replayed in). Each is a sequence
of frames::

    length (4 bytes, big-endian) || CRC-32 of payload (4 bytes, big-endian) || payload (length bytes)

The first frame of a file is its header, ``{"spill":"<random id>"}``; every other ``payload`` is the
UTF-8 JSON of one record (fields of :class:`AuditRecord`; raw content, when a content key is
configured, AES-256-GCM encrypted under a key derived from it, base64 in ``"x"``; without a content
key raw content is not kept) and, for a batch whose store transaction failed with an unknown outcome,
that batch's id in ``"b"``. Frames are only appended; ``fsync`` runs per batch and on flush.
``<name>.offset`` holds the byte offset up to which frames were replayed into the store (replaced
atomically). When everything is replayed both files are removed.

Exactly-once replay: a replay transaction carries a batch id -- the failed batch's own id for frames
that have one, ``<spill id>:<offset of its first frame>`` otherwise -- which the store records in the
same transaction as the records (``AuditLog.append_batch``). A replay that finds its id already
stored appends nothing and only moves the offset past the frames that transaction held, so a crash
between the commit and saving the offset duplicates nothing.

A torn frame at the end (a crash mid-write, never acknowledged) is ignored, and cut off before the
file is appended to again; a corrupt frame inside the file stops replay, the file is moved aside as
``<name>.spill.corrupt-<time>`` and the records after it are counted as lost.

The files belong to one writer process: processes that write the same log id should not share a data
directory (give each its own ``LLM_SOC2_DATA_DIR``, or its own log id).
"""

from __future__ import annotations

import base64
import json
import os
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from llm_soc2.audit import crypto
from llm_soc2.audit.record import AuditRecord, normalise, normalised_record

_HEADER: Final = struct.Struct(">II")
MAX_FRAME: Final = 64 * 1024 * 1024


_HEADER_KEY: Final = b'{"spill":"'


def encode_record(record: AuditRecord, spill_key: bytes | None, batch_id: str | None = None) -> bytes:
    raw_content = record.raw_content
    record = normalised_record(record)
    doc: dict[str, Any] = {
        "kind": record.kind,
        "t": record.time_unix_nano,
        "service": record.service,
        "trace_id": record.trace_id,
        "span_id": record.span_id,
        "subject": record.subject,
        "attributes": normalise(dict(record.attributes)),
        "content": None if record.content is None else normalise(dict(record.content)),
    }
    if raw_content is not None and spill_key is not None:
        plain = json.dumps(normalise(dict(raw_content)), ensure_ascii=False).encode()
        doc["x"] = base64.b64encode(crypto.seal_spill(spill_key, plain)).decode()
    if batch_id is not None:
        doc["b"] = batch_id
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_record(payload: bytes, spill_key: bytes | None) -> AuditRecord:
    return _decode(json.loads(payload.decode("utf-8")), spill_key)


def _decode(doc: dict[str, Any], spill_key: bytes | None) -> AuditRecord:
    raw = None
    if "x" in doc and spill_key is not None:
        raw = json.loads(crypto.open_spill(spill_key, base64.b64decode(doc["x"])))
    return AuditRecord(
        kind=doc["kind"],
        time_unix_nano=int(doc["t"]),
        service=doc["service"],
        trace_id=doc["trace_id"],
        span_id=doc["span_id"],
        subject=doc["subject"],
        attributes=doc["attributes"],
        content=doc["content"],
        raw_content=raw,
    )


class SpillCorrupt(Exception):
    def __init__(self, offset: int, lost: int) -> None:
        super().__init__(f"corrupt spill frame at byte {offset}")
        self.offset = offset
        self.lost = lost


@dataclass
class SpillBatch:
    """Frames read for one replay transaction: the records, the batch id to append them with (None
    for a file written before spill ids existed) and the byte offset after each frame."""

    records: list[AuditRecord]
    batch_id: str | None
    ends: list[int]


class SpillFile:
    """Append-only spill file with a replay offset. Thread-safe."""

    def __init__(self, directory: Path, spill_key: bytes | None = None, name: str = "records") -> None:
        self.directory = Path(directory)
        self.path = self.directory / f"{name}.spill"
        self.offset_path = self.directory / f"{name}.offset"
        self.spill_key = spill_key
        self._lock = threading.RLock()
        self._handle: Any = None
        self._dirty = False
        self.spill_id: str | None = None
        self._good_end = 0  # end of the last complete frame
        self._torn = False  # bytes after it are an unacknowledged torn frame
        self.pending = 0  # frames not yet replayed
        self._count_pending()

    def _count_pending(self) -> None:
        with self._lock:
            self.spill_id = None
            self._good_end, self._torn = 0, False
            if not self.path.exists():
                self.pending = 0
                return
            count = 0
            start = self._offset()
            self._good_end = start
            for offset, end, payload in self._frames(0, stop_on_corrupt=True):
                if offset == 0 and payload.startswith(_HEADER_KEY):
                    self.spill_id = json.loads(payload)["spill"]
                elif offset >= start:
                    count += 1
                self._good_end = max(self._good_end, end)
            self.pending = count
            size = self.path.stat().st_size
            self._torn = size > self._good_end and self._tail_is_torn(self._good_end, size)

    def _tail_is_torn(self, good_end: int, size: int) -> bool:
        """Whether the bytes after ``good_end`` are one incomplete last frame (not a corrupt frame with
        complete frames after it, which replay must report)."""
        with open(self.path, "rb") as handle:
            handle.seek(good_end)
            header = handle.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return True
        length, _ = _HEADER.unpack(header)
        return bool(length > MAX_FRAME or good_end + _HEADER.size + length >= size)

    def _offset(self) -> int:
        try:
            return int(self.offset_path.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _open(self) -> Any:
        if self._handle is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            if self._torn:  # never acknowledged: cut it off so new frames do not follow garbage
                with open(self.path, "r+b") as handle:
                    handle.truncate(self._good_end)
                    os.fsync(handle.fileno())
                self._torn = False
            self._handle = open(self.path, "ab")  # noqa: SIM115 - kept open across appends
            if self._handle.tell() == 0:
                self.spill_id = uuid.uuid4().hex
                self._handle.write(
                    _frame(json.dumps({"spill": self.spill_id}, separators=(",", ":")).encode())
                )
                self._dirty = True
        return self._handle

    def append(self, records: Sequence[AuditRecord], *, sync: bool, batch_id: str | None = None) -> None:
        """Append frames (and fsync when ``sync``). Raises OSError when the disk refuses. ``batch_id``:
        the id the records' failed store transaction used (replay appends them with it)."""
        frames = [_frame(encode_record(record, self.spill_key, batch_id)) for record in records]
        with self._lock:
            handle = self._open()
            handle.write(b"".join(frames))
            handle.flush()
            self._good_end = handle.tell()
            self.pending += len(records)
            self._dirty = True
            if sync:
                self.sync()

    def sync(self) -> None:
        with self._lock:
            if self._handle is not None and self._dirty:
                os.fsync(self._handle.fileno())
                self._dirty = False

    def _frames(self, start: int, *, stop_on_corrupt: bool) -> Iterator[tuple[int, int, bytes]]:
        """``(offset, end, payload)`` from ``start``; a torn tail ends the iteration."""
        try:
            handle = open(self.path, "rb")  # noqa: SIM115
        except FileNotFoundError:
            return
        with handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(start)
            offset = start
            while offset < size:
                header = handle.read(_HEADER.size)
                if len(header) < _HEADER.size:
                    return  # torn tail
                length, crc = _HEADER.unpack(header)
                end = offset + _HEADER.size + length
                if length <= MAX_FRAME and end > size:
                    return  # torn tail: the frame was never completely written
                payload = handle.read(length) if length <= MAX_FRAME else b""
                if length > MAX_FRAME or zlib.crc32(payload) != crc:
                    if end == size or stop_on_corrupt:
                        return  # a torn last frame, or counting only
                    raise SpillCorrupt(offset, 0)
                yield offset, end, payload
                offset = end

    def read_batch(self, limit: int) -> SpillBatch:
        """Frames for the next replay transaction: a failed batch's frames (they share its id), else
        up to ``limit`` frames, with the id ``<spill id>:<offset>``."""
        with self._lock:
            self.sync()
            start = self._offset()
            records: list[AuditRecord] = []
            ends: list[int] = []
            group: str | None = None
            first = True
            for offset, frame_end, payload in self._frames(start, stop_on_corrupt=False):
                if offset == 0 and payload.startswith(_HEADER_KEY):
                    start = frame_end
                    continue
                doc = json.loads(payload.decode("utf-8"))
                tag = doc.get("b")
                if first:
                    group, first = tag, False
                elif tag != group or (group is None and len(records) >= limit):
                    break
                records.append(_decode(doc, self.spill_key))
                ends.append(frame_end)
            if group is not None:
                batch_id: str | None = group
            else:
                batch_id = None if self.spill_id is None else f"{self.spill_id}:{start}"
            return SpillBatch(records, batch_id, ends)

    def commit(self, end: int, count: int) -> None:
        """Mark frames up to byte ``end`` replayed; remove the files when nothing is left."""
        with self._lock:
            self.pending = max(0, self.pending - count)
            size = self.path.stat().st_size if self.path.exists() else 0
            if end >= size and self.pending == 0:
                if self._handle is not None:
                    self._handle.close()
                    self._handle = None
                self.offset_path.unlink(missing_ok=True)
                self.path.unlink(missing_ok=True)
                self.spill_id = None
                self._good_end, self._torn = 0, False
                return
            tmp = self.offset_path.with_suffix(".tmp")
            with open(tmp, "w") as handle:
                handle.write(str(end))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.offset_path)

    def quarantine(self) -> int:
        """Move a corrupt file aside; returns the frames that could not be replayed."""
        with self._lock:
            lost = self.pending
            if self._handle is not None:
                self._handle.close()
                self._handle = None
            if self.path.exists():
                os.replace(self.path, self.path.with_name(f"{self.path.name}.corrupt-{time.time_ns()}"))
            self.offset_path.unlink(missing_ok=True)
            self.pending = 0
            self.spill_id = None
            self._good_end, self._torn = 0, False
            return lost

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self.sync()
                self._handle.close()
                self._handle = None


def _frame(payload: bytes) -> bytes:
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload
