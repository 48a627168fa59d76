"""The append-only, hash-chained event ledger of the traceability layer: its core, as plain functions.

Entries
    Entry i is ``{"seq": i, "prev_hash": h_(i-1), "recorded_at": ..., "event": {...},
    "entry_hash": h_i}`` with

        h_i = SHA-256( JCS(entry_i without "entry_hash") ),   h_(-1) = 64 zeros,

    JCS the JSON Canonicalization Scheme of RFC 8785 (the ``rfc8785`` package).
    An edited entry no longer matches its hash; a deleted, inserted or
    reordered one breaks the sequence or the link to its predecessor
    (:func:`first_bad_entry`).

Checkpoints
    A truncated ledger (its last entries dropped) is still a valid chain;
    a checkpoint kept outside the plant catches it. A checkpoint is the
    size of the ledger and the root of the Merkle tree of RFC 6962 (section
    2.1) over the entry hashes:

        leaf(d) = SHA-256(0x00 || d),  node(l, r) = SHA-256(0x01 || l || r),
        MTH(D[0:n]) = node(MTH(D[0:k]), MTH(D[k:n])),  k the largest power of two < n,
        MTH of no entry = SHA-256(""),

    with d the 32 bytes of an entry's hash (:func:`merkle_root`). The ledger
    agrees with a checkpoint when it has at least that many entries and the
    root of its first ``tree_size`` entries is the checkpoint's
    (:func:`agrees_with`).

Frontier
    The root of a growing ledger is kept in O(log n) by its frontier: the
    roots of the perfect subtrees its size decomposes into by binary digits,
    largest first, as (height, hash) pairs. Appending a leaf pushes (0,
    leaf(d)) and merges the last two while their heights are equal; the root
    folds the frontier from the right, r = node(f_k, r), which is the
    recursion above (the left part of RFC 6962's split is the largest
    perfect subtree) (:func:`frontier_push`, :func:`frontier_root`).
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping, Sequence

__all__ = ["GENESIS", "canonical_json", "entry_hash", "append", "first_bad_entry", "merkle_root", "checkpoint",
           "agrees_with", "frontier_push", "frontier_root"]

#: the previous hash of the first entry
GENESIS = "0" * 64


def canonical_json(obj: Any) -> bytes:
    """``obj`` as RFC 8785 canonical JSON (UTF-8 bytes): sorted keys, no whitespace, ECMAScript numbers.

    >>> canonical_json({"b": [1.0, 1e30, 2e-3], "a": "é"})
    b'{"a":"\\xc3\\xa9","b":[1,1e+30,0.002]}'
    """
    import rfc8785

    return rfc8785.dumps(obj)


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 [hex] of an entry's canonical JSON, its own ``entry_hash`` left out."""
    body = {k: v for k, v in entry.items() if k != "entry_hash"}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def append(entries: Sequence[Mapping[str, Any]], event: Mapping[str, Any], recorded_at: str) -> dict:
    """The next entry after ``entries`` for ``event`` (``entries`` is not changed)."""
    prev = entries[-1]["entry_hash"] if entries else GENESIS
    entry = {"seq": len(entries), "prev_hash": prev, "recorded_at": recorded_at, "event": dict(event)}
    entry["entry_hash"] = entry_hash(entry)
    return entry


def first_bad_entry(entries: Sequence[Mapping[str, Any]]) -> tuple[int, str] | None:
    """(index, why) of the first entry that is not where an intact ledger has it, or None."""
    prev = GENESIS
    for i, e in enumerate(entries):
        if e.get("seq") != i:
            return i, f"sequence number {e.get('seq')!r} where {i} belongs (an entry deleted, inserted or moved)"
        if e.get("prev_hash") != prev:
            return i, "its previous hash is not the hash of the entry before it"
        if entry_hash(e) != e.get("entry_hash"):
            return i, "its content does not match its hash (edited)"
        prev = e["entry_hash"]
    return None


def merkle_root(hashes: Sequence[str]) -> str:
    """RFC 6962 Merkle tree hash [hex] of a list of entry hashes [hex] (module docstring).

    >>> merkle_root([]) == hashlib.sha256(b"").hexdigest()
    True
    """
    nodes: list = []
    for h in hashes:
        nodes = frontier_push(nodes, h)
    return frontier_root(nodes)


def frontier_push(nodes: Sequence[Sequence], entry_hash_hex: str) -> list:
    """The frontier (module docstring) after one more entry; ``nodes`` [(height, hash hex)] is not changed.

    >>> f = frontier_push(frontier_push([], "00" * 32), "11" * 32)
    >>> [h for h, _ in f]                  # two leaves merge into one subtree of height 1
    [1]
    """
    out = [list(n) for n in nodes]
    out.append([0, hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash_hex)).hexdigest()])
    while len(out) > 1 and out[-1][0] == out[-2][0]:
        right = out.pop()
        left = out.pop()
        merged = hashlib.sha256(b"\x01" + bytes.fromhex(left[1]) + bytes.fromhex(right[1])).hexdigest()
        out.append([left[0] + 1, merged])
    return out


def frontier_root(nodes: Sequence[Sequence]) -> str:
    """RFC 6962 root [hex] of the ledger a frontier stands for (SHA-256 of nothing for no entry)."""
    if not nodes:
        return hashlib.sha256(b"").hexdigest()
    root = bytes.fromhex(nodes[-1][1])
    for _, h in reversed(nodes[:-1]):
        root = hashlib.sha256(b"\x01" + bytes.fromhex(h) + root).digest()
    return root.hex()


def checkpoint(entries: Sequence[Mapping[str, Any]]) -> dict:
    """``{"tree_size", "root"}`` of the ledger as it stands."""
    return {"tree_size": len(entries), "root": merkle_root([e["entry_hash"] for e in entries])}


def agrees_with(entries: Sequence[Mapping[str, Any]], point: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether the ledger holds the checkpoint's entries unchanged (and why not)."""
    size = point["tree_size"]
    if len(entries) < size:
        return False, f"the ledger has {len(entries)} entries, the checkpoint {size} (truncated)"
    if merkle_root([e["entry_hash"] for e in entries[:size]]) != point["root"]:
        return False, f"the root of its first {size} entries is not the checkpoint's"
    return True, ""
