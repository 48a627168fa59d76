"""Verifiable Credential helpers: the W3C eddsa-jcs-2022 test vector reproduced byte for byte, base58 against
the IETF draft's examples, did:key against the spec key pair, every kind of tampering refused with a reason, and
Bitstring Status List bits read back by hand (and from the spec's and Digital Bazaar's published lists)."""

import base64
import copy
import gzip
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from magcycle.trace.ledger import canonical_json
from magcycle.trace.vc import b58decode, b58encode, decode_status_list, did_key, encode_status_list, \
    new_private_key, public_key_bytes, public_key_from_did, sign, status_bit, verification_method, verify

# --- W3C "Data Integrity EdDSA Cryptosuites v1.0", Appendix "Test Vectors", "Representation: eddsa-jcs-2022"
# https://www.w3.org/TR/vc-di-eddsa/#representation-eddsa-jcs-2022 ; copied from the spec's sources in
# https://github.com/w3c/vc-di-eddsa (commit abb673eb9df673e24a8eaf939337de74759b5f8d):
# TestVectors/keyPair.json, TestVectors/unsigned.json and TestVectors/eddsa-jcs-2022/*.

SPEC_PUBLIC_KEY_MULTIBASE = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"   # keyPair.json
SPEC_SECRET_KEY_MULTIBASE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"   # keyPair.json (privateKeyMultibase)
SPEC_CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"]
SPEC_UNSIGNED = {   # unsigned.json
    "@context": SPEC_CONTEXT,
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
SPEC_VERIFICATION_METHOD = ("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
                            "#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")
SPEC_PROOF_CONFIG = {   # eddsa-jcs-2022/proofConfigJCS.json
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "created": "2023-02-24T23:36:38Z",
    "verificationMethod": SPEC_VERIFICATION_METHOD,
    "proofPurpose": "assertionMethod",
    "@context": SPEC_CONTEXT,
}
SPEC_CANON_DOC = (   # eddsa-jcs-2022/canonDocJCS.txt
    '{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],'
    '"credentialSubject":{"alumniOf":"The School of Examples","id":"did:example:abcdefgh"},'
    '"description":"A minimum viable example of an Alumni Credential.",'
    '"id":"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33","issuer":"https://vc.example/issuers/5678",'
    '"name":"Alumni Credential","type":["VerifiableCredential","AlumniCredential"],'
    '"validFrom":"2023-01-01T00:00:00Z"}')
SPEC_CANON_PROOF = (   # eddsa-jcs-2022/proofCanonJCS.txt
    '{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],'
    '"created":"2023-02-24T23:36:38Z","cryptosuite":"eddsa-jcs-2022","proofPurpose":"assertionMethod",'
    '"type":"DataIntegrityProof","verificationMethod":"' + SPEC_VERIFICATION_METHOD + '"}')
SPEC_DOC_HASH = "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"     # docHashJCS.txt
SPEC_PROOF_HASH = "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db"   # proofHashJCS.txt
SPEC_SIG_HEX = ("407cd12654b33d718ecbb99179a1506daaa849450bf3fc523cce3e1c96f8b803"        # sigHexJCS.txt
                "51da3f253d725c6f00b07c9e5448d50b3ef78012b9ab54255116d069c6dd2808")
SPEC_PROOF_VALUE = ("z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX")  # sigBTC58
SPEC_SIGNED = dict(SPEC_UNSIGNED, proof=dict(SPEC_PROOF_CONFIG, proofValue=SPEC_PROOF_VALUE))   # signedJCS.json


def _spec_private_key():
    raw = b58decode(SPEC_SECRET_KEY_MULTIBASE[1:])
    assert raw[:2] == b"\x80\x26"   # multicodec ed25519-priv (0x1300) as an unsigned varint
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


def _spec_public_key():
    raw = b58decode(SPEC_PUBLIC_KEY_MULTIBASE[1:])
    assert raw[:2] == b"\xed\x01"   # multicodec ed25519-pub (0xed)
    return raw[2:]


# --- the spec's test vector -------------------------------------------------------------------------------------

def test_the_spec_key_pair_is_one_key_pair():
    assert public_key_bytes(_spec_private_key()) == _spec_public_key()
    assert public_key_bytes(_spec_private_key().public_key()) == _spec_public_key()


def test_the_spec_hashes_are_sha256_of_the_jcs_forms():
    assert canonical_json(SPEC_UNSIGNED) == SPEC_CANON_DOC.encode()
    assert canonical_json(SPEC_PROOF_CONFIG) == SPEC_CANON_PROOF.encode()
    assert hashlib.sha256(SPEC_CANON_DOC.encode()).hexdigest() == SPEC_DOC_HASH
    assert hashlib.sha256(SPEC_CANON_PROOF.encode()).hexdigest() == SPEC_PROOF_HASH


def test_sign_reproduces_the_spec_signed_credential():
    signed = sign(SPEC_UNSIGNED, _spec_private_key(), created="2023-02-24T23:36:38Z")
    assert signed["proof"]["proofValue"] == SPEC_PROOF_VALUE
    assert b58decode(signed["proof"]["proofValue"][1:]).hex() == SPEC_SIG_HEX
    assert signed == SPEC_SIGNED


def test_sign_with_the_spec_verification_method_given_explicitly():
    signed = sign(SPEC_UNSIGNED, _spec_private_key(), created="2023-02-24T23:36:38Z",
                  verification_method=SPEC_VERIFICATION_METHOD, proof_purpose="assertionMethod")
    assert signed == SPEC_SIGNED


def test_verify_accepts_the_spec_signed_credential():
    assert verify(copy.deepcopy(SPEC_SIGNED)) == (True, "")
    assert verify(copy.deepcopy(SPEC_SIGNED), _spec_public_key()) == (True, "")


def test_verify_accepts_the_spec_signature_over_the_spec_hash_data():
    # the spec's hashData is proofHash || docHash; the signature over it verifies under the spec key
    hash_data = bytes.fromhex(SPEC_PROOF_HASH + SPEC_DOC_HASH)
    _spec_private_key().public_key().verify(bytes.fromhex(SPEC_SIG_HEX), hash_data)


def test_sign_does_not_mutate_its_input():
    document = copy.deepcopy(SPEC_UNSIGNED)
    signed = sign(document, _spec_private_key(), created="2023-02-24T23:36:38Z")
    assert document == SPEC_UNSIGNED and "proof" not in document
    signed["credentialSubject"]["alumniOf"] = "changed"
    signed["@context"].append("https://example.org/extra")
    assert document == SPEC_UNSIGNED


def test_sign_refuses_a_document_with_a_proof_and_a_bad_created():
    with pytest.raises(ValueError, match="already has a proof"):
        sign(SPEC_SIGNED, _spec_private_key(), created="2023-02-24T23:36:38Z")
    with pytest.raises(ValueError, match="dateTime"):
        sign(SPEC_UNSIGNED, _spec_private_key(), created="24 Feb 2023")
    with pytest.raises(ValueError, match="different key"):
        sign(SPEC_UNSIGNED, new_private_key(), created="2023-02-24T23:36:38Z",
             verification_method=SPEC_VERIFICATION_METHOD)


def test_a_document_without_context_gets_a_proof_without_context():
    key = new_private_key()
    signed = sign({"lot": "L1", "mass_kg": 12.5}, key, created="2026-03-01T12:00:00Z")
    assert set(signed["proof"]) == {"type", "cryptosuite", "created", "verificationMethod", "proofPurpose",
                                    "proofValue"}
    assert signed["proof"]["verificationMethod"] == verification_method(public_key_bytes(key))
    assert verify(signed) == (True, "")


def test_a_non_did_verification_method_needs_the_key_given():
    key = new_private_key()
    signed = sign({"lot": "L1"}, key, created="2026-03-01T12:00:00Z",
                  verification_method="https://plant.example/keys/1")
    assert verify(signed, public_key_bytes(key)) == (True, "")
    ok, reason = verify(signed)
    assert not ok and "cannot get the key" in reason


# --- base58 -----------------------------------------------------------------------------------------------------

# IETF draft-msporny-base58-03, section 5 "Test Vectors"
# (https://datatracker.ietf.org/doc/html/draft-msporny-base58-03#section-5)
@pytest.mark.parametrize("data, text", [
    (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
    (b"The quick brown fox jumps over the lazy dog.", "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z"),
    (bytes.fromhex("0000287fb4cd"), "11233QC4"),
    # by hand: 0 -> "1" per zero byte, 1 -> "2", 58 = 1*58 + 0 -> "21", 0x0d24 = 3364 = 1*58^2 + 0 + 0 -> "211"
    (b"", ""), (b"\0", "1"), (b"\0\0\0", "111"), (b"\x01", "2"), (b"\x3a", "21"), (b"\x0d\x24", "211"),
    (b"\0\x0d\x24", "1211"),
])
def test_base58_known_vectors(data, text):
    assert b58encode(data) == text
    assert b58decode(text) == data


@pytest.mark.parametrize("text", ["0", "O", "I", "l", "2NEpo7TZRRrLZSi2U+", "abc def", "é"])
def test_base58_refuses_characters_outside_the_alphabet(text):
    with pytest.raises(ValueError, match="not a base58 character"):
        b58decode(text)


@given(st.binary(max_size=200))
def test_base58_round_trip(data):
    text = b58encode(data)
    assert b58decode(text) == data
    assert len(text) - len(text.lstrip("1")) == len(data) - len(data.lstrip(b"\0"))


# --- did:key ----------------------------------------------------------------------------------------------------

def test_did_key_of_the_spec_key_is_the_spec_multibase():
    public = _spec_public_key()
    assert did_key(public) == "did:key:" + SPEC_PUBLIC_KEY_MULTIBASE
    assert verification_method(public) == SPEC_VERIFICATION_METHOD
    assert public_key_from_did(did_key(public)) == public
    assert public_key_from_did(SPEC_VERIFICATION_METHOD) == public


@given(st.binary(min_size=32, max_size=32))
def test_did_key_round_trip(public):
    did = did_key(public)
    assert did.startswith("did:key:z6Mk")
    assert public_key_from_did(did) == public == public_key_from_did(verification_method(public))
    assert b58decode(did[len("did:key:z"):]) == b"\xed\x01" + public


@pytest.mark.parametrize("did, message", [
    # secp256k1 (multicodec 0xe7), the did:key spec's test vector (w3c-ccg did-key-spec, secp256k1 section)
    ("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", "0xe7"),
    # X25519 (multicodec 0xec) over 32 zero bytes, built by hand
    ("did:key:z" + b58encode(b"\xec\x01" + bytes(32)), "0xec"),
    # the spec's *secret* key (ed25519-priv, multicodec 0x1300) dressed up as a did:key
    ("did:key:" + SPEC_SECRET_KEY_MULTIBASE, "0x1300"),
    ("did:key:z" + b58encode(b"\xed\x01" + bytes(31)), "31 key bytes"),
    ("did:key:z" + b58encode(b"\xed\x01" + bytes(33)), "33 key bytes"),
    ("did:key:" + "u" + SPEC_PUBLIC_KEY_MULTIBASE[1:], "start with 'z'"),
    ("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ0", "not a base58 character"),
    ("did:web:vc.example", "not a did:key"),
    ("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "not a did:key"),
    ("did:key:" + SPEC_PUBLIC_KEY_MULTIBASE + "#key-1", "fragment"),
    ("", "not a did:key"),
    (None, "must be a string"),
])
def test_public_key_from_did_refuses_what_is_not_an_ed25519_did_key(did, message):
    with pytest.raises(ValueError, match=message):
        public_key_from_did(did)


def test_did_key_needs_32_bytes():
    with pytest.raises(ValueError):
        did_key(bytes(31))
    with pytest.raises(TypeError):
        public_key_bytes(b"not a key object")


# --- tampering and malformed proofs -----------------------------------------------------------------------------

def _material_passport():
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:plant",
        "validFrom": "2026-03-01T00:00:00Z",
        "credentialSubject": {"lot": "L-0042", "mass_kg": 125.5, "NdPr_fraction": 0.305, "origin": ["CN", "MY"]},
    }


_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"magcycle test key").digest())
_SIGNED = sign(_material_passport(), _KEY, created="2026-03-02T08:00:00Z")


