"""Values hidden in base64 runs are found, and the whole run is redacted."""

from __future__ import annotations

import base64
import json
import time

import pytest
from re2 import _re2

from llm_soc2.fingerprint import SecretRegistry
from llm_soc2.scrub import Scrubber
from llm_soc2.scrub.encoded import MAX_RUNS, TEXT_RUN, base64_text, decode_base64
from llm_soc2.scrub.view import view_bytes

from .conftest import make_scrubber

_SCRUBBER = make_scrubber()
_TEXT_RUN = _re2.RE2(TEXT_RUN, _re2.RE2.Options())


def _b64(text: str, *, url_safe: bool = False, padded: bool = True) -> str:
    encoded = (base64.urlsafe_b64encode if url_safe else base64.b64encode)(text.encode()).decode()
    return encoded if padded else encoded.rstrip("=")


@pytest.mark.parametrize("url_safe", [False, True])
@pytest.mark.parametrize("padded", [True, False])
def test_an_address_in_an_encoded_json_document_is_redacted_with_its_run(
    url_safe: bool, padded: bool
) -> None:
    run = _b64(
        json.dumps({"user": {"email": "jane.doe@example.com", "plan": "pro"}}),
        url_safe=url_safe,
        padded=padded,
    )
    result = _SCRUBBER.scrub(f"tool arguments: {run} (sent by the client)")
    assert result.text == "tool arguments: [EMAIL] (sent by the client)"
    assert [finding.entity for finding in result.findings] == ["EMAIL"]


def test_a_data_url_of_a_text_file_is_scanned() -> None:
    run = _b64("Patient notes. SSN 536-22-1234, follow-up in two weeks.")
    assert _SCRUBBER.scrub(f"attachment data:text/plain;base64,{run}").text == (
        "attachment data:text/plain;base64,[US_SSN]"
    )


def test_the_strongest_finding_names_the_run() -> None:
    run = _b64("call 415 555 0132 or write to jane.doe@example.com, card 4111 1111 1111 1111")
    result = _SCRUBBER.scrub(run)
    assert result.text == "[CREDIT_CARD]"


def test_the_client_key_in_a_basic_credential_is_never_exported() -> None:
    key = "sk-proj-" + "Q3x9" * 10
    secrets = SecretRegistry()
    secrets.add(key)
    scrubber = make_scrubber(known_secrets=secrets)
    run = _b64(f"svc-account:{key}")
    result = scrubber.scrub(f"Authorization: Basic {run}")
    assert result.text is not None
    assert run not in result.text
    assert key not in result.text


@pytest.mark.parametrize(
    "text",
    [
        "sha256 " + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",  # hex: not text
        "image " + base64.b64encode(bytes(range(256)) * 4).decode(),  # binary: not UTF-8
        "run " + "A" * 5000,  # decodes to NUL bytes: refused as binary, left alone
        "path /usr/local/lib/python3.11/site-packages/opentelemetry/sdk/trace/export",
        "encoded prose " + _b64("The meeting moved to Thursday afternoon, same room as last week."),
    ],
)
def test_runs_without_a_value_are_left_as_they_are(text: str) -> None:
    result = _SCRUBBER.scrub(text)
    assert result.text == text
    assert result.findings == ()


def test_decoded_text_is_not_decoded_again() -> None:
    inner = _b64("mail jane.doe@example.com")
    assert base64_text(_b64(f"nested {inner}").encode()) == f"nested {inner}"
    # One level is scanned: the inner run is text to the second scan, not decoded once more.
    assert _SCRUBBER.scrub(_b64(f"nested {inner}")).findings == ()


def test_decode_accepts_either_alphabet_and_missing_padding() -> None:
    data = bytes(range(250, 256)) + b"~~~???"
    for encoded in (
        base64.b64encode(data),
        base64.urlsafe_b64encode(data),
        base64.b64encode(data).rstrip(b"="),
    ):
        assert decode_base64(encoded) == data
    assert decode_base64(b"not base64!") is None


def test_many_runs_are_bounded() -> None:
    runs = [_b64(f"entry {i:04d}: the value is fine and has nothing in it") for i in range(MAX_RUNS * 20)]
    text = "\n".join(runs)
    started = time.perf_counter()
    result = Scrubber().scrub(text)
    assert time.perf_counter() - started < 2.0
    assert result.text == text


@pytest.mark.parametrize(
    ("text", "looks_encoded"),
    [
        (json.dumps({"q": "Le café était fermé à l'été, élève répété."}), False),  # escapes read "aaaaaa"
        ("internationalization counterrevolutionary telecommunications", False),
        ("getUserAccountPermissionsForOrganization(organizationIdentifier)", False),
        ("note " + _b64("mail jane.doe@example.com"), True),
        ("note " + _b64("The meeting moved to Thursday afternoon."), True),
    ],
)
def test_which_runs_the_scan_looks_into(text: str, looks_encoded: bool) -> None:
    """Only a run that may encode text makes the engine decode: ordinary words, identifiers and the
    escaped letters of ``ensure_ascii`` JSON do not (decoding them all cost 100-200 µs per span)."""
    data = view_bytes(text)
    found = _TEXT_RUN.Match(_re2.RE2.Anchor.UNANCHORED, data, 0, len(data))[0][0] >= 0
    assert found is looks_encoded
