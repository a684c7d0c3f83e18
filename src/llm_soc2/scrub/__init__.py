"""Scrubbing: detectors (pattern + validator per entity), one linear-time engine, and redaction.

::

    from llm_soc2.scrub import Scrubber

    result = Scrubber().scrub("mail jane.doe@example.com, card 4111 1111 1111 1111")
    result.text       # 'mail [EMAIL], card [CREDIT_CARD]'
    result.findings   # (Finding(entity='EMAIL', start=5, end=25, action=<Action.MASK ...>, ...), ...)

``Scrubber.scrub`` never raises: on any failure the text is dropped (``result.text is None``,
``result.error`` says why). Detectors are listed in ``llm_soc2.scrub.detectors``; the interface for your
own is in ``llm_soc2.scrub.detector`` and ``llm_soc2.scrub.registry``.
"""

from __future__ import annotations

from llm_soc2.scrub.detector import Detector
from llm_soc2.scrub.findings import Action, Finding, Kind, ScrubResult
from llm_soc2.scrub.registry import ENTRY_POINT_GROUP, DetectorRegistry, InvalidDetector
from llm_soc2.scrub.scrubber import Scrubber, ScrubError

__all__ = [
    "ENTRY_POINT_GROUP",
    "Action",
    "Detector",
    "DetectorRegistry",
    "Finding",
    "InvalidDetector",
    "Kind",
    "ScrubError",
    "ScrubResult",
    "Scrubber",
]
