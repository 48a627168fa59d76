"""The site's Ed25519 signing keys: private halves in files, public halves (as did:key) in the ledger.

Where the private keys live
    In a key folder: ``--keys DIR``, else ``MAGCYCLE_KEYS_DIR``, else
    ``magcycle-keys`` in the working folder; one PKCS #8 PEM file per key,
    named by the key's did:key fingerprint, readable by its owner only
    (folder 0700, file 0600), encrypted with ``MAGCYCLE_KEY_PASSPHRASE``
    when that is set. A private key is never written to the database, the
    ledger or any output.

Rotation
    ``trace keys create`` makes the first key; ``trace keys rotate`` makes a
    new one and retires the one in use. Each is a ledger entry carrying the
    public key (its did:key), so a certificate or checkpoint signed by a
    retired key still verifies against the ledger. The newest key not
    retired signs.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from magcycle.documents import clip
from magcycle.errors import InputError
from magcycle.trace import db
from magcycle.trace.store import now, record

__all__ = ["DEFAULT_KEYS_DIR", "keys_dir", "key_file", "create_key", "signing_key", "site_keys", "load_public_key"]

DEFAULT_KEYS_DIR = "magcycle-keys"


def keys_dir(given: str | None = None) -> Path:
    return Path(given or os.environ.get("MAGCYCLE_KEYS_DIR") or DEFAULT_KEYS_DIR)


def key_file(folder: Path, kid: str) -> Path:
    """The file of a key: its did:key fingerprint (the part after '#') + '.pem'."""
    return folder / f"{kid.split('#')[-1]}.pem"


def _encryption():
    from cryptography.hazmat.primitives import serialization

    phrase = os.environ.get("MAGCYCLE_KEY_PASSPHRASE")
    return serialization.BestAvailableEncryption(phrase.encode()) if phrase else serialization.NoEncryption()


def site_keys(conn: Connection) -> list[dict]:
    """Every key of the site (public), oldest first: {kid, created_at, retired_at}."""
    t = db.signing_keys
    return [dict(r._mapping) for r in conn.execute(select(t.c.kid, t.c.created_at, t.c.retired_at).order_by(t.c.seq))]


def create_key(conn: Connection, folder: Path, actor: str, *, rotate: bool) -> tuple[str, Path]:
    """Make a key (rotating out the one in use when ``rotate``), write its private half to ``folder`` and record
    its public half; (kid, file written). The caller removes the file if its transaction fails."""
    from cryptography.hazmat.primitives import serialization

    from magcycle.trace.vc import new_private_key, public_key_bytes, verification_method

    current = [k for k in site_keys(conn) if k["retired_at"] is None]
    if current and not rotate:
        raise InputError("keys", f"the site has a signing key already ({clip(current[-1]['kid'], 80)}); "
                                 "rotate it with 'magcycle trace keys rotate'")
    if rotate and not current:
        raise InputError("keys", "the site has no signing key to rotate; create one with 'magcycle trace keys create'")
    _writable(folder)
    private = new_private_key()
    kid = verification_method(public_key_bytes(private))
    at = now()
    entry = record(conn, {"type": "key", "actor": actor, "event_time": at, "action": "rotate" if rotate else "create",
                          "kid": kid, "retires": [k["kid"] for k in current]})
    for k in current:
        conn.execute(update(db.signing_keys).where(db.signing_keys.c.kid == k["kid"]).values(retired_at=at))
    conn.execute(insert(db.signing_keys).values(kid=kid, created_at=at, retired_at=None, seq=entry["seq"]))
    path = key_file(folder, kid)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, _encryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return kid, path


def _writable(folder: Path) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("--keys", f"cannot make the key folder {clip(str(folder))}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise InputError("--keys", f"cannot write to the key folder {clip(str(folder))}")


def signing_key(conn: Connection, folder: Path):
    """(kid, private key) of the key in use; refused when the site has none or its file is not in ``folder``."""
    from cryptography.hazmat.primitives import serialization

    current = [k for k in site_keys(conn) if k["retired_at"] is None]
    if not current:
        raise InputError("keys", "the site has no signing key; create one with 'magcycle trace keys create'")
    kid = current[-1]["kid"]
    path = key_file(folder, kid)
    try:
        data = path.read_bytes()
    except OSError:
        raise InputError("--keys", f"the private key of {clip(kid, 80)} is not in {clip(str(folder))} "
                                   f"(expected {path.name})") from None
    phrase = os.environ.get("MAGCYCLE_KEY_PASSPHRASE")
    try:
        private = serialization.load_pem_private_key(data, phrase.encode() if phrase else None)
    except (ValueError, TypeError) as exc:
        raise InputError("--keys", f"cannot read {path.name}: {clip(exc, 100)} (MAGCYCLE_KEY_PASSPHRASE?)") from None
    return kid, private


def load_public_key(text: str) -> bytes:
    """32 raw bytes of an Ed25519 public key given as a did:key (with or without fragment), a file holding one,
    or a PEM public-key file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from magcycle.trace.vc import public_key_bytes, public_key_from_did

    value = text.strip()
    if not value.startswith("did:") and Path(value).is_file():
        value = Path(value).read_text(encoding="utf-8", errors="replace").strip()
    if value.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(value.encode())
        except ValueError as exc:
            raise InputError("--key", f"not a PEM public key: {clip(exc, 100)}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise InputError("--key", "not an Ed25519 public key")
        return public_key_bytes(key)
    try:
        return public_key_from_did(value)
    except ValueError as exc:
        raise InputError("--key", f"{clip(exc, 160)}; give a did:key, or a file holding one or a PEM public key") from None
