"""AUTH_CREDENTIALS: the credentials of an HTTP ``Authorization`` header (``Basic``, ``Bearer``, ``Token``
...), and a bearer token written on its own (``Bearer 8f1c...``), as they turn up in pasted curl commands,
logs and tool calls. Only the credentials are redacted (``Authorization: Bearer [AUTH_CREDENTIALS]``);
placeholders (``<token>``, ``$TOKEN``, ``YOUR_API_KEY``) and words are not credentials."""

from __future__ import annotations

import re

from llm_soc2.scrub.detector import Detector, char_classes, shannon_entropy
from llm_soc2.scrub.findings import Kind

# Python ``re`` on one value: alternations of literals, nothing nested.
_PLACEHOLDER = re.compile(r"(?i)\$\{?\w+\}?|<[^<>]*>?|\{\{.*|(?:your|my|the)[_\-]?\w*|x{4,}|\*{3,}|\.{3,}")


class HttpAuthorizationDetector(Detector):
    entity = "AUTH_CREDENTIALS"
    kind = Kind.SECRET
    priority = 80
    patterns = (
        # The header, in any of the ways it is written: "Authorization: Basic ...", "authorization=Bearer ...",
        # '"Authorization": "Token ..."'.
        r"(?i)(?:^|[^a-z0-9_\-])(?:proxy-)?authorization[\"']?[ \t]{0,4}[:=][ \t]{0,4}[\"']?"
        r"(?:basic|bearer|token|apikey|api-key|key)[ \t]{1,4}([A-Za-z0-9._~+/\-]{8,64}={0,2})",
        # A bearer token on its own (long, so "Bearer of bad news" is not one).
        r"(?:^|[^A-Za-z0-9])(?:Bearer|BEARER|bearer)[ \t]{1,4}([A-Za-z0-9._~+/\-]{20,64}={0,2})",
    )
    # The rest of a longer token.
    extension = r"[A-Za-z0-9._~+/\-]*={0,2}"
    extension_limit = 65_536

    def validate(self, value: str, context: str) -> bool:
        if _PLACEHOLDER.fullmatch(value):
            return False
        return char_classes(value) >= 2 and shannon_entropy(value) >= 3.0
