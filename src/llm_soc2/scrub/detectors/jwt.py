"""JWT: base64url segments (header.payload.signature) whose header decodes to a JSON object naming an ``alg``."""

from __future__ import annotations

import base64
import binascii
import json

from llm_soc2.scrub.detector import Detector
from llm_soc2.scrub.findings import Kind


class JwtDetector(Detector):
    entity = "JWT"
    kind = Kind.SECRET
    priority = 85
    # A JSON header starts with '{"' which base64url-encodes to "eyJ".
    patterns = (r"eyJ[A-Za-z0-9_\-]{5,1000}\.[A-Za-z0-9_\-]{2,1000}",)
    # The rest of a long payload and the signature.
    extension = r"[A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]*)?"
    extension_limit = 65_536

    def validate(self, value: str, context: str) -> bool:
        header = value.partition(".")[0][:1000]
        try:
            decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        except (binascii.Error, ValueError):
            return False
        return isinstance(decoded, dict) and isinstance(decoded.get("alg"), str)
