"""The content helpers: bounded JSON encoding and binary parts."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from llm_soc2.instrumentation.messages import base64_size, encode_bounded, url_part

texts = st.text(min_size=0, max_size=3000)
parts = st.builds(lambda t: {"type": "text", "content": t}, texts)
messages = st.lists(
    st.builds(
        lambda role, ps: {"role": role, "parts": ps}, st.sampled_from(["user", "assistant"]), st.lists(parts)
    ),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(value=messages, limit=st.integers(min_value=256, max_value=8192))
def test_encoded_content_is_valid_json_within_the_limit(value: list[Any], limit: int) -> None:
    original = json.loads(json.dumps(value))
    _, text, truncated = encode_bounded(value, limit)

    assert len(text.encode("utf-8")) <= limit
    decoded = json.loads(text)
    assert isinstance(decoded, list)
    if not truncated:
        assert decoded == original
    else:
        assert len(json.dumps(original, ensure_ascii=False, separators=(",", ":")).encode()) > limit


def test_truncation_cuts_the_longest_strings_first_and_says_so() -> None:
    value = [
        {"role": "user", "parts": [{"type": "text", "content": "a" * 5000}]},
        {"role": "user", "parts": [{"type": "text", "content": "keep me"}]},
    ]
    _, text, truncated = encode_bounded(value, 1000)

    decoded = json.loads(text)
    assert truncated
    assert decoded[1]["parts"][0]["content"] == "keep me"
    cut = decoded[0]["parts"][0]["content"]
    assert cut.startswith("aaaa")
    assert cut.endswith("characters truncated]")


def test_multibyte_text_is_measured_in_bytes() -> None:
    value = [{"role": "user", "parts": [{"type": "text", "content": "é€😀" * 2000}]}]
    _, text, truncated = encode_bounded(value, 2048)

    assert truncated
    assert len(text.encode("utf-8")) <= 2048
    json.loads(text)


def test_lone_surrogates_never_reach_an_exporter() -> None:
    _, text, _ = encode_bounded([{"type": "text", "content": "bad \ud800 char"}], 1024)
    text.encode("utf-8")  # would raise on a lone surrogate


def test_data_urls_become_blob_parts_with_the_decoded_size() -> None:
    data = base64.b64encode(bytes(1234)).decode()
    assert base64_size(data) == 1234
    assert url_part(f"data:image/webp;base64,{data}", "image") == {
        "type": "blob",
        "modality": "image",
        "mime_type": "image/webp",
        "size": 1234,
    }
    assert url_part("https://example.com/x.png", "image") == {
        "type": "uri",
        "modality": "image",
        "uri": "https://example.com/x.png",
    }
