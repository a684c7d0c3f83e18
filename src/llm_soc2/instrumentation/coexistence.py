"""Exactly one GenAI span per LLM call, whatever else instruments the same clients.

Three things can record an OpenAI or Anthropic call besides llm-soc2:

* the official instrumentations (``opentelemetry-instrumentation-genai-openai`` / ``-anthropic``,
  ``opentelemetry-instrumentation-openai-v2``, OpenLLMetry's), registered under the entry-point names
  in ``FOREIGN_INSTRUMENTOR_NAMES``. Our distro does not load them (see ``is_foreign_instrumentor``);
* the Anthropic SDK itself, which traces its API calls (scope ``com.anthropic.sdk.python``) unless
  ``ANTHROPIC_OPEN_TELEMETRY=false`` or the client is built with ``open_telemetry=False``;
* anything the application instruments by hand.

We own the wrappers and record the one span with the SOC 2 context. A foreign GenAI span is a
duplicate when it is nested in one of ours (the Anthropic SDK's span is a child of ours, since our
span is current while the SDK runs), or when one of ours is nested in it (a foreign wrapper outside
ours). ``is_duplicate_genai_span`` says so from the ended span alone; the pipeline gives it to the
``LLMSpanProcessor`` (``drop_span=``), which drops those spans before any exporter, audit record or
metric sees them.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import Final

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import Span as APISpan

from llm_soc2 import semconv

# opentelemetry_instrumentor entry-point names (and their modules) of instrumentations that would record
# a second span for the calls we instrument.
FOREIGN_INSTRUMENTOR_NAMES: Final = frozenset({"openai", "openai_v2", "anthropic"})
FOREIGN_INSTRUMENTOR_MODULES: Final = (
    "opentelemetry.instrumentation.genai.openai",
    "opentelemetry.instrumentation.genai.anthropic",
    "opentelemetry.instrumentation.openai_v2",
    "opentelemetry.instrumentation.openai",
    "opentelemetry.instrumentation.anthropic",
)

_CAPACITY: Final = 8192  # span ids remembered; a span older than this many calls is no longer matched
_GENAI_KEYS: Final = (semconv.GEN_AI_OPERATION_NAME, semconv.GEN_AI_PROVIDER_NAME, semconv.GEN_AI_SYSTEM)

# Span ids of our GenAI spans, and of foreign GenAI spans that one of ours was nested in. Plain
# OrderedDicts: single operations are atomic under the GIL and a lost race only forgets an old id.
_OURS: OrderedDict[int, None] = OrderedDict()
_FOREIGN_PARENTS: OrderedDict[int, None] = OrderedDict()


def is_foreign_instrumentor(name: str, value: str = "") -> bool:
    """Whether an ``opentelemetry_instrumentor`` entry point would duplicate our spans."""
    module = value.split(":", 1)[0]
    return name in FOREIGN_INSTRUMENTOR_NAMES or any(
        module == prefix or module.startswith(prefix + ".") for prefix in FOREIGN_INSTRUMENTOR_MODULES
    )


def _remember(registry: OrderedDict[int, None], span_id: int) -> None:
    registry[span_id] = None
    if len(registry) > _CAPACITY:
        with contextlib.suppress(KeyError):  # emptied by another thread meanwhile
            registry.popitem(last=False)


def register(span: APISpan, parent: APISpan) -> None:
    """Note one of our spans as it starts, and the foreign GenAI span it is nested in, if any."""
    _remember(_OURS, span.get_span_context().span_id)
    if not parent.is_recording():
        return
    scope = getattr(parent, "instrumentation_scope", None)
    if scope is None or scope.name == semconv.INSTRUMENTATION_SCOPE:
        return
    attributes = getattr(parent, "attributes", None) or {}
    if any(key in attributes for key in _GENAI_KEYS):
        _remember(_FOREIGN_PARENTS, parent.get_span_context().span_id)


def is_duplicate_genai_span(span: ReadableSpan) -> bool:
    """Whether ``span`` is another instrumentation's record of an LLM call that we recorded too.

    True for a GenAI span (it has ``gen_ai.operation.name``, ``gen_ai.provider.name`` or
    ``gen_ai.system``) from a scope other than ours whose parent is one of our GenAI spans, and for a
    foreign GenAI span that one of ours was nested in. Our own spans are never duplicates.
    """
    scope = span.instrumentation_scope
    if scope is not None and scope.name == semconv.INSTRUMENTATION_SCOPE:
        return False
    context = span.context
    if context is not None and context.span_id in _FOREIGN_PARENTS:
        _FOREIGN_PARENTS.pop(context.span_id, None)
        return True
    parent = span.parent
    if parent is None or parent.span_id not in _OURS:
        return False
    attributes = span.attributes or {}
    return any(key in attributes for key in _GENAI_KEYS)
