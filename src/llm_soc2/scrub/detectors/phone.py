"""PHONE: a number that ``phonenumbers`` says is valid: international (+44 ..., 0044 ...), North American, or
a national number with a trunk 0 in the UK and the larger EU countries. Next to a phone word ("call",
"mobile", "fax" ...) any number of plausible length (7-15 digits, or 6 in groups: a local number written
without its area code, "31 75 62") is believed.

Cheap shape checks run before ``phonenumbers`` (which costs 15-40 us per call): dates (2024-01-15,
15.01.2024), dotted quads (IP addresses, versions) and runs of the wrong length never reach it. A run of
bare digits without any formatting is an order number as often as a phone number, so it needs a
context word nearby.
"""

from __future__ import annotations

import functools
import re

import phonenumbers

from llm_soc2.scrub.detector import Detector, digits_of, longest_valid_prefix
from llm_soc2.scrub.findings import Kind

# Regions tried for a national number that starts with the trunk prefix 0 (no country code given).
_MAX_TRIMS = 6
TRUNK_ZERO_REGIONS = ("GB", "DE", "FR", "IT", "ES", "NL", "BE", "AT", "IE", "CH", "SE", "PL", "PT")
# Python ``re`` here only ever sees one candidate (at most ~60 characters, from the RE2 scan), and neither
# pattern nests quantifiers, so matching is bounded by the candidate's length.
# At the start of a candidate; three groups only ("01.33.43.04.02" goes on: a French number, not a date).
_DATE = re.compile(r"[0-9]{1,4}([./\-])[0-9]{1,2}\1[0-9]{1,4}(?![0-9]|\1[0-9])")
_DOTTED_QUAD = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_DECIMAL = re.compile(r"[0-9]+\.[0-9]+")


def _valid(number: phonenumbers.PhoneNumber) -> bool:
    return bool(phonenumbers.is_valid_number(number))


# The same numbers recur (a support line in a system prompt, a customer's own number across a
# conversation), and a ``phonenumbers`` verdict costs 15-40 us; it depends on the candidate alone.
@functools.lru_cache(maxsize=4096)
def _valid_number(value: str) -> bool:
    """Whether ``phonenumbers`` takes ``value`` (a candidate that passed the shape checks) for a number."""
    digits = digits_of(value)
    n = len(digits)
    try:
        if value[0] == "+" or (digits.startswith("00") and n != len(value)):
            return _valid(phonenumbers.parse(value if value[0] == "+" else "+" + digits[2:], None))
        if digits[0] == "0":
            return 9 <= n <= 13 and digits[1] != "0" and PhoneDetector._trunk_zero(digits)
        if not PhoneDetector._nanp_shape(digits):
            return False
        return _valid(phonenumbers.PhoneNumber(country_code=1, national_number=int(digits[-10:])))
    except phonenumbers.NumberParseException:
        return False


class PhoneDetector(Detector):
    entity = "PHONE"
    kind = Kind.PII
    priority = 50
    context = (
        "phone",
        "tel",
        "call",
        "mobile",
        "cell",
        "fax",
        "contact",
        "whatsapp",
        "sms",
        "text me",
        "dial",
        "message",
        "reach",
        "answering",
    )
    # Digits with up to two separators between them, an optional "+" and parentheses around a group.
    patterns = (
        r"(?:^|[^0-9A-Za-z+.])(\+?\(?[0-9](?:[0-9]|[ .\-/]{1,2}\(?[0-9]|\)[ .\-]{0,2}[0-9]|\([0-9]){5,18})"
        r"(?:[^0-9]|$)",
    )

    def validate(self, value: str, context: str) -> bool:
        digits = digits_of(value)
        n = len(digits)
        international = value[0] == "+" or (digits.startswith("00") and len(digits) != len(value))
        if international:
            digits = digits if value[0] == "+" else digits[2:]
            if not 8 <= len(digits) <= 15:
                return False
        elif digits[0] == "0":
            if not 7 <= n <= 13:
                return False
        elif not 6 <= n <= 15:
            return False
        if _DATE.match(value) or _DOTTED_QUAD.fullmatch(value) or _DECIMAL.fullmatch(value):
            return (
                False  # "2024-01-15 10:30" is a date and time, "10.1.2.3" an address, "31.445000" a decimal
            )
        if self.has_context(context):
            # Next to a phone word, a number of plausible length is believed: libphonenumber's metadata
            # misses new ranges and local numbers written without their area code (six digits only when
            # grouped: a bare "123456" is a code as often as not).
            return 7 <= len(digits) <= 15 or (len(digits) == 6 and n < len(value))
        if len(digits) == len(value):
            return False  # a bare run of digits: an order number as often as a phone number
        return _valid_number(value)

    def refine(self, value: str, context: str) -> tuple[int, int] | None:
        """The whole candidate when it, or a prefix of its digit groups, is a valid number: digits run on
        after a number are its extension as often as not ("555-2671 23")."""
        if self.validate(value, context):
            return 0, len(value)
        if len(digits_of(value)) <= 10 and value[0] != "+":
            return None  # dropping digits cannot make a number out of this one

        def accept(end: int) -> bool:
            if end < len(value) and value[end] == ")":
                end += 1
            return self.validate(value[:end], context)

        end = longest_valid_prefix(value, accept, 7, 15, max_tries=_MAX_TRIMS)
        return None if end is None else (0, len(value))

    @staticmethod
    def _nanp_shape(digits: str) -> bool:
        """North American numbering plan: [1] NXX NXX XXXX with N in 2..9."""
        if len(digits) == 11 and digits[0] == "1":
            digits = digits[1:]
        return len(digits) == 10 and digits[0] not in "01" and digits[3] not in "01"

    @staticmethod
    def _trunk_zero(digits: str) -> bool:
        national = int(digits[1:])
        for region in TRUNK_ZERO_REGIONS:
            code = phonenumbers.country_code_for_region(region)
            number = phonenumbers.PhoneNumber(country_code=code, national_number=national)
            if region == "IT":  # Italian numbers keep their leading zero
                number.italian_leading_zero = True
            if _valid(number):
                return True
        return False

    def canonical(self, value: str) -> str:
        return digits_of(value)
