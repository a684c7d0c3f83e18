"""Zero-code set-up: ``opentelemetry-instrument python app.py`` with llm-soc2 installed.

``LLMSoc2Configurator`` builds the pipeline (``llm_soc2.configure``) from the ``OTEL_*`` variables;
``LLMSoc2Distro`` loads the instrumentors, giving ours the pipeline's providers, and skips the
instrumentations that would record a second span for the same calls (the official GenAI OpenAI and
Anthropic instrumentations, registered as ``openai``/``anthropic``). If another distro is selected,
the pipeline still drops their duplicate spans.
"""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.sdk._configuration import _BaseConfigurator

from llm_soc2 import pipeline
from llm_soc2.instrumentation.coexistence import is_foreign_instrumentor

_log = logging.getLogger(__name__)


class LLMSoc2Configurator(_BaseConfigurator):
    """Builds the llm-soc2 pipeline; the instrumentors are loaded afterwards by auto-instrumentation."""

    def _configure(self, **kwargs: Any) -> None:
        pipeline.configure(instrument=False)


class LLMSoc2Distro(BaseDistro):  # type: ignore[misc]
    """The llm-soc2 distro (``OTEL_PYTHON_DISTRO=llm_soc2``)."""

    def _configure(self, **kwargs: Any) -> None:
        """Nothing to set: ``llm_soc2.configure`` has the OpenTelemetry defaults built in."""

    def load_instrumentor(self, entry_point: Any, **kwargs: Any) -> None:
        name = str(getattr(entry_point, "name", ""))
        value = str(getattr(entry_point, "value", ""))
        if is_foreign_instrumentor(name, value):
            _log.debug("llm-soc2: not loading %s (%s); llm-soc2 instruments these calls", name, value)
            return
        current = pipeline.current()
        ours = value.startswith("llm_soc2.")
        if ours and current is not None and current.disabled:
            return
        instrumentor = entry_point.load()()
        if ours and current is not None:
            kwargs = {**kwargs, **current.instrument_kwargs()}
        instrumentor.instrument(**kwargs)
        if ours and current is not None and instrumentor.is_instrumented_by_opentelemetry:
            current.instrumentors.append(instrumentor)
