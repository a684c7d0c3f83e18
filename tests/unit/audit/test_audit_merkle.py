"""RFC 6962/9162 hashing and proofs against the transparency-dev/merkle vectors, with every corruption
of ``corruptInclusionProof``/``corruptConsistencyProof`` and the checked-in JSON cases."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest

from llm_soc2.audit import merkle

DATA = Path(__file__).resolve().parents[2] / "testdata" / "merkle"
V = json.loads((DATA / "verify_test_vectors.json").read_text())
LEAVES = [merkle.hash_leaf(bytes.fromhex(x)) for x in V["leaves_hex"]]
ROOTS = [bytes.fromhex(x) for x in V["roots_hex"]]
EMPTY = bytes.fromhex(V["empty_tree_hash_hex"])
SOME = bytes.fromhex(V["some_hash_hex"])


def _ok_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    try:
        merkle.verify_inclusion(index, size, leaf, proof, root)
    except merkle.ProofError:
        return False
    return True


def _ok_consistency(size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes) -> bool:
    try:
        merkle.verify_consistency(size1, size2, proof, root1, root2)
    except merkle.ProofError:
        return False
    return True


def corrupt_inclusion(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> list[tuple[str, tuple[Any, ...]]]:
    """Port of transparency-dev/merkle ``corruptInclusionProof`` (uint64 wrap-around kept)."""
    u64 = (1 << 64) - 1
    probes: list[tuple[str, tuple[Any, ...]]] = [
        ("leafIndex - 1", ((index - 1) & u64, size, leaf, proof, root)),
        ("leafIndex + 1", (index + 1, size, leaf, proof, root)),
        ("leafIndex ^ 2", (index ^ 2, size, leaf, proof, root)),
        ("treeSize * 2", (index, size * 2, leaf, proof, root)),
        ("treeSize / 2", (index, size // 2, leaf, proof, root)),
        ("wrong leaf", (index, size, b"WrongLeaf", proof, root)),
        ("empty root", (index, size, leaf, proof, EMPTY)),
        ("random root", (index, size, leaf, proof, SOME)),
        ("trailing garbage", (index, size, leaf, [*proof, b""], root)),
        ("trailing root", (index, size, leaf, [*proof, root], root)),
        ("preceding garbage", (index, size, leaf, [b"", *proof], root)),
        ("preceding root", (index, size, leaf, [root, *proof], root)),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 8]) + wrong[i][1:]
        probes.append((f"modified proof[{i}] bit 3", (index, size, leaf, wrong, root)))
    if proof:
        probes.append(("removed component", (index, size, leaf, proof[:-1], root)))
    if len(proof) > 1:
        probes.append(("inserted component", (index, size, leaf, [proof[0], SOME, *proof[1:]], root)))
    return probes


def corrupt_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> list[tuple[str, tuple[Any, ...]]]:
    """Port of transparency-dev/merkle ``corruptConsistencyProof``."""
    u64 = (1 << 64) - 1
    probes: list[tuple[str, tuple[Any, ...]]] = [
        ("size1 - 1", ((size1 - 1) & u64, size2, proof, root1, root2)),
        ("size1 + 1", (size1 + 1, size2, proof, root1, root2)),
        ("size1 ^ 2", (size1 ^ 2, size2, proof, root1, root2)),
        ("size2 * 2", (size1, size2 * 2, proof, root1, root2)),
        ("size2 / 2", (size1, size2 // 2, proof, root1, root2)),
        ("wrong root1", (size1, size2, proof, b"WrongRoot", root2)),
        ("wrong root2", (size1, size2, proof, root1, b"WrongRoot")),
        ("swapped roots", (size1, size2, proof, root2, root1)),
        ("empty proof", (size1, size2, [], root1, root2)),
        ("trailing garbage", (size1, size2, [*proof, b""], root1, root2)),
        ("trailing root1", (size1, size2, [*proof, root1], root1, root2)),
        ("trailing root2", (size1, size2, [*proof, root2], root1, root2)),
        ("preceding garbage", (size1, size2, [b"", *proof], root1, root2)),
        ("preceding root1", (size1, size2, [root1, *proof], root1, root2)),
        ("preceding root2", (size1, size2, [root2, *proof], root1, root2)),
        ("preceding proof[0]", (size1, size2, [proof[0], *proof], root1, root2)),
    ]
    if proof:
        probes.append(("truncated proof", (size1, size2, proof[:-1], root1, root2)))
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 16]) + wrong[i][1:]
        probes.append((f"modified proof[{i}] bit 4", (size1, size2, wrong, root1, root2)))
    return probes


def test_empty_tree_hash_is_sha256_of_nothing() -> None:
    assert merkle.EMPTY_ROOT == EMPTY
    assert merkle.root_of([]) == EMPTY


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_vectors(size: int) -> None:
    assert merkle.root_of(LEAVES[:size]) == ROOTS[size - 1]
    assert merkle.reference_root(LEAVES[:size]) == ROOTS[size - 1]


@pytest.mark.parametrize(
    "vector", V["inclusion_proofs"][1:], ids=lambda v: f"leaf{v['leaf']}-size{v['size']}"
)
def test_inclusion_vectors_generate_verify_and_reject_every_corruption(vector: dict[str, Any]) -> None:
    index, size = vector["leaf"] - 1, vector["size"]
    proof = [bytes.fromhex(x) for x in vector["proof_hex"]]
    assert merkle.inclusion_proof_from_leaves(index, LEAVES[:size]) == proof
    root = ROOTS[size - 1]
    assert merkle.root_from_inclusion_proof(index, size, LEAVES[index], proof) == root
    merkle.verify_inclusion(index, size, LEAVES[index], proof, root)
    accepted = [
        desc
        for desc, args in corrupt_inclusion(index, size, proof, root, LEAVES[index])
        if _ok_inclusion(*args)
    ]
    assert accepted == []


def test_inclusion_probe_of_an_empty_path_rejects() -> None:
    for index, size in ((0, 0), (0, 1), (1, 0), (2, 1)):
        assert not _ok_inclusion(index, size, SOME, [], b"")
        assert not _ok_inclusion(index, size, b"", [], EMPTY)
        assert not _ok_inclusion(index, size, SOME, [], EMPTY)


def test_single_entry_tree_needs_real_hashes() -> None:
    leaf = merkle.hash_leaf(b"data")
    assert _ok_inclusion(0, 1, leaf, [], leaf)
    assert not _ok_inclusion(0, 1, b"", [], leaf)
    assert not _ok_inclusion(0, 1, leaf, [], b"")
    assert not _ok_inclusion(0, 1, b"", [], b"")  # wrong hash size


@pytest.mark.parametrize("vector", V["consistency_proofs"], ids=lambda v: f"{v['size1']}-{v['size2']}")
def test_consistency_vectors_generate_verify_and_reject_every_corruption(vector: dict[str, Any]) -> None:
    size1, size2 = vector["size1"], vector["size2"]
    proof = [bytes.fromhex(x) for x in vector["proof_hex"]]
    if size1 < size2:
        assert merkle.consistency_proof_from_leaves(size1, LEAVES[:size2]) == proof
    root1, root2 = ROOTS[size1 - 1], ROOTS[size2 - 1]
    merkle.verify_consistency(size1, size2, proof, root1, root2)
    if proof:
        accepted = [
            desc
            for desc, args in corrupt_consistency(size1, size2, root1, root2, proof)
            if _ok_consistency(*args)
        ]
        assert accepted == []


@pytest.mark.parametrize(
    ("size1", "size2", "root1", "root2", "proof", "ok"),
    [
        (0, 0, b"don't care 1", b"don't care 2", [], False),
        (1, 1, b"don't care 1", b"don't care 2", [], False),
        (0, 0, b"don't care 1", b"don't care 1", [], True),
        (0, 1, b"don't care 1", b"don't care 2", [], True),
        (1, 1, b"don't care 2", b"don't care 2", [], True),
        (1, 0, b"don't care 1", b"don't care 2", [], False),
        (2, 1, b"don't care 1", b"don't care 2", [], False),
        (1, 2, b"don't care 1", b"don't care 2", [], False),
        (0, 0, EMPTY, b"don't care 2", [], False),
        (1, 1, EMPTY, b"don't care 2", [], False),
        (0, 0, EMPTY, EMPTY, [EMPTY], False),
        (0, 1, EMPTY, EMPTY, [EMPTY], False),
        (1, 1, EMPTY, EMPTY, [EMPTY], False),
    ],
)
def test_trivial_consistency_cases(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes], ok: bool
) -> None:
    assert _ok_consistency(size1, size2, proof, root1, root2) is ok


def _b(items: list[str] | None) -> list[bytes]:
    return [base64.b64decode(x) for x in items or []]


@pytest.mark.parametrize(
    "path", sorted((DATA / "inclusion").rglob("*.json")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_checked_in_inclusion_cases(path: Path) -> None:
    case = json.loads(path.read_text())
    ok = _ok_inclusion(
        case["leafIdx"],
        case["treeSize"],
        base64.b64decode(case["leafHash"]),
        _b(case["proof"]),
        base64.b64decode(case["root"]),
    )
    assert ok is (not case["wantErr"]), case["desc"]


@pytest.mark.parametrize(
    "path", sorted((DATA / "consistency").rglob("*.json")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_checked_in_consistency_cases(path: Path) -> None:
    case = json.loads(path.read_text())
    ok = _ok_consistency(
        case["size1"],
        case["size2"],
        _b(case["proof"]),
        base64.b64decode(case["root1"]),
        base64.b64decode(case["root2"]),
    )
    assert ok is (not case["wantErr"]), case["desc"]


def test_proof_plans_from_cached_nodes_match_the_reference_for_every_size() -> None:
    rng = random.Random(7)
    leaves = [merkle.hash_leaf(rng.randbytes(8)) for _ in range(70)]
    nodes: dict[merkle.NodeId, bytes] = {(0, i): leaf for i, leaf in enumerate(leaves)}
    for level, idx, node in merkle.new_nodes(0, [], leaves):
        nodes[(level, idx)] = node
    for size in range(1, len(leaves) + 1):
        front = merkle.frontier(size)
        assert merkle.fold([nodes[n] for n in front]) == merkle.reference_root(leaves[:size])
        for index in range(size):
            planned = merkle.plan(merkle.inclusion_ranges(index, size))
            assert merkle.resolve(planned, nodes) == merkle.inclusion_proof_from_leaves(index, leaves[:size])
        for old in range(1, size):
            planned = merkle.plan(merkle.consistency_ranges(old, size))
            proof = merkle.resolve(planned, nodes)
            merkle.verify_consistency(
                old, size, proof, merkle.reference_root(leaves[:old]), merkle.reference_root(leaves[:size])
            )


def test_incremental_appends_emit_the_same_nodes_as_one_batch() -> None:
    rng = random.Random(3)
    leaves = [merkle.hash_leaf(rng.randbytes(4)) for _ in range(100)]
    all_at_once = set(merkle.new_nodes(0, [], leaves))
    nodes: dict[merkle.NodeId, bytes] = {(0, i): leaf for i, leaf in enumerate(leaves)}
    emitted: set[tuple[int, int, bytes]] = set()
    size = 0
    while size < len(leaves):
        step = rng.randint(1, 9)
        batch = leaves[size : size + step]
        front = [nodes[n] for n in merkle.frontier(size)]
        for level, idx, node in merkle.new_nodes(size, front, batch):
            nodes[(level, idx)] = node
            emitted.add((level, idx, node))
        size += len(batch)
    assert emitted == all_at_once


def test_a_rewritten_history_fails_consistency() -> None:
    leaves = [merkle.hash_leaf(bytes([i])) for i in range(10)]
    forged = list(leaves)
    forged[3] = merkle.hash_leaf(b"forged")
    proof = merkle.consistency_proof_from_leaves(5, forged)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(
            5, 10, proof, merkle.reference_root(leaves[:5]), merkle.reference_root(forged)
        )


# --------------------------------------------------------------------------------------------------
# Node cache policy and one-pass helpers
# --------------------------------------------------------------------------------------------------
def _leaves(n: int) -> list[bytes]:
    return [merkle.hash_leaf(i.to_bytes(4, "big")) for i in range(n)]


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 100, 257, 1000])
def test_append_leaves_emits_only_cached_levels_and_matches_the_reference(size: int) -> None:
    leaves = _leaves(size + 37)
    front = merkle.CompactRange()
    for leaf in leaves[:size]:
        front.push(leaf)
    stack, nodes = merkle.append_leaves(size, front.hashes(), leaves[size:], merkle.CACHE_MIN_LEVEL)
    assert merkle.fold(stack) == merkle.reference_root(leaves)
    assert {level for level, _, _ in nodes} <= set(range(merkle.CACHE_MIN_LEVEL, 64))
    for level, index, node in nodes:
        assert node == merkle.reference_root(leaves[index << level : (index + 1) << level])
    everything = merkle.new_nodes(size, front.hashes(), leaves[size:])
    assert [n for n in everything if n[0] >= merkle.CACHE_MIN_LEVEL] == nodes


def test_small_nodes_are_recomputed_from_leaves_and_missing_ones_are_named() -> None:
    leaves = _leaves(40)
    cached = {(lv, ix): h for lv, ix, h in merkle.new_nodes(0, [], leaves, merkle.CACHE_MIN_LEVEL)}
    cached.update({(0, i): leaf for i, leaf in enumerate(leaves)})
    wanted = [(0, 5), (1, 3), (3, 2), (4, 1), (5, 0)]
    fetch = merkle.fetch_ids(wanted)
    assert (1, 3) not in fetch
    assert {(0, 6), (0, 7), (0, 16), (0, 23)} <= set(fetch)
    got = merkle.assemble(wanted, {k: cached[k] for k in fetch})
    for level, index in wanted:
        assert got[(level, index)] == merkle.reference_root(leaves[index << level : (index + 1) << level])
    with pytest.raises(KeyError):
        merkle.assemble([(4, 1)], {})


def test_levels_hold_every_complete_subtree_of_an_aligned_block() -> None:
    leaves = _leaves(45)
    lv = merkle.levels(leaves, 6)
    assert [len(x) for x in lv] == [45, 22, 11, 5, 2, 1, 0]
    for level, row in enumerate(lv):
        for index, node in enumerate(row):
            assert node == merkle.reference_root(leaves[index << level : (index + 1) << level])
