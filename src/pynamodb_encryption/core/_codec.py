"""The DDBEC attribute serialization: a DynamoDB value to the bytes that are encrypted or signed.

Layout (see docs/wire-format.md): a two-byte tag (``0x00`` + type letter), then a body whose
lengths and counts are unsigned 32-bit big-endian. Sets and map entries are sorted, so the
same value always gives the same bytes.

Three *dialects* exist because the two reference implementations canonicalize differently:

* ``CANONICAL`` (what we write): numbers normalized without losing a digit, zero without a
  sign, sets and map keys in UTF-8 byte order, binary sets in unsigned byte order. For every
  value DynamoDB accepts, this equals the Python reference except ``-0`` and numbers of more
  than 28 significant digits (where the reference rounds).
* ``PYTHON_LEGACY``: the Python reference, keeping ``-0`` in what it signs. It rounds numbers
  of more than 28 digits before signing; this dialect refuses them instead (fail closed).
* ``JAVA``: the Java reference, ordering strings by UTF-16 code unit and binary sets by
  *signed* byte.

Writers use ``CANONICAL``; verifiers fall back to the other two only when an item holds a value
on which they differ (see `dialect_sensitive`).
"""

from __future__ import annotations

import enum
import operator
import re
import struct
from collections.abc import Callable, Mapping
from decimal import Context, Decimal, InvalidOperation
from typing import Any

__all__ = [
    "MAX_ITEM_BYTES",
    "MAX_NESTING",
    "CodecError",
    "Dialect",
    "deserialize",
    "dialect_sensitive",
    "normalize_number",
    "serialize",
]

#: DynamoDB's limits, which the writer and the reader of an encrypted value enforce alike (an
#: encrypted value is opaque to DynamoDB, so without this a value it would refuse in the clear
#: could be written and, past the reader's bound, never read back). Nesting counts the item as
#: a level: a top-level value holds at most 31 nested lists or maps (measured on DynamoDB Local).
MAX_NESTING = 32
#: DynamoDB's item size limit, in bytes.
MAX_ITEM_BYTES = 400 * 1024
# Lists and maps may sit at depth 0 (a top-level value) to 30.
_MAX_CONTAINER_DEPTH = MAX_NESTING - 2
_TOO_DEEP = f"the value nests lists or maps deeper than DynamoDB's {MAX_NESTING} levels"

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
# Likewise a plain decimal fraction without trailing zeros or a superfluous leading zero; at
# most 39 characters keeps it within 38 digits (checked in normalize_number).
_PLAIN_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]*[1-9]\Z")
_NUMBER_SYNTAX = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_MAX_DIGITS = 38
# The Python reference normalizes in the default decimal context of 28 digits.
_LEGACY_CONTEXT = Context(prec=28)
_WIDE_CONTEXT = Context(prec=80)


def _parse_decimal(text: str) -> Decimal:
    if not isinstance(text, str) or not _NUMBER_SYNTAX.match(text):
        raise CodecError("not a DynamoDB number")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid syntax
        raise CodecError("not a DynamoDB number") from exc
    # DynamoDB's range. Without this bound "1E999999999" (which a reader may meet in a signed
    # attribute before the signature is checked) would expand to a billion digits.
    if value and not -130 <= value.adjusted() <= 125:
        raise CodecError("a DynamoDB number lies between 1E-130 and 9.9...E+125 in magnitude")
    return value


def normalize_number(text: str) -> str:
    """Canonical text of a DynamoDB number: no exponent, no trailing zeros, no digit lost."""
    if type(text) is str and (
        _PLAIN_INT.match(text) or (len(text) <= 39 and _PLAIN_DECIMAL.match(text))
    ):
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
    value = _parse_decimal(text)
    # The Python reference rounds to 28 digits before signing. Accepting such a signature for a
    # longer number would leave the digits past the 28th unprotected (an attacker could turn a
    # signed "1" into "1.00000000000000000000000000001"), so the fallback refuses to round.
    if len(value.normalize(_WIDE_CONTEXT).as_tuple().digits) > _LEGACY_CONTEXT.prec:
        raise CodecError("the Python reference rounds numbers of more than 28 digits")
    return format(value.normalize(_LEGACY_CONTEXT), "f")


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
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates. Raised outside the handler: even with "from None" the handled
        # UnicodeEncodeError stays in __context__, and its .object is the whole plaintext.
        pass
    raise CodecError("a string holds a lone surrogate, which is not valid Unicode")


