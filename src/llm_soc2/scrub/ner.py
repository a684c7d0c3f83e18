"""PERSON and LOCATION through Presidio's spaCy recognizer: optional (extra ``[ner]``), off by default.

Enabled by ``LLM_SOC2_PII_NER=true``. Needs ``pip install 'llm-soc2[ner]'`` and a spaCy English pipeline
installed as a package (``en_core_web_sm`` by default; spaCy's own download command fetches it from a
model hub, so on machines without that access install the wheel from your artifact store). Imported only
when enabled. A spaCy pipeline takes tens of milliseconds per kilobyte, far above the default
``LLM_SOC2_SCRUB_TIMEOUT_MS`` of 50: raise the budget when enabling NER, or content over it is dropped.
If the pipeline cannot be loaded, NER stays off and a warning says why.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from llm_soc2.scrub.detector import Detector
from llm_soc2.scrub.findings import Kind

DEFAULT_MODEL = "en_core_web_sm"
NER_PRIORITY = 30  # below every pattern detector: a structured finding wins an overlap
_log = logging.getLogger(__name__)


class NerAnalyzer(Protocol):
    """Anything that finds entities in a text: ``analyze`` returns (start, end, entity) spans."""

    entities: tuple[str, ...]

    def analyze(self, text: str) -> list[tuple[int, int, str]]: ...


_NER_DETECTORS: dict[str, Detector] = {}


def ner_detector(entity: str) -> Detector:
    """The stand-in detector that NER findings are attributed to (one class per entity)."""
    detector = _NER_DETECTORS.get(entity)
    if detector is None:
        cls = type(f"Ner{entity.title().replace('_', '')}Detector", (Detector,),
                   {"entity": entity, "kind": Kind.PII, "priority": NER_PRIORITY})  # fmt: skip
        detector = _NER_DETECTORS.setdefault(entity, cls())
    return detector


class PresidioNer:
    """Presidio's ``AnalyzerEngine`` restricted to its spaCy recognizer and PERSON/LOCATION."""

    entities: tuple[str, ...] = ("PERSON", "LOCATION")

    def __init__(self, model: str = DEFAULT_MODEL, score_threshold: float = 0.5) -> None:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NlpEngineProvider
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        configuration = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.add_recognizer(SpacyRecognizer(supported_entities=list(self.entities)))
        self._engine: Any = AnalyzerEngine(
            nlp_engine=NlpEngineProvider(nlp_configuration=configuration).create_engine(),
            registry=registry,
            supported_languages=["en"],
        )
        self._threshold = score_threshold

    def analyze(self, text: str) -> list[tuple[int, int, str]]:
        results = self._engine.analyze(
            text=text, language="en", entities=list(self.entities), score_threshold=self._threshold
        )
        return [(r.start, r.end, r.entity_type) for r in results]


def load_presidio_ner(model: str = DEFAULT_MODEL) -> NerAnalyzer | None:
    try:
        return PresidioNer(model)
    except Exception as exc:  # missing extra or model: NER stays off, scrubbing goes on
        _log.warning("PII NER is enabled but cannot be loaded (%s: %s); PERSON/LOCATION are not detected. "
                     "Install llm-soc2[ner] and the spaCy package %r.", type(exc).__name__, exc, model)  # fmt: skip
        return None
