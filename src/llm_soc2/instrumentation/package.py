"""The client library versions the instrumentors support."""

from __future__ import annotations

_instruments_openai = ("openai >= 3.0, < 4",)
_instruments_anthropic = ("anthropic >= 2.0, < 3",)
