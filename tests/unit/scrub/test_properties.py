"""Property: a valid PII or secret value embedded anywhere in arbitrary text never survives scrubbing.

Values come from generators that follow each format's rules (``values.py``); the surrounding text is
arbitrary Unicode (controls, combining marks and zero-width characters included). Numbers need a
separator from the text around them (a card glued to more digits is another number), and values that are
only believed next to a context word (AWS secret keys, password assignments) get their context. For
secrets, no 16-character piece of the value may survive either.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from llm_soc2.fingerprint import SecretRegistry
from llm_soc2.scrub import Scrubber

from . import values
from .conftest import make_scrubber

# (entity, generator, text before the value, is a secret)
FAMILIES: list[tuple[str, Callable[[random.Random], str], str, bool]] = [
    ("EMAIL", values.email, "", False),
    ("CREDIT_CARD", values.card, "", False),
    ("CREDIT_CARD", lambda r: values.card(r, " "), "", False),
    ("US_SSN", values.ssn, "", False),
    ("IBAN", values.iban, "", False),
    ("IBAN", lambda r: values.iban(r, grouped=True), "", False),
    ("IBAN", lambda r: values.iban(r, grouped=True).lower(), "", False),
    ("PHONE", values.phone, "", False),
    ("IP_ADDRESS", values.public_ipv4, "", False),
    ("AWS_ACCESS_KEY", values.aws_access_key, "", True),
    ("AWS_SECRET_KEY", values.aws_secret_key, "aws_secret_access_key=", True),
    ("OPENAI_API_KEY", values.openai_key, "", True),
    ("ANTHROPIC_API_KEY", values.anthropic_key, "", True),
    ("GITHUB_TOKEN", values.github_token, "", True),
    ("GITLAB_TOKEN", values.gitlab_token, "", True),
    ("SLACK_TOKEN", values.slack_token, "", True),
    ("STRIPE_KEY", values.stripe_key, "", True),
    ("GOOGLE_API_KEY", values.google_api_key, "", True),
    ("JWT", values.jwt, "", True),
    ("PRIVATE_KEY", values.pem_private_key, "", True),
    ("PASSWORD", values.password_value, "password: ", True),
    ("PASSWORD", values.password_value, "my password is ", True),
    ("AUTH_CREDENTIALS", values.bearer_token, "Authorization: Bearer ", True),
]
SEPARATORS = st.sampled_from(
    [" ", "\n", ", ", ": ", "(", ")", '"', "'", "\t", " - ", "\u00a0", "\u3000", ". "]
)
SURROUNDING = st.text(max_size=60)


@st.composite
def embedded(draw: st.DrawFn) -> tuple[str, str, str, bool]:
    entity, make, prefix, secret = draw(st.sampled_from(FAMILIES))
    # Values are drawn like real ones: from a seeded random generator that Hypothesis does not steer, so
    # a key does not shrink to "AKIAAAAAAAAAAAAAAAAA", which no provider issues and validators ignore.
    value = make(draw(st.randoms(use_true_random=True)))
    text = draw(SURROUNDING) + draw(SEPARATORS) + prefix + value + draw(SEPARATORS) + draw(SURROUNDING)
    return entity, value, text, secret


_SCRUBBER = make_scrubber()


def _assert_gone(scrubber: Scrubber, value: str, text: str, secret: bool) -> None:
    result = scrubber.scrub(text)
    if result.text is None:
        return  # dropped: nothing left
    assert value not in result.text
    if secret:
        for i in range(0, len(value) - 15):
            assert value[i : i + 16] not in result.text, f"piece {value[i : i + 16]!r} of a secret survived"


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(embedded())
def test_no_value_survives(case: tuple[str, str, str, bool]) -> None:
    _entity, value, text, secret = case
    assume(text.count(value) == 1)
    _assert_gone(_SCRUBBER, value, text, secret)


@settings(max_examples=300, deadline=None)
@given(st.lists(embedded(), min_size=2, max_size=6), st.lists(SURROUNDING, min_size=6, max_size=6))
def test_many_values_in_one_text(cases: list[tuple[str, str, str, bool]], fillers: list[str]) -> None:
    text = "".join(f"{filler} \n {case[2]} \n " for filler, case in zip(fillers, cases, strict=False))
    result = _SCRUBBER.scrub(text)
    assert result.text is None or all(case[1] not in result.text for case in cases)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="ascii", exclude_categories=("Cc",)), min_size=8, max_size=80),
    SURROUNDING,
    SURROUNDING,
)
def test_client_key_never_survives_even_glued_to_text(key: str, before: str, after: str) -> None:
    assume(len(set(key)) > 3 and key not in before + key[:-1] and key not in key[1:] + after)
    known = SecretRegistry()
    known.add(key)
    scrubber = make_scrubber(known_secrets=known)
    result = scrubber.scrub(before + key + after)
    assert result.text is None or key not in result.text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_scrub_never_raises_and_output_is_text_or_drop(text: str) -> None:
    result = _SCRUBBER.scrub(text)
    assert (result.text is None) == (
        result.error is not None or any(f.action.value == "drop" for f in result.findings)
    )
    for finding in result.findings:
        assert 0 <= finding.start < finding.end <= len(text)
