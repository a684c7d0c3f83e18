"""A small Anthropic application, instrumented without code changes.

Run it under auto-instrumentation, against the Anthropic API or any compatible endpoint::

    ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_API_KEY=sk-ant-... \\
    OTEL_SERVICE_NAME=anthropic-app OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 \\
        opentelemetry-instrument python examples/anthropic_app.py

Without ``ANTHROPIC_BASE_URL`` and ``ANTHROPIC_API_KEY`` it starts llm-soc2's local fake provider. It
makes four calls: a message with a system prompt, a ``messages.stream`` helper, a raw ``stream=True``
call, and a tool use. The SDK's own tracing stays on: llm-soc2 keeps one span per call.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import anthropic

MODEL = os.environ.get("ANTHROPIC_MODEL", "claude-sonnet-4-6")
SYSTEM = "You are a helpful literature tutor. Be brief."
LOOKUP_TOOL = {
    "name": "lookup_play",
    "description": "Facts about a play",
    "input_schema": {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]},
}


@contextlib.contextmanager
def provider() -> Iterator[anthropic.Anthropic]:
    if os.environ.get("ANTHROPIC_BASE_URL") or os.environ.get("ANTHROPIC_API_KEY"):
        with anthropic.Anthropic() as client:
            yield client
        return
    from llm_soc2.testing import FakeProvider, ToolCall

    with FakeProvider() as fake:
        fake.anthropic.script("Hamlet is Shakespeare's tragedy of revenge and doubt.")
        fake.anthropic.script("Macbeth: ambition, prophecy, ruin.")
        fake.anthropic.script("King Lear divides his kingdom and loses everything.")
        fake.anthropic.script(
            "Let me look that up.", tool_calls=[ToolCall("lookup_play", {"title": "The Tempest"})]
        )
        with anthropic.Anthropic(
            base_url=fake.anthropic.base_url, api_key="sk-ant-example-not-a-real-key"
        ) as client:
            yield client


def main() -> None:
    with provider() as client:
        message = client.messages.create(
            model=MODEL,
            max_tokens=200,
            system=SYSTEM,
            messages=[{"role": "user", "content": "What is Hamlet about?"}],
            metadata={"user_id": "student-7"},
        )
        print("message:", message.content[0].text if message.content else "")

        with client.messages.stream(
            model=MODEL, max_tokens=200, system=SYSTEM, messages=[{"role": "user", "content": "And Macbeth?"}]
        ) as stream:
            print("stream helper:", "".join(stream.text_stream))

        events = client.messages.create(
            model=MODEL, max_tokens=200, messages=[{"role": "user", "content": "And King Lear?"}], stream=True
        )
        print("raw stream:", sum(1 for _ in events), "events")

        used = client.messages.create(
            model=MODEL,
            max_tokens=200,
            tools=[LOOKUP_TOOL],
            messages=[{"role": "user", "content": "Tell me about The Tempest."}],
        )
        print("tool use:", [block.type for block in used.content])


if __name__ == "__main__":
    main()
