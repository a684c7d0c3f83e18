"""IBAN: country code, check digits and BBAN, with the country's length and the ISO 7064 mod-97 check."""

from __future__ import annotations

from llm_soc2.scrub.detector import Detector
from llm_soc2.scrub.findings import Kind

# IBAN lengths per country (SWIFT IBAN registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


def mod97_ok(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    remainder = 0
    for ch in rearranged:
        remainder = (remainder * (100 if ch.isalpha() else 10) + int(ch, 36)) % 97
    return remainder == 1


class IbanDetector(Detector):
    entity = "IBAN"
    kind = Kind.PII
    priority = 70
    # Either case (people type "de89 3704 ..." too), optionally grouped by single spaces; the candidate
    # may run on into a following word, which ``refine`` trims to the country's length.
    patterns = (r"(?:^|[^A-Za-z0-9])([A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]){11,30})",)

    def refine(self, value: str, context: str) -> tuple[int, int] | None:
        length = IBAN_LENGTHS.get(value[:2].upper())
        if length is None:
            return None
        compact: list[str] = []
        end = 0
        for i, ch in enumerate(value):
            if ch != " ":
                compact.append(ch)
                if len(compact) == length:
                    end = i + 1
                    break
        if len(compact) < length or (end < len(value) and value[end] != " "):
            return None  # too short, or the run goes on past the country's length
        return (0, end) if mod97_ok("".join(compact)) else None

    def canonical(self, value: str) -> str:
        return value.replace(" ", "").upper()
