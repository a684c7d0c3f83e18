"""Bounded per-(service, model, operation) state of the online monitor.

``KeyState`` holds, as fixed-size float32 arrays whatever the traffic:

* ``ring``: the current window, one histogram row per ``bucket_seconds`` (30 buckets per window);
* ``staging``: the most recent day, one row per time-of-day slot (48 slots of 30 minutes);
* ``profile``: the rolling reference, one row per slot, an exponentially decayed sum of earlier days.

A slot's staging row moves into the profile when the first span of the *next* day arrives in that slot,
so the reference for a time of day never contains the last ~24 hours -- in particular never the current
window, which would hide the drift it is compared with. With a frozen baseline the profile is the
baseline's (shared, read-only) and staging is not kept.

Memory: ``(30 + 2 * 48) * FeatureSpace.size * 4`` bytes, about 0.7 MB per key with the default
features (0.17 MB with a frozen baseline).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from llm_soc2.drift.detector import SECONDS_PER_DAY, DriftPolicy, slot_of

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]


class KeyState:
    """The windows of one key. Used only by the monitor's background thread."""

    __slots__ = (
        "_decay",
        "bucket_seconds",
        "buckets",
        "first_seen",
        "frozen",
        "last_seen",
        "policy",
        "profile",
        "profile_day",
        "ring",
        "ring_ids",
        "staging",
        "staging_day",
        "w2_mask",
    )

    def __init__(
        self,
        size: int,
        w2_columns: tuple[int, ...],
        *,
        window_seconds: float,
        policy: DriftPolicy,
        frozen: FloatArray | None = None,
        buckets: int = 30,
    ) -> None:
        self.policy = policy
        self.buckets = buckets
        self.bucket_seconds = max(window_seconds / buckets, 1e-3)
        self.ring: Float32Array = np.zeros((buckets, size), dtype=np.float32)
        self.ring_ids = np.full(buckets, -1, dtype=np.int64)
        self.frozen = frozen
        slots = policy.slots
        if frozen is None:
            self.staging: Float32Array | None = np.zeros((slots, size), dtype=np.float32)
            self.profile: Float32Array | None = np.zeros((slots, size), dtype=np.float32)
        else:
            self.staging = None
            self.profile = None
        self.staging_day = np.full(slots, -1, dtype=np.int64)
        self.profile_day = np.full(slots, -1, dtype=np.int64)
        self.w2_mask = np.zeros(size, dtype=bool)
        self.w2_mask[list(w2_columns)] = True
        self._decay = math.exp(-1.0 / policy.rolling_days)
        self.first_seen = 0.0
        self.last_seen = 0.0

    @property
    def nbytes(self) -> int:
        total = self.ring.nbytes
        if self.staging is not None and self.profile is not None:
            total += self.staging.nbytes + self.profile.nbytes
        return total

    # ----------------------------------------------------------------------------------------------
    # Adding
    # ----------------------------------------------------------------------------------------------
    def add(self, seconds: float, histogram: FloatArray, now: float) -> bool:
        """Add the histogram of spans that ended at ``seconds``; False when too old for the window."""
        bucket = int(seconds // self.bucket_seconds)
        newest = int(now // self.bucket_seconds)
        if bucket <= newest - self.buckets:
            return False
        bucket = min(bucket, newest)
        row = bucket % self.buckets
        if self.ring_ids[row] != bucket:
            if self.ring_ids[row] > bucket:
                return False
            self.ring[row] = 0.0
            self.ring_ids[row] = bucket
        self.ring[row] += histogram
        self.last_seen = max(self.last_seen, seconds)
        self.first_seen = min(self.first_seen, seconds) if self.first_seen else seconds
        if self.staging is not None:
            self._stage(seconds, histogram)
        return True

    def _stage(self, seconds: float, histogram: FloatArray) -> None:
        assert self.staging is not None
        slot = slot_of(seconds, self.policy.slot_seconds)
        day = int(seconds // SECONDS_PER_DAY)
        staged = int(self.staging_day[slot])
        if staged == day:
            self.staging[slot] += histogram
            return
        if staged > day:  # a late span from an earlier day: the window has it, the reference does not
            return
        if staged >= 0:
            self._fold(slot, staged)
        self.staging[slot] = histogram
        self.staging_day[slot] = day

    def _fold(self, slot: int, day: int) -> None:
        assert self.staging is not None
        assert self.profile is not None
        previous = int(self.profile_day[slot])
        if previous >= 0:
            factor = self._decay ** (day - previous)
            row = self.profile[slot]
            row[~self.w2_mask] *= factor
            row[self.w2_mask] *= factor * factor
        self.profile[slot] += self.staging[slot]
        self.profile_day[slot] = day

    # ----------------------------------------------------------------------------------------------
    # Reading
    # ----------------------------------------------------------------------------------------------
    def current(self, now: float) -> dict[int, FloatArray]:
        """The current window's histograms, summed per time-of-day slot."""
        newest = int(now // self.bucket_seconds)
        rows: dict[int, FloatArray] = {}
        for row, bucket in enumerate(self.ring_ids):
            if bucket < 0 or bucket <= newest - self.buckets or bucket > newest:
                continue
            slot = slot_of(bucket * self.bucket_seconds, self.policy.slot_seconds)
            if slot in rows:
                rows[slot] += self.ring[row]
            else:
                rows[slot] = self.ring[row].astype(np.float64)
        return rows

    def reference(self) -> FloatArray | None:
        """The reference profile (``slots x size``): the frozen baseline's or the rolling one."""
        if self.frozen is not None:
            return self.frozen
        assert self.profile is not None
        if not self.profile_day.max() >= 0:
            return None
        return self.profile.astype(np.float64)

    def observed(self) -> FloatArray:
        """Everything this key has contributed to the reference so far plus the last day: the rows a
        baseline frozen now would hold (``slots x size``)."""
        if self.staging is None or self.profile is None:
            assert self.frozen is not None
            return self.frozen.copy()
        return self.profile.astype(np.float64) + self.staging
