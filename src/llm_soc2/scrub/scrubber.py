"""The Scrubber: scan a text, redact what was found, and fail closed.

``scrub`` never raises. Whatever goes wrong (an exception in a detector or plugin, the time budget
``LLM_SOC2_SCRUB_TIMEOUT_MS`` exceeded, a text that is not a string, is too large, holds lone surrogates
or is binary) gives ``ScrubResult(text=None, error=...)``: the content is dropped, never passed on
unscrubbed. Error strings name the reason, never any content.

One Scrubber serves every thread of the application: its compiled engine is immutable and rebuilt
(then swapped in whole) only when the detector registry or the registry of client keys changes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Final

from llm_soc2.config import Settings
from llm_soc2.errors import LLMSoc2Error
from llm_soc2.fingerprint import KNOWN_SECRETS, SecretRegistry
from llm_soc2.scrub import redact
from llm_soc2.scrub.detector import Detector
from llm_soc2.scrub.detectors.client_key import ClientApiKeyDetector
from llm_soc2.scrub.engine import Budget, Candidate, ClientKeys, Engine, ScrubTimeout, client_keys, resolve
from llm_soc2.scrub.findings import Action, Finding, Kind, ScrubResult
from llm_soc2.scrub.ner import ner_detector
from llm_soc2.scrub.registry import DetectorRegistry
from llm_soc2.scrub.view import Unscrubbable

DEFAULT_MAX_CHARS = 8 * 1024 * 1024  # larger texts are dropped unscanned
_log = logging.getLogger(__name__)


class ScrubError(LLMSoc2Error):
    """``Scrubber.scan`` could not scan a text; ``reason`` is what ``scrub`` would report as its error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Scrubber:
    """Finds PII and secrets in text and redacts them (mask, keyed pseudonym, or drop the text)."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        registry: DetectorRegistry | None = None,
        key: bytes | None = None,
        known_secrets: SecretRegistry | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        self._settings = settings if settings is not None else Settings.from_env()
        self._known = known_secrets if known_secrets is not None else KNOWN_SECRETS
        self._key = key
        self._key_failed = False
        self._max_chars = max_chars
        self._budget = max(self._settings.scrub_timeout_ms, 0.0) / 1000.0
        self._default_action = redact.parse_action(self._settings.pii_action) or Action.MASK
        self._actions: dict[str, Action] = {}
        for entity, value in self._settings.pii_actions.items():
            action = redact.parse_action(value)
            if action is None:
                _log.warning(
                    "LLM_SOC2_PII_ACTIONS: %s=%r is not mask, pseudonymize or drop; ignored", entity, value
                )
            else:
                self._actions[entity.upper()] = action
        # Detector -> (kind, action): fixed once the actions are, asked for every finding.
        self._treatment: dict[Detector, tuple[Kind, Action]] = {}
        self._lock = threading.Lock()
        self._client_keys: tuple[int, ClientKeys | None] = (-1, None)
        self._broken: str | None = None
        try:
            self._registry = (
                registry if registry is not None else DetectorRegistry.from_settings(self._settings)
            )
            self._engine = Engine(self._registry.enabled())
            self._engine_version = self._registry.version
            self._current_client_keys()
            _warm_up()
        except Exception as exc:  # a scrubber that cannot be built drops everything rather than raising
            _log.error(
                "The scrubber could not be built (%s: %s); all content will be dropped",
                type(exc).__name__,
                exc,
            )
            self._broken = f"scrubber unavailable: {type(exc).__name__}"

    # ----------------------------------------------------------------------------------------------
    # Public API
    # ----------------------------------------------------------------------------------------------
    def scan(self, text: str) -> list[Finding]:
        """What ``scrub`` would find and do, without redacting. Raises ``ScrubError`` if it cannot scan."""
        try:
            return self._findings(text, Budget(self._budget))
        except ScrubError:
            raise
        except Exception as exc:
            raise ScrubError(_reason(exc)) from exc

    def scrub(self, text: str) -> ScrubResult:
        """The redacted text and what was found; ``text=None`` when the content must be dropped."""
        return self._scrub(text, Budget(self._budget))

    def scrub_many(self, texts: Iterable[str]) -> list[ScrubResult]:
        """``scrub`` for the texts of one span, which share one time budget (``LLM_SOC2_SCRUB_TIMEOUT_MS``
        is per span): once it is spent, the texts not yet scanned are dropped with error ``timeout``.

        The texts are scanned in one pass (see ``llm_soc2.scrub.engine``), so a timeout during that
        pass drops all of them. A text that cannot be scanned (lone surrogates, binary, too large) is
        dropped on its own; should anything else fail in the pass, each text is scanned on its own
        again, so one text's failure never drops another.
        """
        return [ScrubResult(text, findings, error) for text, findings, error in self.scrub_texts(texts)]

    def scrub_texts(self, texts: Iterable[str]) -> list[tuple[str | None, tuple[Finding, ...], str | None]]:
        """``scrub_many`` as plain ``(text, findings, error)`` tuples: what the span processor reads, on
        every span, without building a result object per text."""
        budget = Budget(self._budget)
        texts = list(texts)
        if len(texts) < 2 or not self._joinable():
            return [_as_tuple(self._scrub(text, budget)) for text in texts]
        results, batch = self._batch(texts)
        batched = texts if len(batch) == len(texts) else [texts[i] for i in batch]
        try:
            scanned: list[list[Candidate] | ScrubError] | None = self._scan_joined(batched, budget)
        except ScrubError as exc:  # a timeout: the pass did not finish for any of them
            scanned = [exc] * len(batch)
        except Exception:  # isolate whichever text caused it
            _log.debug("joined scan failed; scanning each text on its own", exc_info=True)
            scanned = None
        ner = self._registry.ner
        if scanned is not None and ner is None and not any(scanned):  # nothing anywhere: most spans
            if results is None:
                return [(text, (), None) for text in texts]
            for position in batch:
                results[position] = (texts[position], (), None)
            return results
        if results is None:
            results = [_NOT_SCANNED] * len(texts)
        for slot, position in enumerate(batch):
            text = texts[position]
            if scanned is None:
                results[position] = _as_tuple(self._scrub(text, budget))
                continue
            found = scanned[slot]
            if not found and ner is None:  # nothing in it: the common case
                results[position] = (text, (), None)
                continue
            if isinstance(found, ScrubError):
                results[position] = (None, (), found.reason)
                continue
            try:
                results[position] = _as_tuple(self._result(text, self._to_findings(text, found, budget)))
            except ScrubError as exc:
                results[position] = (None, (), exc.reason)
            except Exception as exc:  # fail closed: nothing unscrubbed leaves
                _log.debug("scrub failed", exc_info=True)
                results[position] = (None, (), _reason(exc))
        return results

    def _batch(self, texts: list[str]) -> tuple[list[_Scrubbed] | None, range | list[int]]:
        """The positions of the texts to scan, and the results of the others (None: every text is to be
        scanned, as in most spans)."""
        max_chars = self._max_chars
        for text in texts:
            if type(text) is not str or not 0 < len(text) <= max_chars:
                break
        else:
            return None, range(len(texts))
        results: list[_Scrubbed] = []
        batch: list[int] = []
        for position, text in enumerate(texts):
            refusal = self._refusal(text)
            if refusal is not None:
                results.append((None, (), refusal))
            elif not text:
                results.append((text, (), None))
            else:
                results.append(_NOT_SCANNED)
                batch.append(position)
        return results, batch

    def action_for(self, entity: str, kind: Kind) -> Action:
        """The configured action for an entity (see ``llm_soc2.scrub.redact`` for the rules)."""
        action = self._actions.get(entity)
        if action is None:
            action = (
                self._default_action
                if kind is Kind.PII or self._default_action is Action.DROP
                else Action.MASK
            )
        if action is Action.PSEUDONYMIZE and entity == ClientApiKeyDetector.entity:
            action = Action.MASK
        return action

    # ----------------------------------------------------------------------------------------------
    # Internals
    # ----------------------------------------------------------------------------------------------
    def _scrub(self, text: str, budget: Budget) -> ScrubResult:
        try:
            return self._result(text, self._findings(text, budget))
        except ScrubError as exc:
            return ScrubResult(None, error=exc.reason)
        except Exception as exc:  # fail closed: nothing unscrubbed leaves
            _log.debug("scrub failed", exc_info=True)
            return ScrubResult(None, error=_reason(exc))

    def _result(self, text: str, findings: list[Finding]) -> ScrubResult:
        if not findings:
            return ScrubResult(text)
        if any(f.action is Action.DROP for f in findings):
            return ScrubResult(None, tuple(findings))
        return ScrubResult(self._redact(text, findings), tuple(findings))

    def _refusal(self, text: object) -> str | None:
        """Why ``text`` is dropped without being scanned, if it is."""
        if not isinstance(text, str):
            return "not a string"
        if len(text) > self._max_chars:
            return "input too large"
        return None

    def _findings(self, text: str, budget: Budget) -> list[Finding]:
        if self._broken is not None:
            raise ScrubError(self._broken)
        refusal = self._refusal(text)
        if refusal is not None:
            raise ScrubError(refusal)
        if not text:
            return []
        if budget.spent():
            raise ScrubError("timeout")
        engine = self._current_engine()
        try:
            candidates = engine.scan(text, budget, self._current_client_keys())
        except ScrubTimeout:
            raise ScrubError("timeout") from None
        except Unscrubbable as exc:
            raise ScrubError(str(exc)) from None
        return self._to_findings(text, candidates, budget)

    def _joinable(self) -> bool:
        if self._broken is not None:
            return False
        try:
            return self._current_engine().joinable
        except Exception:  # the per-text path reports it, text by text
            return False

    def _scan_joined(self, texts: list[str], budget: Budget) -> list[list[Candidate] | ScrubError]:
        """Candidates per text from one pass over all of them."""
        if not texts:
            return []
        engine = self._current_engine()
        try:
            scanned = engine.scan_many(texts, budget, self._current_client_keys())
        except ScrubTimeout:
            raise ScrubError("timeout") from None
        return [ScrubError(str(found)) if isinstance(found, Unscrubbable) else found for found in scanned]

    def _to_findings(self, text: str, candidates: list[Candidate], budget: Budget) -> list[Finding]:
        ner = self._registry.ner
        if ner is not None:
            for start, end, entity in ner.analyze(text):
                if 0 <= start < end <= len(text):
                    candidates.append(Candidate(start, end, start, end, ner_detector(entity)))
            if budget.spent():
                raise ScrubError("timeout")
        if not candidates:
            return []
        findings = []
        treatment = self._treatment
        for candidate in resolve(candidates):
            detector = candidate.detector
            known = treatment.get(detector)
            if known is None:
                kind = Kind(detector.kind)
                known = (kind, self.action_for(detector.entity, kind))
                if len(treatment) < _TREATMENT_MEMO_LIMIT:  # NER detectors are made per entity name
                    treatment[detector] = known
            kind, action = known
            findings.append(
                Finding(detector.entity, candidate.start, candidate.end, action, kind, detector.name)
            )
        return findings

    def _redact(self, text: str, findings: list[Finding]) -> str:
        spans = []
        for finding in findings:
            replacement = redact.mask(finding.entity)
            if finding.action is Action.PSEUDONYMIZE:
                key = self._pseudonym_key()
                if key is not None:
                    detector = self._engine.detector_for(finding.entity)
                    value = text[finding.start : finding.end]
                    canonical = detector.canonical(value) if detector is not None else value
                    replacement = redact.pseudonym(finding.entity, canonical, key)
            spans.append((finding.start, finding.end, replacement))
        return redact.apply(text, spans)

    def _pseudonym_key(self) -> bytes | None:
        if self._key is None and not self._key_failed:
            with self._lock:
                if self._key is None and not self._key_failed:
                    try:
                        self._key = self._settings.deployment_key()
                    except Exception as exc:  # no key: mask instead, which reveals less
                        self._key_failed = True
                        _log.error("No deployment key for pseudonyms (%s); masking instead", exc)
        return self._key

    def _current_engine(self) -> Engine:
        if self._engine_version != self._registry.version:
            with self._lock:
                version = self._registry.version
                if self._engine_version != version:
                    self._engine = Engine(self._registry.enabled())
                    self._engine_version = version
        return self._engine

    def _current_client_keys(self) -> ClientKeys | None:
        version, matcher = self._client_keys
        if version != self._known.version:
            with self._lock:
                version = self._known.version  # read before the snapshot: a change in between rebuilds again
                matcher = client_keys(self._known.snapshot())
                self._client_keys = (version, matcher)
        return matcher


# What ``scrub_texts`` returns per text: the scrubbed text (None: dropped), the findings, the error.
_Scrubbed = tuple[str | None, tuple[Finding, ...], str | None]
_NOT_SCANNED: Final[_Scrubbed] = (None, (), "not scanned")
_TREATMENT_MEMO_LIMIT: Final = 1024


def _as_tuple(result: ScrubResult) -> tuple[str | None, tuple[Finding, ...], str | None]:
    return result.text, result.findings, result.error


def _reason(exc: BaseException) -> str:
    # The type only: an exception message may quote the content.
    return f"internal error: {type(exc).__name__}"


_warmed = False


def _warm_up() -> None:
    """Load the phone metadata once, so the first real span does not pay for it inside its budget."""
    global _warmed
    if _warmed:
        return
    _warmed = True
    from llm_soc2.scrub.detectors.phone import PhoneDetector

    detector = PhoneDetector()
    for sample in ("+1 202-555-0143", "020 7946 0958", "+33 1 42 68 53 00"):
        detector.validate(sample, "phone")