def _tampered(edit):
    document = copy.deepcopy(_SIGNED)
    edit(document)
    return document


@pytest.mark.parametrize("edit", [
    lambda d: d["credentialSubject"].update(mass_kg=125.6),
    lambda d: d["credentialSubject"].update(NdPr_fraction=0.306),
    lambda d: d["credentialSubject"]["origin"].reverse(),
    lambda d: d["credentialSubject"].update(extra=None),
    lambda d: d.update(issuer="did:example:plantX"),
    lambda d: d.pop("validFrom"),
    lambda d: d["proof"].update(created="2026-03-02T08:00:01Z"),
    lambda d: d["proof"].update(proofPurpose="authentication"),
    lambda d: d["proof"].pop("created"),
    lambda d: d["proof"].pop("@context"),
    lambda d: d["proof"].update(extra="x"),
], ids=["number", "fraction", "list order", "added field", "issuer", "removed field", "created", "purpose",
        "created removed", "proof context removed", "proof field added"])
def test_any_edit_breaks_the_signature(edit):
    assert verify(_SIGNED) == (True, "")
    assert verify(_tampered(edit)) == (False, "signature does not match")


def test_a_changed_signature_byte_is_refused():
    signature = bytearray(b58decode(_SIGNED["proof"]["proofValue"][1:]))
    for position in (0, 31, 63):
        changed = bytearray(signature)
        changed[position] ^= 0x01
        document = _tampered(lambda d: d["proof"].update(proofValue="z" + b58encode(bytes(changed))))
        ok, reason = verify(document)
        assert not ok and reason


