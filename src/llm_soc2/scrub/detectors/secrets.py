"""Provider credentials with a recognisable shape: cloud keys and API tokens.

Every prefixed token is matched without a leading boundary, so a key glued to other text is still found;
the validators require what a randomly generated key has (length, a mix of character classes) so that
ordinary words with the same prefix ("task-management-...") are not taken for keys.
"""

from __future__ import annotations

from llm_soc2.scrub.detector import Detector, char_classes, shannon_entropy
from llm_soc2.scrub.findings import Kind


def _random_looking(value: str, *, classes: int = 2, entropy: float = 3.0) -> bool:
    return char_classes(value) >= classes and shannon_entropy(value) >= entropy


class AwsAccessKeyDetector(Detector):
    entity = "AWS_ACCESS_KEY"
    kind = Kind.SECRET
    priority = 90
    # Access-key ids (AKIA: long-term, ASIA: temporary) and the other unique-id prefixes AWS documents.
    patterns = (r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA|A3T[A-Z0-9])[A-Z0-9]{16}",)

    def validate(self, value: str, context: str) -> bool:
        return len(set(value[4:])) > 4


class AwsSecretKeyDetector(Detector):
    entity = "AWS_SECRET_KEY"
    kind = Kind.SECRET
    priority = 60
    context = ("aws", "secret", "access_key", "access key", "accesskey")
    # Exactly 40 base64 characters, not part of a longer run; believed only next to an AWS/secret word.
    patterns = (r"(?:^|[^A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)",)

    def validate(self, value: str, context: str) -> bool:
        has_upper = any("A" <= ch <= "Z" for ch in value)
        has_lower = any("a" <= ch <= "z" for ch in value)
        return has_upper and has_lower and shannon_entropy(value) >= 4.0 and self.has_context(context)


class OpenAiKeyDetector(Detector):
    entity = "OPENAI_API_KEY"
    kind = Kind.SECRET
    priority = 90
    # sk-<48>, sk-proj-..., sk-svcacct-..., sk-admin-...
    patterns = (r"sk-[A-Za-z0-9_\-]{32,300}",)

    def validate(self, value: str, context: str) -> bool:
        return _random_looking(value[3:], classes=3, entropy=3.5)


class AnthropicKeyDetector(Detector):
    entity = "ANTHROPIC_API_KEY"
    kind = Kind.SECRET
    priority = 92
    patterns = (r"sk-ant-[A-Za-z0-9_\-]{20,300}",)

    def validate(self, value: str, context: str) -> bool:
        return _random_looking(value[7:], classes=2, entropy=3.5)


class GitHubTokenDetector(Detector):
    entity = "GITHUB_TOKEN"
    kind = Kind.SECRET
    priority = 90
    patterns = (r"gh[pousr]_[A-Za-z0-9]{36,251}", r"github_pat_[A-Za-z0-9_]{22,255}")

    def validate(self, value: str, context: str) -> bool:
        return _random_looking(value[4:] if value[3] == "_" else value[11:])


class GitLabTokenDetector(Detector):
    entity = "GITLAB_TOKEN"
    kind = Kind.SECRET
    priority = 90
    patterns = (r"glpat-[A-Za-z0-9_\-]{20,64}",)

    def validate(self, value: str, context: str) -> bool:
        return _random_looking(value[6:])


class SlackTokenDetector(Detector):
    entity = "SLACK_TOKEN"
    kind = Kind.SECRET
    priority = 90
    patterns = (r"xox[abprs]-[A-Za-z0-9\-]{10,250}",)

    def validate(self, value: str, context: str) -> bool:
        return any(ch.isdigit() for ch in value[5:])


class StripeKeyDetector(Detector):
    entity = "STRIPE_KEY"
    kind = Kind.SECRET
    priority = 90
    # Secret and restricted keys; publishable keys (pk_) are public by design.
    patterns = (r"[rs]k_(?:live|test)_[A-Za-z0-9]{16,247}",)

    def validate(self, value: str, context: str) -> bool:
        return _random_looking(value.split("_", 2)[2])


class GoogleApiKeyDetector(Detector):
    entity = "GOOGLE_API_KEY"
    kind = Kind.SECRET
    priority = 90
    patterns = (r"AIza[0-9A-Za-z_\-]{35}",)

    def validate(self, value: str, context: str) -> bool:
        return _random_looking(value[4:])
