"""EMAIL: an address with a dotted domain and a letter-only top-level domain, written plainly
(``jane.doe@example.com``) or spelled out the way people hide an address from scrapers
(``jane.doe [at] example [dot] com``, ``jane(dot)doe(at)example(dot)com``)."""

from __future__ import annotations

import re

from llm_soc2.scrub.detector import Detector
from llm_soc2.scrub.findings import Kind

# "[at]" / "(at)" / "{at}" / "<at>", and the same for "dot", with a space allowed inside and around.
_AT = r"\s?[\[({<]\s?(?:at|AT|At)\s?[\])}>]\s?"
_DOT = r"\s?[\[({<]\s?(?:dot|DOT|Dot)\s?[\])}>]\s?"
# Python ``re`` on one candidate of bounded length: alternations of literals, nothing nested.
_SPELLED_AT = re.compile(_AT)
_SPELLED_DOT = re.compile(_DOT)


class EmailDetector(Detector):
    entity = "EMAIL"
    kind = Kind.PII
    priority = 60
    patterns = (
        r"[A-Za-z0-9._%+\-]{1,64}@(?:[A-Za-z0-9\-]{1,63}\.){1,8}[A-Za-z]{2,24}",
        rf"(?:[A-Za-z0-9._%+\-]{{1,64}}{_DOT}){{0,3}}[A-Za-z0-9._%+\-]{{1,64}}{_AT}"
        rf"(?:[A-Za-z0-9\-]{{1,63}}(?:{_DOT}|\.)){{1,8}}[A-Za-z]{{2,24}}",
    )

    def refine(self, value: str, context: str) -> tuple[int, int] | None:
        address = self.canonical(value) if "@" not in value else value
        local, _, domain = address.partition("@")
        start = len(local) - len(local.lstrip("."))  # "...jane@x.org": the dots are punctuation
        if start == len(local) or not domain:
            return None
        if any(not label or label[0] == "-" or label[-1] == "-" for label in domain.split(".")):
            return None
        if address is not value:
            return 0, len(value)  # spelled out: the whole candidate, its own leading dots are rare
        return start, len(value)

    def canonical(self, value: str) -> str:
        """The plain, lower-case address (a spelled-out one written plainly), so both forms correlate."""
        if "@" not in value:
            value = _SPELLED_DOT.sub(".", _SPELLED_AT.sub("@", value, count=1))
        return value.lower()
