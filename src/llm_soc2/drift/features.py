"""What drift detection measures on each interaction, and how a measure becomes a histogram bin.

Every interaction contributes to fixed-size histograms, one group of bins per feature, laid out side by
side in one flat vector (a :class:`FeatureSpace`). Fixed bins make every window, reference slot and
saved baseline the same shape: they add, decay and compare as plain vectors, memory does not grow with
traffic, and an online monitor, a saved baseline and an offline check over the audit log agree bin for
bin.

* numeric features: log-spaced bins, 8 per octave (about 9 % wide), plus an underflow bin (zero and
  below the range) and an overflow bin; ``risk.score`` uses 50 linear bins over [0, 1];
* categorical features: one bin per category name, a bounded vocabulary per feature (names seen first
  win, the rest count as ``_other``); a span may carry several labels (risk categories, finish reasons):
  a bin counts the spans that carry its label;
* ``response.text``: unigram counts of the response hashed (CRC-32) into 256 buckets.

After the data bins come two bookkeeping columns per feature: the number of spans that had the feature
(``n``) and the sum of their squared weights (``w2``, equal to ``n`` until a rolling reference decays
older days), from which the effective sample size ``n**2 / w2`` follows.
"""

from __future__ import annotations

import enum
import math
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from llm_soc2 import semconv
from llm_soc2.labels import OTHER

TEXT_BUCKETS: Final = 256
TEXT_CHARS: Final = 2048  # characters of a response the text feature reads
NONE: Final = "none"
YES: Final = "yes"
NO: Final = "no"
_TOKEN = re.compile(r"\w+")
_TOKEN_CACHE_MAX: Final = 50_000


