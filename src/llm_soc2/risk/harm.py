"""Harmful content in prompts and responses, from a lexicon of categories and severities.

The lexicon is data: ``data/harm_lexicon.yaml`` ships with the package (violence, self-harm, weapons,
sexual content involving minors, hate, illegal drugs, malware / cyber abuse, fraud), and a risk policy can
add terms or whole categories (``classifiers.harmful_content.lexicon``, same shape) or more files
(``classifiers.harmful_content.lexicon_files``). Every (category, severity) pair compiles to one RE2
pattern: case-insensitive, word-boundary aware, tolerant of leetspeak and of any spacing or punctuation
between words. Spaced-out letters, zero-width characters and homoglyphs are folded away and the text is
scanned again when present.

The score is the highest severity that matched (response hits count in full, prompt hits at
``input_factor``); mentions are ``low`` and stay below the default threshold, requests and instructions
are ``high`` or ``critical``. Reasons say where and what: ``in:weapons``, ``out:self_harm``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Final

import yaml

from llm_soc2.errors import ConfigurationError
from llm_soc2.risk import text as _text
from llm_soc2.risk.assessment import Interaction, Signal
from llm_soc2.risk.base import PROMPT, RESPONSE, Cue, CueClassifier, Hits, field_text
from llm_soc2.semconv import RISK_HARMFUL_CONTENT

Lexicon = dict[str, dict[str, list[str]]]  # category -> severity -> phrases

DEFAULT_SEVERITIES: Final = {"low": 0.3, "medium": 0.5, "high": 0.75, "critical": 0.95}
INPUT_FACTOR: Final = 0.85  # a request for harmful content counts a little less than producing it
_GAP_TOKEN: Final = "..."  # noqa: S105 (a phrase-syntax token, not a secret)
# Up to three other words (of any alphabet: "\w" is ASCII in RE2, and "très" would count as two).
_GAP: Final = r"(?:[^\pL\pN_]+[\pL\pN_]+){0,3}[^\pL\pN_]+"
# Between two words of a phrase: any spacing or punctuation, and an article or possessive may stand there.
_SEP: Final = r"\W+(?:(?:a|an|the|some|my|your|his|her|their|this|that|these|those)\W+)?"
_MAX_PHRASE_CHARS: Final = 2000
_MAX_PHRASES: Final = 5000
_ALLOWED: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_|*'’-.&+ ")  # and letters of any alphabet
_ASCII_WORD: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
# RE2's \b knows ASCII word characters only: a phrase that starts or ends with another letter ("étapes",
# "tué") is bounded by the text's edge or a character that is neither a letter nor a digit.
_LETTER_EDGE_START: Final = r"(?:^|[^\pL\pN_])"
_LETTER_EDGE_END: Final = r"(?:$|[^\pL\pN_])"
_ZW: Final = "".join(f"\\x{{{ord(ch):04X}}}" for ch in _text.ZERO_WIDTH)
_OBFUSCATION_CUES: Final = (
    Cue("obf", r"\b(?:[A-Za-z][ ._*\-]){3,}[A-Za-z]\b", 0.0, (PROMPT, RESPONSE)),
    Cue("obf", rf"[A-Za-z][{_ZW}]+[A-Za-z]", 0.0, (PROMPT, RESPONSE)),
    Cue(
        "obf",
        r"[A-Za-z][\x{0370}-\x{03FF}\x{0400}-\x{04FF}]|[\x{0370}-\x{03FF}\x{0400}-\x{04FF}][A-Za-z]",
        0.0,
        (PROMPT, RESPONSE),
    ),
    Cue("obf", r"[\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{1D400}-\x{1D7FF}]", 0.0, (PROMPT, RESPONSE)),
)


def default_lexicon_text() -> str:
    return resources.files("llm_soc2.risk").joinpath("data/harm_lexicon.yaml").read_text(encoding="utf-8")


def parse_lexicon(document: Any, source: str) -> tuple[Lexicon, dict[str, float]]:
    """Validate a lexicon document (the YAML's ``categories`` and optional ``severities``)."""
    if not isinstance(document, Mapping):
        raise ConfigurationError(f"{source}: a harm lexicon must be a mapping with 'categories'")
    severities = dict(DEFAULT_SEVERITIES)
    raw_severities = document.get("severities", {})
    if not isinstance(raw_severities, Mapping):
        raise ConfigurationError(f"{source}: 'severities' must map names to scores in [0, 1]")
    for name, value in raw_severities.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0.0 <= float(value) <= 1.0:
            raise ConfigurationError(
                f"{source}: severities.{name} must be a number in [0, 1] (got {value!r})"
            )
        severities[str(name)] = float(value)
    categories = document.get("categories", document if "severities" not in document else {})
    lexicon = parse_categories(categories, source, severities)
    return lexicon, severities


def parse_categories(categories: Any, source: str, severities: Mapping[str, float]) -> Lexicon:
    if not isinstance(categories, Mapping):
        raise ConfigurationError(f"{source}: 'categories' must map category -> severity -> list of phrases")
    lexicon: Lexicon = {}
    count = 0
    for category, levels in categories.items():
        if not isinstance(category, str) or not category.replace("_", "").isalnum():
            raise ConfigurationError(
                f"{source}: category names are words (letters, digits, _), got {category!r}"
            )
        if not isinstance(levels, Mapping):
            raise ConfigurationError(f"{source}: categories.{category} must map severity -> list of phrases")
        for severity, phrases in levels.items():
            if severity not in severities:
                raise ConfigurationError(
                    f"{source}: categories.{category}.{severity}: unknown severity "
                    f"(one of {', '.join(severities)})"
                )
            if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
                raise ConfigurationError(
                    f"{source}: categories.{category}.{severity} must be a list of strings"
                )
            for phrase in phrases:
                check_phrase(phrase, f"{source}: categories.{category}.{severity}")
            count += len(phrases)
            lexicon.setdefault(category, {}).setdefault(severity, []).extend(phrases)
    if count > _MAX_PHRASES:
        raise ConfigurationError(f"{source}: at most {_MAX_PHRASES} phrases (got {count})")
    return lexicon


def check_phrase(phrase: str, where: str) -> None:
    text = phrase.strip().lower()
    if not text or len(text) > _MAX_PHRASE_CHARS:
        raise ConfigurationError(f"{where}: phrases must be 1..{_MAX_PHRASE_CHARS} characters")
    bad = sorted(ch for ch in set(text) - _ALLOWED if not ch.isalpha())
    if bad:
        raise ConfigurationError(f"{where}: {phrase!r} has characters a phrase cannot hold: {''.join(bad)!r}")
    for word in text.split():
        if word != _GAP_TOKEN and any(not alt.strip("*_") for alt in word.split("|")):
            raise ConfigurationError(f"{where}: {phrase!r} has an empty alternative in {word!r}")


def phrase_pattern(phrase: str) -> str:
    """The RE2 pattern (without flags and boundaries) for one lexicon phrase."""
    out = ""
    pending_gap = False
    for word in phrase.strip().lower().split():
        if word == _GAP_TOKEN:
            pending_gap = bool(out)
            continue
        alternatives = []
        for alternative in word.split("|"):
            suffix = alternative.endswith("*")
            words = [w for w in alternative.rstrip("*").split("_") if w]
            pattern = r"\W+".join(_text.leet(word) for word in words)
            alternatives.append(pattern + (r"\w*" if suffix else ""))
        group = "(?:" + "|".join(alternatives) + ")"
        if out:
            out += _GAP if pending_gap else _SEP
        out += group
        pending_gap = False
    return out


def bounded_pattern(phrase: str) -> str:
    """``phrase_pattern`` between word boundaries: ``\\b`` where the phrase's edge is an ASCII letter or
    digit, the letter-aware edge where it may be another letter."""
    words = [word for word in phrase.strip().lower().split() if word != _GAP_TOKEN]
    firsts = {alternative.strip("*_")[:1] for alternative in words[0].split("|")}
    lasts = {alternative.strip("*_")[-1:] for alternative in words[-1].split("|")}
    start = r"\b" if firsts <= _ASCII_WORD else _LETTER_EDGE_START
    end = r"\b" if lasts <= _ASCII_WORD else _LETTER_EDGE_END
    return f"{start}(?:{phrase_pattern(phrase)}){end}"


def lexicon_cues(lexicon: Lexicon, severities: Mapping[str, float]) -> tuple[Cue, ...]:
    cues = []
    for category, levels in sorted(lexicon.items()):
        for severity, phrases in sorted(levels.items()):
            if not phrases:
                continue
            body = "|".join(bounded_pattern(phrase) for phrase in phrases)
            cues.append(
                Cue(
                    f"{category}.{severity}",
                    f"(?i)(?:{body})",
                    severities[severity],
                    (PROMPT, RESPONSE),
                    category,
                )
            )
    return tuple(cues)


def merge(base: Lexicon, extra: Lexicon) -> Lexicon:
    merged: Lexicon = {cat: {sev: list(p) for sev, p in levels.items()} for cat, levels in base.items()}
    for category, levels in extra.items():
        for severity, phrases in levels.items():
            merged.setdefault(category, {}).setdefault(severity, []).extend(phrases)
    return merged


def load_lexicon(
    extra: Mapping[str, Any] | None = None, files: Sequence[str | Path] = (), source: str = "risk policy"
) -> tuple[Lexicon, dict[str, float]]:
    """The shipped lexicon plus ``files`` plus ``extra`` (categories -> severity -> phrases)."""
    lexicon, severities = parse_lexicon(yaml.safe_load(default_lexicon_text()), "harm_lexicon.yaml")
    for path in files:
        try:
            document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"harm lexicon file {path}: cannot be read as YAML ({exc})") from exc
        more, more_severities = parse_lexicon(document, str(path))
        severities.update(more_severities)
        lexicon = merge(lexicon, more)
    if extra:
        lexicon = merge(lexicon, parse_categories(extra, f"{source}: harmful_content.lexicon", severities))
    return lexicon, severities


