"""The built-in detectors, one class per entity."""

from __future__ import annotations

from llm_soc2.scrub.detector import Detector
from llm_soc2.scrub.detectors.client_key import ClientApiKeyDetector
from llm_soc2.scrub.detectors.credit_card import CreditCardDetector
from llm_soc2.scrub.detectors.email import EmailDetector
from llm_soc2.scrub.detectors.http_authorization import HttpAuthorizationDetector
from llm_soc2.scrub.detectors.iban import IbanDetector
from llm_soc2.scrub.detectors.ip_address import IpAddressDetector
from llm_soc2.scrub.detectors.jwt import JwtDetector
from llm_soc2.scrub.detectors.password import PasswordDetector
from llm_soc2.scrub.detectors.phone import PhoneDetector
from llm_soc2.scrub.detectors.private_key import PrivateKeyDetector
from llm_soc2.scrub.detectors.secrets import (
    AnthropicKeyDetector,
    AwsAccessKeyDetector,
    AwsSecretKeyDetector,
    GitHubTokenDetector,
    GitLabTokenDetector,
    GoogleApiKeyDetector,
    OpenAiKeyDetector,
    SlackTokenDetector,
    StripeKeyDetector,
)
from llm_soc2.scrub.detectors.url_credentials import UrlCredentialsDetector
from llm_soc2.scrub.detectors.us_ssn import UsSsnDetector

BUILTIN_DETECTORS: tuple[type[Detector], ...] = (
    EmailDetector,
    PhoneDetector,
    CreditCardDetector,
    UsSsnDetector,
    IbanDetector,
    IpAddressDetector,
    UrlCredentialsDetector,
    HttpAuthorizationDetector,
    AwsAccessKeyDetector,
    AwsSecretKeyDetector,
    OpenAiKeyDetector,
    AnthropicKeyDetector,
    GitHubTokenDetector,
    GitLabTokenDetector,
    SlackTokenDetector,
    StripeKeyDetector,
    GoogleApiKeyDetector,
    JwtDetector,
    PrivateKeyDetector,
    PasswordDetector,
    ClientApiKeyDetector,
)

__all__ = [
    "BUILTIN_DETECTORS",
    "AnthropicKeyDetector",
    "AwsAccessKeyDetector",
    "AwsSecretKeyDetector",
    "ClientApiKeyDetector",
    "CreditCardDetector",
    "EmailDetector",
    "GitHubTokenDetector",
    "GitLabTokenDetector",
    "GoogleApiKeyDetector",
    "HttpAuthorizationDetector",
    "IbanDetector",
    "IpAddressDetector",
    "JwtDetector",
    "OpenAiKeyDetector",
    "PasswordDetector",
    "PhoneDetector",
    "PrivateKeyDetector",
    "SlackTokenDetector",
    "StripeKeyDetector",
    "UrlCredentialsDetector",
    "UsSsnDetector",
]
