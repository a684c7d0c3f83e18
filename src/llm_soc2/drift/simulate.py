"""Seeded, realistic LLM traffic with known shifts: the streams behind the drift tests, the benchmark
and the demo.

Stationary traffic is noisy the way production traffic is:

* a daily cycle (latency +-25 %, lengths +-8 %, refusals +-30 % relative), peaking mid-afternoon UTC;
* day-to-day and hour-to-hour level noise (lognormal, 3 % and 2 % on latency, 2 % on lengths);
* heavy-tailed latency: lognormal around a per-token cost, 2 % of calls multiplied by a Pareto(2.5)
  straggler factor; half of the calls stream (time to first chunk);
* risk categories, PII, finish reasons, errors and response words drawn at fixed base rates.

Shifts (``Shift.kind``), applied from ``start`` seconds after the stream's start:

* ``latency_mean``: latency + ``size`` x its standard deviation;
* ``length_mean``: output tokens + ``size`` x their standard deviation (characters and latency follow);
* ``length_variance``: output tokens spread around their mean, variance x ``size``;
* ``category_share``: the ``tool_calls`` finish-reason share + ``size`` (0.10 = ten points, from
  ``stop``);
* ``latency_ramp``: latency + ``size`` x its standard deviation x the fraction of ``duration`` elapsed;
* ``demo``: answers ``size`` times longer, prompt injection 3 % -> 15 %, data leakage 2 % -> 8 %;
* ``topic``: a share ``size`` of response words comes from another topic (the word frequencies of the
  vocabulary reversed).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from llm_soc2 import semconv

DAY: Final = 86_400.0
OUT_MEAN: Final = 320.0
OUT_SHAPE: Final = 6.0
_VOCABULARY: Final = 600
_WORDS: Final = tuple(f"w{i:03d}" for i in range(_VOCABULARY))
_ERRORS: Final = ("429", "openai.APITimeoutError", "500")
_CATEGORY_RATES: Final = {
    semconv.RISK_PROMPT_INJECTION: 0.03,
    semconv.RISK_DATA_LEAKAGE: 0.02,
    semconv.RISK_HARMFUL_CONTENT: 0.01,
    semconv.RISK_REFUSAL: 0.04,
    semconv.RISK_UNGROUNDED: 0.05,
    semconv.RISK_INVALID_OUTPUT: 0.01,
}
SHIFT_KINDS: Final = (
    "latency_mean",
    "length_mean",
    "length_variance",
    "category_share",
    "latency_ramp",
    "demo",
    "topic",
)


@dataclass(frozen=True)
class Shift:
    kind: str
    start: float  # seconds after the stream's start
    size: float
    duration: float = 0.0  # latency_ramp only

    def __post_init__(self) -> None:
        if self.kind not in SHIFT_KINDS:
            raise ValueError(f"unknown shift {self.kind!r}; one of {', '.join(SHIFT_KINDS)}")

    def amount(self, seconds: np.ndarray) -> np.ndarray:
        """How much of the shift applies at each time (0 before it, 1 once complete)."""
        elapsed = seconds - self.start
        if self.kind == "latency_ramp" and self.duration > 0:
            return np.clip(elapsed / self.duration, 0.0, 1.0)
        return (elapsed >= 0).astype(np.float64)


Item = tuple[dict[str, Any], str | None, int]  # (attributes, response text, time_unix_nano)


class Traffic:
    """A seeded stream of interactions at ``rate`` per second from ``start_unix`` (UTC seconds)."""

    def __init__(
        self,
        seed: int,
        *,
        rate: float = 1.0,
        start_unix: float = 1_767_225_600.0,  # 2026-01-01T00:00:00Z
        shifts: Sequence[Shift] = (),
        model: str = "gpt-4o-mini",
        operation: str = semconv.OP_CHAT,
        text: bool = True,
        words: int = 24,
    ) -> None:
        self.seed = seed
        self.rate = rate
        self.start_unix = start_unix
        self.shifts = tuple(shifts)
        self.model = model
        self.operation = operation
        self.text = text
        self.words = words
        ranks = np.arange(1, _VOCABULARY + 1, dtype=np.float64)
        self._word_p = ranks**-1.1 / np.sum(ranks**-1.1)
        self.latency_std, self.tokens_std = self._stationary_std()

    # ----------------------------------------------------------------------------------------------
    def _level(self, kind: int, index: np.ndarray, sigma: float) -> np.ndarray:
        """Deterministic lognormal level noise for day/hour ``index`` (same for any chunking)."""
        out = np.empty(index.shape, dtype=np.float64)
        for value in np.unique(index):
            rng = np.random.default_rng([self.seed, kind, int(value)])
            out[index == value] = math.exp(rng.normal(0.0, sigma))
        return out

    def _stationary_std(self) -> tuple[float, float]:
        rng = np.random.default_rng([self.seed, 99])
        tokens = np.maximum(np.round(rng.gamma(OUT_SHAPE, OUT_MEAN / OUT_SHAPE, 200_000)), 1)
        latency = self._latency(rng, tokens, np.ones(tokens.size))
        return float(latency.std()), float(tokens.std())

    @staticmethod
    def _latency(rng: np.random.Generator, tokens: np.ndarray, level: np.ndarray) -> np.ndarray:
        base = (0.25 + 0.012 * tokens) * level * rng.lognormal(0.0, 0.3, tokens.size)
        straggler = rng.random(tokens.size) < 0.02
        return np.asarray(base * np.where(straggler, 1.0 + rng.pareto(2.5, tokens.size), 1.0))

    def _amount(self, kind: str, seconds: np.ndarray) -> tuple[np.ndarray, float]:
        total = np.zeros(seconds.size, dtype=np.float64)
        size = 0.0
        for shift in self.shifts:
            if shift.kind == kind:
                total += shift.amount(seconds)
                size = shift.size
        return total, size

    # ----------------------------------------------------------------------------------------------
    def chunk(self, begin: float, end: float) -> list[Item]:
        """The interactions that end in ``[begin, end)`` seconds after the stream's start."""
        chunk_index = int(begin // 60)
        rng = np.random.default_rng([self.seed, 1, chunk_index, int(end - begin)])
        n = int(rng.poisson(self.rate * (end - begin)))
        if n == 0:
            return []
        t = np.sort(rng.uniform(begin, end, n))
        absolute = self.start_unix + t
        phase = 2 * math.pi * ((absolute % DAY) / DAY - 0.375)
        cycle = np.sin(phase)
        day = (absolute // DAY).astype(np.int64)
        hour = (absolute // 3600).astype(np.int64)
        length_level = (1 + 0.08 * cycle) * self._level(2, day, 0.02)
        latency_level = (1 + 0.25 * cycle) * self._level(3, day, 0.03) * self._level(4, hour, 0.02)

        demo, demo_size = self._amount("demo", t)
        tokens = rng.gamma(OUT_SHAPE, OUT_MEAN / OUT_SHAPE, n) * length_level
        mean_tokens = OUT_MEAN * length_level
        amount, size = self._amount("length_mean", t)
        tokens = tokens + amount * size * self.tokens_std
        amount, size = self._amount("length_variance", t)
        if size:
            tokens = np.where(amount > 0, mean_tokens + (tokens - mean_tokens) * math.sqrt(size), tokens)
        if demo_size:
            tokens = np.where(demo > 0, tokens * demo_size, tokens)
        tokens = np.maximum(np.round(tokens), 1)
        latency = self._latency(rng, tokens, latency_level)
        amount, size = self._amount("latency_mean", t)
        latency = latency + amount * size * self.latency_std
        amount, size = self._amount("latency_ramp", t)
        latency = latency + amount * size * self.latency_std
        streaming = rng.random(n) < 0.5
        ttft = latency * rng.beta(2, 8, n) + 0.05
        prompt_tokens = np.maximum(np.round(rng.lognormal(math.log(450), 0.7, n)), 1)
        prompt_chars = np.round(prompt_tokens * rng.uniform(3.6, 4.4, n))
        response_chars = np.round(tokens * rng.uniform(3.8, 4.6, n))

        rates = {name: np.full(n, rate) for name, rate in _CATEGORY_RATES.items()}
        rates[semconv.RISK_REFUSAL] = rates[semconv.RISK_REFUSAL] * (1 - 0.3 * cycle)
        if demo_size:
            rates[semconv.RISK_PROMPT_INJECTION] = np.where(
                demo > 0, 0.15, rates[semconv.RISK_PROMPT_INJECTION]
            )
            rates[semconv.RISK_DATA_LEAKAGE] = np.where(demo > 0, 0.08, rates[semconv.RISK_DATA_LEAKAGE])
        flags = {name: rng.random(n) < p for name, p in rates.items()}
        amount, size = self._amount("category_share", t)
        tool_share = 0.28 + amount * size
        u = rng.random(n)
        finish = np.where(
            u < 0.05,
            "length",
            np.where(u < 0.07, "content_filter", np.where(u < 0.07 + tool_share, "tool_calls", "stop")),
        )
        pii = rng.random(n) < 0.08
        pii_count = np.where(pii, 1 + rng.poisson(0.5, n), 0)
        error = rng.random(n) < 0.01
        error_kind = rng.integers(0, len(_ERRORS), n)
        risky_score = rng.beta(5, 3, n)
        calm_score = rng.beta(1.2, 14, n)
        words = rng.choice(_VOCABULARY, size=(n, self.words), p=self._word_p) if self.text else None
        amount, size = self._amount("topic", t)
        if words is not None and size:
            other_topic = _VOCABULARY - 1 - rng.choice(_VOCABULARY, size=(n, self.words), p=self._word_p)
            switch = (rng.random((n, self.words)) < size) & (amount[:, None] > 0)
            words = np.where(switch, other_topic, words)

        items: list[Item] = []
        for i in range(n):
            categories = [name for name, hit in flags.items() if hit[i]]
            if finish[i] == "length":
                categories.append(semconv.RISK_TRUNCATION)
            score = float(risky_score[i] if categories else calm_score[i])
            attributes: dict[str, Any] = {
                semconv.GEN_AI_OPERATION_NAME: self.operation,
                semconv.GEN_AI_PROVIDER_NAME: semconv.PROVIDER_OPENAI,
                semconv.GEN_AI_REQUEST_MODEL: self.model,
                semconv.DURATION: float(latency[i]),
                semconv.GEN_AI_USAGE_INPUT_TOKENS: int(prompt_tokens[i]),
                semconv.PROMPT_CHARS: int(prompt_chars[i]),
                semconv.RISK_SCORE: round(score, 4),
                semconv.RISK_LEVEL: "high" if score >= 0.7 else "medium" if score >= 0.4 else "low",
                semconv.RISK_CATEGORIES: categories,
                semconv.PII_COUNT: int(pii_count[i]),
            }
            text = None
            if error[i]:
                attributes[semconv.ERROR_TYPE] = _ERRORS[int(error_kind[i])]
            else:
                attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = int(tokens[i])
                attributes[semconv.RESPONSE_CHARS] = int(response_chars[i])
                attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [str(finish[i])]
                if streaming[i]:
                    attributes[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = float(ttft[i])
                if words is not None:
                    text = " ".join(_WORDS[w] for w in words[i])
            items.append((attributes, text, int(absolute[i] * 1e9)))
        return items

    def stream(self, begin: float, end: float, step: float = 60.0) -> Iterator[tuple[float, list[Item]]]:
        """``(chunk end, items)`` for consecutive chunks of ``step`` seconds."""
        at = begin
        while at < end:
            stop = min(at + step, end)
            yield stop, self.chunk(at, stop)
            at = stop
