"""RFC 6962 / RFC 9162 Merkle tree hashing and proofs, as pure functions with no I/O.

Hashing: ``MTH({}) = SHA-256("")``; leaf ``SHA-256(0x00 || d)``; interior node
``SHA-256(0x01 || left || right)``; the split ``k`` is the largest power of two strictly below ``n``.

Storage never sees proof algebra. A proof is *planned* here as a list of node ids; a node id
``(level, index)`` names the perfect subtree over leaves ``[index * 2**level, (index + 1) * 2**level)``
(level 0 are the leaf hashes). Such nodes never change once their last leaf is appended, so a store
can cache them in an append-only table; the store fetches the planned ids and :func:`fold` combines
them. Every hash a proof needs is a fold of at most ``log2(n)`` cached nodes, so proofs cost
``O(log n)`` lookups at any size.

Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 literally and checks hash sizes, so the
transparency-dev/merkle vectors and corruptions (``tests/testdata/merkle``) apply unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Final

HASH_SIZE: Final = 32
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()
# Interior nodes are cached from this level up (perfect subtrees of 16 leaves or more): one cached
# row per 16 leaves instead of one per leaf. A node below it is recomputed from at most 8 leaf hashes
# (:func:`fetch_ids` / :func:`assemble`), one range of the leaf index.
CACHE_MIN_LEVEL: Final = 4

NodeId = tuple[int, int]  # (level, index)


class ProofError(ValueError):
    """A proof is malformed or does not verify."""


# --------------------------------------------------------------------------------------------------
# Hashing
# --------------------------------------------------------------------------------------------------
def hash_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly below ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (iteratively, via a compact range)."""
    compact = CompactRange()
    for leaf in leaf_hashes:
        compact.push(leaf)
    return compact.root()


def fold(hashes: Sequence[bytes]) -> bytes:
    """Hash of a right-edge subtree from its perfect parts listed left to right (largest first):
    ``H(h0, H(h1, ... H(h[-2], h[-1])))``."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for item in reversed(hashes[:-1]):
        result = hash_children(item, result)
    return result


# --------------------------------------------------------------------------------------------------
# Node plans
# --------------------------------------------------------------------------------------------------
def subtree_nodes(begin: int, end: int) -> list[NodeId]:
    """The perfect subtrees whose :func:`fold` is ``MTH(D[begin:end])``.

    ``begin`` must be a multiple of the smallest power of two >= ``end - begin`` (true of every range
    in RFC 6962 proofs and of every prefix ``[0, n)``)."""
    size = end - begin
    if size <= 0:
        raise ValueError(f"empty range [{begin}, {end})")
    if begin % (1 << (size - 1).bit_length()):
        raise ValueError(f"range [{begin}, {end}) is not aligned")
    nodes: list[NodeId] = []
    pos = begin
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append((level, pos >> level))
            pos += 1 << level
    return nodes


def frontier(size: int) -> list[NodeId]:
    """The compact range of ``[0, size)``: the nodes whose fold is the root at ``size``."""
    return subtree_nodes(0, size) if size else []


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTHs form the RFC 6962 audit path of ``index`` in a tree of ``size``,
    in proof order (from the leaf up)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is outside a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    begin, end = 0, size
    while end - begin > 1:
        k = _split(end - begin)
        if index < begin + k:
            ranges.append((begin + k, end))
            end = begin + k
        else:
            ranges.append((begin, begin + k))
            begin += k
    ranges.reverse()
    return ranges


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTHs form the RFC 6962 consistency proof from ``size1`` to ``size2``."""
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from {size1} to {size2}")
    if size1 == size2:
        return []
    ranges: list[tuple[int, int]] = []
    begin, end, complete = 0, size2, True
    while True:
        if size1 == end:
            if not complete:
                ranges.append((begin, end))
            break
        k = _split(end - begin)
        if size1 - begin <= k:
            ranges.append((begin + k, end))
            end = begin + k
        else:
            ranges.append((begin, begin + k))
            begin += k
            complete = False
    ranges.reverse()
    return ranges


def plan(ranges: Iterable[tuple[int, int]]) -> list[list[NodeId]]:
    """Node ids to fetch for each range; ``fold`` of each list gives that range's MTH."""
    return [subtree_nodes(begin, end) for begin, end in ranges]


def resolve(planned: Sequence[Sequence[NodeId]], nodes: dict[NodeId, bytes]) -> list[bytes]:
    """Fold fetched nodes into proof hashes. Raises ``KeyError`` naming a missing node."""
    return [fold([nodes[node] for node in part]) for part in planned]


def fetch_ids(ids: Iterable[NodeId], min_level: int = CACHE_MIN_LEVEL) -> list[NodeId]:
    """What to read from storage for ``ids``: leaves and cached nodes as they are, a node below
    ``min_level`` as the leaves under it."""
    out: dict[NodeId, None] = {}
    for level, index in ids:
        if level == 0 or level >= min_level:
            out[(level, index)] = None
        else:
            first = index << level
            for leaf in range(first, first + (1 << level)):
                out[(0, leaf)] = None
    return list(out)


def assemble(
    ids: Iterable[NodeId], fetched: dict[NodeId, bytes], min_level: int = CACHE_MIN_LEVEL
) -> dict[NodeId, bytes]:
    """The hash of every id in ``ids`` from what :func:`fetch_ids` read. Raises ``KeyError``
    naming the first missing node or leaf."""
    out: dict[NodeId, bytes] = {}
    for level, index in ids:
        if level == 0 or level >= min_level:
            out[(level, index)] = fetched[(level, index)]
        else:
            first = index << level
            out[(level, index)] = perfect_root(
                [fetched[(0, leaf)] for leaf in range(first, first + (1 << level))]
            )
    return out


