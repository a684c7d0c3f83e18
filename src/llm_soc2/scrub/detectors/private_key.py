"""PRIVATE_KEY: a PEM (or PGP armored) private key, the whole block from BEGIN to END.

A block cut short (content truncated before the END line) is still redacted: the header and the base64
body that follows it.
"""

from __future__ import annotations

from llm_soc2.scrub.detector import Detector
from llm_soc2.scrub.findings import Kind


class PrivateKeyDetector(Detector):
    entity = "PRIVATE_KEY"
    kind = Kind.SECRET
    priority = 95
    patterns = (r"-----BEGIN[ A-Z0-9]{0,40} PRIVATE KEY(?: BLOCK)?-----",)
    # The body up to the END line (lazy: the first END closes the block); without an END within reach,
    # the base64 lines that follow the header.
    extension = (
        r"[A-Za-z0-9+/=\s:,.()\-\\]*?-----END[ A-Z0-9]{0,40} PRIVATE KEY(?: BLOCK)?-----"
        r"|[A-Za-z0-9+/=\r\n\\]*"
    )
    extension_limit = 32_768
