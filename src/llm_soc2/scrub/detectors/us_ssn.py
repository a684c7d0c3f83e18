"""US_SSN: a US Social Security number that the SSA could have issued."""

from __future__ import annotations

from llm_soc2.scrub.detector import Detector, digits_of
from llm_soc2.scrub.findings import Kind

# Numbers published in advertising or as samples, never valid for a person.
KNOWN_INVALID = frozenset({"078051120", "219099999", "123456789", "111111111", "987654320"})


class UsSsnDetector(Detector):
    entity = "US_SSN"
    kind = Kind.PII
    priority = 65
    context = ("ssn", "social security", "social sec", "ss#", "ss #", "taxpayer", "tin")
    patterns = (
        # 123-45-6789: the dashed form is an SSN without further context.
        r"(?:^|[^0-9\-])([0-9]{3}-[0-9]{2}-[0-9]{4})(?:[^0-9\-]|$)",
        # 123 45 6789, 123.45.6789, 123456789: only next to a context word.
        r"(?:^|[^0-9.])([0-9]{3} [0-9]{2} [0-9]{4}|[0-9]{3}\.[0-9]{2}\.[0-9]{4}|[0-9]{9})(?:[^0-9]|$)",
    )

    def validate(self, value: str, context: str) -> bool:
        digits = digits_of(value)
        area, group, serial = digits[:3], digits[3:5], digits[5:]
        if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
            return False
        if digits in KNOWN_INVALID or len(set(digits)) == 1:
            return False
        return "-" in value or self.has_context(context)

    def canonical(self, value: str) -> str:
        return digits_of(value)
