"""Content extraction and write-back across conventions (llm_soc2.content), independent of detectors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llm_soc2 import content as ct
from llm_soc2 import semconv as sc

SECRET = "s3cr3t-value"


def _replace_secret(texts: list[str]) -> list[ct.ScrubbedText]:
    """A scrub function that masks one literal: enough to prove where text is found and written back."""
    out: list[ct.ScrubbedText] = []
    for text in texts:
        if "DROPME" in text:
            out.append((None, ["drop"], None))
        elif "FAILME" in text:
            out.append((None, [], "boom"))
        else:
            found = [SECRET] if SECRET in text else []
            out.append((text.replace(SECRET, "[SECRET]"), found, None))
    return out


def _messages(*parts: dict[str, Any], role: str = "user") -> str:
    return json.dumps([{"role": role, "parts": list(parts)}])


def test_genai_json_content_is_scrubbed_and_keeps_its_shape() -> None:
    attributes = {
        sc.GEN_AI_OPERATION_NAME: "chat",
        sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
        sc.GEN_AI_INPUT_MESSAGES: _messages(
            {"type": "text", "content": f"my key is {SECRET}"},
            {"type": "tool_call", "id": "call_1", "name": "lookup", "arguments": {"q": SECRET}},
        ),
        sc.GEN_AI_OUTPUT_MESSAGES: json.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": "ok"}], "finish_reason": "stop"}]
        ),
    }
    new, extracted, findings, removed = ct.scrub_attributes(attributes, _replace_secret)
    assert removed == []
    parsed = json.loads(new[sc.GEN_AI_INPUT_MESSAGES])
    assert parsed[0]["parts"][0] == {"type": "text", "content": "my key is [SECRET]"}
    assert parsed[0]["parts"][1]["arguments"] == {"q": "[SECRET]"}
    assert parsed[0]["parts"][1]["id"] == "call_1"  # structural keys are left alone
    # Unchanged documents are not re-serialised: the original string is exported byte for byte.
    assert new[sc.GEN_AI_OUTPUT_MESSAGES] is attributes[sc.GEN_AI_OUTPUT_MESSAGES]
    assert new[sc.GEN_AI_REQUEST_MODEL] == "gpt-4o"
    assert sum(len(f) for f in findings) == 2
    assert {leaf.direction for leaf in extracted.leaves} == {ct.INPUT, ct.OUTPUT}


def test_indexed_and_openinference_conventions_and_unknown_strings_are_scrubbed() -> None:
    attributes = {
        sc.GEN_AI_SYSTEM: "openai",
        "gen_ai.prompt.0.role": "user",
        "gen_ai.prompt.0.content": f"hello {SECRET}",
        "gen_ai.completion.0.content": f"echo {SECRET}",
        sc.OPENINFERENCE_INPUT_VALUE: SECRET,
        "llm.input_messages.0.message.content": SECRET,
        sc.OPENINFERENCE_INVOCATION_PARAMETERS: json.dumps({"temperature": 0.2, "prompt": SECRET}),
        "app.custom": f"customer {SECRET}",
        sc.URL_FULL: f"https://api.example.com/v1?key={SECRET}",
        "gen_ai.request.stop_sequences": ("END", SECRET),
    }
    new, extracted, _, removed = ct.scrub_attributes(attributes, _replace_secret)
    assert removed == []
    for key, value in new.items():
        assert SECRET not in str(value), key
    assert new["gen_ai.prompt.0.role"] == "user"
    assert json.loads(new[sc.OPENINFERENCE_INVOCATION_PARAMETERS]) == {
        "temperature": 0.2,
        "prompt": "[SECRET]",
    }
    assert new["gen_ai.request.stop_sequences"] == ("END", "[SECRET]")
    directions = {leaf.key: leaf.direction for leaf in extracted.leaves}
    assert directions["gen_ai.completion.0.content"] == ct.OUTPUT
    assert directions["gen_ai.prompt.0.content"] == ct.INPUT


def test_drop_action_leaves_a_marker_and_failure_removes_the_attribute() -> None:
    attributes = {
        sc.GEN_AI_OPERATION_NAME: "chat",
        sc.GEN_AI_INPUT_MESSAGES: _messages({"type": "text", "content": "DROPME please"}),
        sc.GEN_AI_OUTPUT_MESSAGES: _messages({"type": "text", "content": "FAILME"}, role="assistant"),
    }
    new, _, _, removed = ct.scrub_attributes(attributes, _replace_secret)
    assert json.loads(new[sc.GEN_AI_INPUT_MESSAGES])[0]["parts"][0]["content"] == ct.DROPPED_MARKER
    assert removed == [sc.GEN_AI_OUTPUT_MESSAGES]
    assert sc.GEN_AI_OUTPUT_MESSAGES not in new


def test_malformed_json_content_is_scrubbed_as_text() -> None:
    raw = '[{"role": "user", "parts": [{"content": "' + SECRET  # truncated JSON
    new, _, _, _ = ct.scrub_attributes({sc.GEN_AI_INPUT_MESSAGES: raw}, _replace_secret)
    assert SECRET not in new[sc.GEN_AI_INPUT_MESSAGES]


def test_binary_attributes_on_genai_spans_fail_closed() -> None:
    new, _, _, removed = ct.scrub_attributes(
        {sc.GEN_AI_OPERATION_NAME: "chat", "blob": b"\x00raw"}, _replace_secret
    )
    assert "blob" not in new
    assert removed == ["blob"]


def test_deeply_nested_json_fails_closed() -> None:
    nested: Any = "x"
    for _ in range(200):
        nested = [nested]
    attributes = {sc.GEN_AI_INPUT_MESSAGES: json.dumps(nested)}
    # The processor turns this error into a fail-closed copy without content.
    with pytest.raises(ValueError, match="nested too deeply"):
        ct.scrub_attributes(attributes, _replace_secret)


def test_texts_by_role_separates_system_user_tool_and_response() -> None:
    attributes = {
        sc.GEN_AI_SYSTEM_INSTRUCTIONS: json.dumps([{"type": "text", "content": "be nice"}]),
        sc.GEN_AI_INPUT_MESSAGES: json.dumps(
            [
                {"role": "user", "parts": [{"type": "text", "content": "question"}]},
                {"role": "assistant", "parts": [{"type": "text", "content": "earlier answer"}]},
                {
                    "role": "tool",
                    "parts": [{"type": "tool_call_response", "id": "1", "response": "tool says"}],
                },
            ]
        ),
        sc.GEN_AI_OUTPUT_MESSAGES: _messages({"type": "text", "content": "answer"}, role="assistant"),
        sc.RETRIEVAL_CONTEXT: "the context",
    }
    extracted = ct.extract(attributes)
    groups = ct.texts_by_role(extracted.leaves, [leaf.text for leaf in extracted.leaves])
    assert groups == {
        ct.ROLE_SYSTEM: ["be nice"],
        ct.ROLE_USER: ["question"],
        ct.ROLE_TOOL: ["tool says"],
        ct.ROLE_ASSISTANT: ["answer"],
        ct.ROLE_CONTEXT: ["the context"],
    }


def test_is_genai_recognises_every_convention() -> None:
    assert ct.is_genai({sc.GEN_AI_OPERATION_NAME: "chat"})
    assert ct.is_genai({sc.GEN_AI_SYSTEM: "openai"})
    assert ct.is_genai({sc.OPENINFERENCE_SPAN_KIND: "LLM"})
    assert not ct.is_genai({"http.request.method": "GET"})
    assert not ct.is_genai(None)