def test_another_key_given_is_refused():
    other = public_key_bytes(new_private_key())
    ok, reason = verify(_SIGNED, other)
    assert not ok and "different key than the one given" in reason
    assert verify(_SIGNED, public_key_bytes(_KEY)) == (True, "")


def test_a_proof_naming_another_did_key_is_refused():
    other = public_key_bytes(new_private_key())
    document = _tampered(lambda d: d["proof"].update(verificationMethod=verification_method(other)))
    assert verify(document) == (False, "signature does not match")


def test_a_document_context_not_starting_with_the_proof_context_is_refused():
    document = _tampered(lambda d: d.update({"@context": ["https://example.org/other"]}))
    ok, reason = verify(document)
    assert not ok and "@context" in reason


def test_a_context_appended_after_signing_still_verifies():
    # section 3.3.2 step 4: the document's @context need only start with the proof's
    document = _tampered(lambda d: d["@context"].append("https://www.w3.org/ns/credentials/examples/v2"))
    assert verify(document) == (True, "")


@pytest.mark.parametrize("edit, fragment", [
    (lambda d: d.pop("proof"), "no proof"),
    (lambda d: d.update(proof=None), "no proof"),
    (lambda d: d.update(proof="z123"), "not a JSON object"),
    (lambda d: d.update(proof=[d["proof"]]), "not supported"),
    (lambda d: d["proof"].pop("proofValue"), "no proofValue"),
    (lambda d: d["proof"].update(proofValue=12), "not a string"),
    (lambda d: d["proof"].update(proofValue="u" + d["proof"]["proofValue"][1:]), "start with 'z'"),
    (lambda d: d["proof"].update(proofValue=d["proof"]["proofValue"][:-2]), "not a 64-byte"),
    (lambda d: d["proof"].update(proofValue=d["proof"]["proofValue"] + "1"), "not a 64-byte"),
    (lambda d: d["proof"].update(proofValue="z" + "2" * 5000), "too long"),
    (lambda d: d["proof"].update(proofValue="z0OIl"), "not base58"),
    (lambda d: d["proof"].update(cryptosuite="eddsa-rdfc-2022"), "unsupported cryptosuite"),
    (lambda d: d["proof"].pop("cryptosuite"), "unsupported cryptosuite"),
    (lambda d: d["proof"].update(type="Ed25519Signature2020"), "unsupported proof type"),
    (lambda d: d["proof"].pop("verificationMethod"), "verificationMethod"),
    (lambda d: d["proof"].update(verificationMethod={"id": "x"}), "verificationMethod"),
    (lambda d: d["proof"].update(verificationMethod="did:web:example.com#k"), "cannot get the key"),
    (lambda d: d["proof"].update(created="yesterday"), "dateTime"),
    (lambda d: d["proof"].update(created=20260302), "dateTime"),
    (lambda d: d["credentialSubject"].update(mass_kg=float("nan")), "canonicalizable"),
    (lambda d: d["credentialSubject"].update(count=2 ** 60), "canonicalizable"),
    (lambda d: d["credentialSubject"].update({1: "non-string key"}), "canonicalizable"),
    (lambda d: d["credentialSubject"].update(blob=b"bytes"), "canonicalizable"),
])
def test_malformed_proofs_are_refused_with_a_reason(edit, fragment):
    ok, reason = verify(_tampered(edit))
    assert ok is False and fragment in reason


