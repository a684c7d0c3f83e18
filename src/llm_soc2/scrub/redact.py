"""Redaction: what replaces a finding in the exported text.

================  ====================  =============================================================
action            becomes               notes
================  ====================  =============================================================
``mask``          ``[EMAIL]``           the entity name only
``pseudonymize``  ``[EMAIL:3f2a9c1b]``  keyed HMAC of the value's canonical form (``fingerprint`` with
                                        purpose ``pseudonym:<ENTITY>``, first 8 hex characters): the
                                        same value correlates across spans of one deployment, and
                                        nobody without the deployment key can test a guess
``drop``          (nothing)             the whole content value is removed (``ScrubResult.text`` is None)
================  ====================  =============================================================

Secrets follow the default action only when it is ``drop``; otherwise they are masked unless
``LLM_SOC2_PII_ACTIONS`` names them (``OPENAI_API_KEY=pseudonymize``). A keyed pseudonym of a secret
would be harmless, but the default for personal data says nothing about credentials, so they get the
conservative choice. ``CLIENT_API_KEY`` is never pseudonymized.
"""

from __future__ import annotations

from collections.abc import Sequence

from llm_soc2.fingerprint import fingerprint
from llm_soc2.scrub.findings import Action

PSEUDONYM_HEX_CHARS = 8


def mask(entity: str) -> str:
    return f"[{entity}]"


def pseudonym(entity: str, canonical_value: str, key: bytes) -> str:
    digest = fingerprint(canonical_value, key, purpose=f"pseudonym:{entity}")[:PSEUDONYM_HEX_CHARS]
    return f"[{entity}:{digest}]"


def apply(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    """``text`` with each (start, end, replacement) applied; spans are sorted and do not overlap."""
    parts: list[str] = []
    position = 0
    for start, end, replacement in spans:
        parts.append(text[position:start])
        parts.append(replacement)
        position = end
    parts.append(text[position:])
    return "".join(parts)


def parse_action(value: object) -> Action | None:
    try:
        return Action(str(value).strip().lower())
    except ValueError:
        return None