def perfect_root(leaves: Sequence[bytes]) -> bytes:
    """Root of a perfect subtree (``len(leaves)`` a power of two) from its leaf hashes."""
    level = list(leaves)
    while len(level) > 1:
        level = [hash_children(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def levels(leaves: Sequence[bytes], top: int) -> list[list[bytes]]:
    """Every complete perfect subtree over ``leaves`` (which start at an index aligned to
    ``2**top``) up to level ``top``: ``result[level][i]`` covers leaves ``[i * 2**level, (i+1) * 2**level)``.
    One pass per level with no per-node calls; ``result[0]`` is ``leaves``."""
    sha256 = hashlib.sha256
    out = [list(leaves)]
    current = out[0]
    for _ in range(top):
        if len(current) < 2:
            out.append([])
            current = out[-1]
            continue
        left, right = current[0::2], current[1::2]
        current = [sha256(b"\x01" + a + b).digest() for a, b in zip(left, right, strict=False)]
        out.append(current)
    return out


# --------------------------------------------------------------------------------------------------
# Compact range: O(1) amortised appends, emitting every completed perfect subtree
# --------------------------------------------------------------------------------------------------
class CompactRange:
    """The right edge of a tree ``[0, size)``: one hash per set bit of ``size``, largest first."""

    __slots__ = ("_stack", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != bin(size).count("1"):
            raise ValueError(
                f"a compact range of size {size} has {bin(size).count('1')} hashes, not {len(hashes)}"
            )
        self.size = size
        self._stack = list(hashes)

    def push(self, leaf: bytes, emit: Callable[[int, int, bytes], None] | None = None) -> None:
        """Append a leaf hash; ``emit(level, index, hash)`` is called for each completed node."""
        index = self.size
        node = leaf
        level = 0
        stack = self._stack
        while index >> level & 1:
            node = hash_children(stack.pop(), node)
            level += 1
            if emit is not None:
                emit(level, index >> level, node)
        stack.append(node)
        self.size = index + 1

    def root(self) -> bytes:
        return fold(self._stack)

    def hashes(self) -> list[bytes]:
        return list(self._stack)


def new_nodes(
    size: int, frontier_hashes: Sequence[bytes], leaves: Sequence[bytes], min_level: int = 1
) -> list[tuple[int, int, bytes]]:
    """Interior nodes (level >= ``min_level``, at least 1) completed by appending ``leaves`` to a
    tree of ``size`` whose compact range is ``frontier_hashes``; returns ``(level, index, hash)``."""
    return append_leaves(size, frontier_hashes, leaves, min_level)[1]


def append_leaves(
    size: int, frontier_hashes: Sequence[bytes], leaves: Sequence[bytes], min_level: int = 1
) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """Append ``leaves`` to a tree of ``size`` with compact range ``frontier_hashes``: the new compact
    range and the interior nodes of level >= ``min_level`` completed on the way, in one pass."""
    stack = list(frontier_hashes)
    if len(stack) != bin(size).count("1"):
        raise ValueError(
            f"a compact range of size {size} has {bin(size).count('1')} hashes, not {len(stack)}"
        )
    min_level = max(1, min_level)
    sha256 = hashlib.sha256
    out: list[tuple[int, int, bytes]] = []
    append = out.append
    index = size
    for node in leaves:
        level = 0
        while index >> level & 1:
            node = sha256(b"\x01" + stack.pop() + node).digest()
            level += 1
            if level >= min_level:
                append((level, index >> level, node))
        stack.append(node)
        index += 1
    return stack, out


# --------------------------------------------------------------------------------------------------
# Verification (RFC 9162)
# --------------------------------------------------------------------------------------------------
def _check_size(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} has {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root implied by an inclusion proof (RFC 9162 2.1.3.2). Raises :class:`ProofError`."""
    if index < 0 or index >= size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    _check_size("leaf hash", leaf)
    fn, sn, r = index, size - 1, leaf
    for i, p in enumerate(proof):
        _check_size(f"proof[{i}]", p)
        if sn == 0:
            raise ProofError("proof is longer than the path")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof is shorter than the path")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows ``leaf`` at ``index`` under ``root``."""
    _check_size("root", root)
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofError("inclusion proof leads to a different root")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows tree ``size1``/``root1`` is a prefix of
    ``size2``/``root2`` (RFC 9162 2.1.4.2, plus the trivial cases of sigsum-go and Go merkle)."""
    if size1 < 0 or size2 < size1:
        raise ProofError(f"size {size2} is smaller than {size1}")
    if size1 == size2:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if root1 != root2:
            raise ProofError("equal sizes but different roots")
        return
    if size1 == 0:
        if proof:
            raise ProofError("consistency from the empty tree needs an empty proof")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    for i, p in enumerate(proof):
        _check_size(f"proof[{i}]", p)
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path")
    if fr != root1:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != root2:
        raise ProofError("consistency proof does not lead to the new root")


# --------------------------------------------------------------------------------------------------
# Reference implementations over full leaf lists (for tests and small trees)
# --------------------------------------------------------------------------------------------------
def _mth(leaves: Sequence[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = _split(n)
    return hash_children(_mth(leaves[:k]), _mth(leaves[k:]))


def inclusion_proof_from_leaves(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    return [_mth(leaves[b:e]) for b, e in inclusion_ranges(index, len(leaves))]


def consistency_proof_from_leaves(size1: int, leaves: Sequence[bytes]) -> list[bytes]:
    return [_mth(leaves[b:e]) for b, e in consistency_ranges(size1, len(leaves))]


def reference_root(leaves: Sequence[bytes]) -> bytes:
    """Recursive MTH straight from RFC 6962 section 2.1 (slow; for tests)."""
    return _mth(leaves)
