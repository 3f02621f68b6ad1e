"""DB-ESDK attribute serialization: a DynamoDB value to the bytes that are encrypted or signed.

A top-level value is a two-byte type id and a body; the type id is stored beside the body, never
inside it. Inside lists and maps every element carries its own ``u16 type || u32 length``.
Numbers are normalized as DynamoDB normalizes them; string and number sets and map keys are
ordered by UTF-16 code unit (as Java and .NET order strings), binary sets by unsigned byte.
Source: ``ddb-attribute-serialization.md`` and ``DynamoToStruct.dfy``.

Decoding is strict about structure: a length that overruns, a trailing byte, a duplicate set
member or map key, an invalid number, an unknown type id are all `CodecError`s. It does not
insist on the writer's order: Java writes string sets inside encrypted values in insertion
order (AWS's ``iotest.json`` holds such a record), and the order carries no meaning there.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from ..core._codec import CodecError, normalize_number

__all__ = [
    "TYPE_B",
    "TYPE_BOOL",
    "TYPE_BS",
    "TYPE_L",
    "TYPE_M",
    "TYPE_N",
    "TYPE_NS",
    "TYPE_NULL",
    "TYPE_S",
    "TYPE_SS",
    "CodecError",
    "deserialize",
    "serialize",
    "utf16_len",
]

TYPE_NULL = b"\x00\x00"
TYPE_S = b"\x00\x01"
TYPE_N = b"\x00\x02"
TYPE_BOOL = b"\x00\x04"
TYPE_B = b"\xff\xff"
TYPE_SS = b"\x01\x01"
TYPE_NS = b"\x01\x02"
TYPE_BS = b"\x01\xff"
TYPE_M = b"\x02\x00"
TYPE_L = b"\x03\x00"

_U32 = struct.Struct(">I")
_pack_u32 = _U32.pack
_unpack_u32 = _U32.unpack_from
_U16 = struct.Struct(">H")
_MAP_KEY_TYPE = TYPE_S
_MAX_DEPTH = 32  # DynamoDB's own nesting limit


def _utf8(text: object) -> bytes:
    if type(text) is not str:
        raise CodecError("a string value must be str")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Raised outside the handler so that the plaintext (.object) is not in __context__.
        pass
    raise CodecError("a string holds a lone surrogate, which is not valid Unicode")


def _utf16_key(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def utf16_len(text: str) -> int:
    """The length of ``text`` in UTF-16 code units (Dafny's ``|string|`` in Java and .NET)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _bytes(data: object) -> bytes:
    if type(data) is bytes:
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise CodecError("a binary value must be bytes")


def _number(text: object) -> bytes:
    if type(text) is not str:
        raise CodecError("a number must be given as its decimal text")
    return normalize_number(text).encode("ascii")


def _set_body(members: list[bytes]) -> bytes:
    parts = [_pack_u32(len(members))]
    for member in members:
        parts.append(_pack_u32(len(member)))
        parts.append(member)
    return b"".join(parts)


def _utf16_sorted(strings: Any) -> list[str]:
    """``strings`` (all str) in UTF-16 code-unit order.

    Python orders str by code point, which differs from UTF-16 order only when a character
    outside the Basic Multilingual Plane meets one in U+E000..U+FFFF; ASCII-only input (the
    common case) sorts natively.
    """
    ordered = list(strings)
    if all(text.isascii() for text in ordered):
        ordered.sort()
    else:
        ordered.sort(key=_utf16_key)
    return ordered


def _string_set(values: object) -> list[bytes]:
    if not isinstance(values, (list, tuple, set, frozenset)) or not values:
        raise CodecError("a set must be a non-empty list")
    for value in values:
        if type(value) is not str:
            raise CodecError("a string value must be str")
    members = [_utf8(v) for v in _utf16_sorted(values)]
    if len(set(members)) != len(members):
        raise CodecError("a set holds a duplicate")
    return members


def _number_set(values: object) -> list[bytes]:
    if not isinstance(values, (list, tuple, set, frozenset)) or not values:
        raise CodecError("a set must be a non-empty list")
    # Normalized first, then ordered as strings (UTF-16 order equals byte order for ASCII).
    members = sorted(_number(v) for v in values)
    if len(set(members)) != len(members):
        raise CodecError("a set holds a duplicate")
    return members


def _binary_set(values: object) -> list[bytes]:
    if not isinstance(values, (list, tuple, set, frozenset)) or not values:
        raise CodecError("a set must be a non-empty list")
    members = sorted(_bytes(v) for v in values)
    if len(set(members)) != len(members):
        raise CodecError("a set holds a duplicate")
    return members


def _s(inner: Any, depth: int) -> tuple[bytes, bytes]:
    return TYPE_S, _utf8(inner)


def _n(inner: Any, depth: int) -> tuple[bytes, bytes]:
    return TYPE_N, _number(inner)


def _b(inner: Any, depth: int) -> tuple[bytes, bytes]:
    return TYPE_B, _bytes(inner)


def _bool(inner: Any, depth: int) -> tuple[bytes, bytes]:
    if type(inner) is not bool:
        raise CodecError("a BOOL value must be True or False")
    return TYPE_BOOL, b"\x01" if inner else b"\x00"


def _null(inner: Any, depth: int) -> tuple[bytes, bytes]:
    if inner is not True:
        raise CodecError("a NULL value must be True")
    return TYPE_NULL, b""


def _ss(inner: Any, depth: int) -> tuple[bytes, bytes]:
    return TYPE_SS, _set_body(_string_set(inner))


def _ns(inner: Any, depth: int) -> tuple[bytes, bytes]:
    return TYPE_NS, _set_body(_number_set(inner))


def _bs(inner: Any, depth: int) -> tuple[bytes, bytes]:
    return TYPE_BS, _set_body(_binary_set(inner))


def _list(inner: Any, depth: int) -> tuple[bytes, bytes]:
    if depth >= _MAX_DEPTH:
        raise CodecError("the value is nested too deeply")
    if not isinstance(inner, (list, tuple)):
        raise CodecError("an L value must be a list")
    parts = [_pack_u32(len(inner))]
    append = parts.append
    for element in inner:
        type_id, body = serialize(element, depth + 1)
        append(type_id)
        append(_pack_u32(len(body)))
        append(body)
    return TYPE_L, b"".join(parts)


def _map(inner: Any, depth: int) -> tuple[bytes, bytes]:
    if depth >= _MAX_DEPTH:
        raise CodecError("the value is nested too deeply")
    if type(inner) is not dict and not isinstance(inner, Mapping):
        raise CodecError("an M value must be a mapping")
    keys = list(inner)
    ascii_only = True
    for key in keys:
        if type(key) is not str:
            raise CodecError("map keys must be str")
        if ascii_only and not key.isascii():
            ascii_only = False
    # All-ASCII keys (the common case) sort natively and encode without a failure path.
    if ascii_only:
        keys.sort()
    else:
        keys.sort(key=_utf16_key)
    parts = [_pack_u32(len(keys))]
    append = parts.append
    for key in keys:
        raw_key = key.encode("ascii") if ascii_only else _utf8(key)
        if not 0 < len(raw_key) <= 0xFFFF:
            raise CodecError("a map key is 1 to 65535 bytes of UTF-8")
        type_id, body = serialize(inner[key], depth + 1)
        append(_MAP_KEY_TYPE)
        append(_pack_u32(len(raw_key)))
        append(raw_key)
        append(type_id)
        append(_pack_u32(len(body)))
        append(body)
    return TYPE_M, b"".join(parts)


_SERIALIZERS = {
    "S": _s,
    "N": _n,
    "B": _b,
    "BOOL": _bool,
    "NULL": _null,
    "SS": _ss,
    "NS": _ns,
    "BS": _bs,
    "L": _list,
    "M": _map,
}


def serialize(value: Mapping[str, Any], depth: int = 0) -> tuple[bytes, bytes]:
    """``(type id, body)`` of a DynamoDB-JSON value (``{"S": "x"}``; bytes for ``B``)."""
    if (type(value) is not dict and not isinstance(value, Mapping)) or len(value) != 1:
        raise CodecError("a DynamoDB value is a mapping with exactly one type key")
    ((tag, inner),) = value.items()
    encoder = _SERIALIZERS.get(tag) if type(tag) is str else None
    if encoder is None:
        raise CodecError("unknown DynamoDB type")
    return encoder(inner, depth)


# ------------------------------------------------------------------------------------------
# Decoding


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    raise CodecError("a string is not valid UTF-8")


def _read_set(body: bytes) -> list[bytes]:
    if len(body) < 4:
        raise CodecError("truncated set")
    (count,) = _unpack_u32(body, 0)
    if count == 0:
        raise CodecError("an empty set")
    pos = 4
    end = len(body)
    members = []
    for _ in range(count):
        if pos + 4 > end:
            raise CodecError("truncated set")
        (length,) = _unpack_u32(body, pos)
        pos += 4
        if pos + length > end:
            raise CodecError("truncated set")
        members.append(body[pos : pos + length])
        pos += length
    if pos != end:
        raise CodecError("trailing bytes after a set")
    return members


def _no_duplicates(members: list[Any]) -> None:
    if len(set(members)) != len(members):
        raise CodecError("a set holds a duplicate")


def deserialize(type_id: bytes, body: bytes, depth: int = 0) -> dict[str, Any]:
    """The DynamoDB-JSON value of ``type_id`` and ``body`` (bytes for ``B``)."""
    if type_id == TYPE_S:
        return {"S": _text(body)}
    if type_id == TYPE_N:
        text = _text(body)
        normalize_number(text)  # validates
        return {"N": text}
    if type_id == TYPE_B:
        return {"B": bytes(body)}
    if type_id == TYPE_BOOL:
        if body == b"\x01":
            return {"BOOL": True}
        if body == b"\x00":
            return {"BOOL": False}
        raise CodecError("a BOOL is one byte, 0 or 1")
    if type_id == TYPE_NULL:
        if body:
            raise CodecError("a NULL has no body")
        return {"NULL": True}
    if type_id == TYPE_SS:
        members = _read_set(body)
        _no_duplicates(members)
        return {"SS": [_text(m) for m in members]}
    if type_id == TYPE_NS:
        numbers = [_text(m) for m in _read_set(body)]
        _no_duplicates([normalize_number(n) for n in numbers])
        return {"NS": numbers}
    if type_id == TYPE_BS:
        members = _read_set(body)
        _no_duplicates(members)
        return {"BS": [bytes(m) for m in members]}
    if depth >= _MAX_DEPTH:
        raise CodecError("the value is nested too deeply")
    if type_id == TYPE_L:
        elements, pos = [], 4
        if len(body) < 4:
            raise CodecError("truncated list")
        (count,) = _unpack_u32(body, 0)
        end = len(body)
        for _ in range(count):
            if pos + 6 > end:
                raise CodecError("truncated list")
            element_type = body[pos : pos + 2]
            (length,) = _unpack_u32(body, pos + 2)
            pos += 6
            if pos + length > end:
                raise CodecError("truncated list")
            elements.append(deserialize(element_type, body[pos : pos + length], depth + 1))
            pos += length
        if pos != end:
            raise CodecError("trailing bytes after a list")
        return {"L": elements}
    if type_id == TYPE_M:
        if len(body) < 4:
            raise CodecError("truncated map")
        (count,) = _unpack_u32(body, 0)
        pos, end = 4, len(body)
        entries: dict[str, Any] = {}
        for _ in range(count):
            if pos + 6 > end or body[pos : pos + 2] != _MAP_KEY_TYPE:
                raise CodecError("a map key must be a string")
            (key_length,) = _unpack_u32(body, pos + 2)
            pos += 6
            if key_length == 0 or key_length > 0xFFFF or pos + key_length + 6 > end:
                raise CodecError("truncated map")
            key = _text(body[pos : pos + key_length])
            pos += key_length
            value_type = body[pos : pos + 2]
            (length,) = _unpack_u32(body, pos + 2)
            pos += 6
            if pos + length > end:
                raise CodecError("truncated map")
            if key in entries:
                raise CodecError("a map key is duplicated")
            entries[key] = deserialize(value_type, body[pos : pos + length], depth + 1)
            pos += length
        if pos != end:
            raise CodecError("trailing bytes after a map")
        return {"M": entries}
    raise CodecError("unknown type id")
