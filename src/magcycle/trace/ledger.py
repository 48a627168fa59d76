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
           "agrees_with", "frontier_push", "frontier_root", "ecma_number"]

#: the largest integer an IEEE double holds exactly, 2^53 - 1 (RFC 7493 section 2.2)
_SAFE_INTEGER = 2**53 - 1
#: the previous hash of the first entry
GENESIS = "0" * 64


from json.encoder import encode_basestring as _encode_string  # noqa: E402  (escapes exactly what JCS escapes)


def canonical_json(obj: Any) -> bytes:
    """``obj`` as RFC 8785 canonical JSON (UTF-8 bytes): keys sorted by their UTF-16 code units, no whitespace,
    strings escaped as JSON requires and no further, numbers as ECMAScript writes them (:func:`ecma_number`).
    Only JSON's types (dict with string keys, list or tuple, str, int, float, bool, None); NaN and infinities
    are refused. Checked against the ``rfc8785`` package in the tests; faster.

    >>> canonical_json({"b": [1.0, 1e30, 2e-3], "a": "é"})
    b'{"a":"\\xc3\\xa9","b":[1,1e+30,0.002]}'
    """
    out: list[str] = []
    _jcs(obj, out)
    return "".join(out).encode("utf-8")


def _jcs(obj: Any, out: list) -> None:
    t = type(obj)
    if t is str:
        out.append(_encode_string(obj))
    elif t is float:
        out.append(ecma_number(obj))
    elif t is dict:
        out.append("{")
        first = True
        for key in _sorted_keys(obj):
            if not first:
                out.append(",")
            first = False
            out.append(_encode_string(key))
            out.append(":")
            _jcs(obj[key], out)
        out.append("}")
    elif t is list or t is tuple:
        out.append("[")
        for i, item in enumerate(obj):
            if i:
                out.append(",")
            _jcs(item, out)
        out.append("]")
    else:
        _jcs_scalar(obj, out)


def _jcs_scalar(obj: Any, out: list) -> None:
    if obj is None or obj is True or obj is False:
        out.append("null" if obj is None else ("true" if obj else "false"))
    elif isinstance(obj, int):
        if abs(obj) > _SAFE_INTEGER:
            raise ValueError(f"{obj} is beyond the integers JSON numbers hold exactly (I-JSON, RFC 7493)")
        out.append(str(int(obj)))
    elif isinstance(obj, (str, float, dict, list, tuple)):  # subclasses
        _jcs({str: str, float: float, dict: dict, list: list, tuple: list}[next(
            k for k in (str, float, dict, list, tuple) if isinstance(obj, k))](obj), out)
    else:
        raise TypeError(f"not a JSON value: {type(obj).__name__}")


def _sorted_keys(obj: dict) -> list:
    """The keys in RFC 8785 order, by UTF-16 code units: code-point order unless a key leaves the Basic
    Multilingual Plane (where the two orders differ)."""
    keys = list(obj)
    for k in keys:
        if type(k) is not str:
            raise TypeError(f"a JSON object's keys are strings, not {type(k).__name__}")
    if all(k.isascii() for k in keys) or not any(c > "\uffff" for k in keys for c in k):
        return sorted(keys)
    return sorted(keys, key=lambda k: k.encode("utf-16-be", "surrogatepass"))


def ecma_number(x: float) -> str:
    """A finite float as ECMAScript's Number.prototype.toString writes it (ECMA-262, section 6.1.6.1.20),
    which RFC 8785 section 3.2.2.3 prescribes: the shortest digits that round-trip (Python's repr gives the
    same digits), in positional notation for 1e-7 < |x| < 1e21, else in exponent form.

    >>> " ".join(ecma_number(v) for v in (2000.0, 1e21, 1e20, 1e-7, 1e-6, 3.14e-5, -0.0, 5e-324))
    '2000 1e+21 100000000000000000000 1e-7 0.000001 0.0000314 0 5e-324'
    """
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError("NaN and infinities are not JSON")
    if x == 0:
        return "0"
    if x.is_integer() and -9007199254740992.0 < x < 9007199254740992.0:  # |x| < 2^53: the integer, exactly
        return str(int(x))
    r = repr(x)
    if "e" not in r:  # positional already (1e-4 <= |x| < 1e16): the same digits, the same form
        return r[:-2] if r.endswith(".0") else r
    sign, r = ("-", r[1:]) if x < 0 else ("", r)
    mantissa, _, exp = r.partition("e")
    whole, _, frac = mantissa.partition(".")
    n = len(whole.lstrip("0")) + (int(exp) if exp else 0)  # value = 0.DIGITS x 10^n
    if not whole.lstrip("0"):  # 0.000ddd: the leading zeros of the fraction lower n
        n = (int(exp) if exp else 0) - (len(frac) - len(frac.lstrip("0")))
    return sign + _ecma_layout((whole + frac).lstrip("0").rstrip("0") or "0", n)


def _ecma_layout(digits: str, n: int) -> str:
    """ECMA-262's layout of the value 0.DIGITS x 10^n: positional for -6 < n <= 21, else exponent form."""
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    e = n - 1
    return digits[0] + ("." + digits[1:] if k > 1 else "") + ("e+" if e >= 0 else "e-") + str(abs(e))


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