def _as_bytes(data: object) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise CodecError("a binary value must be bytes")


def _lv(data: bytes) -> bytes:
    return _pack_u32(len(data)) + data


def serialize(attribute: Mapping[str, Any], dialect: Dialect = Dialect.CANONICAL) -> bytes:
    """Serialize one DynamoDB-JSON value (``{"S": "x"}``) to DDBEC bytes."""
    return _serialize(attribute, _CANONICAL_WRITERS if dialect is _CANONICAL else _WRITERS[dialect])


# Serialization runs for every encrypted or signed value on every write and every read (the
# string-to-sign), so it dispatches on the type tag through a table per dialect instead of a
# chain of comparisons, and builds each value with one header pack.
_Writer = Callable[[Any, "dict[str, Any]"], bytes]
_HEAD = struct.Struct(">2sI").pack  # a type tag and the u32 length or count that follows it
_first = operator.itemgetter(0)
_CANONICAL = Dialect.CANONICAL


def _serialize(attribute: Mapping[str, Any], writers: dict[str, _Writer]) -> bytes:
    # ``type(...) is dict`` first: it is what callers pass, and an ABC isinstance is slow.
    if (type(attribute) is not dict and not isinstance(attribute, Mapping)) or len(attribute) != 1:
        raise CodecError("a DynamoDB value is a mapping with exactly one type key")
    (tag,) = attribute  # faster than unpacking .items()
    try:
        writer = writers.get(tag)
    except TypeError:  # an unhashable key in a custom mapping
        writer = None
    if writer is None:
        raise CodecError(f"unknown DynamoDB type {tag!r}")
    return writer(attribute[tag], writers)


def _encode_str(value: Any) -> bytes:
    # ASCII text (the common case) cannot fail to encode; _utf8 does the checks otherwise.
    return value.encode() if type(value) is str and value.isascii() else _utf8(value)


def _write_s(value: Any, writers: dict[str, _Writer]) -> bytes:
    data = value.encode() if type(value) is str and value.isascii() else _utf8(value)
    return _HEAD(TAG_S, len(data)) + data


def _write_n(value: Any, writers: dict[str, _Writer]) -> bytes:
    data = normalize_number(value).encode("ascii")
    return _HEAD(TAG_N, len(data)) + data


def _write_n_legacy(value: Any, writers: dict[str, _Writer]) -> bytes:
    data = _normalize_legacy(value).encode("ascii")
    return _HEAD(TAG_N, len(data)) + data


def _write_b(value: Any, writers: dict[str, _Writer]) -> bytes:
    data = _as_bytes(value)
    return _HEAD(TAG_B, len(data)) + data


def _write_bool(value: Any, writers: dict[str, _Writer]) -> bytes:
    if not isinstance(value, bool):
        raise CodecError("a BOOL value must be bool")
    return b"\x00?\x01" if value else b"\x00?\x00"


def _write_null(value: Any, writers: dict[str, _Writer]) -> bytes:
    if value is not True:
        raise CodecError("a NULL value must be True")
    return TAG_NULL


def _write_l(value: Any, writers: dict[str, _Writer]) -> bytes:
    if not isinstance(value, (list, tuple)):
        raise CodecError("an L value must be a list")
    return _HEAD(TAG_L, len(value)) + b"".join([_serialize(v, writers) for v in value])


def _map_entries(value: Any) -> list[tuple[bytes, str, Any]]:
    if type(value) is not dict and not isinstance(value, Mapping):
        raise CodecError("an M value must be a mapping")
    return [(_encode_str(k), k, v) for k, v in value.items()]


