"""Invalid structured output: when the app asked for JSON matching a schema, does the response match?

Runs only when ``Interaction.response_schema`` is given. The response is parsed as JSON (a single
```json fenced block is unwrapped); then a small JSON-Schema subset is checked, enough for what
structured-output APIs accept (OpenAI ``json_schema`` / Anthropic tool input schemas):

``type`` (one or a list), ``properties``, ``required``, ``additionalProperties`` (boolean or schema),
``items``, ``prefixItems``, ``minItems``/``maxItems``, ``uniqueItems``, ``enum``, ``const``,
``minLength``/``maxLength``, ``pattern`` (RE2: linear time), ``minimum``/``maximum``/
``exclusiveMinimum``/``exclusiveMaximum``/``multipleOf``, ``minProperties``/``maxProperties``,
``anyOf``/``oneOf``/``allOf``/``not``, local ``$ref`` (``#/$defs/...``, ``#/definitions/...``, ``#``).
Keywords outside the subset (``format``, ``if``/``then``, ``dependentSchemas`` ...) are ignored, which
can only make the check more lenient. An OpenAI ``{"name": ..., "schema": {...}}`` wrapper is unwrapped.

Bounded: the response is parsed only up to 1 MiB; JSON nested deeper than the interpreter's recursion
limit counts as invalid (``json_too_deep``); schemas are followed 64 levels deep; validation stops after
10,000 schema checks (reported as ``schema_too_complex``, not as invalid).

Reasons: ``not_json``, ``json_too_deep``, ``fenced``, and ``schema_<keyword>`` for each kind of violation.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Final

import re2

from llm_soc2.risk import text as _text
from llm_soc2.risk.assessment import Interaction, Signal
from llm_soc2.semconv import RISK_INVALID_OUTPUT

MAX_JSON_CHARS: Final = 1 << 20
MAX_DEPTH: Final = 64
MAX_STEPS: Final = 10_000
NOT_JSON_SCORE: Final = 0.9
SCHEMA_SCORE: Final = 0.7
_TYPES: Final = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
}


class _Budget(Exception):
    """Raised inside the validator when the step budget is spent."""


class Validator:
    """Validate one JSON value against a schema (the subset above). ``errors`` collects keyword names."""

    def __init__(self, schema: Mapping[str, Any], max_steps: int = MAX_STEPS) -> None:
        self.root = schema
        self.steps = max_steps
        self.errors: list[str] = []

    def validate(self, value: Any) -> list[str]:
        """The keywords that failed (empty: valid). Raises nothing; a spent budget reports ``too_complex``."""
        try:
            self._check(value, self.root, 0)
        except _Budget:
            return ["too_complex"]
        except RecursionError:
            return ["too_complex"]
        return self.errors

    def _fail(self, keyword: str) -> bool:
        if keyword not in self.errors:
            self.errors.append(keyword)
        return False

    def _resolve(self, ref: str) -> Mapping[str, Any] | None:
        if ref == "#":
            return self.root
        if not ref.startswith("#/"):
            return None
        node: Any = self.root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node if isinstance(node, Mapping) else None

    def _check(self, value: Any, schema: Any, depth: int) -> bool:
        self.steps -= 1
        if self.steps < 0:
            raise _Budget
        if schema is True or schema is None:
            return True
        if schema is False:
            return self._fail("false")
        if not isinstance(schema, Mapping) or depth > MAX_DEPTH:
            return True
        ok = True
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = self._resolve(ref)
            if target is not None and not self._check(value, target, depth + 1):
                ok = False
        types = schema.get("type")
        if types is not None:
            names = [types] if isinstance(types, str) else list(types) if isinstance(types, list) else []
            if names and not any(_TYPES.get(name, lambda _v: True)(value) for name in names):
                return self._fail("type")
        if (
            "enum" in schema
            and isinstance(schema["enum"], list)
            and not any(_equal(value, e) for e in schema["enum"])
        ):
            ok = self._fail("enum")
        if "const" in schema and not _equal(value, schema["const"]):
            ok = self._fail("const")
        if isinstance(value, str):
            ok = self._string(value, schema) and ok
        elif isinstance(value, int | float) and not isinstance(value, bool):
            ok = self._number(value, schema) and ok
        elif isinstance(value, dict):
            ok = self._object(value, schema, depth) and ok
        elif isinstance(value, list):
            ok = self._array(value, schema, depth) and ok
        return self._combinators(value, schema, depth) and ok

    def _string(self, value: str, schema: Mapping[str, Any]) -> bool:
        ok = True
        if isinstance(schema.get("minLength"), int) and len(value) < schema["minLength"]:
            ok = self._fail("minLength")
        if isinstance(schema.get("maxLength"), int) and len(value) > schema["maxLength"]:
            ok = self._fail("maxLength")
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and not _matches(pattern, value):
            ok = self._fail("pattern")
        return ok

    def _number(self, value: float, schema: Mapping[str, Any]) -> bool:
        ok = True
        checks: tuple[tuple[str, Callable[[float, float], bool]], ...] = (
            ("minimum", operator.lt),
            ("maximum", operator.gt),
            ("exclusiveMinimum", operator.le),
            ("exclusiveMaximum", operator.ge),
        )
        for keyword, violated in checks:
            bound = schema.get(keyword)
            if isinstance(bound, int | float) and not isinstance(bound, bool) and violated(value, bound):
                ok = self._fail(keyword)
        step = schema.get("multipleOf")
        if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
            quotient = value / step
            if not math.isfinite(quotient) or abs(quotient - round(quotient)) > 1e-9:
                ok = self._fail("multipleOf")
        return ok

    def _object(self, value: dict[str, Any], schema: Mapping[str, Any], depth: int) -> bool:
        ok = True
        required = schema.get("required")
        if isinstance(required, list) and any(isinstance(k, str) and k not in value for k in required):
            ok = self._fail("required")
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        additional = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                ok = self._check(item, properties[key], depth + 1) and ok
            elif additional is False:
                ok = self._fail("additionalProperties")
            elif isinstance(additional, Mapping):
                ok = self._check(item, additional, depth + 1) and ok
        if isinstance(schema.get("minProperties"), int) and len(value) < schema["minProperties"]:
            ok = self._fail("minProperties")
        if isinstance(schema.get("maxProperties"), int) and len(value) > schema["maxProperties"]:
            ok = self._fail("maxProperties")
        return ok

    def _array(self, value: list[Any], schema: Mapping[str, Any], depth: int) -> bool:
        ok = True
        if isinstance(schema.get("minItems"), int) and len(value) < schema["minItems"]:
            ok = self._fail("minItems")
        if isinstance(schema.get("maxItems"), int) and len(value) > schema["maxItems"]:
            ok = self._fail("maxItems")
        prefix = schema.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        for index, item_schema in enumerate(prefix[: len(value)]):
            ok = self._check(value[index], item_schema, depth + 1) and ok
        items = schema.get("items")
        if isinstance(items, Mapping | bool):
            for item in value[len(prefix) :]:
                ok = self._check(item, items, depth + 1) and ok
        if schema.get("uniqueItems") is True:
            seen: list[Any] = []
            for item in value:
                if any(_equal(item, other) for other in seen):
                    ok = self._fail("uniqueItems")
                    break
                seen.append(item)
        return ok

    def _combinators(self, value: Any, schema: Mapping[str, Any], depth: int) -> bool:
        ok = True
        for keyword in ("anyOf", "oneOf", "allOf"):
            options = schema.get(keyword)
            if not isinstance(options, list) or not options:
                continue
            saved = list(self.errors)
            results = []
            for option in options:
                results.append(self._check(value, option, depth + 1))
            self.errors = saved
            passed = sum(results)
            if (
                (keyword == "anyOf" and passed == 0)
                or (keyword == "oneOf" and passed != 1)
                or (keyword == "allOf" and passed != len(results))
            ):
                ok = self._fail(keyword)
        negated = schema.get("not")
        if isinstance(negated, Mapping | bool):
            saved = list(self.errors)
            matched = self._check(value, negated, depth + 1)
            self.errors = saved
            if matched:
                ok = self._fail("not")
        return ok


def _matches(pattern: str, value: str) -> bool:
    """RE2 search; a pattern RE2 cannot compile (look-around, backreferences) is not checked (True)."""
    try:
        compiled: Any = re2.compile(pattern, _text.options(8 << 20))
        return compiled.search(_text.encode(value[:MAX_JSON_CHARS])) is not None
    except Exception:
        return True


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def unwrap_schema(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """OpenAI's ``response_format.json_schema`` wrapper -> the schema itself."""
    inner = schema.get("schema")
    if isinstance(inner, Mapping) and "type" not in schema and "properties" not in schema:
        return inner
    inner = schema.get("json_schema")
    if isinstance(inner, Mapping):
        return unwrap_schema(inner)
    return schema


