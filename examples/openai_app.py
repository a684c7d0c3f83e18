"""A small OpenAI application, instrumented without code changes.

Run it under auto-instrumentation, against the OpenAI API or any compatible endpoint::

    OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_API_KEY=sk-... \\
    OTEL_SERVICE_NAME=openai-app OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 \\
        opentelemetry-instrument python examples/openai_app.py

Without ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` it starts llm-soc2's local fake provider, so it runs
anywhere. It makes five calls: a chat with a system prompt, a streamed chat, a tool call and its
follow-up, and an embeddings request.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator

import openai

MODEL = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
SYSTEM = "You are a concise travel assistant. Answer in at most two sentences."
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@contextlib.contextmanager
def provider() -> Iterator[openai.OpenAI]:
    if os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_KEY"):
        with openai.OpenAI() as client:
            yield client
        return
    from llm_soc2.testing import FakeProvider, ToolCall

    with FakeProvider() as fake:
        fake.openai.script("Lisbon is sunny and walkable; try the trams.")
        fake.openai.script("Start at Belém, then Alfama at sunset.")
        fake.openai.script(text="", tool_calls=[ToolCall("get_weather", {"city": "Lisbon"})])
        fake.openai.script("It is 24°C and sunny in Lisbon.")
        with openai.OpenAI(base_url=fake.openai.base_url, api_key="sk-example-not-a-real-key") as client:
            yield client


def main() -> None:
    with provider() as client:
        answer = client.chat.completions.create(
            model=MODEL,
            messages=[
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Why visit Lisbon?"},
            ],
            user="traveller-1",
        )
        print("chat:", answer.choices[0].message.content)

        stream = client.chat.completions.create(
            model=MODEL,
            messages=[
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Plan one day there."},
            ],
            stream=True,
            stream_options={"include_usage": True},
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        print("stream:", text)

        question = [{"role": "user", "content": "What is the weather in Lisbon?"}]
        first = client.chat.completions.create(model=MODEL, messages=question, tools=[WEATHER_TOOL])
        calls = first.choices[0].message.tool_calls or []
        followup = [*question, first.choices[0].message]
        for call in calls:
            city = json.loads(call.function.arguments).get("city", "")
            followup.append({"role": "tool", "tool_call_id": call.id, "content": f"24°C, sunny in {city}"})
        final = client.chat.completions.create(model=MODEL, messages=followup, tools=[WEATHER_TOOL])
        print("tool call:", final.choices[0].message.content)

        vectors = client.embeddings.create(model="text-embedding-3-small", input=["Lisbon", "Porto"])
        print("embeddings:", len(vectors.data), "vectors of", len(vectors.data[0].embedding))


if __name__ == "__main__":
    main()