def _write_entries(entries: list[tuple[bytes, str, Any]], writers: dict[str, _Writer]) -> bytes:
    parts = [_HEAD(TAG_M, len(entries))]
    for key_bytes, _, item in entries:
        parts.append(_HEAD(TAG_S, len(key_bytes)))
        parts.append(key_bytes)
        parts.append(_serialize(item, writers))
    return b"".join(parts)


def _write_m(value: Any, writers: dict[str, _Writer]) -> bytes:
    entries = _map_entries(value)
    entries.sort(key=_first)  # UTF-8 byte order of the keys
    return _write_entries(entries, writers)


def _write_m_java(value: Any, writers: dict[str, _Writer]) -> bytes:
    entries = _map_entries(value)
    entries.sort(key=lambda e: _utf16_key(e[1]))
    return _write_entries(entries, writers)


def _set_members(tag: bytes, encoded: list[bytes]) -> bytes:
    parts = [_HEAD(tag, len(encoded))]
    for member in encoded:
        parts.append(_pack_u32(len(member)))
        parts.append(member)
    return b"".join(parts)


def _check_set(value: Any) -> None:
    if type(value) is not list and (
        isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__")
    ):
        raise CodecError("a set value must be a collection")


def _write_ss(value: Any, writers: dict[str, _Writer]) -> bytes:
    _check_set(value)
    encoded = [_encode_str(s) for s in value]
    encoded.sort()
    return _set_members(TAG_SS, encoded)


def _write_ss_java(value: Any, writers: dict[str, _Writer]) -> bytes:
    _check_set(value)
    strings = sorted(value, key=_utf16_key)
    return _set_members(TAG_SS, [_utf8(s) for s in strings])


def _write_ns(value: Any, writers: dict[str, _Writer]) -> bytes:
    _check_set(value)
    encoded = [normalize_number(n).encode("ascii") for n in value]
    encoded.sort()
    return _set_members(TAG_NS, encoded)


def _write_ns_legacy(value: Any, writers: dict[str, _Writer]) -> bytes:
    _check_set(value)
    encoded = [_normalize_legacy(n).encode("ascii") for n in value]
    encoded.sort()
    return _set_members(TAG_NS, encoded)


def _write_bs(value: Any, writers: dict[str, _Writer]) -> bytes:
    _check_set(value)
    encoded = [_as_bytes(b) for b in value]
    encoded.sort()
    return _set_members(TAG_BS, encoded)


def _write_bs_java(value: Any, writers: dict[str, _Writer]) -> bytes:
    _check_set(value)
    encoded = [_as_bytes(b) for b in value]
    encoded.sort(key=_signed_bytes_key)
    return _set_members(TAG_BS, encoded)


_CANONICAL_WRITERS: dict[str, _Writer] = {
    "S": _write_s,
    "N": _write_n,
    "B": _write_b,
    "BOOL": _write_bool,
    "NULL": _write_null,
    "L": _write_l,
    "M": _write_m,
    "SS": _write_ss,
    "NS": _write_ns,
    "BS": _write_bs,
}
_WRITERS: dict[Dialect, dict[str, _Writer]] = {
    Dialect.CANONICAL: _CANONICAL_WRITERS,
    Dialect.PYTHON_LEGACY: {**_CANONICAL_WRITERS, "N": _write_n_legacy, "NS": _write_ns_legacy},
    Dialect.JAVA: {
        **_CANONICAL_WRITERS,
        "M": _write_m_java,
        "SS": _write_ss_java,
        "BS": _write_bs_java,
    },
}


def _depth_limited(writers: dict[str, _Writer]) -> dict[str, _Writer]:
    """The table for a top-level value: one table per depth, whose list and map writers hand
    their members the next depth's table, and at the deepest refuse. The depth check costs
    nothing per scalar and one call per list or map, with no extra pass over the value."""

    def refuse(value: Any, children: dict[str, _Writer]) -> bytes:
        raise CodecError(_TOO_DEEP)

    def nest(write: _Writer, children: dict[str, _Writer]) -> _Writer:
        return lambda value, _: write(value, children)

    table = {**writers, "L": refuse, "M": refuse}
    for _ in range(_MAX_CONTAINER_DEPTH + 1):
        table = {**writers, "L": nest(writers["L"], table), "M": nest(writers["M"], table)}
    return table


