"""Intermediate key wrapping: how every DB-ESDK keyring protects the data key.

A keyring never wraps the item's data key itself. It wraps a fresh 32-byte *intermediate*
key; two keys derived from that one encrypt the data key (AES-256-GCM, the encryption
context as AAD) and sign the footer tag of this encrypted data key. The stored EDK ciphertext
is ``encrypted data key (32) || GCM tag (16) || the keyring's wrapping of the intermediate key``.
Source: AWS's material providers, ``KeyWrapping/IntermediateKeyWrapping.dfy``.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Mapping

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "DATA_KEY_LENGTH",
    "WRAPPED_DATA_KEY_LENGTH",
    "derive_intermediate_keys",
    "serialize_encryption_context",
    "unwrap_data_key",
    "wrap_data_key",
]

DATA_KEY_LENGTH = 32
#: AES-256-GCM of the 32-byte data key: 32 bytes of ciphertext and the 16-byte tag.
WRAPPED_DATA_KEY_LENGTH = 48

_ENC_INFO = b"AWS_MPL_INTERMEDIATE_KEYWRAP_ENC"
_MAC_INFO = b"AWS_MPL_INTERMEDIATE_KEYWRAP_MAC"
_ZERO_IV = bytes(12)
_NO_SALT = bytes(64)
_sha512 = hashlib.sha512  # HKDF-Extract without a salt uses HashLen zero bytes (SHA-512)


def serialize_encryption_context(encryption_context: Mapping[str, str]) -> bytes:
    """The material providers' canonical encryption context: the AAD of every wrap.

    ``u16 count`` then, sorted by the UTF-8 bytes of the key, ``u16 len || key || u16 len ||
    value`` per entry; an empty context is the empty string.
    """
    if not encryption_context:
        return b""
    pairs = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in encryption_context.items())
    out = [struct.pack(">H", len(pairs))]
    for key, value in pairs:
        out.append(struct.pack(">H", len(key)))
        out.append(key)
        out.append(struct.pack(">H", len(value)))
        out.append(value)
    return b"".join(out)


def derive_intermediate_keys(intermediate_key: bytes) -> tuple[bytes, bytes]:
    """``(key-encryption key, footer HMAC key)`` derived from an intermediate key (HKDF-SHA512).

    Each 32-byte HKDF-Expand is one HMAC block (``T(1) = HMAC(PRK, info || 0x01)``), computed
    directly rather than through ``HKDFExpand`` (same bytes, a third of the time).
    """
    prk = hmac.digest(_NO_SALT, intermediate_key, _sha512)
    kek = hmac.digest(prk, _ENC_INFO + b"\x01", _sha512)[:DATA_KEY_LENGTH]
    mac_key = hmac.digest(prk, _MAC_INFO + b"\x01", _sha512)[:DATA_KEY_LENGTH]
    return kek, mac_key


def wrap_data_key(
    plaintext_data_key: bytes,
    encryption_context: Mapping[str, str],
    intermediate_key: bytes,
    *,
    serialized_context: bytes | None = None,
) -> tuple[bytes, bytes]:
    """``(the 48-byte encrypted data key, the footer HMAC key)`` for one EDK.

    ``serialized_context``, when the caller already has it, is
    ``serialize_encryption_context(encryption_context)``.
    """
    kek, mac_key = derive_intermediate_keys(intermediate_key)
    if serialized_context is None:
        serialized_context = serialize_encryption_context(encryption_context)
    return AESGCM(kek).encrypt(_ZERO_IV, plaintext_data_key, serialized_context), mac_key


def unwrap_data_key(
    wrapped_data_key: bytes,
    encryption_context: Mapping[str, str],
    intermediate_key: bytes,
    *,
    serialized_context: bytes | None = None,
) -> tuple[bytes, bytes]:
    """``(plaintext data key, footer HMAC key)``; raises ``cryptography``'s ``InvalidTag``.

    The caller turns a failure into "this EDK is not ours" and tries the next one.
    """
    kek, mac_key = derive_intermediate_keys(intermediate_key)
    if serialized_context is None:
        serialized_context = serialize_encryption_context(encryption_context)
    return AESGCM(kek).decrypt(_ZERO_IV, wrapped_data_key, serialized_context), mac_key
