"""The DDBEC attribute serialization: a DynamoDB value to the bytes that are encrypted or signed.

Layout (see docs/wire-format.md): a two-byte tag (``0x00`` + type letter), then a body whose
lengths and counts are unsigned 32-bit big-endian. Sets and map entries are sorted, so the
same value always gives the same bytes.

Three *dialects* exist because the two reference implementations canonicalize differently:

* ``CANONICAL`` (what we write): numbers normalized without losing a digit, zero without a
  sign, sets and map keys in UTF-8 byte order, binary sets in unsigned byte order. For every
  value DynamoDB accepts, this equals the Python reference except ``-0`` and numbers of more
  than 28 significant digits (where the reference rounds).
* ``PYTHON_LEGACY``: the Python reference, rounding to 28 digits and keeping ``-0``.
* ``JAVA``: the Java reference, ordering strings by UTF-16 code unit and binary sets by
  *signed* byte.

Writers use ``CANONICAL``; verifiers fall back to the other two only when an item holds a value
on which they differ (see :func:`dialect_sensitive`).
"""

from __future__ import annotations

import enum
import re
import struct
from collections.abc import Callable, Mapping
from decimal import Context, Decimal, InvalidOperation
from typing import Any

__all__ = [
    "CodecError",
    "Dialect",
    "deserialize",
    "dialect_sensitive",
    "normalize_number",
    "serialize",
]

_U32 = struct.Struct(">I")
_pack_u32 = _U32.pack
_unpack_u32 = _U32.unpack_from


class CodecError(ValueError):
    """A value that cannot be serialized, or bytes that are not a serialized value.

    Internal: the item encryptor turns it into an EncryptionError/DecryptionError that names
    the attribute. Messages never include the value.
    """


class Dialect(enum.Enum):
    CANONICAL = "canonical"
    PYTHON_LEGACY = "python-legacy"
    JAVA = "java"


TAG_S = b"\x00s"
TAG_N = b"\x00n"
TAG_B = b"\x00b"
TAG_BOOL = b"\x00?"
TAG_NULL = b"\x00\x00"
TAG_SS = b"\x00S"
TAG_NS = b"\x00N"
TAG_BS = b"\x00B"
TAG_L = b"\x00L"
TAG_M = b"\x00M"

# A plain integer with no leading zero and at most 38 digits is already canonical: the common
# case skips Decimal entirely.
_PLAIN_INT = re.compile(r"-?[1-9][0-9]{0,37}\Z")
_NUMBER_SYNTAX = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_MAX_DIGITS = 38
# The Python reference normalizes in the default decimal context of 28 digits.
_LEGACY_CONTEXT = Context(prec=28)


def _parse_decimal(text: str) -> Decimal:
    if not isinstance(text, str) or not _NUMBER_SYNTAX.match(text):
        raise CodecError("not a DynamoDB number")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid syntax
        raise CodecError("not a DynamoDB number") from exc


def normalize_number(text: str) -> str:
    """Canonical text of a DynamoDB number: no exponent, no trailing zeros, no digit lost."""
    if _PLAIN_INT.match(text):
        return text
    value = _parse_decimal(text)
    if not value:
        return "0"
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    end = len(digits)
    while digits[end - 1] == 0:
        end -= 1
    if end > _MAX_DIGITS:
        raise CodecError("a DynamoDB number has at most 38 significant digits")
    exponent += len(digits) - end
    return format(Decimal((sign, digits[:end], exponent)), "f")


def _normalize_legacy(text: str) -> str:
    return format(_parse_decimal(text).normalize(_LEGACY_CONTEXT), "f")


