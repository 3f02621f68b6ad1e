"""The DB-ESDK header (``aws_dbe_head``): layout, parsing, and the stored encryption context.

Layout (``header.md``; all lengths big-endian)::

    version(1) flavor(1) message_id(32)
    u16 legend_len  legend                 one byte per signed attribute: e, s or c
    u16 ec_count    (u16 klen key u16 vlen value)*   sorted by UTF-8 key
    u8  edk_count   (u16 len provider_id u16 len provider_info u16 len ciphertext)*
    commitment(32)                          HMAC-SHA512(commit key, everything before)[:32]

Only the encryption context entries that cannot be rebuilt from the item are stored (in
practice the ECDSA public key); the reader adds table, key and ``c``-attribute entries back.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ._materials import EncryptedDataKey
from ._suites import DbeAlgorithmSuite

__all__ = [
    "COMMITMENT_LENGTH",
    "LEGEND_ENCRYPT",
    "LEGEND_SIGN",
    "LEGEND_SIGN_AND_INCLUDE",
    "MESSAGE_ID_LENGTH",
    "DbeHeader",
    "HeaderError",
    "parse_header",
    "serialize_context",
]

MESSAGE_ID_LENGTH = 32
COMMITMENT_LENGTH = 32
LEGEND_ENCRYPT = "e"
LEGEND_SIGN = "s"
LEGEND_SIGN_AND_INCLUDE = "c"
_LEGEND_BYTES = frozenset(b"esc")
_U16 = struct.Struct(">H")
_pack_u16 = _U16.pack
_unpack_u16 = _U16.unpack_from


class HeaderError(ValueError):
    """A header that is not well formed (internal; the engine raises a typed error)."""


def serialize_context(encryption_context: Mapping[str, str]) -> bytes:
    """``u16 count`` then the entries sorted by UTF-8 key (``00 00`` for an empty context)."""
    pairs = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in encryption_context.items())
    if len(pairs) > 0xFFFF:
        raise HeaderError("too many encryption context entries")
    out = [_pack_u16(len(pairs))]
    for key, value in pairs:
        if len(key) > 0xFFFF or len(value) > 0xFFFF:
            raise HeaderError("an encryption context entry is too long")
        out.append(_pack_u16(len(key)))
        out.append(key)
        out.append(_pack_u16(len(value)))
        out.append(value)
    return b"".join(out)


def _u16_field(data: bytes) -> bytes:
    if len(data) > 0xFFFF:
        raise HeaderError("a header field is longer than 65535 bytes")
    return _pack_u16(len(data)) + data


@dataclass(frozen=True, slots=True, kw_only=True)
class DbeHeader:
    """The parsed header of a DB-ESDK item: readable without any key.

    ``legend`` has one character per signed attribute in canonical order (``e`` encrypted and
    signed, ``s`` signed, ``c`` signed and in the encryption context);
    ``stored_encryption_context`` is the part of the context kept in the header.
    """

    version: int
    algorithm_suite: DbeAlgorithmSuite
    message_id: bytes
    legend: str
    stored_encryption_context: Mapping[str, str]
    encrypted_data_keys: tuple[EncryptedDataKey, ...]
    commitment: bytes = field(repr=False)

    @property
    def provider_ids(self) -> tuple[str, ...]:
        """The provider id of each encrypted data key (``aws-kms-hierarchy``, a namespace...)."""
        return tuple(e.provider_id.decode("utf-8", "replace") for e in self.encrypted_data_keys)

    def partial_bytes(self) -> bytes:
        """Everything the commitment covers (the header without its last 32 bytes)."""
        return serialize_partial_header(
            version=self.version,
            algorithm_suite=self.algorithm_suite,
            message_id=self.message_id,
            legend=self.legend,
            stored_encryption_context=self.stored_encryption_context,
            encrypted_data_keys=self.encrypted_data_keys,
        )


def serialize_partial_header(
    *,
    version: int,
    algorithm_suite: DbeAlgorithmSuite,
    message_id: bytes,
    legend: str,
    stored_encryption_context: Mapping[str, str],
    encrypted_data_keys: tuple[EncryptedDataKey, ...],
) -> bytes:
    """The header before its commitment."""
    if not 0 < len(encrypted_data_keys) <= 0xFF:
        raise HeaderError("an item has 1 to 255 encrypted data keys")
    parts = [
        bytes((version, algorithm_suite.flavor)),
        message_id,
        _u16_field(legend.encode("ascii")),
        serialize_context(stored_encryption_context),
        bytes((len(encrypted_data_keys),)),
    ]
    for edk in encrypted_data_keys:
        parts.append(_u16_field(edk.provider_id))
        parts.append(_u16_field(edk.provider_info))
        parts.append(_u16_field(edk.ciphertext))
    return b"".join(parts)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    raise HeaderError("an encryption context entry is not valid UTF-8")


def _truncated() -> HeaderError:
    return HeaderError("the header is truncated")


_FLAVORS = {suite.flavor: suite for suite in DbeAlgorithmSuite}


def parse_header(data: bytes) -> DbeHeader:
    """Parse a whole ``aws_dbe_head`` value; raises `HeaderError` on anything malformed."""
    # Offsets into one bytes object rather than a reader object: this runs on every read.
    data = bytes(data)
    end = len(data)
    if end < 1:
        raise _truncated()
    version = data[0]
    if version not in (1, 2):
        raise HeaderError("unknown format version")
    suite = _FLAVORS.get(data[1]) if end > 1 else None
    if suite is None:
        raise HeaderError("unknown format flavor")
    pos = 2 + MESSAGE_ID_LENGTH
    if pos + 2 > end:
        raise _truncated()
    message_id = data[2:pos]
    (length,) = _unpack_u16(data, pos)
    pos += 2
    if pos + length > end:
        raise _truncated()
    raw_legend = data[pos : pos + length]
    pos += length
    if not set(raw_legend) <= _LEGEND_BYTES:
        raise HeaderError("unknown legend character")
    legend = raw_legend.decode("ascii")
    if (LEGEND_SIGN_AND_INCLUDE in legend) != (version == 2):
        raise HeaderError("the format version does not match the legend")
    if pos + 2 > end:
        raise _truncated()
    (count,) = _unpack_u16(data, pos)
    pos += 2
    context: dict[str, str] = {}
    previous = b""
    for index in range(count):
        if pos + 2 > end:
            raise _truncated()
        (length,) = _unpack_u16(data, pos)
        pos += 2
        if pos + length > end:
            raise _truncated()
        raw_key = data[pos : pos + length]
        pos += length
        if pos + 2 > end:
            raise _truncated()
        (length,) = _unpack_u16(data, pos)
        pos += 2
        if pos + length > end:
            raise _truncated()
        raw_value = data[pos : pos + length]
        pos += length
        if index and raw_key <= previous:
            raise HeaderError("encryption context keys are duplicated or out of order")
        previous = raw_key
        context[_text(raw_key)] = _text(raw_value)
    if pos + 1 > end:
        raise _truncated()
    edk_count = data[pos]
    pos += 1
    if edk_count == 0:
        raise HeaderError("an item has at least one encrypted data key")
    edks = []
    for _ in range(edk_count):
        fields = []
        for _ in range(3):
            if pos + 2 > end:
                raise _truncated()
            (length,) = _unpack_u16(data, pos)
            pos += 2
            if pos + length > end:
                raise _truncated()
            fields.append(data[pos : pos + length])
            pos += length
        edks.append(
            EncryptedDataKey(provider_id=fields[0], provider_info=fields[1], ciphertext=fields[2])
        )
    if pos + COMMITMENT_LENGTH > end:
        raise _truncated()
    commitment = data[pos : pos + COMMITMENT_LENGTH]
    pos += COMMITMENT_LENGTH
    if pos != end:
        raise HeaderError("trailing bytes after the header")
    return DbeHeader(
        version=version,
        algorithm_suite=suite,
        message_id=message_id,
        legend=legend,
        stored_encryption_context=MappingProxyType(context),
        encrypted_data_keys=tuple(edks),
        commitment=commitment,
    )
