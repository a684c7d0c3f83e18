"""Local spill file: where audit records wait while the store is slow or down.

File ``<data_dir>/spill/<log-id-safe>/records.spill``, a sequence of frames::

    length (4 bytes, big-endian) || CRC-32 of payload (4 bytes, big-endian) || payload (length bytes)

``payload`` is the UTF-8 JSON of one record (fields of :class:`AuditRecord`; raw content, when a
content key is configured, AES-256-GCM encrypted under a key derived from it, base64 in ``"x"``;
without a content key raw content is not kept). Frames are only appended; ``fsync`` runs per batch
and on flush. ``records.offset`` holds the byte offset up to which frames were replayed into the
store (replaced atomically). When everything is replayed both files are removed.

A torn frame at the end (a crash mid-write, never acknowledged) is ignored; a corrupt frame inside
the file stops replay, the file is moved aside as ``records.spill.corrupt-<time>`` and the records
after it are counted as lost.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from llm_soc2.audit import crypto
from llm_soc2.audit.record import AuditRecord, normalise, normalised_record

_HEADER: Final = struct.Struct(">II")
MAX_FRAME: Final = 64 * 1024 * 1024


def encode_record(record: AuditRecord, spill_key: bytes | None) -> bytes:
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
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_record(payload: bytes, spill_key: bytes | None) -> AuditRecord:
    doc = json.loads(payload.decode("utf-8"))
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


class SpillFile:
    """Append-only spill file with a replay offset. Thread-safe."""

    def __init__(self, directory: Path, spill_key: bytes | None = None) -> None:
        self.directory = Path(directory)
        self.path = self.directory / "records.spill"
        self.offset_path = self.directory / "records.offset"
        self.spill_key = spill_key
        self._lock = threading.RLock()
        self._handle: Any = None
        self._dirty = False
        self.pending = 0  # frames not yet replayed
        self._count_pending()

    def _count_pending(self) -> None:
        with self._lock:
            if not self.path.exists():
                self.pending = 0
                return
            count = 0
            for _ in self._frames(self._offset(), stop_on_corrupt=True):
                count += 1
            self.pending = count

    def _offset(self) -> int:
        try:
            return int(self.offset_path.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _open(self) -> Any:
        if self._handle is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "ab")  # noqa: SIM115 - kept open across appends
        return self._handle

    def append(self, records: Sequence[AuditRecord], *, sync: bool) -> None:
        """Append frames (and fsync when ``sync``). Raises OSError when the disk refuses."""
        frames = []
        for record in records:
            payload = encode_record(record, self.spill_key)
            frames.append(_HEADER.pack(len(payload), zlib.crc32(payload)) + payload)
        with self._lock:
            handle = self._open()
            handle.write(b"".join(frames))
            handle.flush()
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
                end = offset + _HEADER.size + length
                yield offset, end, payload
                offset = end

    def read_batch(self, limit: int) -> tuple[list[AuditRecord], int]:
        """Up to ``limit`` records from the replay offset and the offset after them."""
        with self._lock:
            self.sync()
            start = self._offset()
            records: list[AuditRecord] = []
            end = start
            for _, frame_end, payload in self._frames(start, stop_on_corrupt=False):
                records.append(decode_record(payload, self.spill_key))
                end = frame_end
                if len(records) >= limit:
                    break
            return records, end

    def commit(self, end: int, count: int) -> None:
        """Mark frames up to byte ``end`` replayed; remove the files when nothing is left."""
        with self._lock:
            self.pending = max(0, self.pending - count)
            size = self.path.stat().st_size if self.path.exists() else 0
            if end >= size and self.pending == 0:
                if self._handle is not None:
                    self._handle.close()
                    self._handle = None
                self.path.unlink(missing_ok=True)
                self.offset_path.unlink(missing_ok=True)
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
                os.replace(self.path, self.path.with_name(f"records.spill.corrupt-{time.time_ns()}"))
            self.offset_path.unlink(missing_ok=True)
            self.pending = 0
            return lost

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self.sync()
                self._handle.close()
                self._handle = None
