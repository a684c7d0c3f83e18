"""Test support shipped with llm-soc2: a fake LLM provider speaking the OpenAI and Anthropic wire formats.

Used by the demo, the examples, the benchmarks and the tests; handy for testing your own application's
telemetry without a network::

    from llm_soc2.testing import FakeProvider

    with FakeProvider() as fake:
        fake.openai.script("Hi there")
        client = openai.OpenAI(base_url=fake.openai.base_url, api_key="sk-test")
"""

from __future__ import annotations

from llm_soc2.testing.fake_provider import FakeProvider, ProviderScript
from llm_soc2.testing.script import RecordedRequest, Reply, ToolCall

__all__ = ["FakeProvider", "ProviderScript", "RecordedRequest", "Reply", "ToolCall"]
