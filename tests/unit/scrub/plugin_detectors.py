"""Detectors as a third-party plugin would ship them (loaded through entry points in the tests)."""

from __future__ import annotations


class EmployeeIdDetector:
    """A duck-typed plugin: no import from llm-soc2 at all."""

    entity = "EMPLOYEE_ID"
    kind = "pii"
    patterns = (r"(?:^|[^A-Za-z0-9])(EMP-[0-9]{6})(?:[^0-9]|$)",)
    context = ("employee",)

    def validate(self, value: str, context: str) -> bool:
        return value[4:] != "000000"


class BrokenPatternDetector:
    entity = "BROKEN"
    kind = "pii"
    patterns = (r"(?<=x)lookbehind",)  # RE2 has no look-behind

    def validate(self, value: str, context: str) -> bool:
        return True


class UnboundedPatternDetector:
    entity = "UNBOUNDED"
    kind = "secret"
    patterns = (r"BEGIN.*END",)

    def validate(self, value: str, context: str) -> bool:
        return True


class ExplodingDetector:
    entity = "EXPLODING"
    kind = "pii"
    patterns = (r"boom[0-9]{2}",)

    def validate(self, value: str, context: str) -> bool:
        raise RuntimeError(f"validator crashed on {value}")


class WaitingDetector:
    """Its validation waits (as a thread held back on a loaded machine does) without using CPU."""

    entity = "TICKET"
    kind = "pii"
    patterns = (r"TKT-[0-9]{4}",)

    def validate(self, value: str, context: str) -> bool:
        import time

        time.sleep(0.03)
        return True


def not_a_detector() -> None:
    return None
