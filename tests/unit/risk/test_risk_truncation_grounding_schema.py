"""Truncation from finish reasons, groundedness against context, JSON-schema output validation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llm_soc2.risk import Interaction
from llm_soc2.risk.grounding import GroundednessClassifier, groundedness
from llm_soc2.risk.output_schema import OutputSchemaClassifier, Validator, parse_json
from llm_soc2.risk.truncation import TruncationClassifier
from llm_soc2.semconv import RISK_INVALID_OUTPUT, RISK_TRUNCATION, RISK_UNGROUNDED


# ---- truncation
@pytest.mark.parametrize(
    ("reasons", "code"),
    [
        (("length",), "length"),
        (("max_tokens",), "length"),
        (("content_filter",), "content_filter"),
        (("MAX_TOKENS",), "length"),
        (("SAFETY",), "content_filter"),
    ],
)
def test_truncation_reasons(reasons: tuple[str, ...], code: str) -> None:
    (signal,) = TruncationClassifier().classify(Interaction(finish_reasons=reasons))
    assert signal.category == RISK_TRUNCATION
    assert signal.reasons == (code,)
    assert signal.score >= 0.5


@pytest.mark.parametrize("reasons", [(), ("stop",), ("end_turn",), ("tool_calls",)])
def test_normal_stops_are_not_truncation(reasons: tuple[str, ...]) -> None:
    assert list(TruncationClassifier().classify(Interaction(finish_reasons=reasons))) == []


# ---- groundedness
CONTEXT = (
    "Northwind Traders reported revenue of $4.2 million in fiscal 2023, up 12% from 2022. "
    "The company, based in Seattle, opened two warehouses in Portland and Boise. "
    "Chief executive Maria Chen said growth came from online orders."
)


def test_supported_answer_is_grounded() -> None:
    answer = "Northwind Traders had revenue of $4.2 million in 2023, a 12% increase, according to Maria Chen."
    assert groundedness(answer, CONTEXT).groundedness >= 0.8
    assert list(GroundednessClassifier().classify(Interaction(response=answer, context=CONTEXT))) == [] or (
        next(iter(GroundednessClassifier().classify(Interaction(response=answer, context=CONTEXT)))).score
        < 0.3
    )


def test_hallucinated_numbers_and_entities_are_ungrounded() -> None:
    answer = "Northwind earned $9.7 million in 2021 after opening offices in Denver and Austin under CEO John Park."
    result = groundedness(answer, CONTEXT)
    assert result.numbers is not None
    assert result.numbers < 0.5
    assert result.entities is not None
    assert result.entities < 0.5
    (signal,) = GroundednessClassifier().classify(Interaction(response=answer, context=CONTEXT))
    assert signal.category == RISK_UNGROUNDED
    assert signal.score >= 0.6
    assert "numbers_unsupported" in signal.reasons
    assert "entities_unsupported" in signal.reasons


def test_number_formats_agree() -> None:
    assert groundedness("It sold 1,000 units.", "They sold 1000 units in total.").numbers == 1.0


def test_numbers_from_the_question_are_not_hallucinations() -> None:
    result = groundedness(
        "In 2019 the figure is not known.", "Revenue grew.", prompt="What happened in 2019?"
    )
    assert result.numbers is None or result.numbers == 1.0


def test_abstention_is_grounded() -> None:
    answer = "The context does not mention the 2024 revenue."
    assert list(GroundednessClassifier().classify(Interaction(response=answer, context=CONTEXT))) == []


def test_no_context_no_check() -> None:
    assert list(GroundednessClassifier().classify(Interaction(response="Paris is in France."))) == []


# ---- output schema
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "kind": {"enum": ["person", "bot"]},
        "address": {"$ref": "#/$defs/address"},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
    "$defs": {
        "address": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}
    },
}


def invalid(response: str, schema: dict[str, Any] = SCHEMA) -> tuple[float, tuple[str, ...]]:
    signals = list(OutputSchemaClassifier().classify(Interaction(response=response, response_schema=schema)))
    return (signals[0].score, signals[0].reasons) if signals else (0.0, ())


def test_valid_output() -> None:
    good = {"name": "Ada", "age": 36, "tags": ["x"], "kind": "person", "address": {"city": "London"}}
    assert invalid(json.dumps(good)) == (0.0, ())


def test_fenced_json_is_unwrapped() -> None:
    assert invalid('```json\n{"name": "Ada", "age": 36}\n```') == (0.0, ())


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"name": "Ada"}, "schema_required"),
        ({"name": "Ada", "age": "36"}, "schema_type"),
        ({"name": "Ada", "age": -1}, "schema_minimum"),
        ({"name": "Ada", "age": 1, "extra": 1}, "schema_additionalProperties"),
        ({"name": "Ada", "age": 1, "tags": ["a", "b", "c", "d"]}, "schema_maxItems"),
        ({"name": "Ada", "age": 1, "tags": [1]}, "schema_type"),
        ({"name": "Ada", "age": 1, "kind": "cat"}, "schema_enum"),
        ({"name": "Ada", "age": 1, "address": {}}, "schema_required"),
        ({"name": "", "age": 1}, "schema_minLength"),
        ({"name": "Ada", "age": True}, "schema_type"),
    ],
)
def test_schema_violations(value: dict[str, Any], reason: str) -> None:
    score, reasons = invalid(json.dumps(value))
    assert score == 0.7
    assert reason in reasons


def test_not_json() -> None:
    assert invalid("Sure! Here is the JSON you asked for: {name: Ada}") == (0.9, ("not_json",))


def test_openai_wrapper_is_unwrapped() -> None:
    wrapped = {"name": "person", "strict": True, "schema": SCHEMA}
    assert invalid(json.dumps({"name": "Ada"}), wrapped)[1] == ("schema_required",)


def test_combinators_and_pattern() -> None:
    schema = {"anyOf": [{"type": "string", "pattern": "^[a-z]+$"}, {"type": "integer"}]}
    assert Validator(schema).validate("abc") == []
    assert Validator(schema).validate(3) == []
    assert Validator(schema).validate("ABC") == ["anyOf"]
    assert Validator({"oneOf": [{"type": "integer"}, {"type": "number"}]}).validate(3) == ["oneOf"]
    assert Validator({"not": {"type": "string"}}).validate("x") == ["not"]


def test_deep_and_huge_json_are_bounded() -> None:
    assert parse_json("[" * 100_000 + "]" * 100_000)[1] == ["json_too_deep"]
    recursive = {"$ref": "#", "type": "array", "items": {"$ref": "#"}}
    nested: Any = []
    for _ in range(200):
        nested = [nested]
    assert Validator(recursive).validate(nested) in ([], ["too_complex"])
    many = list(range(50_000))
    assert Validator({"type": "array", "items": {"type": "integer"}}).validate(many) == ["too_complex"]


def test_no_schema_no_check() -> None:
    assert list(OutputSchemaClassifier().classify(Interaction(response="not json"))) == []
    assert RISK_INVALID_OUTPUT == "invalid_output"
