"""CREDIT_CARD: 12-19 digits (optionally grouped by spaces, dashes or dots), Luhn-valid, in an issuer's range or
next to a card word."""

from __future__ import annotations

from llm_soc2.scrub.detector import Detector, digits_of, longest_valid_prefix, luhn_ok
from llm_soc2.scrub.findings import Kind

# (first digits from, to, allowed lengths): the networks' published ranges.
ISSUERS: tuple[tuple[int, int, frozenset[int]], ...] = (
    (4, 4, frozenset({13, 16, 19})),  # Visa
    (51, 55, frozenset({16})),  # Mastercard
    (2221, 2720, frozenset({16})),  # Mastercard 2-series
    (34, 34, frozenset({15})),  # American Express
    (37, 37, frozenset({15})),
    (6011, 6011, frozenset(range(16, 20))),  # Discover
    (644, 649, frozenset(range(16, 20))),
    (65, 65, frozenset(range(16, 20))),
    (300, 305, frozenset(range(14, 20))),  # Diners Club
    (36, 36, frozenset(range(14, 20))),
    (38, 39, frozenset(range(14, 20))),
    (3528, 3589, frozenset(range(16, 20))),  # JCB
    (1800, 1800, frozenset({15})),  # JCB (15-digit)
    (2131, 2131, frozenset({15})),
    (62, 62, frozenset(range(16, 20))),  # UnionPay
    (50, 50, frozenset(range(12, 20))),  # Maestro
    (56, 69, frozenset(range(12, 20))),
    (604, 604, frozenset(range(12, 20))),  # Maestro (UK, 0604 / 6304 ...)
    (2200, 2204, frozenset(range(16, 20))),  # Mir
)


# The same ranges with the width of their prefix, read once rather than on every candidate.
_RANGES: tuple[tuple[int, int, int, frozenset[int]], ...] = tuple(
    (len(str(low)), low, high, lengths) for low, high, lengths in ISSUERS
)


def issuer_ok(digits: str) -> bool:
    n = len(digits)
    for width, low, high, lengths in _RANGES:
        if n in lengths and low <= int(digits[:width]) <= high:
            return True
    # Maestro UK's legacy 0604 prefix: a leading zero the integer ranges above cannot express.
    return digits.startswith("0604") and 12 <= n <= 19


class CreditCardDetector(Detector):
    entity = "CREDIT_CARD"
    kind = Kind.PII
    priority = 70
    context = (
        "card",
        "visa",
        "mastercard",
        "amex",
        "credit",
        "debit",
        "payment",
        "cc",
        "maestro",
        "jcb",
        "discover",
    )
    # Digits with at most one space, dash or dot between any two; bounded by non-digits.
    patterns = (r"(?:^|[^0-9])([0-9](?:[ .\-]?[0-9]){11,22})(?:[^0-9]|$)",)

    def validate(self, value: str, context: str) -> bool:
        digits = digits_of(value)
        if not 12 <= len(digits) <= 19 or len(set(digits)) == 1 or not luhn_ok(digits):
            return False
        # Issuers' ranges go stale as networks add BINs: next to a card word, the checksum is enough. And 12
        # digits (short Maestro) is also the length of countless order and tracking numbers.
        if len(digits) == 12 or not issuer_ok(digits):
            return self.has_context(context)
        return True

    def refine(self, value: str, context: str) -> tuple[int, int] | None:
        """The whole candidate when it, or a prefix of its digit groups, is a valid card: the digits that
        follow a card in the same run ("4111 1111 1111 1111 123") are its security code."""
        if self.validate(value, context):
            return 0, len(value)
        end = longest_valid_prefix(value, lambda e: self.validate(value[:e], context), 12, 19)
        return None if end is None else (0, len(value))

    def canonical(self, value: str) -> str:
        return digits_of(value)