@pytest.mark.parametrize("document", [None, [], "text", 3, SPEC_SIGNED["proof"]])
def test_a_document_that_is_not_a_signed_object_is_refused(document):
    ok, reason = verify(document)
    assert ok is False and reason


def test_verify_survives_deeply_nested_input():
    deep = []
    for _ in range(100_000):
        deep = [deep]
    ok, reason = verify(dict(_SIGNED, credentialSubject=deep))
    assert ok is False and reason
    twin = []
    for _ in range(100_000):
        twin = [twin]
    ok, reason = verify(dict(_SIGNED, proof=dict(_SIGNED["proof"], **{"@context": [deep]}), **{"@context": [twin]}))
    assert ok is False and reason


@pytest.mark.parametrize("key", [b"", bytes(31), "not bytes", 12])
def test_an_unusable_given_key_is_refused(key):
    ok, reason = verify(_SIGNED, key)
    assert ok is False and "given public key" in reason


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=4),
                     max_leaves=12)
_PROOF_KEYS = ["type", "cryptosuite", "created", "verificationMethod", "proofPurpose", "proofValue", "@context"]


@settings(max_examples=300)
@given(st.sets(st.sampled_from(_PROOF_KEYS)),
       st.dictionaries(st.sampled_from(_PROOF_KEYS) | st.text(max_size=8), _JSON | st.binary(max_size=8)))