class Kind(enum.StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    TEXT = "text"


@dataclass(frozen=True)
class Feature:
    """One measured feature: its name (the ``llm_soc2.drift.feature`` label), kind and binning."""

    name: str
    kind: Kind
    description: str
    # numeric: log2 range and bins per octave, or a linear range when ``linear``
    lo: float = 0.0
    hi: float = 0.0
    per_octave: int = 8
    linear_bins: int = 0
    # categorical: known names (bins in this order), and the vocabulary size
    categories: tuple[str, ...] = ()
    capacity: int = 0

    @property
    def size(self) -> int:
        if self.kind is Kind.NUMERIC:
            return self._interior + 2
        if self.kind is Kind.CATEGORICAL:
            return self.capacity
        return TEXT_BUCKETS

    @property
    def _interior(self) -> int:
        if self.linear_bins:
            return self.linear_bins
        return round((math.log2(self.hi) - math.log2(self.lo)) * self.per_octave)

    def edges(self) -> NDArray[np.float64]:
        """Bin edges of a numeric feature: bin 0 is below ``edges[0]``, bin ``i`` is
        ``[edges[i-1], edges[i])``, the last bin is ``edges[-1]`` and above."""
        if self.linear_bins:
            return np.linspace(self.lo, self.hi, self.linear_bins + 1)
        return np.asarray(
            self.lo * 2.0 ** (np.arange(self._interior + 1) / self.per_octave), dtype=np.float64
        )

    def values(self) -> NDArray[np.float64]:
        """A representative value per bin (geometric or arithmetic bin centre; the range ends for the
        underflow and overflow bins)."""
        edges = self.edges()
        if self.linear_bins:
            mids = (edges[:-1] + edges[1:]) / 2
            low = edges[0]
        else:
            mids = np.sqrt(edges[:-1] * edges[1:])
            low = 0.0
        return np.concatenate(([low], mids, [edges[-1]]))

    def bin(self, value: float) -> int:
        """The bin of one value (the caller has checked it is a finite number >= 0)."""
        if self.linear_bins:
            width = (self.hi - self.lo) / self.linear_bins
            if value < self.lo:
                return 0
            return min(int((value - self.lo) / width) + 1, self.linear_bins)
        if value < self.lo:
            return 0
        index = int((math.log2(value) - self._log_lo) * self.per_octave) + 1
        return index if index <= self._interior else self._interior + 1

    @property
    def _log_lo(self) -> float:
        return math.log2(self.lo)

    def bins(self, values: NDArray[np.float64]) -> NDArray[np.int64]:
        """Vectorised :meth:`bin` (values already finite and >= 0)."""
        if self.linear_bins:
            width = (self.hi - self.lo) / self.linear_bins
            index = np.floor((values - self.lo) / width).astype(np.int64) + 1
            index = np.minimum(index, self.linear_bins)
            return np.where(values < self.lo, 0, index)
        with np.errstate(divide="ignore"):
            logs = np.log2(np.maximum(values, self.lo * 0.5))
        index = np.floor((logs - self._log_lo) * self.per_octave).astype(np.int64) + 1
        index = np.minimum(index, self._interior + 1)
        return np.where(values < self.lo, 0, index)


def _numeric(name: str, description: str, lo: float, hi: float) -> Feature:
    return Feature(name, Kind.NUMERIC, description, lo=lo, hi=hi)


def _categorical(name: str, description: str, categories: Sequence[str], capacity: int) -> Feature:
    return Feature(name, Kind.CATEGORICAL, description, categories=(OTHER, *categories), capacity=capacity)


_FINISH_REASONS: Final = (
    "stop", "length", "tool_calls", "content_filter", "end_turn", "max_tokens", "stop_sequence", "tool_use",
    "refusal", "error",
)  # fmt: skip

FEATURES: Final[tuple[Feature, ...]] = (
    _numeric("prompt.tokens", "input tokens (gen_ai.usage.input_tokens)", 1.0, 2.0**20),
    _numeric("response.tokens", "output tokens (gen_ai.usage.output_tokens)", 1.0, 2.0**20),
    _numeric("prompt.chars", "prompt characters (llm_soc2.prompt.chars)", 1.0, 2.0**22),
    _numeric("response.chars", "response characters (llm_soc2.response.chars)", 1.0, 2.0**22),
    _numeric("latency", "seconds from request to response (llm_soc2.duration)", 2.0**-10, 2.0**10),
    _numeric(
        "time_to_first_chunk",
        "seconds to the first streamed chunk (gen_ai.response.time_to_first_chunk)",
        2.0**-10,
        2.0**10,
    ),
    Feature(
        "risk.score", Kind.NUMERIC, "overall risk score (llm_soc2.risk.score)", lo=0.0, hi=1.0, linear_bins=50
    ),
    _categorical(
        "risk.categories",
        "risk categories raised (llm_soc2.risk.categories; 'none' when empty)",
        (NONE, *semconv.RISK_CATEGORIES_ALL),
        16,
    ),
    _categorical("pii.rate", "share of interactions with PII found (llm_soc2.pii.count > 0)", (YES, NO), 3),
    _categorical("refusal.rate", "share of interactions classified as refusals", (YES, NO), 3),
    _categorical("finish_reason", "finish reasons (gen_ai.response.finish_reasons)", _FINISH_REASONS, 16),
    _categorical("error.type", "error type ('none' for a success; error.type)", (NONE,), 16),
    Feature("response.text", Kind.TEXT, "hashed unigram distribution of the scrubbed response text"),
)

_NUMERIC_SOURCES: Final = {
    "prompt.tokens": semconv.GEN_AI_USAGE_INPUT_TOKENS,
    "response.tokens": semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
    "prompt.chars": semconv.PROMPT_CHARS,
    "response.chars": semconv.RESPONSE_CHARS,
    "latency": semconv.DURATION,
    "time_to_first_chunk": semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
    "risk.score": semconv.RISK_SCORE,
}


def _number(value: Any) -> float | None:
    """A finite number >= 0, or None (missing, NaN, infinite, negative, bool, text)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    if not math.isfinite(result) or result < 0.0:
        return None
    return result


def _labels(value: Any) -> list[str] | None:
    """A list of label strings from an attribute (a sequence of strings, or one string)."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, Sequence):
        return [item if isinstance(item, str) else str(item) for item in value[:32]]
    return None


def _truthy_count(attributes: Mapping[str, Any]) -> bool | None:
    count = attributes.get(semconv.PII_COUNT)
    if isinstance(count, int | float) and not isinstance(count, bool) and math.isfinite(count):
        return count > 0
    detected = attributes.get(semconv.PII_DETECTED)
    if isinstance(detected, bool):
        return detected
    return None


def key_of(attributes: Mapping[str, Any], service: str) -> tuple[str, str, str]:
    """The (service, model, operation) an interaction belongs to."""
    model = attributes.get(semconv.GEN_AI_REQUEST_MODEL) or attributes.get(semconv.GEN_AI_RESPONSE_MODEL)
    operation = attributes.get(semconv.GEN_AI_OPERATION_NAME)
    return (
        service[:128],
        model[:128] if isinstance(model, str) and model else "unknown",
        operation[:64] if isinstance(operation, str) and operation else "unknown",
    )


class FeatureSpace:
    """The flat bin layout of :data:`FEATURES` and the extraction of one interaction's bins.

    The category vocabularies grow as names are seen (up to each feature's capacity), so one space is
    used per monitor or per check; histograms from another space (a saved baseline) are aligned with
    :meth:`align`. Not thread-safe: used by one background thread.
    """

    def __init__(self, features: Sequence[Feature] = FEATURES) -> None:
        self.features: tuple[Feature, ...] = tuple(features)
        self.index = {f.name: i for i, f in enumerate(self.features)}
        offsets = np.cumsum([0] + [f.size for f in self.features])
        self.offsets: tuple[int, ...] = tuple(int(x) for x in offsets[:-1])
        self.data_size = int(offsets[-1])
        count = len(self.features)
        self.n_columns: tuple[int, ...] = tuple(self.data_size + i for i in range(count))
        self.w2_columns: tuple[int, ...] = tuple(self.data_size + count + i for i in range(count))
        self.size = self.data_size + 2 * count
        self.vocabularies: list[dict[str, int]] = [
            {name: i for i, name in enumerate(f.categories)} if f.kind is Kind.CATEGORICAL else {}
            for f in self.features
        ]
        self.text_examples: dict[int, str] = {}
        self._token_cache: dict[str, int] = {}
        self._values = [f.values() if f.kind is Kind.NUMERIC else np.zeros(0) for f in self.features]
        # (offset, n column, w2 column, attribute, lo, log2(lo) or bin width, per octave, interior, linear)
        self._numeric: list[tuple[int, int, int, str, float, float, int, int, bool]] = []
        for name, attr in _NUMERIC_SOURCES.items():
            if name not in self.index:
                continue
            i = self.index[name]
            f = self.features[i]
            linear = bool(f.linear_bins)
            scale = (f.hi - f.lo) / f.linear_bins if linear else math.log2(f.lo)
            self._numeric.append(
                (
                    self.offsets[i],
                    self.n_columns[i],
                    self.w2_columns[i],
                    attr,
                    f.lo,
                    scale,
                    f.per_octave,
                    f.size - 2,
                    linear,
                )
            )
        self._text = self.index.get("response.text")
        self._risk = self.index.get("risk.categories")
        self._refusal = self.index.get("refusal.rate")
        self._pii = self.index.get("pii.rate")
        self._finish = self.index.get("finish_reason")
        self._error = self.index.get("error.type")

    # ----------------------------------------------------------------------------------------------
    # Layout
    # ----------------------------------------------------------------------------------------------
    def span(self, feature: int) -> slice:
        start = self.offsets[feature]
        return slice(start, start + self.features[feature].size)

    def values(self, feature: int) -> NDArray[np.float64]:
        return self._values[feature]

    def category_names(self, feature: int) -> list[str]:
        names = [""] * self.features[feature].size
        for name, i in self.vocabularies[feature].items():
            names[i] = name
        return names

    def zeros(self, rows: int | None = None) -> NDArray[np.float64]:
        shape = (self.size,) if rows is None else (rows, self.size)
        return np.zeros(shape, dtype=np.float64)

    def _category(self, feature: int, name: str) -> int:
        vocabulary = self.vocabularies[feature]
        index = vocabulary.get(name)
        if index is None:
            if len(vocabulary) < self.features[feature].capacity:
                index = len(vocabulary)
                vocabulary[name[:128]] = index
            else:
                index = 0  # _other
        return index

    # ----------------------------------------------------------------------------------------------
    # Extraction
    # ----------------------------------------------------------------------------------------------
    def extract(
        self,
        attributes: Mapping[str, Any],
        text: str | None = None,
        text_length: int = -1,
        out: list[int] | None = None,
        duration: float = -1.0,
    ) -> list[int]:
        """The flat bin indices one interaction increments (bookkeeping columns included).

        ``attributes`` are the interaction's flat attributes by their semconv names (the audit
        record's); ``text`` is the scrubbed response (only its first :data:`TEXT_CHARS` characters are
        read) and ``text_length`` its full length, used when ``llm_soc2.response.chars`` is missing;
        ``duration`` (seconds) is used when ``llm_soc2.duration`` is missing. Missing or invalid values
        (NaN, negative, wrong type) leave their feature out.
        """
        bins = [] if out is None else out
        append = bins.append
        get = attributes.get
        for offset, ncol, w2col, attr, lo, scale, per_octave, interior, linear in self._numeric:
            value = get(attr)
            if value is None:
                if attr == semconv.RESPONSE_CHARS and text_length >= 0:
                    value = text_length
                elif attr == semconv.DURATION and duration >= 0.0:
                    value = duration
                else:
                    continue
            if value.__class__ is not float and value.__class__ is not int:
                value = _number(value)
                if value is None:
                    continue
            if not value >= 0.0 or value == math.inf:  # NaN, negative, infinite
                continue
            if value < lo:
                index = 0
            elif linear:
                index = min(int((value - lo) / scale) + 1, interior)
            else:
                index = min(int((math.log2(value) - scale) * per_octave) + 1, interior + 1)
            append(offset + index)
            append(ncol)
            append(w2col)
        categories = _labels(attributes.get(semconv.RISK_CATEGORIES))
        if categories is not None:
            if self._risk is not None:
                self._add_labels(bins, self._risk, categories or [NONE])
            if self._refusal is not None:
                self._add_labels(bins, self._refusal, [YES if semconv.RISK_REFUSAL in categories else NO])
        pii = _truthy_count(attributes)
        if pii is not None and self._pii is not None:
            self._add_labels(bins, self._pii, [YES if pii else NO])
        reasons = _labels(attributes.get(semconv.GEN_AI_RESPONSE_FINISH_REASONS))
        if reasons and self._finish is not None:
            self._add_labels(bins, self._finish, reasons)
        if self._error is not None:
            error = attributes.get(semconv.ERROR_TYPE)
            self._add_labels(bins, self._error, [error if isinstance(error, str) and error else NONE])
        if text and self._text is not None and isinstance(text, str):
            self._add_text(bins, self._text, text)
        return bins

    def _add_labels(self, bins: list[int], feature: int, labels: Sequence[str]) -> None:
        offset = self.offsets[feature]
        if len(labels) == 1:
            bins.append(offset + self._category(feature, labels[0]))
        else:
            bins.extend(offset + i for i in {self._category(feature, label) for label in labels})
        bins.append(self.n_columns[feature])
        bins.append(self.w2_columns[feature])

    def _add_text(self, bins: list[int], feature: int, text: str) -> None:
        tokens = _TOKEN.findall(text[:TEXT_CHARS].lower())
        if not tokens:
            return
        offset = self.offsets[feature]
        cache = self._token_cache
        if len(cache) > _TOKEN_CACHE_MAX:
            cache.clear()
        for token in tokens:
            bucket = cache.get(token)
            if bucket is None:
                bucket = token_bucket(token)
                cache[token] = bucket
                if bucket not in self.text_examples and len(token) > 2:
                    self.text_examples[bucket] = token[:32]
            bins.append(offset + bucket)
        bins.append(self.n_columns[feature])
        bins.append(self.w2_columns[feature])

    def histogram(self, bins: Sequence[int] | NDArray[np.int64]) -> NDArray[np.float64]:
        return np.bincount(np.asarray(bins, dtype=np.int64), minlength=self.size).astype(np.float64)

    # ----------------------------------------------------------------------------------------------
    # Alignment with histograms saved from another space
    # ----------------------------------------------------------------------------------------------
    def align(self, rows: NDArray[np.float64], vocabularies: Sequence[Sequence[str]]) -> NDArray[np.float64]:
        """Map rows laid out with another space's category vocabularies (``vocabularies[f]`` lists the
        category name of each bin of feature ``f``) onto this space's bins, learning new names."""
        out = np.zeros((rows.shape[0], self.size), dtype=np.float64)
        for f, feature in enumerate(self.features):
            target = self.span(f)
            if feature.kind is not Kind.CATEGORICAL:
                out[:, target] = rows[:, target]
                continue
            names = vocabularies[f] if f < len(vocabularies) else ()
            for source_index, name in enumerate(names):
                if not name or source_index >= feature.size:
                    continue
                out[:, target.start + self._category(f, name)] += rows[:, target.start + source_index]
        out[:, self.data_size :] = rows[:, self.data_size :]
        return out

    def vocabulary_lists(self) -> list[list[str]]:
        return [
            self.category_names(f) if feat.kind is Kind.CATEGORICAL else []
            for f, feat in enumerate(self.features)
        ]


def token_bucket(token: str) -> int:
    """The stable bucket of one token (CRC-32, the same in every process, unlike ``hash``)."""
    return zlib.crc32(token.encode("utf-8", "replace")) % TEXT_BUCKETS


def numeric_values(records: Iterable[Mapping[str, Any]], attribute: str) -> NDArray[np.float64]:
    """Finite, non-negative values of one attribute (a helper for tests and benchmarks)."""
    values = [v for v in (_number(r.get(attribute)) for r in records) if v is not None]
    return np.asarray(values, dtype=np.float64)
