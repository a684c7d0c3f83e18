"""Canonical record encoding, signed notes (Go sumdb/note vector), checkpoints, keys, content sealing."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_soc2.audit import crypto
from llm_soc2.audit.checkpoint import (
    Checkpoint,
    NoteError,
    SignedCheckpoint,
    Signer,
    Verifier,
    open_note,
    sign_note,
)
from llm_soc2.audit.keys import create_signer, load_signer, load_verifiers, rotate_signer
from llm_soc2.audit.record import (
    AuditRecord,
    BodyError,
    canonical_json,
    columns_from_document,
    decode,
    encode,
    encode_parts,
    leaf_hash,
    normalised_record,
    prepare,
    query_columns,
)

NOTE = json.loads(
    (
        Path(__file__).resolve().parents[2] / "testdata" / "merkle" / "signed-note" / "go-sumdb-note.json"
    ).read_text()
)


def _record(**overrides: object) -> AuditRecord:
    base: dict[str, object] = {
        "kind": "interaction",
        "time_unix_nano": 1_700_000_000_123_456_789,
        "service": "svc",
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "span_id": "b7ad6b7169203331",
        "subject": "9f86d081884c7d65",
        "attributes": {
            "gen_ai.request.model": "gpt-4o",
            "llm_soc2.risk.score": 0.25,
            "llm_soc2.risk.level": "low",
        },
    }
    base.update(overrides)
    return AuditRecord(**base)  # type: ignore[arg-type]


def test_canonical_body_is_specified_byte_for_byte() -> None:
    body = encode(_record(attributes={"b": 1, "a": [1.0, 1e-07, "é\n"], "z": None}), "svc", 41)
    expected = (
        b'\x01{"attributes":{"a":[1.0,1e-07,"\xc3\xa9\\n"],"b":1,"z":null},"content":null,"kind":"interaction",'
        b'"log_id":"svc","sealed":null,"seq":41,"service":"svc","span_id":"b7ad6b7169203331",'
        b'"subject":"9f86d081884c7d65","time_unix_nano":1700000000123456789,"trace_id":"0af7651916cd43dd8448eb211c80319c"}'
    )
    assert body == expected
    assert leaf_hash(body) == hashlib.sha256(b"\x00" + expected).digest()


def test_non_json_values_are_normalised_deterministically() -> None:
    body = encode(
        _record(attributes={"nan": float("nan"), "inf": float("-inf"), "b": b"x", 1: "k", "s": "\ud800"}),
        "l",
        0,
    )
    doc = json.loads(body[1:])
    assert doc["attributes"] == {"nan": "NaN", "inf": "-Infinity", "b": "b'x'", "1": "k", "s": "\ufffd"}


@given(
    attrs=st.dictionaries(
        st.text(max_size=8),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=False),
            st.text(max_size=20),
            st.lists(st.integers(), max_size=3),
        ),
        max_size=6,
    ),
    seq=st.integers(min_value=0, max_value=2**62),
)
@settings(max_examples=150, deadline=None)
def test_encoding_round_trips_and_split_encoding_is_identical(attrs: dict[str, object], seq: int) -> None:
    record = _record(attributes=attrs)
    body = encode(record, "log", seq)
    assert encode_parts(record, "log").body(seq) == body
    back = decode(body, strict=True)
    assert back.seq == seq
    assert back.log_id == "log"
    assert back.attributes == normalised_record(record).attributes
    assert query_columns(back) == query_columns(normalised_record(record))


def test_split_encoding_survives_an_attribute_that_imitates_the_seq_member() -> None:
    record = _record(attributes={"a": {"seq": 0, "service": "x"}, "q": ',"seq":0,"service":'})
    assert encode_parts(record, "l").body(7) == encode(record, "l", 7)


@pytest.mark.parametrize(
    "body",
    [b"", b"\x02{}", b"\x01{", b'\x01{"kind":"x"}', b'\x01 {"attributes":{}}'],
)
def test_malformed_bodies_are_rejected(body: bytes) -> None:
    with pytest.raises(BodyError):
        decode(body)


def test_non_canonical_body_is_rejected_in_strict_mode() -> None:
    body = encode(_record(), "l", 1)
    loose = b"\x01" + json.dumps(json.loads(body[1:]), indent=1).encode()
    with pytest.raises(BodyError):
        decode(loose, strict=True)
    assert decode(loose, strict=False).seq == 1


def test_query_columns_come_from_the_attributes() -> None:
    cols = dict(
        zip(
            (
                "time",
                "kind",
                "service",
                "model",
                "provider",
                "operation",
                "error_type",
                "risk_level",
                "risk_score",
                "api_key_fp",
                "template_hash",
                "subject",
                "trace_id",
                "span_id",
            ),
            query_columns(
                _record(
                    subject="",
                    attributes={
                        "gen_ai.response.model": "m",
                        "gen_ai.system": "openai",
                        "error.type": "timeout",
                        "llm_soc2.end_user.hash": "u1",
                        "llm_soc2.risk.score": 3,
                    },
                )
            ),
            strict=True,
        )
    )
    assert (cols["model"], cols["provider"], cols["error_type"], cols["subject"], cols["risk_score"]) == (
        "m",
        "openai",
        "timeout",
        "u1",
        3.0,
    )


# --------------------------------------------------------------------------------------------------
# Signed notes: the Go sumdb/note vector
# --------------------------------------------------------------------------------------------------
def test_go_note_signer_reproduces_the_published_signature() -> None:
    signer = Signer.from_skey(NOTE["peter_skey"])
    assert signer.vkey == NOTE["peter_vkey"]
    assert signer.key_hash == 0xC74F20A3
    assert sign_note(NOTE["text"], [signer]) == NOTE["text"] + "\n" + NOTE["peter_sig_line"]
    assert signer.skey == NOTE["peter_skey"]


def test_go_note_open_with_one_known_and_one_unknown_key() -> None:
    peter, enoch = Verifier.from_vkey(NOTE["peter_vkey"]), Verifier.from_vkey(NOTE["enoch_vkey"])
    msg = NOTE["text"] + "\n" + NOTE["peter_sig_line"] + NOTE["enoch_sig_line"]
    note = open_note(msg, [peter])
    assert note.text == NOTE["text"]
    assert [s.name for s in note.signatures] == ["PeterNeumann"]
    assert [s.name for s in note.unverified] == ["EnochRoot"]
    both = open_note(msg, [peter, enoch])
    assert [s.name for s in both.signatures] == ["PeterNeumann", "EnochRoot"]
    with pytest.raises(NoteError, match="no verifiable signatures"):
        open_note(msg, [])


@pytest.mark.parametrize("mangle", ["truncate", "flip"])
def test_mangled_verifier_keys_are_rejected(mangle: str) -> None:
    vkey = NOTE["peter_vkey"]
    variants = [
        vkey[i:j]
        for i in range(0, len(vkey), 7)
        for j in range(i + 1, len(vkey) + 1, 11)
        if (i, j) != (0, len(vkey))
    ]
    if mangle == "flip":
        variants = [vkey[:i] + chr(ord(vkey[i]) + 1) + vkey[i + 1 :] for i in range(len(vkey))]
    for bad in [*variants, *NOTE["bad_keys"]]:
        with pytest.raises(NoteError):
            Verifier.from_vkey(bad)


def test_bad_note_syntax_and_bad_signatures_are_rejected() -> None:
    peter = Verifier.from_vkey(NOTE["peter_vkey"])
    text, sig = NOTE["text"], NOTE["peter_sig_line"]
    for bad in [
        text,
        text + "\n",
        text + "\n" + sig[:-1],
        "\x01" + text + "\n" + sig,
        text + "\n" + "\u2014 Bad Name " + sig.split(" ")[2],
        text + "\n" + sig + "Unexpected line.\n",
        text + "\n" + sig * 101,
    ]:
        with pytest.raises(NoteError):
            open_note(bad, [peter])
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(text + "\n" + sig[:60] + "ABCD" + sig[60:], [peter])
    with pytest.raises(NoteError):
        open_note(text.replace("answer", "Answer") + "\n" + sig, [peter])


def test_checkpoint_body_format_and_parse() -> None:
    root = hashlib.sha256(b"x").digest()
    cp = Checkpoint("example.com/log", 12, root)
    assert cp.text() == f"example.com/log\n12\n{base64.b64encode(root).decode()}\n"
    assert Checkpoint.parse(cp.text()) == cp
    for bad in [
        "a\n01\nAA==\n",
        "a\n1\nAA==\n",
        "a\n1\n",
        "a\nx\n" + base64.b64encode(root).decode() + "\n",
        "\n1\nx\n",
    ]:
        with pytest.raises(NoteError):
            Checkpoint.parse(bad)
    signer = Signer.generate("example.com/log")
    signed = SignedCheckpoint.sign(cp, [signer])
    assert signed.note.endswith("\n")
    assert "\n\n\u2014 example.com/log " in signed.note
    signed.verify([signer.verifier])
    with pytest.raises(NoteError):
        signed.verify([Signer.generate("example.com/log").verifier])


def test_key_files_generate_load_and_rotate_keeping_old_public_keys(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "checkpoint.key"
    first = create_signer(path, "llm-soc2/audit/x")
    assert (path.stat().st_mode & 0o777) == 0o600
    assert load_signer(path) == first
    assert create_signer(path, "other") == first  # never overwrites
    old, new = rotate_signer(path)
    assert old == first
    assert new != first
    assert load_signer(path) == new
    assert {v.vkey for v in load_verifiers(path)} == {first.vkey, new.vkey}


def test_content_sealing_and_crypto_shredding() -> None:
    master = crypto.master_key("ab" * 32)
    key = crypto.new_data_key()
    wrapped = crypto.wrap_key(master, "k1", key)
    assert crypto.unwrap_key(master, "k1", wrapped) == key
    blob = crypto.seal_content(key, "k1", {"input": "jane@example.com"})
    assert b"jane" not in blob
    assert json.loads(crypto.open_content(key, "k1", blob)) == {"input": "jane@example.com"}
    from llm_soc2.errors import ConfigurationError, VerificationError

    with pytest.raises(VerificationError):
        crypto.open_content(key, "k2", blob)  # key id is authenticated
    with pytest.raises(VerificationError):
        crypto.open_content(crypto.new_data_key(), "k1", blob)
    with pytest.raises(ConfigurationError):
        crypto.master_key("00" * 16)


# --------------------------------------------------------------------------------------------------
# The fast path of the log's encoder gives the reference bytes
# --------------------------------------------------------------------------------------------------
_LEAF_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and infinities included: they must take the normalising path
    st.text(max_size=12),
    st.sampled_from(["\ud800", "a\udfffb", "\x00\x1f\x7f\u2028", "é\U0001f600"]),
)
_VALUES = st.recursive(
    _LEAF_VALUES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers(0, 9)), inner, max_size=3),
    ),
    max_leaves=8,
)


def _reference(
    record: AuditRecord, log_id: str, salt: bytes, seq: int
) -> tuple[bytes, tuple[object, ...], bytes | None]:
    normal = normalised_record(record)
    blob = None if normal.content is None else salt + canonical_json(normal.content)
    digest = None if blob is None else hashlib.sha256(blob).hexdigest()
    return encode(normal, log_id, seq, content_sha256=digest), query_columns(normal), blob


@given(
    attrs=st.dictionaries(st.one_of(st.text(max_size=8), st.integers(0, 5)), _VALUES, max_size=6),
    content=st.one_of(st.none(), st.dictionaries(st.text(max_size=6), _VALUES, max_size=3)),
    text=st.sampled_from(["svc", "", "é", "\ud83d", 'q"\\']),
    seq=st.integers(min_value=0, max_value=2**62),
)
@settings(max_examples=300, deadline=None)
def test_prepare_gives_the_reference_encoding_for_any_record(
    attrs: dict[object, object], content: dict[str, object] | None, text: str, seq: int
) -> None:
    record = _record(attributes=attrs, content=content, service=text, subject=text, span_id=text)
    salt = bytes(range(16))
    prefix, suffix, columns, blob, sealed = prepare(record, "log", salt)
    body, ref_columns, ref_blob = _reference(record, "log", salt, seq)
    assert prefix + str(seq).encode() + suffix == body
    assert columns == ref_columns
    assert blob == ref_blob
    assert sealed is None
    # and what the verifier reads back gives the same columns
    assert columns_from_document(json.loads(body[1:])) == columns


def test_prepare_seals_raw_content_and_commits_to_the_ciphertext() -> None:
    key = crypto.new_data_key()
    calls: list[str] = []

    def seal(subject: str, raw: object) -> tuple[str, bytes]:
        calls.append(subject)
        return "k1", crypto.seal_content(key, "k1", raw)  # type: ignore[arg-type]

    record = _record(raw_content={"input": "jane@example.com"})
    prefix, suffix, _, _, sealed = prepare(record, "log", bytes(16), seal)
    assert sealed is not None
    assert calls == ["9f86d081884c7d65"]
    doc = json.loads((prefix + b"3" + suffix)[1:])
    assert doc["sealed"] == {"key_id": "k1", "sha256": hashlib.sha256(sealed).hexdigest()}
    assert json.loads(crypto.open_content(key, "k1", sealed)) == {"input": "jane@example.com"}
