"""Plain Python values <-> DynamoDB JSON, with the same rules as boto3's type (de)serializer.

The core may not import boto3, and our rules differ in two ways that matter for a crypto
library: floats are refused (they would silently change in transit) and binary values come
back as plain ``bytes``.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from decimal import Decimal
from typing import Any, Protocol

from ..errors import DecryptionError, EncryptionError
from ._codec import MAX_NESTING, CodecError, normalize_number

__all__ = ["PythonValuesMixin", "from_ddb", "from_ddb_item", "to_ddb", "to_ddb_item"]


def _number_text(value: int | Decimal) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise CodecError("NaN and Infinity cannot be stored in DynamoDB")
        return normalize_number(str(value))
    return str(value)


# A list or map at this depth (a top-level value is at 0) would be one level too many; the
# bound also keeps a self-referencing or absurdly deep value from ending in RecursionError.
_MAX_CONTAINER_DEPTH = MAX_NESTING - 2


def to_ddb(value: Any, _depth: int = 0) -> dict[str, Any]:
    """One Python value to a DynamoDB-JSON value."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (int, Decimal)):
        return {"N": _number_text(value)}
    if isinstance(value, float):
        raise CodecError("float values are not supported: use decimal.Decimal")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"B": bytes(value)}
    if isinstance(value, Mapping):
        if _depth > _MAX_CONTAINER_DEPTH:
            raise CodecError(f"the value nests lists or maps deeper than {MAX_NESTING} levels")
        return {"M": {_key(k): to_ddb(v, _depth + 1) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        if _depth > _MAX_CONTAINER_DEPTH:
            raise CodecError(f"the value nests lists or maps deeper than {MAX_NESTING} levels")
        return {"L": [to_ddb(v, _depth + 1) for v in value]}
    if isinstance(value, Set):
        return _set(value)
    if _is_binary(value):
        return {"B": bytes(value)}
    raise CodecError(f"unsupported Python type {type(value).__name__}")


def _is_binary(value: object) -> bool:
    # boto3's resource API hands binary values back as boto3.dynamodb.types.Binary, which is
    # not bytes but converts with bytes(); the core may not import boto3, so duck-type it.
    return isinstance(value, (bytes, bytearray, memoryview)) or (
        hasattr(type(value), "__bytes__") and not isinstance(value, (str, int, Decimal))
    )


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise CodecError("map keys must be str")
    return key


def _set(value: Set[Any]) -> dict[str, Any]:
    if not value:
        raise CodecError("empty sets cannot be stored in DynamoDB")
    if all(isinstance(v, str) for v in value):
        return {"SS": list(value)}
    if all(isinstance(v, (int, Decimal)) and not isinstance(v, bool) for v in value):
        return {"NS": [_number_text(v) for v in value]}
    if all(_is_binary(v) for v in value):
        return {"BS": [bytes(v) for v in value]}
    raise CodecError("a set must hold only strings, only numbers, or only bytes")


def from_ddb(value: Mapping[str, Any]) -> Any:
    """One DynamoDB-JSON value to a Python value (numbers as ``Decimal``, sets as ``set``)."""
    if not isinstance(value, Mapping) or len(value) != 1:
        raise CodecError("a DynamoDB value is a mapping with exactly one type key")
    ((tag, inner),) = value.items()
    if tag == "S":
        return inner
    if tag == "N":
        return Decimal(inner)
    if tag == "B":
        return bytes(inner)
    if tag == "BOOL":
        return bool(inner)
    if tag == "NULL":
        return None
    if tag == "L":
        return [from_ddb(v) for v in inner]
    if tag == "M":
        return {k: from_ddb(v) for k, v in inner.items()}
    if tag == "SS":
        return set(inner)
    if tag == "NS":
        return {Decimal(v) for v in inner}
    if tag == "BS":
        return {bytes(v) for v in inner}
    raise CodecError(f"unknown DynamoDB type {tag!r}")


def to_ddb_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A whole item of Python values to DynamoDB JSON."""
    if not isinstance(item, Mapping):
        raise CodecError("an item must be a mapping")
    return {_key(k): to_ddb(v) for k, v in item.items()}


def from_ddb_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A whole DynamoDB-JSON item to Python values."""
    return {k: from_ddb(v) for k, v in item.items()}


class _DynamoDbJsonEncryptor(Protocol):
    @property
    def table_name(self) -> str: ...

    def encrypt(self, item: Mapping[str, Any]) -> dict[str, Any]: ...

    def decrypt(self, item: Mapping[str, Any]) -> dict[str, Any]: ...


class PythonValuesMixin:
    """``encrypt_python`` / ``decrypt_python`` for an encryptor of DynamoDB JSON items.

    Every item encryptor (legacy, DB-ESDK, with beacons) offers the same plain-value API with
    the same conversion errors; this is the one place it lives.
    """

    __slots__ = ()

    def encrypt_python(self: _DynamoDbJsonEncryptor, item: Mapping[str, Any]) -> dict[str, Any]:
        """`encrypt` on plain Python values (str, int/Decimal, bytes, bool, None, list, dict,
        set); encrypted values come back as ``bytes``."""
        try:
            ddb = to_ddb_item(item)
        except CodecError as exc:
            raise EncryptionError(f"cannot convert the item: {exc}", table=self.table_name) from exc
        return from_ddb_item(self.encrypt(ddb))

    def decrypt_python(self: _DynamoDbJsonEncryptor, item: Mapping[str, Any]) -> dict[str, Any]:
        """`decrypt` on plain Python values."""
        try:
            ddb = to_ddb_item(item)
        except CodecError as exc:
            raise DecryptionError(f"cannot convert the item: {exc}", table=self.table_name) from exc
        return from_ddb_item(self.decrypt(ddb))