def test_verify_never_raises_on_a_mangled_proof(dropped, replaced):
    proof = {k: v for k, v in _SIGNED["proof"].items() if k not in dropped}
    proof.update(replaced)
    assume(proof != _SIGNED["proof"])
    ok, reason = verify(dict(_SIGNED, proof=proof))
    assert ok is False and isinstance(reason, str) and reason


@given(_JSON | st.dictionaries(st.sampled_from(_PROOF_KEYS), _JSON), _JSON)
def test_verify_never_raises_on_any_proof_or_document(proof, subject):
    ok, reason = verify({"credentialSubject": subject, "proof": proof})
    assert ok is False and reason
    ok, reason = verify(subject)
    assert ok is False and reason


@given(st.dictionaries(st.text(max_size=8).filter(lambda k: k != "proof"), _JSON, max_size=5))
def test_sign_then_verify_round_trip(document):
    try:
        canonical_json(document)
    except ValueError:
        assume(False)
    signed = sign(document, _KEY, created="2026-03-02T08:00:00Z")
    assert verify(signed) == (True, "")
    assert verify(signed, public_key_bytes(_KEY)) == (True, "")


# --- Bitstring Status List --------------------------------------------------------------------------------------

def _inflate(encoded):
    """The spec's decoding done with the standard library: drop 'u', base64url-decode (re-padded), gunzip."""
    assert encoded[0] == "u"
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def _set_bits_by_hand(bits):
    return sorted(8 * i + j for i, byte in enumerate(bits) for j in range(8) if byte & (0x80 >> j))


