"""EMAIL: an address with a dotted domain and a letter-only top-level domain."""

from __future__ import annotations

from llm_soc2.scrub.detector import Detector
from llm_soc2.scrub.findings import Kind


class EmailDetector(Detector):
    entity = "EMAIL"
    kind = Kind.PII
    priority = 60
    patterns = (r"[A-Za-z0-9._%+\-]{1,64}@(?:[A-Za-z0-9\-]{1,63}\.){1,8}[A-Za-z]{2,24}",)

    def refine(self, value: str, context: str) -> tuple[int, int] | None:
        local, _, domain = value.partition("@")
        start = len(local) - len(local.lstrip("."))  # "...jane@x.org": the dots are punctuation
        if start == len(local):
            return None
        if any(not label or label[0] == "-" or label[-1] == "-" for label in domain.split(".")):
            return None
        return start, len(value)

    def canonical(self, value: str) -> str:
        return value.lower()
