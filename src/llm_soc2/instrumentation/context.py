"""Context the application declares for the LLM calls it makes, recorded on their spans.

::

    from llm_soc2 import retrieval_context

    documents = search(question)
    with retrieval_context(documents):
        client.chat.completions.create(...)   # its span carries llm_soc2.retrieval.context

The retrieval context is what a RAG application gave the model to ground its answer on; the risk
classifiers use it to judge groundedness. It is content: recorded only when content is captured on
spans, bounded by ``LLM_SOC2_MAX_CONTENT_BYTES``, and scrubbed by the processor like the messages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar

_RETRIEVAL: ContextVar[tuple[str, ...] | None] = ContextVar("llm_soc2_retrieval_context", default=None)


@contextlib.contextmanager
def retrieval_context(documents: Iterable[str] | str) -> Iterator[None]:
    """Attach ``documents`` (text) to every LLM call made inside the block, in this thread or task."""
    texts = (documents,) if isinstance(documents, str) else tuple(str(document) for document in documents)
    token = _RETRIEVAL.set(texts)
    try:
        yield
    finally:
        _RETRIEVAL.reset(token)


def current_retrieval_context() -> tuple[str, ...] | None:
    return _RETRIEVAL.get()