def test_status_list_bits_are_where_the_spec_puts_them():
    revoked = [0, 7, 8, 9, 1000, 50000, 131071]
    encoded = encode_status_list(revoked)
    bits = decode_status_list(encoded)
    assert len(bits) == 131072 // 8 == 16384
    assert bits == _inflate(encoded)
    assert _set_bits_by_hand(bits) == revoked
    # index 0 is the left-most bit of byte 0, 7 the right-most; 8 and 9 the two left-most of byte 1
    assert bits[0] == 0b1000_0001 and bits[1] == 0b1100_0000
    assert bits[1000 // 8] == 0x80 >> (1000 % 8) and bits[-1] == 0x01
    for i in range(0, 131072, 997):
        assert status_bit(encoded, i) == (i in revoked)
    assert all(status_bit(encoded, i) for i in revoked)


def test_status_list_is_multibase_base64url_of_deterministic_gzip():
    encoded = encode_status_list([5, 17])
    assert encoded[0] == "u" and "=" not in encoded and "+" not in encoded and "/" not in encoded
    body = encoded[1:]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert raw[:3] == b"\x1f\x8b\x08"          # RFC 1952: gzip magic and deflate
    assert raw[4:8] == b"\0\0\0\0"             # MTIME = 0
    assert encode_status_list([17, 5]) == encoded


def test_larger_status_lists():
    encoded = encode_status_list({200000}, size=8 * 32768)
    bits = decode_status_list(encoded)
    assert len(bits) == 32768 and _set_bits_by_hand(bits) == [200000]


def test_an_empty_status_list_is_all_zeros():
    assert decode_status_list(encode_status_list([])) == bytes(16384)
    # the W3C spec's example encodedList (Bitstring Status List v1.0, "Example BitstringStatusListCredential",
    # https://www.w3.org/TR/vc-bitstring-status-list/#bitstringstatuslistcredential; repo w3c/vc-bitstring-status-list,
    # index.html, commit 74fcae11e5b389aa44d1b7d3f84ee079eaa169a4): 16 KiB of zeros
    spec_example = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
    assert decode_status_list(spec_example) == bytes(16384)
    assert not status_bit(spec_example, 0) and not status_bit(spec_example, 131071)


def test_a_list_published_by_another_implementation():
    # Digital Bazaar's reference implementation of Bitstring Status List v1.0: a 100,000-bit list with index 50000
    # set (github.com/digitalbazaar/vc-bitstring-status-list, tests/10-BitstringStatusList.spec.js,
    # encodedList100KWith50KthRevoked, commit 4e84a7c7ba10c073277ade69c63b013d1ecacb05; published without the 'u')
    encoded = "u" + "H4sIAAAAAAAAA-3OMQ0AAAgDsElHOh72EJJWQRMAAAAAAIDWXAcAAAAAAIDHFvRitn7UMAAA"
    bits = decode_status_list(encoded)
    assert len(bits) == 100000 // 8
    assert _set_bits_by_hand(bits) == [50000]
    assert status_bit(encoded, 50000) and not status_bit(encoded, 50001) and not status_bit(encoded, 49999)


@pytest.mark.parametrize("revoked, size", [([131072], 131072), ([-1], 131072), ([0], 131071), ([0], 1024),
                                           ([0], 131072 + 4)])
def test_status_list_refuses_indices_outside_and_bad_sizes(revoked, size):
    with pytest.raises(ValueError):
        encode_status_list(revoked, size)


def test_status_bit_refuses_indices_outside_the_list():
    encoded = encode_status_list([1])
    for index in (-1, 131072):
        with pytest.raises(ValueError, match="outside"):
            status_bit(encoded, index)


def _b64(data):
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize("encoded", [
    "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",    # no multibase prefix
    "uH4sIAAAAAAAAA+3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",   # base64, not base64url
    "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA==",  # padding
    "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQA",     # truncated
    "uA",                                                                        # a lone sextet
    "u" + "!" * 8,
    _b64(b"not gzip at all"),
    _b64(gzip.compress(bytes(16), mtime=0)[:-6]),                                # cut inside the trailer
    _b64(gzip.compress(bytes(16), mtime=0) + b"junk"),                           # trailing bytes
    _b64(b"\x1f\x8b" + bytes(20)),                                               # magic, then garbage
    None,
    b"uH4sI",
])
def test_malformed_status_lists_raise_value_error(encoded):
    with pytest.raises(ValueError):
        decode_status_list(encoded)


@settings(max_examples=50)
@given(st.sets(st.integers(0, 131071), max_size=40))
def test_status_list_round_trip(revoked):
    bits = decode_status_list(encode_status_list(revoked))
    assert _set_bits_by_hand(bits) == sorted(revoked)
