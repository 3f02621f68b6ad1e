"""The DB-ESDK primitives: key derivation, header commitment, field keys, footer tags and
signature.

Every key of an item derives from its 32-byte data key and message id with HKDF-SHA512 (no
salt): the commit key and the field root key. Field ``i`` (0-based, among encrypted fields in
canonical order) takes its AES-256-GCM key and nonce from 44 bytes of AES-256-CTR keystream of
the root key, starting at counter block ``"AwsDbeField" 0x2c u32(3*i)``. Three blocks per
field, so the keystream of every field of an item is one CTR run over ``48 * n`` zero bytes.
Sources: ``Crypt.dfy``, ``Header.dfy``, ``Footer.dfy``; see docs/concepts/dbesdk.md.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "ECDSA_SIGNATURE_LENGTH",
    "TAG_LENGTH",
    "commitment",
    "derive_item_keys",
    "ecdsa_sign",
    "ecdsa_verify",
    "field_keys",
    "new_signing_key",
    "public_key_from_compressed",
]

TAG_LENGTH = 48  # HMAC-SHA384
ECDSA_SIGNATURE_LENGTH = 103
_NO_SALT = bytes(64)
_COMMIT_INFO = b"AWS_DBE_COMMIT_KEY"
_DERIVE_INFO = b"AWS_DBE_DERIVE_KEY"
_FIELD_NONCE_PREFIX = b"AwsDbeField\x2c"
_ONE_THIRD_MAX_INT = 1431655765
_P384_ORDER = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
    16,
)
_CURVE = ec.SECP384R1()
_ECDSA = ec.ECDSA(hashes.SHA384())
_sha512 = hashlib.sha512
_hmac_digest = hmac.digest


def derive_item_keys(data_key: bytes, message_id: bytes) -> tuple[bytes, bytes]:
    """``(commit key, field root key)`` of an item: HKDF-SHA512 without salt, 32 bytes each.

    One HKDF-Extract serves both (the PRK depends only on the data key); each Expand of 32
    bytes is a single HMAC block.
    """
    prk = _hmac_digest(_NO_SALT, data_key, _sha512)
    commit_key = _hmac_digest(prk, _COMMIT_INFO + message_id + b"\x01", _sha512)[:32]
    root_key = _hmac_digest(prk, _DERIVE_INFO + message_id + b"\x01", _sha512)[:32]
    return commit_key, root_key


def commitment(commit_key: bytes, partial_header: bytes) -> bytes:
    """The header commitment: HMAC-SHA512 (not SHA-384, whatever the spec text says), 32 bytes."""
    return _hmac_digest(commit_key, partial_header, _sha512)[:32]


def field_keys(root_key: bytes, count: int) -> list[tuple[bytes, bytes]]:
    """``(AES key, GCM nonce)`` of the first ``count`` encrypted fields, in canonical order."""
    if count <= 0:
        return []
    if count > _ONE_THIRD_MAX_INT:
        raise ValueError("too many encrypted fields")
    nonce = _FIELD_NONCE_PREFIX + bytes(4)
    encryptor = Cipher(algorithms.AES(root_key), modes.CTR(nonce)).encryptor()
    stream = encryptor.update(bytes(48 * count))
    return [(stream[i : i + 32], stream[i + 32 : i + 44]) for i in range(0, 48 * count, 48)]


def new_signing_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-384 key for one item (the default suite signs every item with its own key)."""
    return ec.generate_private_key(_CURVE)


def compressed_public_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The 49-byte SEC1 compressed point of ``key``'s public key."""
    return key.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)


def public_key_from_compressed(data: bytes) -> ec.EllipticCurvePublicKey:
    """Parse a compressed P-384 point; raises `ValueError` if it is not one."""
    if len(data) != 49 or data[0] not in (2, 3):
        raise ValueError("not a compressed P-384 point")
    return ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, data)


def ecdsa_sign(key: ec.EllipticCurvePrivateKey, digest: bytes) -> bytes:
    """An ECDSA P-384 signature of ``digest`` (hashed again with SHA-384), DER, 103 bytes.

    DB-ESDK readers expect exactly 103 bytes: a DER signature whose ``r`` and ``s`` are 49 and
    48 bytes or 48 and 49. Negating ``s`` (a valid signature too) usually fixes the length;
    otherwise sign again, as AWS's material providers do.
    """
    while True:
        signature = key.sign(digest, _ECDSA)
        if len(signature) == ECDSA_SIGNATURE_LENGTH:
            return signature
        r, s = decode_dss_signature(signature)
        signature = encode_dss_signature(r, _P384_ORDER - s)
        if len(signature) == ECDSA_SIGNATURE_LENGTH:
            return signature


def ecdsa_verify(public_key: ec.EllipticCurvePublicKey, signature: bytes, digest: bytes) -> bool:
    """True when ``signature`` is a valid signature of ``digest``."""
    try:
        public_key.verify(signature, digest, _ECDSA)
    except (InvalidSignature, ValueError):
        return False
    return True
