"""The item encryptor: encrypt and sign, verify and decrypt one DynamoDB item.

Pure: the only I/O is whatever the materials provider does. Both directions return a new dict
and never touch the caller's item.
"""

from __future__ import annotations

import hashlib
import operator
import os
import struct
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from ..errors import (
    ConfigurationError,
    DecryptionError,
    EncryptionError,
    InvalidMaterialDescriptionError,
    PlaintextItemError,
    PynamoDBEncryptionError,
    SignatureVerificationError,
)
from ._actions import AttributeActions, CryptoAction
from ._codec import (
    MAX_ITEM_BYTES,
    CodecError,
    Dialect,
    deserialize,
    dialect_sensitive,
    names_sensitive,
    serialize,
    sort_names,
)
from ._keys import LARGE_VALUE, CbcEncryptor, is_cbc_blob
from ._materials import EncryptionContext, MaterialsProvider
from ._md import (
    MD_SIGNING_ALGORITHM,
    MD_SYMMETRIC_MODE,
    MaterialDescriptionError,
    decode_material_description,
    encode_material_description,
)
from ._python_values import PythonValuesMixin

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
_MARKERS = (SIGNATURE_ATTRIBUTE,)
SYMMETRIC_MODE = "/CBC/PKCS5Padding"

_ENCRYPT = CryptoAction.ENCRYPT_AND_SIGN
_SIGN = CryptoAction.SIGN_ONLY
_NOTHING = CryptoAction.DO_NOTHING
_ENCRYPTED_DIGEST = hashlib.sha256(b"ENCRYPTED").digest()
_PLAINTEXT_DIGEST = hashlib.sha256(b"PLAINTEXT").digest()
_TAG_B = b"\x00b"
_B_HEADER = struct.Struct(">2sI").pack  # the type tag and length that frame a binary value
_sha256 = hashlib.sha256
_EMPTY_MD: Mapping[str, str] = MappingProxyType({})
_first = operator.itemgetter(0)


def _blob_digest(blob: bytes) -> bytes:
    """SHA-256 of a binary value as the serializer frames it (tag, length, bytes)."""
    if len(blob) < LARGE_VALUE:
        return _sha256(_B_HEADER(_TAG_B, len(blob)) + blob).digest()
    digest = _sha256(_B_HEADER(_TAG_B, len(blob)))  # no framed copy of a large value
    digest.update(blob)
    return digest.digest()


@lru_cache(maxsize=8192)
def _name_digest(name: str) -> bytes:
    return _sha256(name.encode("utf-8")).digest()


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
    action = actions.action
    names = sort_names([n for n in item if n not in RESERVED_ATTRIBUTES], dialect)
    signing_order = [
        _signing_entry(name, act) for name in names if (act := action(name)) is not _NOTHING
    ]
    return _string_to_sign(item, _table_digest(table_name), signing_order, dialect)


def _signing_entry(name: str, act: CryptoAction) -> tuple[str, bytes, bool]:
    """A signed attribute's name, the two digests that start its part of the string to sign
    (name, ENCRYPTED/PLAINTEXT), and whether its stored value is an encrypted binary."""
    encrypted = act is _ENCRYPT
    marker = _ENCRYPTED_DIGEST if encrypted else _PLAINTEXT_DIGEST
    return name, _name_digest(name) + marker, encrypted


