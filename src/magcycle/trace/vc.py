r"""Verifiable Credentials for the traceability layer: the pure cryptographic helpers.

Three W3C pieces, written out as plain functions; issuing, storing and
publishing credentials are left to the callers.

Base58 and did:key
    base58btc (Bitcoin alphabet ``123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz``,
    IETF draft-msporny-base58-03, section 3) reads the bytes ``b`` as one big-endian
    integer ``N = sum_k b_k 256^(n-1-k)`` and writes ``N`` in base 58, most significant
    digit first; each leading zero byte becomes one leading ``"1"``
    (:func:`b58encode`, :func:`b58decode`).

    An Ed25519 public key (32 raw bytes ``A``, RFC 8032 section 5.1.5) is named by the
    did:key method (W3C CCG "The did:key Method v0.7") as

        did = "did:key:" + "z" + base58btc(0xed 0x01 || A),

    ``0xed 0x01`` the unsigned-varint multicodec code 0xed ("ed25519-pub") and ``"z"``
    the multibase prefix of base58btc; such identifiers start ``did:key:z6Mk``. The key's
    verification method is ``did + "#" + `` the same multibase string
    (:func:`did_key`, :func:`verification_method`, :func:`public_key_from_did`).

Data Integrity proofs, cryptosuite eddsa-jcs-2022
    W3C "Data Integrity EdDSA Cryptosuites v1.0" (Recommendation, 2025), section 3.3
    (https://www.w3.org/TR/vc-di-eddsa/#eddsa-jcs-2022). With JCS the JSON
    Canonicalization Scheme of RFC 8785 (:func:`magcycle.trace.ledger.canonical_json`)
    and ``||`` concatenation of bytes:

        proofConfig  = {type: "DataIntegrityProof", cryptosuite: "eddsa-jcs-2022", created,
                        verificationMethod, proofPurpose}  (+ "@context": document["@context"]
                        when the document has one, section 3.3.1 step 2)
        hashData     = SHA-256(JCS(proofConfig)) || SHA-256(JCS(document without "proof"))   (64 bytes)
        signature    = Ed25519-Sign(private key, hashData)       (pure EdDSA, RFC 8032; 64 bytes)
        proofValue   = "z" + base58btc(signature)
        proof        = proofConfig + {proofValue}

    Verification (section 3.3.2) removes ``proofValue`` from the proof to get the proof
    options, checks that the document's ``@context`` starts with the proof's ``@context``
    (if the proof has one) and hashes the document with the proof's ``@context``, rebuilds
    ``hashData`` the same way and checks the Ed25519 signature with the key named by
    ``verificationMethod`` (a did:key here) or with a key the caller supplies
    (:func:`sign`, :func:`verify`). Every byte of the document and of the proof other
    than ``proofValue`` is covered by the signature. Ed25519 is deterministic, so a
    given key, document and proof options always give the same ``proofValue``.

Bitstring Status List
    W3C "Bitstring Status List v1.0" (Recommendation, 2025), sections 2.2 and 3.4: the
    status of credential ``i`` is bit ``i`` of a bitstring of at least 131,072 bits
    (16 KiB), index 0 being the left-most (most significant) bit of the first byte:

        bit(i) = (byte[floor(i / 8)] >> (7 - i mod 8)) & 1,

    published as ``encodedList = "u" + base64url_nopad(GZIP(bitstring))`` (RFC 1952 GZIP,
    RFC 4648 section 5 base64url, multibase prefix ``"u"``). GZIP is written with
    ``mtime = 0`` so the same bits always give the same string
    (:func:`encode_status_list`, :func:`decode_status_list`, :func:`status_bit`).
"""

from __future__ import annotations

import base64
import binascii
import copy
import gzip
import hashlib
import re
import reprlib
import zlib
from typing import Any, Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from magcycle.trace.ledger import canonical_json

__all__ = ["b58encode", "b58decode", "did_key", "verification_method", "public_key_from_did", "public_key_bytes",
           "sign", "verify", "encode_status_list", "decode_status_list", "status_bit", "new_private_key"]

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_VALUE = {c: i for i, c in enumerate(_B58_ALPHABET)}

_DID_KEY_PREFIX = "did:key:"
_ED25519_PUB_CODEC = b"\xed\x01"          # unsigned varint of multicodec 0xed, "ed25519-pub"
_KEY_LEN = 32                             # Ed25519 public key [bytes], RFC 8032
_SIG_LEN = 64                             # Ed25519 signature [bytes], RFC 8032

