"""The material description: a versioned, length-prefixed string-to-string map.

``u32 version (0)`` then ``LV(utf8 key) LV(utf8 value)`` pairs until the end. It is *not*
signed by the format, so a reader must treat every entry as untrusted input.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

__all__ = [
    "MD_CONTENT_KEY_ALGORITHM",
    "MD_ENCRYPTED_KEY",
    "MD_KEY_WRAP_ALGORITHM",
    "MD_KMS_EC_ATTRIBUTES",
    "MD_META_ID",
    "MD_SIGNING_ALGORITHM",
    "MD_SIGNING_KEY_ALGORITHM",
    "MD_SYMMETRIC_MODE",
    "MaterialDescriptionError",
    "decode_material_description",
    "encode_material_description",
]

MD_SYMMETRIC_MODE = "amzn-ddb-map-sym-mode"
MD_SIGNING_ALGORITHM = "amzn-ddb-map-signingAlg"
MD_ENCRYPTED_KEY = "amzn-ddb-env-key"
MD_CONTENT_KEY_ALGORITHM = "amzn-ddb-env-alg"
MD_KEY_WRAP_ALGORITHM = "amzn-ddb-wrap-alg"
MD_SIGNING_KEY_ALGORITHM = "amzn-ddb-sig-alg"
MD_KMS_EC_ATTRIBUTES = "aws-kms-ec-attr"
MD_META_ID = "amzn-ddb-meta-id"

_VERSION = b"\x00\x00\x00\x00"
_U32 = struct.Struct(">I")


class MaterialDescriptionError(ValueError):
    """Internal: the bytes are not a material description we can read."""


def encode_material_description(description: Mapping[str, str]) -> bytes:
    """Serialize with entries sorted by key, as the Python reference does."""
    parts = [_VERSION]
    pack = _U32.pack
    for key in sorted(description):
        key_bytes = key.encode("utf-8")
        value_bytes = description[key].encode("utf-8")
        parts.append(pack(len(key_bytes)))
        parts.append(key_bytes)
        parts.append(pack(len(value_bytes)))
        parts.append(value_bytes)
    return b"".join(parts)


def decode_material_description(data: bytes) -> dict[str, str]:
    """Parse, accepting any entry order (Java writes hash order); reject anything malformed."""
    if type(data) is bytes:
        buf = data
    elif isinstance(data, (bytes, bytearray, memoryview)):
        buf = bytes(data)
    else:
        raise MaterialDescriptionError("material description must be binary")
    end = len(buf)
    if end < 4:
        raise MaterialDescriptionError("material description is truncated")
    if buf[:4] != _VERSION:
        raise MaterialDescriptionError("unknown material description version")
    # One flat loop: this runs for every item read, and per-field helper calls cost more than
    # the parsing itself.
    unpack = _U32.unpack_from
    result: dict[str, str] = {}
    pos = 4
    try:
        while pos < end:
            if pos + 4 > end:
                raise MaterialDescriptionError("material description is truncated")
            stop = pos + 4 + unpack(buf, pos)[0]
            if stop + 4 > end:
                raise MaterialDescriptionError("material description is truncated")
            key = buf[pos + 4 : stop].decode()
            pos = stop + 4 + unpack(buf, stop)[0]
            if pos > end:
                raise MaterialDescriptionError("material description is truncated")
            if key in result:
                raise MaterialDescriptionError("material description repeats a key")
            result[key] = buf[stop + 4 : pos].decode()
    except UnicodeDecodeError as exc:
        raise MaterialDescriptionError("material description is not UTF-8") from exc
    return result