class HarmfulContentClassifier(CueClassifier):
    """``harmful_content``: lexicon matches in the prompt (a request) or the response (produced content)."""

    name: ClassVar[str] = RISK_HARMFUL_CONTENT
    scans_whole_text: ClassVar[bool] = True
    categories: ClassVar[tuple[str, ...]] = (RISK_HARMFUL_CONTENT,)

    def __init__(
        self,
        lexicon: Mapping[str, Any] | None = None,
        *,
        lexicon_files: Sequence[str | Path] = (),
        input_factor: float = INPUT_FACTOR,
        disabled_categories: Iterable[str] = (),
    ) -> None:
        merged, severities = load_lexicon(lexicon, lexicon_files)
        for category in disabled_categories:
            merged.pop(category, None)
        super().__init__(lexicon_cues(merged, severities) + _OBFUSCATION_CUES)
        self.input_factor = min(1.0, max(0.0, float(input_factor)))
        self.topics: tuple[str, ...] = tuple(sorted(merged))
        self.critical = severities.get("critical", DEFAULT_SEVERITIES["critical"])
        self._weights: dict[str, tuple[str, float]] = {cue.name: (cue.group, cue.weight) for cue in self.cues}

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> HarmfulContentClassifier:
        files = options.get("lexicon_files", ())
        if isinstance(files, str):
            files = (files,)
        return cls(
            options.get("lexicon"),
            lexicon_files=tuple(files),
            input_factor=float(options.get("input_factor", INPUT_FACTOR)),
            disabled_categories=tuple(options.get("disabled_categories", ())),
        )

    def score(self, interaction: Interaction, hits: Hits) -> Iterable[Signal]:
        best = 0.0
        reasons: list[str] = []
        for field, prefix, factor in ((RESPONSE, "out:", 1.0), (PROMPT, "in:", self.input_factor)):
            names = set(hits.get(field, ()))
            if "obf" in names:
                names |= self.rescan(field, _text.fold(field_text(interaction, field)))
                names.discard("obf")
            for name in sorted(names, key=lambda n: -self._weights.get(n, ("", 0.0))[1]):
                category, weight = self._weights.get(name, ("", 0.0))
                if weight > 0.0:  # a request for the most severe content is as critical as producing it
                    best = max(best, weight if weight >= self.critical else weight * factor)
                    reasons.append(prefix + category)
        if best <= 0.0:
            return ()
        return (Signal(RISK_HARMFUL_CONTENT, round(best, 4), tuple(dict.fromkeys(reasons))),)