_PROOF_TYPE = "DataIntegrityProof"
_CRYPTOSUITE = "eddsa-jcs-2022"
_MAX_PROOF_VALUE_CHARS = 100              # "z" + base58 of 64 bytes is at most 89 characters

# XML Schema 1.1 part 2 dateTime (section 3.3.7): the lexical form, with an optional time zone.
_XSD_DATETIME = re.compile(r"-?(?:[1-9]\d{3,}|0\d{3})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
                           r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))?",
                           re.ASCII)

_MIN_STATUS_BITS = 131072                 # Bitstring Status List v1.0: at least 16 KiB uncompressed
_MAX_STATUS_BYTES = 1 << 24               # refuse to inflate lists beyond 16 MiB (134 million entries)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*", re.ASCII)
_CANON_ERRORS = (ValueError, TypeError, RecursionError, OverflowError)


# --- base58btc -------------------------------------------------------------------------------------------------

def b58encode(data: bytes) -> str:
    """``data`` (bytes) in base58btc, Bitcoin alphabet; each leading zero byte becomes a ``"1"``.

    >>> b58encode(b"Hello World!")
    '2NEpo7TZRRrLZSi2U'
    >>> b58encode(bytes.fromhex("0000287fb4cd"))
    '11233QC4'
    """
    data = bytes(data)
    zeros = len(data) - len(data.lstrip(b"\0"))
    n = int.from_bytes(data, "big")
    digits = []
    while n:
        n, r = divmod(n, 58)
        digits.append(_B58_ALPHABET[r])
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """The bytes of a base58btc string (Bitcoin alphabet); ``ValueError`` names the first bad character.

    >>> b58decode("2NEpo7TZRRrLZSi2U")
    b'Hello World!'
    >>> b58decode("11233QC4").hex()
    '0000287fb4cd'
    >>> b58decode("0OIl")
    Traceback (most recent call last):
    ...
    ValueError: '0' at position 0 is not a base58 character
    """
    if not isinstance(text, str):
        raise ValueError(f"base58 text must be a string, not {type(text).__name__}")
    n = 0
    for pos, char in enumerate(text):
        value = _B58_VALUE.get(char)
        if value is None:
            raise ValueError(f"{char!r} at position {pos} is not a base58 character")
        n = n * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + n.to_bytes((n.bit_length() + 7) // 8, "big")


# --- keys and did:key ------------------------------------------------------------------------------------------

def new_private_key() -> Ed25519PrivateKey:
    """A fresh random Ed25519 private key (``cryptography``'s :class:`Ed25519PrivateKey`)."""
    return Ed25519PrivateKey.generate()


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of the Ed25519 *public* key of ``key`` (a private key gives its public half).

    >>> seed = bytes(range(32))
    >>> public_key_bytes(Ed25519PrivateKey.from_private_bytes(seed)).hex()[:16]
    '03a107bff3ce10be'
    """
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise TypeError(f"expected an Ed25519 private or public key, not {type(key).__name__}")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _raw_key(public_key: bytes) -> bytes:
    if not isinstance(public_key, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected the 32 raw bytes of an Ed25519 public key, not {type(public_key).__name__}")
    key = bytes(public_key)
    if len(key) != _KEY_LEN:
        raise ValueError(f"an Ed25519 public key is {_KEY_LEN} bytes, not {len(key)}")
    return key


def _multibase_key(public_key: bytes) -> str:
    return "z" + b58encode(_ED25519_PUB_CODEC + _raw_key(public_key))


def did_key(public_key: bytes) -> str:
    """The did:key identifier of an Ed25519 public key (32 raw bytes): ``"did:key:z6Mk..."``.

    >>> did_key(bytes(32))
    'did:key:z6MkeTG3bFFSLYVU7VqhgZxqr6YzpaGrQtFMh1uvqGy1vDnP'
    """
    return _DID_KEY_PREFIX + _multibase_key(public_key)


def verification_method(public_key: bytes) -> str:
    """The did:key verification method of an Ed25519 public key (32 raw bytes): ``did + "#" + z6Mk...``.

    >>> verification_method(bytes(32)).split("#")[1]
    'z6MkeTG3bFFSLYVU7VqhgZxqr6YzpaGrQtFMh1uvqGy1vDnP'
    """
    return _method_of(public_key)


def _method_of(public_key: bytes) -> str:
    multibase = _multibase_key(public_key)
    return _DID_KEY_PREFIX + multibase + "#" + multibase


def _varint(data: bytes) -> int:
    """The unsigned varint (multiformats) at the start of ``data``, for error messages."""
    value = 0
    for shift, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << (7 * shift)
        if not byte & 0x80:
            break
    return value


def public_key_from_did(did_or_method: str) -> bytes:
    """The 32 raw bytes of the Ed25519 key named by a did:key or its verification method (``did#fragment``).

    ``ValueError`` says what is wrong when the string is not an Ed25519 did:key.

    >>> public_key_from_did("did:key:z6MkeTG3bFFSLYVU7VqhgZxqr6YzpaGrQtFMh1uvqGy1vDnP") == bytes(32)
    True
    >>> public_key_from_did("did:web:example.com")
    Traceback (most recent call last):
    ...
    ValueError: 'did:web:example.com' is not a did:key
    """
    if not isinstance(did_or_method, str):
        raise ValueError(f"a did:key must be a string, not {type(did_or_method).__name__}")
    did, hash_sign, fragment = did_or_method.partition("#")
    if not did.startswith(_DID_KEY_PREFIX):
        raise ValueError(f"{did_or_method[:80]!r} is not a did:key")
    multibase = did[len(_DID_KEY_PREFIX):]
    if not multibase.startswith("z"):
        raise ValueError("the did:key value must be base58btc multibase (start with 'z')")
    if len(multibase) > 2 * (_KEY_LEN + 2):
        raise ValueError("the did:key value is too long for an Ed25519 key")
    if hash_sign and fragment != multibase:
        raise ValueError("the fragment of a did:key verification method must repeat the key's multibase value")
    raw = b58decode(multibase[1:])
    if raw[:2] != _ED25519_PUB_CODEC:
        raise ValueError(f"the did:key multicodec is 0x{_varint(raw):x}, not ed25519-pub (0xed)")
    if len(raw) != 2 + _KEY_LEN:
        raise ValueError(f"the did:key holds {len(raw) - 2} key bytes, not {_KEY_LEN}")
    return raw[2:]


# --- eddsa-jcs-2022 --------------------------------------------------------------------------------------------

def _hash_data(proof_config: dict, unsecured_document: dict) -> bytes:
    """SHA-256(JCS(proofConfig)) || SHA-256(JCS(document)), 64 bytes (section 3.3.5)."""
    return (hashlib.sha256(canonical_json(proof_config)).digest()
            + hashlib.sha256(canonical_json(unsecured_document)).digest())


def sign(document: dict, private_key: Ed25519PrivateKey, *, created: str, verification_method: str | None = None,
         proof_purpose: str = "assertionMethod") -> dict:
    """A signed copy of ``document`` (a JSON object as a dict) with an eddsa-jcs-2022 ``proof``.

    ``created`` is an XML Schema dateTime (e.g. ``"2026-03-01T12:00:00Z"``); ``verification_method``
    defaults to the did:key verification method of ``private_key``. When the document has an
    ``@context`` the proof carries the same ``@context`` (section 3.3.1 step 2). ``document`` is
    not changed; a document that already has a ``proof`` raises ``ValueError``.

    >>> key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    >>> signed = sign({"id": "urn:lot:1", "mass_kg": 12.5}, key, created="2026-03-01T12:00:00Z")
    >>> sorted(signed["proof"])
    ['created', 'cryptosuite', 'proofPurpose', 'proofValue', 'type', 'verificationMethod']
    >>> verify(signed)
    (True, '')
    """
    if not isinstance(document, dict):
        raise TypeError(f"the document must be a dict, not {type(document).__name__}")
    if "proof" in document:
        raise ValueError("the document already has a proof")
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError(f"expected an Ed25519 private key, not {type(private_key).__name__}")
    if not isinstance(created, str) or not _XSD_DATETIME.fullmatch(created):
        raise ValueError(f"created {created!r} is not an XML Schema dateTime")
    if not isinstance(verification_method, (str, type(None))) or not isinstance(proof_purpose, str):
        raise TypeError("verification_method and proof_purpose must be strings")
    own_key = public_key_bytes(private_key)
    method = verification_method if verification_method is not None else _method_of(own_key)
    if method.startswith(_DID_KEY_PREFIX) and public_key_from_did(method) != own_key:
        raise ValueError("the verification method names a different key than the one signing")
    signed = copy.deepcopy(document)
    proof: dict[str, Any] = {"type": _PROOF_TYPE, "cryptosuite": _CRYPTOSUITE, "created": created,
                             "verificationMethod": method, "proofPurpose": proof_purpose}
    if "@context" in signed:
        proof["@context"] = copy.deepcopy(signed["@context"])
    signature = private_key.sign(_hash_data(proof, signed))
    proof["proofValue"] = "z" + b58encode(signature)
    signed["proof"] = proof
    return signed


def _context_list(context: Any) -> list:
    return context if isinstance(context, list) else [context]


def _signature_bytes(proof: dict) -> tuple[bytes | None, str]:
    """The 64 signature bytes of ``proof["proofValue"]``, or None and why not."""
    value = proof.get("proofValue")
    if value is None:
        return None, "the proof has no proofValue"
    if not isinstance(value, str):
        return None, f"proofValue is a {type(value).__name__}, not a string"
    if not value.startswith("z"):
        return None, "proofValue is not base58btc multibase (does not start with 'z')"
    if len(value) > _MAX_PROOF_VALUE_CHARS:
        return None, f"proofValue is {len(value)} characters, too long for an Ed25519 signature"
    try:
        signature = b58decode(value[1:])
    except ValueError as exc:
        return None, f"proofValue is not base58btc: {exc}"
    if len(signature) != _SIG_LEN:
        return None, f"proofValue decodes to {len(signature)} bytes, not a {_SIG_LEN}-byte Ed25519 signature"
    return signature, ""


def _short(value: Any) -> str:
    """A short repr of a value from untrusted input, for reasons and messages."""
    return reprlib.repr(value)


def _proof_problem(proof: Any) -> str:
    """Why ``proof`` is not an eddsa-jcs-2022 proof this module can check, or "" when it is."""
    if proof is None:
        return "no proof"
    if isinstance(proof, list):
        return "proof sets and chains (a list of proofs) are not supported"
    if not isinstance(proof, dict):
        return f"the proof is a {type(proof).__name__}, not a JSON object"
    if proof.get("type") != _PROOF_TYPE:
        return f"unsupported proof type {_short(proof.get('type'))} (expected {_PROOF_TYPE!r})"
    if proof.get("cryptosuite") != _CRYPTOSUITE:
        return f"unsupported cryptosuite {_short(proof.get('cryptosuite'))} (expected {_CRYPTOSUITE!r})"
    if not isinstance(proof.get("verificationMethod"), str):
        return "the proof has no verificationMethod string"
    created = proof.get("created")
    if created is not None and not (isinstance(created, str) and _XSD_DATETIME.fullmatch(created)):
        return f"the proof's created {_short(created)} is not an XML Schema dateTime"
    return ""


def _verifying_key(method: str, public_key: Any) -> tuple[bytes | None, str]:
    """The key to check the signature with, or None and why not."""
    if public_key is None:
        try:
            return public_key_from_did(method), ""
        except ValueError as exc:
            return None, f"cannot get the key from verificationMethod {method[:120]!r}: {exc}"
    try:
        key = _raw_key(public_key)
    except (TypeError, ValueError) as exc:
        return None, f"the given public key is unusable: {exc}"
    if method.startswith(_DID_KEY_PREFIX):
        try:
            named = public_key_from_did(method)
        except ValueError as exc:
            return None, f"verificationMethod {method[:120]!r} is not a valid did:key: {exc}"
        if named != key:
            return None, f"signed by a different key than the one given (the proof names {method[:120]!r})"
    return key, ""


def verify(document: dict, public_key: bytes | None = None) -> tuple[bool, str]:
    """Check the eddsa-jcs-2022 proof of ``document``: ``(True, "")`` or ``(False, reason)``.

    ``public_key`` (32 raw bytes) is the key the caller expects; when it is None the key is read
    from the proof's did:key ``verificationMethod``. Malformed input of any kind gives
    ``(False, reason)``, never an exception.

    >>> verify({"id": "urn:lot:1"})
    (False, 'no proof')
    """
    try:
        return _verify(document, public_key)
    except RecursionError:
        return False, "the document is nested too deeply to check"


def _verify(document: Any, public_key: Any) -> tuple[bool, str]:
    if not isinstance(document, dict):
        return False, f"the document is a {type(document).__name__}, not a JSON object"
    proof = document.get("proof")
    problem = _proof_problem(proof)
    if problem:
        return False, problem
    signature, problem = _signature_bytes(proof)
    if signature is None:
        return False, problem
    key, problem = _verifying_key(proof["verificationMethod"], public_key)
    if key is None:
        return False, problem
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if "@context" in options:
        prefix = _context_list(options["@context"])
        if "@context" not in document or _context_list(document["@context"])[:len(prefix)] != prefix:
            return False, "the document's @context does not start with the proof's @context"
        unsecured["@context"] = options["@context"]
    try:
        hash_data = _hash_data(options, unsecured)
    except _CANON_ERRORS as exc:
        return False, f"the document or proof is not canonicalizable JSON: {str(exc)[:200]}"
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, hash_data)
    except InvalidSignature:
        return False, "signature does not match"
    except ValueError as exc:
        return False, f"the public key is unusable: {exc}"
    return True, ""


# --- Bitstring Status List -------------------------------------------------------------------------------------

def encode_status_list(revoked: Iterable[int], size: int = _MIN_STATUS_BITS) -> str:
    """The ``encodedList`` of a bitstring of ``size`` bits with the bits at the indices ``revoked`` set.

    ``size`` [bits] is a multiple of 8 and at least 131072 (16 KiB); an index outside
    ``[0, size)`` raises ``ValueError``. Bit ``i`` is ``0x80 >> (i % 8)`` of byte ``i // 8``.

    >>> encoded = encode_status_list([3, 42])
    >>> encoded[:5], status_bit(encoded, 42), status_bit(encoded, 41)
    ('uH4sI', True, False)
    """
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"size must be an int, not {type(size).__name__}")
    if size < _MIN_STATUS_BITS or size % 8:
        raise ValueError(f"size must be a multiple of 8 and at least {_MIN_STATUS_BITS} bits, not {size}")
    bits = bytearray(size // 8)
    for index in revoked:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"status list indices must be ints, not {type(index).__name__}")
        if not 0 <= index < size:
            raise ValueError(f"index {index} is outside the status list [0, {size})")
        bits[index >> 3] |= 0x80 >> (index & 7)
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_status_list(encoded: str) -> bytes:
    """The raw bitstring bytes of an ``encodedList`` (``"u"`` + base64url without padding of GZIP data).

    ``ValueError`` when it is not one. No minimum length is enforced here (the 131,072-entry
    floor is a check of the spec's validate algorithm); lists beyond 16 MiB are refused.

    >>> len(decode_status_list(encode_status_list([])))
    16384
    """
    if not isinstance(encoded, str):
        raise ValueError(f"encodedList must be a string, not {type(encoded).__name__}")
    if not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url (start with 'u')")
    body = encoded[1:]
    if not _BASE64URL.fullmatch(body) or len(body) % 4 == 1:
        raise ValueError("encodedList is not base64url without padding")
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"encodedList is not base64url: {exc}") from None
    if compressed[:2] != b"\x1f\x8b":
        raise ValueError("encodedList does not hold GZIP data (no 1f 8b magic bytes)")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        bits = inflater.decompress(compressed, _MAX_STATUS_BYTES + 1)
    except zlib.error as exc:
        raise ValueError(f"encodedList holds corrupt GZIP data: {exc}") from None
    if len(bits) > _MAX_STATUS_BYTES:
        raise ValueError(f"the status list inflates to more than {_MAX_STATUS_BYTES} bytes")
    if not inflater.eof:
        raise ValueError("encodedList holds truncated GZIP data")
    if inflater.unused_data:
        raise ValueError("encodedList has data after the GZIP stream")
    return bits


def status_bit(encoded: str, index: int) -> bool:
    """Whether bit ``index`` (0 = left-most bit of the first byte) of an ``encodedList`` is set.

    ``ValueError`` for a malformed list or an index outside it.

    >>> status_bit(encode_status_list([0]), 0), status_bit(encode_status_list([0]), 1)
    (True, False)
    """
    bits = decode_status_list(encoded)
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f"index must be an int, not {type(index).__name__}")
    if not 0 <= index < 8 * len(bits):
        raise ValueError(f"index {index} is outside the status list [0, {8 * len(bits)})")
    return bool(bits[index >> 3] & (0x80 >> (index & 7)))
