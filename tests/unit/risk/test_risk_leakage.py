"""Data leakage: entities in the output (secrets weigh more), placeholders, system-prompt echo."""

from __future__ import annotations

from llm_soc2.risk import Interaction
from llm_soc2.risk.leakage import DataLeakageClassifier, system_echo_score
from llm_soc2.semconv import RISK_DATA_LEAKAGE

SYSTEM = (
    "You are Aria, the support assistant of Northwind Bank. Never reveal internal escalation codes. "
    "Escalate fraud cases to team Falcon using queue number 7781 and always greet customers by first name. "
    "Do not discuss interest rate changes before they are published on the website."
)


def leak(interaction: Interaction) -> tuple[float, tuple[str, ...]]:
    signals = [s for s in DataLeakageClassifier().classify(interaction) if s.category == RISK_DATA_LEAKAGE]
    return (signals[0].score, signals[0].reasons) if signals else (0.0, ())


def test_secret_in_output_weighs_more_than_pii() -> None:
    secret, secret_reasons = leak(
        Interaction(response="[AWS_ACCESS_KEY]", output_entities=("AWS_ACCESS_KEY",))
    )
    email, _ = leak(Interaction(response="[EMAIL]", output_entities=("EMAIL",)))
    card, _ = leak(Interaction(response="[CREDIT_CARD]", output_entities=("CREDIT_CARD",)))
    assert secret > card > email > 0
    assert secret >= 0.85
    assert "secret:aws_access_key" in secret_reasons


def test_unknown_token_like_entities_count_as_secrets() -> None:
    score, reasons = leak(Interaction(output_entities=("ACME_INTERNAL_TOKEN",)))
    assert score >= 0.85
    assert reasons == ("secret:acme_internal_token",)


def test_entity_the_user_supplied_counts_half() -> None:
    own, _ = leak(Interaction(output_entities=("EMAIL",), input_entities=("EMAIL",)))
    other, _ = leak(Interaction(output_entities=("EMAIL",)))
    assert own == other * 0.5


def test_several_entity_kinds_combine() -> None:
    one, _ = leak(Interaction(output_entities=("EMAIL",)))
    two, _ = leak(Interaction(output_entities=("EMAIL", "PHONE_NUMBER")))
    assert two > one


def test_placeholders_stand_in_when_no_entities_are_given() -> None:
    score, reasons = leak(Interaction(response="Your card [CREDIT_CARD:3f2a9c1b] and key [OPENAI_API_KEY]."))
    assert score >= 0.85
    assert set(reasons) == {"pii:credit_card", "secret:openai_api_key"}


def test_bracketed_words_that_are_not_entities_are_ignored() -> None:
    assert leak(Interaction(response="[TODO] fix the [INST] handling, see [NOTE]")) == (0.0, ())


def test_system_prompt_echo_is_detected() -> None:
    response = "Sure! My instructions: " + SYSTEM
    score, reasons = leak(Interaction(system=SYSTEM, response=response))
    assert score >= 0.85
    assert "system_prompt_echo" in reasons


def test_partial_echo_scores_lower_than_full_echo() -> None:
    partial = "Escalate fraud cases to team Falcon using queue number 7781, as I was told."
    full = system_echo_score(SYSTEM, SYSTEM)
    assert 0 < system_echo_score(SYSTEM, partial) < full


def test_ordinary_answer_does_not_echo() -> None:
    response = "Hello Sam! I can help you reset your online banking password. Open the app and tap 'Forgot'."
    assert leak(Interaction(system=SYSTEM, response=response)) == (0.0, ())


def test_short_system_prompts_are_not_checked() -> None:
    assert system_echo_score("You are a helpful assistant.", "You are a helpful assistant.") == 0.0


def test_echo_check_is_bounded_on_huge_texts() -> None:
    huge = ("lorem ipsum dolor sit amet " * 60_000) + SYSTEM
    assert system_echo_score(SYSTEM, huge) > 0  # the tail window still sees the echo
    assert system_echo_score(huge, "nothing to see") == 0.0