_CANONICAL_WRITERS = _depth_limited(_CANONICAL_WRITERS)
_WRITERS = {dialect: _depth_limited(writers) for dialect, writers in _WRITERS.items()}


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
    # (Checked on every failed first verification, e.g. each item a re-encryption rewrites:
    # isascii() and max() run in C, a generator over the characters did not.)
    return isinstance(text, str) and not text.isascii() and max(text) > "\uffff"


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
#
# It runs once per encrypted attribute on every read, so it works on ``bytes`` with
# ``unpack_from`` and a dispatch table on the two tag bytes. Every length is checked against
# the buffer before it is used, and counts before any per-member work.


def deserialize(data: bytes) -> dict[str, Any]:
    """Parse DDBEC bytes back to one DynamoDB-JSON value (numbers normalized, sets sorted)."""
    buf = data if type(data) is bytes else bytes(memoryview(data))
    if len(buf) > MAX_ITEM_BYTES:
        # The item holding its ciphertext would have been larger still: no writer of ours made it.
        raise CodecError("serialized value is larger than a DynamoDB item")
    value, end = _read(buf, 0, 0)
    if end != len(buf):
        raise CodecError("trailing bytes after a serialized value")
    return value


_TRUNCATED = "serialized value is truncated"


def _need(buf: bytes, pos: int, n: int) -> None:
    if n < 0 or pos + n > len(buf):
        raise CodecError(_TRUNCATED)


def _read_u32(buf: bytes, pos: int) -> tuple[int, int]:
    end = pos + 4
    if end > len(buf):
        raise CodecError(_TRUNCATED)
    return _unpack_u32(buf, pos)[0], end


def _read_lv(buf: bytes, pos: int) -> tuple[bytes, int]:
    start = pos + 4
    if start > len(buf):
        raise CodecError(_TRUNCATED)
    stop = start + _unpack_u32(buf, pos)[0]
    if stop > len(buf):
        raise CodecError(_TRUNCATED)
    return buf[start:stop], stop


def _read_text(buf: bytes, pos: int) -> tuple[str, int]:
    start = pos + 4
    if start > len(buf):
        raise CodecError(_TRUNCATED)
    stop = start + _unpack_u32(buf, pos)[0]
    if stop > len(buf):
        raise CodecError(_TRUNCATED)
    try:
        return buf[start:stop].decode(), stop
    except UnicodeDecodeError:
        # Raised outside the handler: the error's .object holds the decrypted bytes.
        pass
    raise CodecError("string is not valid UTF-8")


def _read_number(buf: bytes, pos: int) -> tuple[str, int]:
    raw, pos = _read_lv(buf, pos)
    try:
        text: str | None = raw.decode("ascii")
    except UnicodeDecodeError:
        # Raised outside the handler: the error's .object holds the decrypted bytes.
        text = None
    if text is None:
        raise CodecError("number is not ASCII")
    return normalize_number(text), pos


def _read(buf: bytes, pos: int, depth: int) -> tuple[dict[str, Any], int]:
    tag = buf[pos : pos + 2]
    if tag == TAG_S:
        # Strings are most of the values in a typical item: read them inline.
        start = pos + 6
        if start > len(buf):
            raise CodecError(_TRUNCATED)
        stop = start + _unpack_u32(buf, pos + 2)[0]
        if stop > len(buf):
            raise CodecError(_TRUNCATED)
        try:
            return {"S": buf[start:stop].decode()}, stop
        except UnicodeDecodeError:
            # Raised outside the handler: the error's .object holds the decrypted bytes.
            pass
        raise CodecError("string is not valid UTF-8")
    if tag == TAG_N:
        start = pos + 6
        if start > len(buf):
            raise CodecError(_TRUNCATED)
        stop = start + _unpack_u32(buf, pos + 2)[0]
        if stop > len(buf):
            raise CodecError(_TRUNCATED)
        try:
            text: str | None = buf[start:stop].decode("ascii")
        except UnicodeDecodeError:
            # Raised outside the handler: the error's .object holds the decrypted bytes.
            text = None
        if text is None:
            raise CodecError("number is not ASCII")
        return {"N": normalize_number(text)}, stop
    reader = _READERS.get(tag)
    if reader is None:
        if pos + 2 > len(buf):
            raise CodecError(_TRUNCATED)
        raise CodecError("unknown type tag in serialized value")
    return reader(buf, pos + 2, depth)