def _string_to_sign(
    item: Mapping[str, Any],
    table_digest: bytes,
    signing_order: Sequence[tuple[str, bytes, bool]],
    dialect: Dialect,
    blobs: dict[str, bytes] | None = None,
) -> bytes:
    """`string_to_sign` for the signed attributes in order (see `_signing_entry`).

    ``blobs``, when given, receives the binary value of each encrypted attribute.
    """
    parts = [table_digest]
    for name, prefix, encrypted in signing_order:
        parts.append(prefix)
        value = item[name]
        if encrypted:
            # A stored encrypted value is a plain binary: frame it here rather than through
            # the general serializer (same bytes as serialize({"B": blob})).
            if type(value) is dict and len(value) == 1 and type(raw := value.get("B")) is bytes:
                blob: bytes | None = raw  # the common case of _binary, inline
            else:
                blob = _binary(value)
            if blob is not None:
                parts.append(_blob_digest(blob))
                if blobs is not None:
                    blobs[name] = blob
                continue
        parts.append(_sha256(serialize(value, dialect)).digest())
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to do with an item that has a given list of attribute names.

    Items of one table mostly share their attribute names, so the encryptor computes this
    once per list of names and reuses it (see ``ItemEncryptor._plan``).
    """

    # Every attribute except the reserved ones, in item order, with its action.
    actions: tuple[tuple[str, CryptoAction], ...]
    # The ENCRYPT_AND_SIGN attributes, in item order.
    encrypted: tuple[str, ...]
    # The signed attributes in string-to-sign order (see _signing_entry).
    signing_order: tuple[tuple[str, bytes, bool], ...]


def check_configuration(attribute_actions: object, materials_provider: object) -> None:
    """The checks of a configuration that `ItemEncryptor` makes, for the boto3 helpers too
    (which check at construction, before they know a table)."""
    if not isinstance(attribute_actions, AttributeActions):
        raise ConfigurationError(
            "attribute_actions must be a pynamodb_encryption AttributeActions, got "
            f"{type(attribute_actions).__name__}"
        )
    if not _is_provider(materials_provider):
        raise ConfigurationError(
            "materials_provider must have encryption_materials() and decryption_materials() "
            "(a pynamodb_encryption provider)"
        )
    for reserved in RESERVED_ATTRIBUTES:
        if reserved in attribute_actions.attribute_actions:
            raise ConfigurationError(
                "the signature and material description attributes cannot have actions",
                attribute=reserved,
            )


# Bounds the per-encryptor plan cache: a table whose items have many different attribute
# sets just recomputes plans (cheap) instead of growing without limit.
_PLAN_CACHE_SIZE = 256


@dataclass(frozen=True, slots=True)
class _Schema:
    """What an encryptor derives from its table and actions alone (never from keys).

    Shared by every encryptor built for the same table, key names and actions, so that the
    function API (a new encryptor per call) keeps the plans and digests that a long-lived
    `ItemEncryptor` keeps. It holds names only: no provider, key or attribute value.
    """

    actions: AttributeActions
    table_digest: bytes
    plans: dict[tuple[str, ...], _Plan]


# A process has a few tables and configurations; the bound only stops a caller that builds
# actions dynamically from growing the cache. Least recently used entries go first.
_SCHEMA_CACHE_SIZE = 64
_schemas: OrderedDict[tuple[Any, ...], _Schema] = OrderedDict()
_schemas_lock = threading.Lock()


def _schema(
    table_name: str,
    partition_key_name: str | None,
    sort_key_name: str | None,
    attribute_actions: AttributeActions,
) -> _Schema:
    cache_key = (
        table_name,
        partition_key_name,
        sort_key_name,
        type(attribute_actions),
        attribute_actions,
    )
    with _schemas_lock:
        schema = _schemas.get(cache_key)
        if schema is not None:
            _schemas.move_to_end(cache_key)
            return schema
    # The caller (ItemEncryptor) has checked the names and actions (check_configuration), so
    # a configuration that fails them never reaches the cache.
    schema = _Schema(
        actions=attribute_actions.with_index_keys((partition_key_name, sort_key_name)),
        table_digest=_table_digest(table_name),
        plans={},
    )
    with _schemas_lock:
        schema = _schemas.setdefault(cache_key, schema)
        while len(_schemas) > _SCHEMA_CACHE_SIZE:
            _schemas.popitem(last=False)
    return schema


# isinstance() against a runtime-checkable protocol inspects the object's attributes on every
# call (several µs); a class whose instances passed once is remembered (bounded, classes only).
_provider_types: set[type] = set()


def _is_provider(provider: object) -> bool:
    kind = type(provider)
    if kind in _provider_types:
        return True
    if not isinstance(provider, MaterialsProvider):
        return False
    if len(_provider_types) < _SCHEMA_CACHE_SIZE and all(
        callable(getattr(kind, name, None))
        for name in ("encryption_materials", "decryption_materials")
    ):
        _provider_types.add(kind)
    return True


class ItemEncryptor(PythonValuesMixin):
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
        "_plans",
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
            raise ConfigurationError("a table name is required: it is bound into every signature")
        if not _encodable(table_name):
            raise ConfigurationError("the table name is not valid Unicode (lone surrogate)")
        for key_name in (partition_key_name, sort_key_name):
            if key_name is not None and (
                not isinstance(key_name, str) or not key_name or not _encodable(key_name)
            ):
                raise ConfigurationError(
                    "partition_key_name and sort_key_name must be attribute names (str) or None",
                    table=table_name,
                )
        check_configuration(attribute_actions, materials_provider)
        schema = _schema(table_name, partition_key_name, sort_key_name, attribute_actions)
        self._table_name = table_name
        self._partition_key_name = partition_key_name
        self._sort_key_name = sort_key_name
        self._actions = schema.actions
        self._provider = materials_provider
        self._table_digest = schema.table_digest
        self._plans = schema.plans

    @property
    def attribute_actions(self) -> AttributeActions:
        """The effective actions (key attributes lowered to at most SIGN_ONLY)."""
        return self._actions

    @property
    def table_name(self) -> str:
        return self._table_name

    # The item-encryptor protocol (core/_protocol.py) that models, helpers and jobs use.

    @property
    def reserved_attributes(self) -> frozenset[str]:
        """The signature and material description attributes."""
        return RESERVED_ATTRIBUTES

    @property
    def marker_attributes(self) -> tuple[str, ...]:
        """Every item this encryptor reads holds the signature attribute."""
        return _MARKERS

    def action(self, name: str) -> CryptoAction:
        """The effective action of a top-level attribute."""
        return self._actions.action(name)

    def is_encrypted(self, item: Mapping[str, Any]) -> bool:
        """Whether the item holds a signature (plaintext items do not)."""
        return SIGNATURE_ATTRIBUTE in item

    def signature_attribute(self, item: Mapping[str, Any]) -> str | None:
        """The signature attribute, when the item holds one."""
        return SIGNATURE_ATTRIBUTE if SIGNATURE_ATTRIBUTE in item else None

    def write_is_unique(self, stored: Mapping[str, Any]) -> bool:
        """A signature is unique to its write only when it covers a ciphertext (fresh IV);
        over plaintext values alone it is deterministic."""
        action = self._actions.action
        return any(action(n) is _ENCRYPT for n in stored if n not in RESERVED_ATTRIBUTES)

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

    def _plan(self, item: Mapping[str, Any]) -> _Plan:
        names = tuple(item)
        plan = self._plans.get(names)
        if plan is None:
            # Validated once per set of names: the plan is cached, so valid items pay nothing.
            for name in names:
                if type(name) is not str or not _encodable(name):
                    raise CodecError("attribute names must be str and valid Unicode")
            action = self._actions.action
            actions = tuple(
                (name, action(name)) for name in names if name not in RESERVED_ATTRIBUTES
            )
            plan = _Plan(
                actions=actions,
                encrypted=tuple(name for name, act in actions if act is _ENCRYPT),
                signing_order=tuple(
                    _signing_entry(name, act)
                    for name, act in sorted(actions, key=_first)
                    if act is not _NOTHING
                ),
            )
            plans = self._plans
            if len(plans) >= _PLAN_CACHE_SIZE:
                plans.clear()
            plans[names] = plan
        return plan

    # ------------------------------------------------------------------------------------
    # Encrypt

    def encrypt(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Encrypt and sign a DynamoDB-JSON item; returns a new item ready to write."""
        if type(item) is not dict and not isinstance(item, Mapping):
            raise EncryptionError("an item must be a mapping of attribute names to values")
        if self._actions.take_no_actions:
            return dict(item)
        for reserved in RESERVED_ATTRIBUTES:
            if reserved in item:
                raise EncryptionError(
                    "the item already holds a reserved attribute",
                    attribute=reserved,
                    table=self._table_name,
                )
        try:
            plan = self._plan(item)
        except CodecError as exc:
            raise EncryptionError(str(exc), table=self._table_name) from exc
        to_encrypt = len(plan.encrypted)

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
        value_digests: dict[str, bytes] = {}
        ivs = os.urandom(16 * to_encrypt) if to_encrypt else b""
        plaintexts: list[bytes] = []
        # One cipher context for the whole item, made once the first value to encrypt has
        # serialized, and one call for all values (see CbcEncryptor: the output equals one CBC
        # encryption per value, each with its own IV).
        cipher: CbcEncryptor | None = None
        for name, act in plan.actions:
            value = item[name]
            if act is _ENCRYPT:
                assert key is not None
                try:
                    plaintexts.append(serialize(value))
                except CodecError as exc:
                    raise EncryptionError(
                        f"cannot serialize the value: {exc}", attribute=name, table=self._table_name
                    ) from exc
                if cipher is None:
                    cipher = key.cbc_encryptor()
                out[name] = None  # filled in below; keeps the item's attribute order
            else:
                out[name] = value
                if act is _SIGN:
                    try:
                        value_digests[name] = _sha256(serialize(value)).digest()
                    except CodecError as exc:
                        raise EncryptionError(
                            f"cannot serialize the value: {exc}",
                            attribute=name,
                            table=self._table_name,
                        ) from exc

        if cipher is not None:
            # Each ciphertext is longer than its plaintext: past this the stored item is
            # certainly over DynamoDB's limit, and the reader would refuse the value anyway.
            if sum(map(len, plaintexts)) > MAX_ITEM_BYTES:
                raise EncryptionError(
                    "the encrypted attributes exceed DynamoDB's 400 KB item size",
                    table=self._table_name,
                )
            for name, blob in zip(plan.encrypted, cipher.encrypt_all(plaintexts, ivs), strict=True):
                out[name] = {"B": blob}
                value_digests[name] = _blob_digest(blob)

        parts = [self._table_digest]
        for name, prefix, _ in plan.signing_order:
            parts.append(prefix)
            parts.append(value_digests[name])
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
        if type(item) is not dict and not isinstance(item, Mapping):
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

        blobs: dict[str, bytes] = {}
        encrypted = self._verify(body, signature, materials.verification_key, blobs).encrypted
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
        # One cipher context and one call for every value that has the shape of a CBC
        # ciphertext, up to the first that has not (see CbcDecryptor); the loop below then
        # reports the first failure in attribute order, as decrypting one by one would.
        plaintexts: list[bytes | memoryview | None] = []
        if encrypted[0] in blobs:
            cbc_blobs = []
            for name in encrypted:
                blob = blobs.get(name)
                if blob is None or not is_cbc_blob(blob):
                    break
                cbc_blobs.append(blob)
            plaintexts = key.cbc_decryptor().decrypt_views(cbc_blobs)
        for index, name in enumerate(encrypted):
            try:
                if index == len(plaintexts):
                    if name not in blobs:
                        raise ValueError("encrypted attribute is not binary")
                    raise ValueError("ciphertext length is not a whole number of blocks")
                plaintext = plaintexts[index]
                if plaintext is None:
                    raise ValueError("bad padding")
                body[name] = (
                    deserialize(plaintext)
                    if type(plaintext) is bytes
                    else _deserialize_large(plaintext)
                )
            except (ValueError, CodecError) as exc:
                # One opaque message for every failure: which step failed stays in __cause__.
                raise DecryptionError(
                    "the attribute could not be decrypted", attribute=name, table=table
                ) from exc
        return body

    def _verify(
        self, body: Mapping[str, Any], signature: bytes, verifier: Any, blobs: dict[str, bytes]
    ) -> _Plan:
        """Check the signature; returns the item's plan (computed here so that a failure to
        compute it is a verification failure, like any other malformed input) and fills
        ``blobs`` with the binary values of the encrypted attributes."""
        table = self._table_name
        actions = self._actions
        try:
            plan = self._plan(body)
            data = _string_to_sign(
                body, self._table_digest, plan.signing_order, Dialect.CANONICAL, blobs
            )
            if verifier.verify(signature, data):
                return plan
            # Items written by the other reference implementations canonicalize a few values
            # differently (see core/_codec.py); only try them when such a value is signed.
            if _needs_other_dialects(body, actions):
                for dialect in (Dialect.PYTHON_LEGACY, Dialect.JAVA):
                    try:
                        data = string_to_sign(body, table, actions, dialect)
                    except CodecError:
                        continue  # a value this dialect cannot have signed
                    if verifier.verify(signature, data):
                        return plan
        except CodecError as exc:
            raise SignatureVerificationError(
                "a signed attribute is not a valid DynamoDB value", table=table
            ) from exc
        except PynamoDBEncryptionError:
            raise
        except Exception as exc:
            raise SignatureVerificationError("signature verification failed", table=table) from exc
        raise SignatureVerificationError(
            "the item signature does not match: the reader and the writer used different "
            "attribute actions (a field that turned signed or encrypted, keys signed or not: "
            "the usual cause in development), or the item was changed, moved, or signed with "
            "another key; `pynamodb-encryption inspect --provider-config` finds which actions "
            "verify",
            table=table,
        )