def parse_json(text: str) -> tuple[Any, list[str]]:
    """(value, reasons): reasons are ``not_json`` / ``json_too_deep`` on failure, ``fenced`` when a code
    fence was removed."""
    reasons: list[str] = []
    body = text.strip()
    if body.startswith("```"):
        first_newline = body.find("\n")
        if first_newline != -1 and body.endswith("```"):
            body = body[first_newline + 1 : -3].strip()
            reasons.append("fenced")
    if len(body) > MAX_JSON_CHARS:
        return None, ["not_json"]
    try:
        return json.loads(body), reasons
    except RecursionError:
        return None, ["json_too_deep"]
    except ValueError:
        return None, ["not_json"]


class OutputSchemaClassifier:
    """``invalid_output``: the response is not JSON, or does not match ``response_schema``."""

    name: ClassVar[str] = RISK_INVALID_OUTPUT
    categories: ClassVar[tuple[str, ...]] = (RISK_INVALID_OUTPUT,)

    def classify(self, interaction: Interaction) -> Iterable[Signal]:
        schema = interaction.response_schema
        if schema is None or not isinstance(schema, Mapping):
            return ()
        value, reasons = parse_json(_text.as_text(interaction.response))
        if "not_json" in reasons or "json_too_deep" in reasons:
            return (Signal(RISK_INVALID_OUTPUT, NOT_JSON_SCORE, tuple(reasons)),)
        errors = Validator(unwrap_schema(schema)).validate(value)
        if not errors:
            return ()
        if errors == ["too_complex"]:
            return (Signal(RISK_INVALID_OUTPUT, 0.0, ("schema_too_complex",)),)
        return (
            Signal(RISK_INVALID_OUTPUT, SCHEMA_SCORE, tuple(reasons + [f"schema_{e}" for e in errors[:8]])),
        )