def _read_b(buf: bytes, pos: int, depth: int) -> tuple[dict[str, Any], int]:
    start = pos + 4
    if start > len(buf):
        raise CodecError(_TRUNCATED)
    stop = start + _unpack_u32(buf, pos)[0]
    if stop > len(buf):
        raise CodecError(_TRUNCATED)
    return {"B": buf[start:stop]}, stop


def _read_bool(buf: bytes, pos: int, depth: int) -> tuple[dict[str, Any], int]:
    _need(buf, pos, 1)
    flag = buf[pos]
    if flag not in (0, 1):
        raise CodecError("BOOL byte must be 0 or 1")
    return {"BOOL": flag == 1}, pos + 1


def _read_null(buf: bytes, pos: int, depth: int) -> tuple[dict[str, Any], int]:
    return {"NULL": True}, pos


def _read_set(
    tag: str, reader: Callable[[bytes, int], tuple[Any, int]]
) -> Callable[[bytes, int, int], tuple[dict[str, Any], int]]:
    def read(buf: bytes, pos: int, depth: int) -> tuple[dict[str, Any], int]:
        count, pos = _read_u32(buf, pos)
        _need(buf, pos, 4 * count)
        members: list[Any] = []
        for _ in range(count):
            member, pos = reader(buf, pos)
            members.append(member)
        # Plain sort: for decoded UTF-8 strings (SS) and normalized ASCII numbers (NS) code
        # point order is UTF-8 byte order; binary members (BS) sort as unsigned bytes.
        members.sort()
        return {tag: members}, pos

    return read


def _read_l(buf: bytes, pos: int, depth: int) -> tuple[dict[str, Any], int]:
    if depth > _MAX_CONTAINER_DEPTH:
        raise CodecError(_TOO_DEEP)
    count, pos = _read_u32(buf, pos)
    _need(buf, pos, 2 * count)
    items: list[dict[str, Any]] = []
    for _ in range(count):
        item, pos = _read(buf, pos, depth + 1)
        items.append(item)
    return {"L": items}, pos


def _read_m(buf: bytes, pos: int, depth: int) -> tuple[dict[str, Any], int]:
    if depth > _MAX_CONTAINER_DEPTH:
        raise CodecError(_TOO_DEEP)
    count, pos = _read_u32(buf, pos)
    _need(buf, pos, 8 * count)
    entries: dict[str, Any] = {}
    size = len(buf)
    for _ in range(count):
        if buf[pos : pos + 2] != TAG_S:
            _need(buf, pos, 2)
            raise CodecError("map key is not a string")
        # The key is read inline (as _read_text would): maps are the deepest values.
        start = pos + 6
        if start > size:
            raise CodecError(_TRUNCATED)
        stop = start + _unpack_u32(buf, pos + 2)[0]
        if stop > size:
            raise CodecError(_TRUNCATED)
        try:
            key: str | None = buf[start:stop].decode()
        except UnicodeDecodeError:
            # Raised outside the handler: the error's .object holds the decrypted bytes.
            key = None
        if key is None:
            raise CodecError("string is not valid UTF-8")
        entries[key], pos = _read(buf, stop, depth + 1)
    return {"M": entries}, pos


# S and N are read inline by _read.
_READERS: dict[bytes, Callable[[bytes, int, int], tuple[dict[str, Any], int]]] = {
    TAG_B: _read_b,
    TAG_BOOL: _read_bool,
    TAG_NULL: _read_null,
    TAG_SS: _read_set("SS", _read_text),
    TAG_NS: _read_set("NS", _read_number),
    TAG_BS: _read_set("BS", _read_lv),
    TAG_L: _read_l,
    TAG_M: _read_m,
}
