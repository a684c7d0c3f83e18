"""CLIENT_API_KEY: the literal API keys this application's clients used, wherever they reappear.

The instrumentation records each key a client was configured with in ``llm_soc2.fingerprint.KNOWN_SECRETS``;
the engine matches those keys (and their first and last 24 characters, so a key cut short is still
caught) as literals, rebuilding its matcher only when the registry's version changes. This detector
cannot be disabled and its values are never pseudonymized: the key leaves the process in no form.
"""

from __future__ import annotations

from llm_soc2.scrub.detector import Detector
from llm_soc2.scrub.findings import Kind

FRAGMENT_CHARS = 24  # keys of at least 40 characters are also matched by their head and tail


class ClientApiKeyDetector(Detector):
    entity = "CLIENT_API_KEY"
    kind = Kind.SECRET
    priority = 100
    patterns = ()  # built at run time from the secret registry


def key_literals(secrets: tuple[str, ...]) -> list[str]:
    """The literals to match for the given keys: each key, then heads and tails of long keys."""
    full = sorted({s for s in secrets if s}, key=len, reverse=True)
    fragments = {f for s in full if len(s) >= 40 for f in (s[:FRAGMENT_CHARS], s[-FRAGMENT_CHARS:])}
    return full + sorted(fragments - set(full))
