"""What a scrub found and what it did: the types shared by detectors, the engine and the processor."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Action(enum.StrEnum):
    """What happens to a detected value."""

    MASK = "mask"  # "[EMAIL]"
    PSEUDONYMIZE = "pseudonymize"  # "[EMAIL:3f2a9c1b]", keyed HMAC, stable within a deployment
    DROP = "drop"  # the whole content value is removed


class Kind(enum.StrEnum):
    PII = "pii"
    SECRET = "secret"  # noqa: S105 - a category name, not a credential


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected value: its entity type, where it was in the scrubbed input, and the action taken."""

    entity: str  # e.g. "EMAIL", "CREDIT_CARD", "AWS_ACCESS_KEY"
    start: int
    end: int
    action: Action
    kind: Kind
    detector: str  # name of the detector class that reported it


@dataclass(frozen=True, slots=True)
class ScrubResult:
    """The scrubbed text (``None`` when the content was dropped) and what was found in the original."""

    text: str | None
    findings: tuple[Finding, ...] = ()
    error: str | None = None  # set when scrubbing failed and the content was dropped (fail closed)

    @property
    def dropped(self) -> bool:
        return self.text is None

    @property
    def entities(self) -> tuple[str, ...]:
        return tuple(sorted({f.entity for f in self.findings}))
