"""Keyed fingerprints of API keys and end-user ids, and the registry of secrets that must never leave.

A fingerprint is an HMAC-SHA256 under the deployment key, shortened: it lets an auditor see which key or
user was involved and correlate across spans, while nobody without the deployment key can test a guess
(a plain hash of a low-entropy id or a leaked key could be checked offline).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict

FINGERPRINT_HEX_CHARS = 16  # 64 bits: collision-free for any realistic number of keys or users


def fingerprint(value: str, key: bytes, *, purpose: str) -> str:
    """``hmac-sha256(key, purpose || 0x00 || value)`` as 16 hex characters.

    ``purpose`` separates domains ("api_key", "end_user", "pseudonym:EMAIL"), so a value's fingerprint in
    one role cannot be matched against another role.
    """
    mac = hmac.new(key, purpose.encode() + b"\x00" + value.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return mac.hexdigest()[:FINGERPRINT_HEX_CHARS]


def template_hash(text: str) -> str:
    """Stable, unkeyed hash of a prompt template / system instructions (a change-management identifier).

    Unkeyed on purpose: the same template must hash the same across deployments and in the approval
    registry checked into the user's repository. Templates are not personal data.
    """
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:FINGERPRINT_HEX_CHARS]


class SecretRegistry:
    """The secrets a client actually used (API keys), so the scrubber removes them wherever they appear.

    Bounded: keeps the ``capacity`` most recently seen secrets. Thread-safe; ``snapshot()`` is lock-free
    for readers (an immutable tuple swapped on change).
    """

    def __init__(self, capacity: int = 64, min_length: int = 8) -> None:
        self._capacity = capacity
        self._min_length = min_length
        self._lock = threading.Lock()
        self._order: OrderedDict[str, None] = OrderedDict()
        self._snapshot: tuple[str, ...] = ()
        self.version = 0  # bumped on every change, so consumers can cache derived matchers

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < self._min_length:
            return
        if secret in self._order:  # lock-free fast path for the common case: a key seen before
            return
        with self._lock:
            self._order[secret] = None
            while len(self._order) > self._capacity:
                self._order.popitem(last=False)
            self._snapshot = tuple(self._order)
            self.version += 1

    def snapshot(self) -> tuple[str, ...]:
        return self._snapshot

    def clear(self) -> None:
        with self._lock:
            self._order.clear()
            self._snapshot = ()
            self.version += 1


# The process-wide registry the instrumentation feeds and the scrubber reads.
KNOWN_SECRETS = SecretRegistry()
