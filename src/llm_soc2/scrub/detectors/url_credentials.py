"""URL_CREDENTIALS: the ``user:password`` part of a URL (``postgres://app:s3cret@db:5432/x``)."""

from __future__ import annotations

from llm_soc2.scrub.detector import Detector
from llm_soc2.scrub.findings import Kind


class UrlCredentialsDetector(Detector):
    entity = "URL_CREDENTIALS"
    kind = Kind.SECRET
    priority = 80
    # Group 1 is the userinfo. The password may hold a raw "@" (greedy: the host follows the last one);
    # scheme and host stay visible, only the credentials are redacted.
    patterns = (r"[A-Za-z][A-Za-z0-9+.\-]{0,30}://([^\s:/?#\[\]]{0,128}:[^\s/?#]{1,256})@[^\s/?#@:]{1,253}",)

    def validate(self, value: str, context: str) -> bool:
        password = value.partition(":")[2]
        return bool(password.strip("*x")) and not (password.startswith("<") and password.endswith(">"))