def _utf16_key(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


_SIGN_FLIP = bytes((b ^ 0x80) for b in range(256))


def _signed_bytes_key(data: bytes) -> bytes:
    # Java's ByteBuffer.compareTo compares signed bytes: flipping the top bit maps that order
    # onto Python's unsigned comparison.
    return data.translate(_SIGN_FLIP)


def _utf8(text: object) -> bytes:
    if not isinstance(text, str):
        raise CodecError("a string value must be str")
    return text.encode("utf-8")


def _as_bytes(data: object) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise CodecError("a binary value must be bytes")


def _lv(data: bytes) -> bytes:
    return _pack_u32(len(data)) + data


def _members(encoded: list[bytes], key: Callable[[bytes], bytes] | None) -> bytes:
    encoded.sort(key=key)
    parts = [_pack_u32(len(encoded))]
    for member in encoded:
        parts.append(_pack_u32(len(member)))
        parts.append(member)
    return b"".join(parts)


def serialize(attribute: Mapping[str, Any], dialect: Dialect = Dialect.CANONICAL) -> bytes:
    """Serialize one DynamoDB-JSON value (``{"S": "x"}``) to DDBEC bytes."""
    if not isinstance(attribute, Mapping) or len(attribute) != 1:
        raise CodecError("a DynamoDB value is a mapping with exactly one type key")
    ((tag, value),) = attribute.items()
    if tag == "S":
        return TAG_S + _lv(_utf8(value))
    if tag == "N":
        if dialect is Dialect.PYTHON_LEGACY:
            return TAG_N + _lv(_normalize_legacy(value).encode("ascii"))
        return TAG_N + _lv(normalize_number(value).encode("ascii"))
    if tag == "B":
        return TAG_B + _lv(_as_bytes(value))
    if tag == "BOOL":
        if not isinstance(value, bool):
            raise CodecError("a BOOL value must be bool")
        return b"\x00?\x01" if value else b"\x00?\x00"
    if tag == "NULL":
        if value is not True:
            raise CodecError("a NULL value must be True")
        return TAG_NULL
    if tag == "L":
        if not isinstance(value, (list, tuple)):
            raise CodecError("an L value must be a list")
        return TAG_L + _pack_u32(len(value)) + b"".join(serialize(v, dialect) for v in value)
    if tag == "M":
        if not isinstance(value, Mapping):
            raise CodecError("an M value must be a mapping")
        entries = [(_utf8(k), k, v) for k, v in value.items()]
        if dialect is Dialect.JAVA:
            entries.sort(key=lambda e: _utf16_key(e[1]))
        else:
            entries.sort(key=lambda e: e[0])
        parts = [TAG_M, _pack_u32(len(entries))]
        for key_bytes, _, item in entries:
            parts.append(TAG_S + _lv(key_bytes))
            parts.append(serialize(item, dialect))
        return b"".join(parts)
    if tag in ("SS", "NS", "BS"):
        if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
            raise CodecError("a set value must be a collection")
        if tag == "SS":
            if dialect is Dialect.JAVA:
                strings = sorted(value, key=_utf16_key)
                return TAG_SS + _members([_utf8(s) for s in strings], None)
            return TAG_SS + _members([_utf8(s) for s in value], None)
        if tag == "NS":
            norm = _normalize_legacy if dialect is Dialect.PYTHON_LEGACY else normalize_number
            return TAG_NS + _members([norm(n).encode("ascii") for n in value], None)
        key = _signed_bytes_key if dialect is Dialect.JAVA else None
        return TAG_BS + _members([_as_bytes(b) for b in value], key)
    raise CodecError(f"unknown DynamoDB type {tag!r}")


def _members_of(value: Any) -> list[Any]:
    return list(value)


def dialect_sensitive(attribute: Mapping[str, Any]) -> bool:
    """True when some dialect may serialize this value differently from ``CANONICAL``.

    Cheap screen so that verification retries other dialects only where they can matter.
    """
    ((tag, value),) = attribute.items()
    if tag == "N":
        return _number_sensitive(value)
    if tag == "NS":
        return any(_number_sensitive(v) for v in value)
    if tag == "SS":
        return any(_string_sensitive(s) for s in value)
    if tag == "BS":
        return any(any(byte >= 0x80 for byte in _as_bytes(b)) for b in value)
    if tag == "L":
        return any(dialect_sensitive(v) for v in value)
    if tag == "M":
        return any(_string_sensitive(k) or dialect_sensitive(v) for k, v in value.items())
    return False


def _number_sensitive(text: object) -> bool:
    if not isinstance(text, str) or (_PLAIN_INT.match(text) and len(text.lstrip("-")) <= 28):
        return False
    try:
        value = _parse_decimal(text)
    except CodecError:
        return False
    return (value.is_zero() and value.is_signed()) or len(
        value.normalize(Context(prec=60)).as_tuple().digits
    ) > 28


def _string_sensitive(text: object) -> bool:
    # UTF-16 and code-point orders disagree only between supplementary characters
    # (surrogate pairs) and U+E000..U+FFFF.
    return isinstance(text, str) and any(ord(c) > 0xFFFF for c in text)


def names_sensitive(names: Any) -> bool:
    """True when attribute-name order differs between Java (UTF-16) and Python (code point)."""
    return any(_string_sensitive(n) for n in names)


def sort_names(names: Any, dialect: Dialect) -> list[str]:
    """Attribute names in the order the string-to-sign uses."""
    if dialect is Dialect.JAVA:
        return sorted(names, key=_utf16_key)
    return sorted(names)


# ---------------------------------------------------------------------------------------------
# Deserialization


def deserialize(data: bytes) -> dict[str, Any]:
    """Parse DDBEC bytes back to one DynamoDB-JSON value (numbers normalized, sets sorted)."""
    value, end = _read(memoryview(data), 0, 0)
    if end != len(data):
        raise CodecError("trailing bytes after a serialized value")
    return value


_MAX_DEPTH = 64


def _need(buf: memoryview, pos: int, n: int) -> None:
    if n < 0 or pos + n > len(buf):
        raise CodecError("serialized value is truncated")


def _read_u32(buf: memoryview, pos: int) -> tuple[int, int]:
    _need(buf, pos, 4)
    return _unpack_u32(buf, pos)[0], pos + 4


def _read_lv(buf: memoryview, pos: int) -> tuple[bytes, int]:
    length, pos = _read_u32(buf, pos)
    _need(buf, pos, length)
    return bytes(buf[pos : pos + length]), pos + length


def _read_text(buf: memoryview, pos: int) -> tuple[str, int]:
    raw, pos = _read_lv(buf, pos)
    try:
        return raw.decode("utf-8"), pos
    except UnicodeDecodeError as exc:
        raise CodecError("string is not valid UTF-8") from exc


def _read_number(buf: memoryview, pos: int) -> tuple[str, int]:
    raw, pos = _read_lv(buf, pos)
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise CodecError("number is not ASCII") from exc
    return normalize_number(text), pos


def _read(buf: memoryview, pos: int, depth: int) -> tuple[dict[str, Any], int]:
    if depth > _MAX_DEPTH:
        raise CodecError("serialized value nests too deeply")
    _need(buf, pos, 2)
    tag = bytes(buf[pos : pos + 2])
    pos += 2
    if tag == TAG_S:
        text, pos = _read_text(buf, pos)
        return {"S": text}, pos
    if tag == TAG_N:
        number, pos = _read_number(buf, pos)
        return {"N": number}, pos
    if tag == TAG_B:
        raw, pos = _read_lv(buf, pos)
        return {"B": raw}, pos
    if tag == TAG_BOOL:
        _need(buf, pos, 1)
        flag = buf[pos]
        if flag not in (0, 1):
            raise CodecError("BOOL byte must be 0 or 1")
        return {"BOOL": flag == 1}, pos + 1
    if tag == TAG_NULL:
        return {"NULL": True}, pos
    if tag in (TAG_SS, TAG_NS, TAG_BS):
        count, pos = _read_u32(buf, pos)
        _need(buf, pos, 4 * count)
        members: list[Any] = []
        reader = _read_text if tag == TAG_SS else _read_number if tag == TAG_NS else _read_lv
        for _ in range(count):
            member, pos = reader(buf, pos)
            members.append(member)
        if tag == TAG_SS:
            members.sort(key=_utf8)
            return {"SS": members}, pos
        if tag == TAG_NS:
            members.sort(key=_utf8)
            return {"NS": members}, pos
        members.sort()
        return {"BS": members}, pos
    if tag == TAG_L:
        count, pos = _read_u32(buf, pos)
        _need(buf, pos, 2 * count)
        items: list[dict[str, Any]] = []
        for _ in range(count):
            item, pos = _read(buf, pos, depth + 1)
            items.append(item)
        return {"L": items}, pos
    if tag == TAG_M:
        count, pos = _read_u32(buf, pos)
        _need(buf, pos, 8 * count)
        entries: dict[str, Any] = {}
        for _ in range(count):
            _need(buf, pos, 2)
            if bytes(buf[pos : pos + 2]) != TAG_S:
                raise CodecError("map key is not a string")
            key, pos = _read_text(buf, pos + 2)
            entries[key], pos = _read(buf, pos, depth + 1)
        return {"M": entries}, pos
    raise CodecError("unknown type tag in serialized value")
