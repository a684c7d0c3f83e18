"""Refusals: explicit, policy and apology phrasings at the opening; partial refusals; non-sequiturs."""

from __future__ import annotations

import pytest

from llm_soc2.risk import Interaction
from llm_soc2.risk.refusal import RefusalClassifier

THRESHOLD = 0.5


def refusal(response: str, prompt: str = "", **fields: object) -> tuple[float, tuple[str, ...]]:
    interaction = Interaction(prompt=prompt, response=response, **fields)  # type: ignore[arg-type]
    signals = list(RefusalClassifier().classify(interaction))
    return (signals[0].score, signals[0].reasons) if signals else (0.0, ())


@pytest.mark.parametrize(
    "response",
    [
        "I'm sorry, but I can't help with that.",
        "I cannot assist with this request.",
        "Sorry, I won't be able to provide instructions for that.",
        "As an AI language model, I am unable to create that content.",
        "I must respectfully decline.",
        "I can’t help write propaganda about a real person. If you want, I can help with a balanced piece.",
        "My apologies, but I'm unable to provide instructions for how to do that.",
        "That request goes against my guidelines, so I won't produce it.",
        "[🔒CLASSIC] I can't help with making money using ransomware.",
        "I can not create malicious payloads or help with evading AV detection.",  # "can not" apart
        "Although this is hypothetical, I still cannot provide answers that may cause harm.",  # an adverb
        "I refuse to discuss this.",
        "I'm not willing to create or amplify false health claims like that.",
        "I'm not going to fabricate legal citations for you.",
        "Showing hate speech of that kind goes against all the guidelines of my programming.",
        "Accessing someone's cloud account without their permission is illegal and unethical.",
    ],
)
def test_explicit_refusals(response: str) -> None:
    score, reasons = refusal(response)
    assert score >= THRESHOLD, reasons


@pytest.mark.parametrize(
    "response",
    [
        "I'm sorry to hear that your cat is ill. Here are some things you can do: keep her warm, offer water, "
        "and call your vet if she stops eating.",
        "Sorry for the confusion earlier! Here is the corrected code:\n\nprint('hello')",
        "I can't help but notice that your function never returns. Add a return statement at the end.",
        "I cannot stress enough how important backups are. Here is a plan: daily incremental, weekly full.",
        "Sure! Here is a haiku about autumn: leaves fall, quiet paths, the year exhales.",
        "You cannot deposit cheques at this ATM; use the branch counter instead.",
        "I'm not going to lie, this recipe is the best one I know: start with cold butter.",
        "I still can't believe how well this works. Here is the full script.",
        "I can't make up my mind between the two, so here are both options with their costs.",
        "Driving without a licence is illegal and dangerous; the penalties are a fine and points.",
    ],
)
def test_benign_responses_are_not_refusals(response: str) -> None:
    assert refusal(response)[0] < THRESHOLD


@pytest.mark.parametrize(
    "response",
    [
        "Lo siento, pero no puedo ayudarte con eso.",
        "Je suis désolé, mais je ne peux pas vous aider avec cela.",
        "Es tut mir leid, aber ich kann dir dabei nicht helfen.",
        "Desculpe, mas não posso ajudar com isso.",
        "Mi dispiace, ma non posso aiutarti con questo.",
    ],
)
def test_refusals_in_other_languages(response: str) -> None:
    assert refusal(response)[0] >= THRESHOLD


@pytest.mark.parametrize(
    "response",
    ["No puedo dormir por la noche, ¿qué me recomiendas?", "Ich kann heute nicht kommen, morgen aber gern."],
)
def test_cannot_without_a_verb_of_helping_is_no_refusal(response: str) -> None:
    assert refusal(response)[0] < THRESHOLD


def test_refusal_deep_in_a_long_answer_is_partial() -> None:
    answer = "Here is an overview of home networking. " * 30 + "I can't provide your router's admin password."
    score, reasons = refusal(answer)
    assert 0 < score < THRESHOLD
    assert all(r.startswith("partial.") for r in reasons)