_TAG_S = b"\x00s"


def _deserialize_large(view: memoryview | bytes) -> dict[str, Any]:
    """`deserialize` for a large decrypted value, read straight from the decrypted buffer.

    A binary or string value (what large values are) is built with one copy, or one decoding
    pass; anything else goes through the general parser.
    """
    tag = bytes(view[:2])
    if len(view) >= 6 and int.from_bytes(view[2:6], "big") == len(view) - 6:
        if tag == _TAG_B:
            return {"B": bytes(view[6:])}
        if tag == _TAG_S:
            try:
                text: str | None = str(view[6:], "utf-8")
            except UnicodeDecodeError:
                # Raised outside the handler: the error's .object holds the decrypted bytes.
                text = None
            if text is None:
                raise CodecError("string is not valid UTF-8")
            return {"S": text}
    return deserialize(bytes(view))


def _binary(value: Any) -> bytes | None:
    if (type(value) is dict or isinstance(value, Mapping)) and len(value) == 1:
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
    """`encrypt_item` on plain Python values (``Decimal``/``int`` numbers, ``bytes``,
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
    """`decrypt_item` on plain Python values."""
    return ItemEncryptor(
        table_name=table_name,
        partition_key_name=partition_key_name,
        sort_key_name=sort_key_name,
        attribute_actions=attribute_actions,
        materials_provider=materials_provider,
    ).decrypt_python(item)
