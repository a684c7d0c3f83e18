"""Instrumentation of the LLM client libraries: ``openai`` (3.x) and ``anthropic`` (2.x).

Each instrumentor is a contrib-style ``BaseInstrumentor`` (``openai.OpenAIInstrumentor``,
``anthropic.AnthropicInstrumentor``) registered under the ``opentelemetry_instrumentor`` entry points
``llm_soc2_openai`` and ``llm_soc2_anthropic``. The instrumentation only records what happened; the
span processor scrubs, classifies and audits it (see ``llm_soc2.processor``).
"""