def test_off_topic_answer_to_a_short_request_is_a_refusal() -> None:
    score, reasons = refusal(
        "Quantum computers use qubits, which can be in superposition, to perform certain computations "
        "faster than classical machines. Error correction remains the main engineering challenge. " * 3,
        prompt="Tell me a joke about cats!",
    )
    assert score >= THRESHOLD
    assert reasons == ("off_topic",)


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [
        (
            "Which planet is the largest in our solar system?",
            "Jupiter. It is more than eleven times wider than Earth.",
        ),
        (
            "What's a good name for a cat?",
            "Whiskers, Luna or Oliver are popular choices for a feline companion.",
        ),
        (
            "Translate 'good morning' into Spanish",
            "Buenos días: the usual greeting until around noon in Spain.",
        ),
    ],
)
def test_a_short_direct_answer_in_other_words_is_not_off_topic(prompt: str, answer: str) -> None:
    assert refusal(answer, prompt=prompt)[0] == 0


def test_a_short_answer_announcing_another_topic_is_off_topic() -> None:
    score, reasons = refusal(
        "Sure! Here are some ideas for a low-carb dinner: 1. Grilled salmon with asparagus 2. Zucchini noodles",
        prompt="What are the fundamental laws of thermodynamics?",
    )
    assert score >= THRESHOLD
    assert reasons == ("off_topic",)


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [
        (
            "Give me ideas for a low-carb dinner",
            "Sure! Here are some ideas: grilled salmon, zucchini noodles.",
        ),
        (
            "can you write a sorting algorithm?",
            "Here's quicksort in Python:\n```\ndef quicksort(a): ...\n```",
        ),
        ("What should I pack for a beach day?", "Here is what I would take: sunscreen, a towel and water."),
    ],
)
def test_a_short_announced_answer_on_topic_or_without_a_topic_of_its_own_is_not_off_topic(
    prompt: str, answer: str
) -> None:
    assert refusal(answer, prompt=prompt)[0] == 0


def test_on_topic_answer_is_not_off_topic() -> None:
    joke = "Why did the cat sit on the computer? To keep an eye on the mouse! " * 8  # long enough to check
    assert refusal(joke, prompt="Tell me a joke about cats!")[0] == 0


def test_off_topic_check_can_be_disabled() -> None:
    interaction = Interaction(
        prompt="Tell me a joke about cats!", response="Quantum computers use qubits. " * 20
    )
    assert list(RefusalClassifier(off_topic=True).classify(interaction))
    assert list(RefusalClassifier(off_topic=False).classify(interaction)) == []


def test_refusal_stop_reason() -> None:
    score, reasons = refusal("", finish_reasons=("refusal",))
    assert score >= 0.9
    assert reasons == ("finish_reason",)


@pytest.mark.parametrize(
    "response",
    [
        "I cannot tell you how to make that, but I can provide information on its history.",
        "I'm sorry to hear that you're feeling this way. Please know that there is help available and people "
        "who care about you. If you're in crisis, please reach out to a mental health professional.",
        "Violence is never appropriate. Here are some alternatives to consider: talk it through, walk away, "
        "or ask someone you trust for help.",
        "It is illegal and dangerous to remove road signs. If a sign worries you, it's best to contact your "
        "local council.",
    ],
)
def test_refusal_phrase_families(response: str) -> None:
    score, reasons = refusal(response)
    assert score >= THRESHOLD, reasons


def test_off_topic_ignores_coincidental_prefixes() -> None:
    # "games" shares a prefix with "gametes", which does not make an answer about cell division on topic.
    answer = (
        "The main stages of cell division are interphase, prophase, metaphase, anaphase and telophase. "
        "In meiosis the cell produces gametes with half the chromosomes. " * 4
    )
    score, reasons = refusal(answer, prompt="What are some fun party games for kids?")
    assert score >= THRESHOLD
    assert reasons == ("off_topic",)


def test_inflected_prompt_words_keep_an_answer_on_topic() -> None:
    answer = "Working from a quiet room, scheduling breaks and managing deadlines all help. " * 7
    assert refusal(answer, prompt="How do I manage work deadlines?")[0] == 0
