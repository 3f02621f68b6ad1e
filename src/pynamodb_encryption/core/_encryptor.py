"""The item encryptor: encrypt and sign, verify and decrypt one DynamoDB item.

Pure: the only I/O is whatever the materials provider does. Both directions return a new dict
and never touch the caller's item.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from ..errors import (
    DecryptionError,
    EncryptionError,
    InvalidMaterialDescriptionError,
    PlaintextItemError,
    PynamoDBEncryptionError,
    SignatureVerificationError,
)
from ._actions import AttributeActions, CryptoAction
from ._codec import (
    CodecError,
    Dialect,
    deserialize,
    dialect_sensitive,
    names_sensitive,
    serialize,
    sort_names,
)
from ._materials import EncryptionContext, MaterialsProvider
from ._md import (
    MD_SIGNING_ALGORITHM,
    MD_SYMMETRIC_MODE,
    MaterialDescriptionError,
    decode_material_description,
    encode_material_description,
)
from ._python_values import from_ddb_item, to_ddb_item

__all__ = [
    "MATERIAL_DESCRIPTION_ATTRIBUTE",
    "SIGNATURE_ATTRIBUTE",
    "ItemEncryptor",
    "decrypt_item",
    "decrypt_python_item",
    "encrypt_item",
    "encrypt_python_item",
    "string_to_sign",
]

SIGNATURE_ATTRIBUTE = "*amzn-ddb-map-sig*"
MATERIAL_DESCRIPTION_ATTRIBUTE = "*amzn-ddb-map-desc*"
RESERVED_ATTRIBUTES = frozenset((SIGNATURE_ATTRIBUTE, MATERIAL_DESCRIPTION_ATTRIBUTE))
SYMMETRIC_MODE = "/CBC/PKCS5Padding"

_ENCRYPT = CryptoAction.ENCRYPT_AND_SIGN
_SIGN = CryptoAction.SIGN_ONLY
_NOTHING = CryptoAction.DO_NOTHING
_ENCRYPTED_DIGEST = hashlib.sha256(b"ENCRYPTED").digest()
_PLAINTEXT_DIGEST = hashlib.sha256(b"PLAINTEXT").digest()
_TAG_B = b"\x00b"
_pack_u32 = struct.Struct(">I").pack
_sha256 = hashlib.sha256
_EMPTY_MD: Mapping[str, str] = MappingProxyType({})


@lru_cache(maxsize=8192)
def _name_digest(name: str) -> bytes:
    return _sha256(name.encode("utf-8")).digest()


@lru_cache(maxsize=256)
def _table_digest(table_name: str) -> bytes:
    return _sha256(f"TABLE>{table_name}<TABLE".encode()).digest()


def string_to_sign(
    item: Mapping[str, Any],
    table_name: str,
    actions: AttributeActions,
    dialect: Dialect = Dialect.CANONICAL,
) -> bytes:
    """The bytes the item signature covers (table digest, then per signed attribute three
    SHA-256 digests: name, ENCRYPTED/PLAINTEXT marker, serialized stored value)."""
    parts = [_table_digest(table_name)]
    action = actions.action
    names = [n for n in item if n not in RESERVED_ATTRIBUTES]
    for name in sort_names(names, dialect):
        act = action(name)
        if act is _NOTHING:
            continue
        parts.append(_name_digest(name))
        parts.append(_ENCRYPTED_DIGEST if act is _ENCRYPT else _PLAINTEXT_DIGEST)
        parts.append(_sha256(serialize(item[name], dialect)).digest())
    return b"".join(parts)


class ItemEncryptor:
    """Encrypts and decrypts items of one table with fixed actions and provider.

    Build it once (per table or model) and reuse it: key-attribute handling and the table
    digest are computed here, not per item.

    Args:
        table_name: the table the items live in; bound into every signature.
        partition_key_name: name of the partition key (never encrypted).
        sort_key_name: name of the sort key, if the table has one (never encrypted).
        attribute_actions: what to do with each attribute.
        materials_provider: where the keys come from.
    """

    __slots__ = (
        "_actions",
        "_partition_key_name",
        "_provider",
        "_sort_key_name",
        "_table_digest",
        "_table_name",
    )

    def __init__(
        self,
        *,
        table_name: str,
        partition_key_name: str | None,
        sort_key_name: str | None = None,
        attribute_actions: AttributeActions,
        materials_provider: MaterialsProvider,
    ) -> None:
        if not isinstance(table_name, str) or not table_name:
            raise EncryptionError("a table name is required: it is bound into every signature")
        if not isinstance(attribute_actions, AttributeActions):
            raise EncryptionError("attribute_actions must be an AttributeActions")
        if not isinstance(materials_provider, MaterialsProvider):
            raise EncryptionError(
                "materials_provider must have encryption_materials() and decryption_materials()"
            )
        for reserved in RESERVED_ATTRIBUTES:
            if reserved in attribute_actions.attribute_actions:
                raise EncryptionError(
                    "the signature and material description attributes cannot have actions",
                    attribute=reserved,
                )
        self._table_name = table_name
        self._partition_key_name = partition_key_name
        self._sort_key_name = sort_key_name
        self._actions = attribute_actions.with_index_keys((partition_key_name, sort_key_name))
        self._provider = materials_provider
        self._table_digest = _table_digest(table_name)

    @property
    def attribute_actions(self) -> AttributeActions:
        """The effective actions (key attributes lowered to at most SIGN_ONLY)."""
        return self._actions

    @property
    def table_name(self) -> str:
        return self._table_name

    def __repr__(self) -> str:
        return (
            f"ItemEncryptor(table_name={self._table_name!r}, "
            f"partition_key_name={self._partition_key_name!r}, "
            f"sort_key_name={self._sort_key_name!r}, attribute_actions={self._actions!r}, "
            f"materials_provider={type(self._provider).__name__})"
        )

    def _context(
        self, attributes: Mapping[str, Any], description: Mapping[str, str]
    ) -> EncryptionContext:
        return EncryptionContext(
            table_name=self._table_name,
            partition_key_name=self._partition_key_name,
            sort_key_name=self._sort_key_name,
            attributes=MappingProxyType(dict(attributes)),
            material_description=description,
        )

    # ------------------------------------------------------------------------------------
    # Encrypt

    def encrypt(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Encrypt and sign a DynamoDB-JSON item; returns a new item ready to write."""
        if not isinstance(item, Mapping):
            raise EncryptionError("an item must be a mapping of attribute names to values")
        actions = self._actions
        if actions.take_no_actions:
            return dict(item)
        for reserved in RESERVED_ATTRIBUTES:
            if reserved in item:
                raise EncryptionError(
                    "the item already holds a reserved attribute",
                    attribute=reserved,
                    table=self._table_name,
                )
        action = actions.action
        plan = [(name, action(name)) for name in item]
        to_encrypt = sum(1 for _, act in plan if act is _ENCRYPT)

        try:
            materials = self._provider.encryption_materials(self._context(item, _EMPTY_MD))
        except PynamoDBEncryptionError:
            raise
        except Exception as exc:
            raise EncryptionError("the materials provider failed", table=self._table_name) from exc
        key = materials.encryption_key
        description = dict(materials.material_description)
        if key is not None:
            description[MD_SYMMETRIC_MODE] = SYMMETRIC_MODE
        elif to_encrypt:
            raise EncryptionError(
                "attributes are set to ENCRYPT_AND_SIGN but the provider gave no encryption key",
                table=self._table_name,
            )

        out: dict[str, Any] = {}
        signed: list[tuple[str, CryptoAction, bytes]] = []
        ivs = os.urandom(16 * to_encrypt) if to_encrypt else b""
        offset = 0
        for name, act in plan:
            value = item[name]
            if act is _ENCRYPT:
                assert key is not None
                try:
                    plaintext = serialize(value)
                except CodecError as exc:
                    raise EncryptionError(
                        f"cannot serialize the value: {exc}", attribute=name, table=self._table_name
                    ) from exc
                blob = key.encrypt_cbc(plaintext, ivs[offset : offset + 16])
                offset += 16
                out[name] = {"B": blob}
                signed.append((name, act, _TAG_B + _pack_u32(len(blob)) + blob))
            else:
                out[name] = value
                if act is _SIGN:
                    try:
                        signed.append((name, act, serialize(value)))
                    except CodecError as exc:
                        raise EncryptionError(
                            f"cannot serialize the value: {exc}",
                            attribute=name,
                            table=self._table_name,
                        ) from exc

        signed.sort(key=lambda entry: entry[0])
        parts = [self._table_digest]
        for name, act, serialized in signed:
            parts.append(_name_digest(name))
            parts.append(_ENCRYPTED_DIGEST if act is _ENCRYPT else _PLAINTEXT_DIGEST)
            parts.append(_sha256(serialized).digest())
        signer = materials.signing_key
        try:
            signature = signer.sign(b"".join(parts))
        except PynamoDBEncryptionError:
            raise
        except Exception as exc:
            raise EncryptionError("signing failed", table=self._table_name) from exc
        out[SIGNATURE_ATTRIBUTE] = {"B": signature}
        description[MD_SIGNING_ALGORITHM] = signer.algorithm
        out[MATERIAL_DESCRIPTION_ATTRIBUTE] = {"B": encode_material_description(description)}
        return out

    # ------------------------------------------------------------------------------------
    # Decrypt

    def decrypt(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Verify and decrypt a stored DynamoDB-JSON item; returns a new plaintext item.

        Raises:
            PlaintextItemError: the item has no signature.
            SignatureVerificationError: the signature does not match.
            InvalidMaterialDescriptionError: the material description is malformed.
            DecryptionError: anything else that stops decryption (wrong key, bad ciphertext).
        """
        if not isinstance(item, Mapping):
            raise DecryptionError("an item must be a mapping of attribute names to values")
        actions = self._actions
        if actions.take_no_actions:
            return dict(item)
        table = self._table_name
        signature_value = item.get(SIGNATURE_ATTRIBUTE)
        if signature_value is None:
            raise PlaintextItemError(
                "the item has no signature (was it written without encryption?)", table=table
            )
        signature = _binary(signature_value)
        if signature is None:
            raise SignatureVerificationError("the signature attribute is not binary", table=table)
        description_value = item.get(MATERIAL_DESCRIPTION_ATTRIBUTE)
        if description_value is None:
            description: dict[str, str] = {}
        else:
            raw_description = _binary(description_value)
            if raw_description is None:
                raise InvalidMaterialDescriptionError(
                    "the material description attribute is not binary", table=table
                )
            try:
                description = decode_material_description(raw_description)
            except MaterialDescriptionError as exc:
                raise InvalidMaterialDescriptionError(
                    f"malformed material description: {exc}", table=table
                ) from exc
        body = {k: v for k, v in item.items() if k not in RESERVED_ATTRIBUTES}

        try:
            materials = self._provider.decryption_materials(
                self._context(body, MappingProxyType(description))
            )
        except PynamoDBEncryptionError:
            raise
        except Exception as exc:
            raise DecryptionError("the materials provider failed", table=table) from exc

        self._verify(body, signature, materials.verification_key)

        action = actions.action
        encrypted = [name for name in body if action(name) is _ENCRYPT]
        if not encrypted:
            return body
        key = materials.decryption_key
        if key is None:
            raise DecryptionError(
                "attributes are set to ENCRYPT_AND_SIGN but the provider gave no decryption key",
                table=table,
            )
        mode = description.get(MD_SYMMETRIC_MODE)
        if mode != SYMMETRIC_MODE:
            raise InvalidMaterialDescriptionError(
                "unknown or missing symmetric mode in the material description", table=table
            )
        for name in encrypted:
            blob = _binary(body[name])
            try:
                if blob is None:
                    raise ValueError("encrypted attribute is not binary")
                body[name] = deserialize(key.decrypt_cbc(blob))
            except (ValueError, CodecError) as exc:
                # One opaque message for every failure: which step failed stays in __cause__.
                raise DecryptionError(
                    "the attribute could not be decrypted", attribute=name, table=table
                ) from exc
        return body

    def _verify(self, body: Mapping[str, Any], signature: bytes, verifier: Any) -> None:
        table = self._table_name
        actions = self._actions
        try:
            if verifier.verify(signature, string_to_sign(body, table, actions)):
                return
            # Items written by the other reference implementations canonicalize a few values
            # differently (see core/_codec.py); only try them when such a value is signed.
            if _needs_other_dialects(body, actions):
                for dialect in (Dialect.PYTHON_LEGACY, Dialect.JAVA):
                    if verifier.verify(signature, string_to_sign(body, table, actions, dialect)):
                        return
        except CodecError as exc:
            raise SignatureVerificationError(
                "a signed attribute is not a valid DynamoDB value", table=table
            ) from exc
        except PynamoDBEncryptionError:
            raise
        except Exception as exc:
            raise SignatureVerificationError("signature verification failed", table=table) from exc
        raise SignatureVerificationError(
            "the item signature does not match: the item was changed, moved, or signed with "
            "another key",
            table=table,
        )

    # ------------------------------------------------------------------------------------
    # Plain Python values

    def encrypt_python(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`encrypt` on plain Python values (str, int/Decimal, bytes, bool, None, list,
        dict, set); encrypted values come back as ``bytes``."""
        try:
            ddb = to_ddb_item(item)
        except CodecError as exc:
            raise EncryptionError(
                f"cannot convert the item: {exc}", table=self._table_name
            ) from exc
        return from_ddb_item(self.encrypt(ddb))

    def decrypt_python(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`decrypt` on plain Python values."""
        try:
            ddb = to_ddb_item(item)
        except CodecError as exc:
            raise DecryptionError(
                f"cannot convert the item: {exc}", table=self._table_name
            ) from exc
        return from_ddb_item(self.decrypt(ddb))


def _binary(value: Any) -> bytes | None:
    if isinstance(value, Mapping) and len(value) == 1:
        raw = value.get("B")
        if isinstance(raw, bytes):
            return raw
        if isinstance(raw, (bytearray, memoryview)):
            return bytes(raw)
    return None


def _needs_other_dialects(body: Mapping[str, Any], actions: AttributeActions) -> bool:
    signed = [name for name in body if actions.action(name) is _SIGN]
    if names_sensitive(n for n in body if actions.action(n) is not _NOTHING):
        return True
    return any(dialect_sensitive(body[name]) for name in signed)


# ----------------------------------------------------------------------------------------
# Function API


def encrypt_item(
    item: Mapping[str, Any],
    *,
    table_name: str,
    partition_key_name: str | None,
    sort_key_name: str | None = None,
    attribute_actions: AttributeActions,
    materials_provider: MaterialsProvider,
) -> dict[str, Any]:
    """Encrypt and sign one DynamoDB-JSON item (``{"name": {"S": "x"}}``).

    Returns a new dict holding the stored form: encrypted attributes as ``{"B": iv||ct}``,
    plus the signature and material description attributes. The input is not modified.
    """
    return ItemEncryptor(
        table_name=table_name,
        partition_key_name=partition_key_name,
        sort_key_name=sort_key_name,
        attribute_actions=attribute_actions,
        materials_provider=materials_provider,
    ).encrypt(item)


def decrypt_item(
    item: Mapping[str, Any],
    *,
    table_name: str,
    partition_key_name: str | None,
    sort_key_name: str | None = None,
    attribute_actions: AttributeActions,
    materials_provider: MaterialsProvider,
) -> dict[str, Any]:
    """Verify and decrypt one stored DynamoDB-JSON item; returns a new plaintext dict."""
    return ItemEncryptor(
        table_name=table_name,
        partition_key_name=partition_key_name,
        sort_key_name=sort_key_name,
        attribute_actions=attribute_actions,
        materials_provider=materials_provider,
    ).decrypt(item)


def encrypt_python_item(
    item: Mapping[str, Any],
    *,
    table_name: str,
    partition_key_name: str | None,
    sort_key_name: str | None = None,
    attribute_actions: AttributeActions,
    materials_provider: MaterialsProvider,
) -> dict[str, Any]:
    """:func:`encrypt_item` on plain Python values (``Decimal``/``int`` numbers, ``bytes``,
    ``set``...). Floats are rejected: use ``Decimal``."""
    return ItemEncryptor(
        table_name=table_name,
        partition_key_name=partition_key_name,
        sort_key_name=sort_key_name,
        attribute_actions=attribute_actions,
        materials_provider=materials_provider,
    ).encrypt_python(item)


def decrypt_python_item(
    item: Mapping[str, Any],
    *,
    table_name: str,
    partition_key_name: str | None,
    sort_key_name: str | None = None,
    attribute_actions: AttributeActions,
    materials_provider: MaterialsProvider,
) -> dict[str, Any]:
    """:func:`decrypt_item` on plain Python values."""
    return ItemEncryptor(
        table_name=table_name,
        partition_key_name=partition_key_name,
        sort_key_name=sort_key_name,
        attribute_actions=attribute_actions,
        materials_provider=materials_provider,
    ).decrypt_python(item)
