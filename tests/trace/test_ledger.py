"""The ledger core: RFC 8785 canonical JSON (the RFC's own example), RFC 6962 Merkle roots written out
by hand, and every kind of tampering found at the entry where it happened."""

import copy
import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from magcycle.trace.ledger import GENESIS, agrees_with, append, canonical_json, checkpoint, first_bad_entry, \
    merkle_root


def test_canonical_json_is_the_rfc_8785_example():
    # RFC 8785, section 3.2.3: the input and its canonical form, as published
    source = ('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], '
              '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}')
    expected = ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
                '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}')
    assert canonical_json(json.loads(source)) == expected.encode("utf-8")


def _ledger(n):
    entries = []
    for i in range(n):
        entries.append(append(entries, {"type": "receipt", "lot": f"L{i}", "mass_kg": 100.0 + i}, f"2026-03-0{i + 1}"))
    return entries


def test_each_entry_hashes_its_canonical_body_and_links_to_the_one_before():
    entries = _ledger(3)
    for i, e in enumerate(entries):
        body = {"seq": i, "prev_hash": entries[i - 1]["entry_hash"] if i else GENESIS,
                "recorded_at": f"2026-03-0{i + 1}", "event": {"type": "receipt", "lot": f"L{i}", "mass_kg": 100.0 + i}}
        # by hand: sorted keys, no spaces, 100.0 written 100
        text = ('{"event":{"lot":"L%d","mass_kg":%d,"type":"receipt"},"prev_hash":"%s","recorded_at":"2026-03-0%d",'
                '"seq":%d}' % (i, 100 + i, body["prev_hash"], i + 1, i))
        assert canonical_json(body) == text.encode()
        assert e["entry_hash"] == hashlib.sha256(text.encode()).hexdigest()
    assert first_bad_entry(entries) is None


def test_merkle_root_of_three_entries_written_out():
    hashes = [hashlib.sha256(bytes([i])).hexdigest() for i in range(3)]
    leaf = [hashlib.sha256(b"\x00" + bytes.fromhex(h)).digest() for h in hashes]
    left = hashlib.sha256(b"\x01" + leaf[0] + leaf[1]).digest()        # k = 2, the largest power of two < 3
    root = hashlib.sha256(b"\x01" + left + leaf[2]).hexdigest()
    assert merkle_root(hashes) == root
    assert merkle_root(hashes[:1]) == leaf[0].hex()
    assert merkle_root([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # SHA-256("")


def test_tampering_is_found_where_it_happened():
    entries = _ledger(5)
    edited = copy.deepcopy(entries)
    edited[2]["event"]["mass_kg"] = 999.0
    assert first_bad_entry(edited)[0] == 2 and "edited" in first_bad_entry(edited)[1]
    deleted = entries[:1] + entries[2:]
    assert first_bad_entry(deleted)[0] == 1
    swapped = [entries[0], entries[2], entries[1]] + entries[3:]
    assert first_bad_entry(swapped)[0] == 1
    # a rewritten tail (hashes recomputed after the edit) is a valid chain, but not the checkpoint's
    point = checkpoint(entries)
    rewritten = entries[:3]
    for i in (3, 4):
        rewritten.append(append(rewritten, {"type": "receipt", "lot": f"X{i}", "mass_kg": 1.0}, "2026-04-01"))
    assert first_bad_entry(rewritten) is None and agrees_with(rewritten, point)[0] is False
    truncated = entries[:4]
    ok, why = agrees_with(truncated, point)
    assert ok is False and "truncated" in why
    assert agrees_with(entries + [append(entries, {"type": "claim"}, "2026-05-01")], point) == (True, "")


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 12), data=st.data())
def test_any_single_edit_is_found_at_its_entry(n, data):
    entries = _ledger(n)
    i = data.draw(st.integers(0, n - 1))
    field = data.draw(st.sampled_from(["event", "recorded_at", "prev_hash", "seq"]))
    bad = copy.deepcopy(entries)
    bad[i][field] = {"event": {"type": "forged"}, "recorded_at": "1999-01-01", "prev_hash": "f" * 64,
                     "seq": i + 7}[field]
    assert first_bad_entry(bad)[0] == i
    assert entries == _ledger(n)  # append never changed its input


def _rfc6962(data: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written out recursively: the oracle of the frontier."""
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < len(data):
        k *= 2
    return hashlib.sha256(b"\x01" + _rfc6962(data[:k]) + _rfc6962(data[k:])).digest()


def test_frontier_roots_equal_the_recursive_definition_at_every_size():
    from magcycle.trace.ledger import frontier_push, frontier_root

    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(70)]
    nodes: list = []
    for n in range(71):
        assert frontier_root(nodes) == _rfc6962([bytes.fromhex(h) for h in hashes[:n]]).hex(), n
        assert merkle_root(hashes[:n]) == frontier_root(nodes)
        assert sorted((h for h, _ in nodes), reverse=True) == [h for h, _ in nodes]  # heights strictly falling
        assert sum(2 ** h for h, _ in nodes) == n  # the binary digits of n
        if n < 70:
            nodes = frontier_push(nodes, hashes[n])


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53 + 1, 2**53 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=25)


@settings(max_examples=600)
@given(_JSON)
def test_canonical_json_is_the_rfc8785_packages(value):
    """The oracle: the ``rfc8785`` package (Trail of Bits), the reference the project's own encoder replaces."""
    import rfc8785

    assert canonical_json(value) == rfc8785.dumps(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_ecma_numbers_round_trip_and_match_rfc8785(x):
    import rfc8785

    from magcycle.trace.ledger import ecma_number

    text = ecma_number(x)
    assert text.encode() == rfc8785.dumps(x) and float(text) == x


def test_canonical_json_refuses_what_json_cannot_hold():
    import pytest

    for bad in (float("nan"), float("inf"), {1: 2}, {"a": {1, 2}}, b"x", 2**53, -2**53):
        with pytest.raises((ValueError, TypeError)):
            canonical_json(bad)
