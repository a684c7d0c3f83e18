"""llm-soc2: SOC 2 evidence from an OpenTelemetry-instrumented LLM application.

The common case is one call::

    import llm_soc2
    llm_soc2.configure()          # instrument openai + anthropic, scrub, classify, audit, export via OTEL_*

or no code at all: ``opentelemetry-instrument python app.py``.

Everything else here is for users who assemble their own pipeline or use the parts directly::

    llm_soc2.Scrubber().scrub("mail me at jane@example.com")   # text and findings
    llm_soc2.classify(prompt, response, context=None)           # risk assessment
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> module that defines it. Imported on first use so that `import llm_soc2` stays cheap
# (scipy, cryptography and the client libraries load only when needed).
_EXPORTS = {
    "configure": "llm_soc2.pipeline",
    "shutdown": "llm_soc2.pipeline",
    "Settings": "llm_soc2.config",
    "ContentCapture": "llm_soc2.config",
    "LLMSpanProcessor": "llm_soc2.processor",
    "LLMLogRecordProcessor": "llm_soc2.processor",
    "Scrubber": "llm_soc2.scrub",
    "ScrubResult": "llm_soc2.scrub",
    "Finding": "llm_soc2.scrub",
    "classify": "llm_soc2.risk",
    "Assessment": "llm_soc2.risk",
    "AuditLog": "llm_soc2.audit",
    "AuditRecord": "llm_soc2.audit",
    "DriftMonitor": "llm_soc2.drift",
    "OpenAIInstrumentor": "llm_soc2.instrumentation.openai",
    "AnthropicInstrumentor": "llm_soc2.instrumentation.anthropic",
    "retrieval_context": "llm_soc2.instrumentation.context",
    "LLMSoc2Error": "llm_soc2.errors",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llm_soc2' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from llm_soc2.audit import AuditLog, AuditRecord
    from llm_soc2.config import ContentCapture, Settings
    from llm_soc2.drift import DriftMonitor
    from llm_soc2.errors import LLMSoc2Error
    from llm_soc2.instrumentation.anthropic import AnthropicInstrumentor
    from llm_soc2.instrumentation.context import retrieval_context
    from llm_soc2.instrumentation.openai import OpenAIInstrumentor
    from llm_soc2.pipeline import configure, shutdown
    from llm_soc2.processor import LLMLogRecordProcessor, LLMSpanProcessor
    from llm_soc2.risk import Assessment, classify
    from llm_soc2.scrub import Finding, Scrubber, ScrubResult
