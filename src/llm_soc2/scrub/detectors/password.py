"""PASSWORD: the value of a ``password=``, ``passwd:``, ``secret:``, ``api_key=``, ``token:`` ... assignment,
or of "my password is ..." in prose (where letters and digits must mix: "is case-sensitive" is no secret).

Only the value is redacted (``password=[PASSWORD]``). A value is believed when it looks like a secret
rather than code or a placeholder: at least 8 characters, Shannon entropy of at least
``ENTROPY_MIN_BITS`` bits per character (for values shorter than 14 characters, which cannot reach it
with all characters distinct, 70% of ``log2(length)``: a random value with a few repeated characters), and either two character classes (lower, upper, digit, other)
or 16 characters or more. So ``password=Tr0ub4dor&3`` is redacted, while ``password=os.environ[...]``,
``token: ${TOKEN}``, ``secret: ********`` and low-entropy values such as ``password: 12345678`` are not.
"""

from __future__ import annotations

import itertools
import math
import re

from llm_soc2.scrub.detector import Detector, char_classes, shannon_entropy
from llm_soc2.scrub.findings import Kind

ENTROPY_MIN_BITS = 3.0
SHORT_VALUE_RATIO = 0.7  # a value of n < 14 characters has at most log2(n) bits: 70% of that is enough
# Placeholders and code, not secrets: ${DB_PASSWORD}, $TOKEN, %(pw)s, {{ secret }}, {pw}, <password>, ****,
# os.environ["X"], get_key(). Python ``re`` on one value of at most 256 characters, no nested quantifiers.
_NOT_A_SECRET = re.compile(
    r"\$\{.*|\$[A-Za-z_][A-Za-z0-9_]*|%\([A-Za-z_]+\)[sd]|\{\{.*|\{[A-Za-z_][A-Za-z0-9_]*\}|<[^<>]*>?"
    r"|[*xX.]+"
)
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)[(\[]")
_SIX_OF_ONE = re.compile(r"([A-Za-z])\1{5}")


def _code_name(part: str) -> bool:
    """A name as people write them in code: snake_case, UPPER_CASE, camelCase (not "aHx6OsSwOblM")."""
    core = part.replace("_", "").rstrip("0123456789")
    if not core.isascii() or not core.isalpha():
        return False
    return (
        core.islower()
        or core.isupper()
        or not any(a.isupper() and b.isupper() for a, b in itertools.pairwise(core))
    )


def _is_code(value: str) -> bool:
    """``settings.db.password``, ``os.environ["X"]``, ``getPassword()``: code, not a secret."""
    call = _CALL.match(value)
    name = call.group(1) if call else value
    parts = name.split(".")
    return (call is not None or len(parts) > 1) and all(p.isidentifier() and _code_name(p) for p in parts)


def _open_bracket_without_quote(value: str, context: str) -> bool:
    """A value that ends with an open bracket is a call or an index cut at its quoted argument
    (``get_secret("db")``, ``os.environ["X"]``) only when a quote follows it; before anything else
    ("QcYgqnavX3(" then a space) it is a secret followed by punctuation: when in doubt, redacted."""
    if value[-1] not in "([":
        return False
    at = context.find(value.lower())
    return at < 0 or context[at + len(value) : at + len(value) + 1] not in ('"', "'", "`", "\\")


def _in_prose(value: str, context: str) -> bool:
    """Whether ``value`` follows "is" / "was" / "be" (the prose pattern) rather than ``=`` or ``:``."""
    at = context.find(value.lower())
    return at >= 0 and _PROSE_LEAD.search(context[:at]) is not None


_PROSE_LEAD = re.compile(r"\b(?:is|was|be)[ \t]{0,4}:?[ \t]{0,4}[\"']?$")


def _alphanumeric_classes(value: str) -> int:
    return sum(
        (any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value))
    )


class PasswordDetector(Detector):
    entity = "PASSWORD"
    kind = Kind.SECRET
    priority = 40
    patterns = (
        r"(?i)(?:^|[^a-z0-9])(?:password|passwd|passphrase|pwd|pass|secret|secret[_\-]?key|client[_\-]?secret|"
        r"api[_\-]?key|apikey|access[_\-]?key|access[_\-]?token|auth[_\-]?token|refresh[_\-]?token|token|"
        r"private[_\-]?key)(?:\\?[\"'])?[ \t]{0,4}(?::=|=>|:|=)[ \t]{0,4}(?:\\?[\"'])?([^\s\"'`<>,;\\]{8,256})",
        # In prose: "my password is Tr0ub4dor&3", "the passcode for the vault was ...".
        r"(?i)(?:^|[^a-z0-9])(?:password|passwd|passphrase|passcode)(?:[ \t]{1,4}for(?:[ \t]{1,4}[^\s]{1,64}){1,3})?"
        r"[ \t]{1,4}(?:is|was|will[ \t]{1,4}be)[ \t]{0,4}:?[ \t]{0,4}[\"']?([^\s\"'`<>,;\\]{8,256})",
    )

    def validate(self, value: str, context: str) -> bool:
        if _NOT_A_SECRET.fullmatch(value) or (
            _is_code(value) and not _open_bracket_without_quote(value, context)
        ):
            return False
        # An escaped letter reads as six of it in the scanned view (``\u00ba`` is "oooooo"): counted once.
        prose = _in_prose(value, context)
        value = _SIX_OF_ONE.sub(r"\1", value)
        threshold = min(ENTROPY_MIN_BITS, SHORT_VALUE_RATIO * math.log2(len(value)))
        if prose:
            # After "is", words follow as often as secrets ("is case-sensitive"): letters and digits must mix.
            return shannon_entropy(value) >= threshold and _alphanumeric_classes(value) >= 2
        return shannon_entropy(value) >= threshold and (char_classes(value) >= 2 or len(value) >= 16)
