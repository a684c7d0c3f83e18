"""One Scrubber, many application threads: same answers as one thread, while registries change."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

from llm_soc2.fingerprint import SecretRegistry

from . import values
from .conftest import make_scrubber


def test_concurrent_scrubs_agree_with_sequential_ones() -> None:
    known = SecretRegistry()
    scrubber = make_scrubber(known_secrets=known, pii_action="pseudonymize")
    rng = random.Random(9)
    texts = [
        f"{values.email(rng)} paid with {values.card(rng, ' ')} from {values.public_ipv4(rng)}"
        for _ in range(200)
    ]
    expected = [scrubber.scrub(t).text for t in texts]
    keys = [values.openai_key(rng) for _ in range(20)]

    def work(i: int) -> str | None:
        if i % 100 == 0:
            known.add(keys[i // 100])  # rebuilds the client-key matcher while others scan
        return scrubber.scrub(texts[i % len(texts)]).text

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(2000)))
    assert results == [expected[i % len(texts)] for i in range(2000)]
    assert scrubber.scrub(keys[5]).text == "[CLIENT_API_KEY]"
