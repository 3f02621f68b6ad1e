"""The DB-ESDK item encryptor: encrypt and sign, verify and decrypt one DynamoDB item.

Pure: the only I/O is whatever the keyring does. Both directions return a new dict and never
touch the caller's item. Decryption checks the header commitment, a footer tag and (default
suite) the ECDSA signature before it decrypts anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..core._actions import CryptoAction
from ..core._codec import CodecError
from ..core._python_values import PythonValuesMixin, to_ddb_item
from ..errors import (
    ConfigurationError,
    DbeHeaderError,
    DbeItemError,
    DbeNoDataKeyError,
    DbeSignatureError,
    DecryptionError,
    EncryptionError,
    PlaintextItemError,
    PynamoDBEncryptionError,
)
from ._crypt import (
    ECDSA_SIGNATURE_LENGTH,
    TAG_LENGTH,
    commitment,
    compressed_public_key,
    derive_item_keys,
    ecdsa_sign,
    ecdsa_verify,
    field_keys,
    new_signing_key,
    public_key_from_compressed,
)
from ._header import (
    COMMITMENT_LENGTH,
    DbeHeader,
    HeaderError,
    parse_header,
    serialize_context,
    serialize_partial_header,
)
from ._materials import DbeDecryptionMaterials, DbeEncryptionMaterials, Keyring
from ._serialize import TYPE_BOOL, TYPE_N, TYPE_NULL, TYPE_S, deserialize, serialize
from ._suites import DEFAULT_SUITE, DbeAlgorithmSuite

__all__ = [
    "FOOTER_ATTRIBUTE",
    "HEADER_ATTRIBUTE",
    "RESERVED_PREFIX",
    "DbEsdkItemEncryptor",
    "DbeItemHeader",
]

HEADER_ATTRIBUTE = "aws_dbe_head"
FOOTER_ATTRIBUTE = "aws_dbe_foot"
RESERVED_PREFIX = "aws_dbe_"
RESERVED_ATTRIBUTES = frozenset((HEADER_ATTRIBUTE, FOOTER_ATTRIBUTE))
_MARKERS = (HEADER_ATTRIBUTE,)

_EC_TABLE = "aws-crypto-table-name"
_EC_PARTITION = "aws-crypto-partition-name"
_EC_SORT = "aws-crypto-sort-name"
_EC_ATTR = "aws-crypto-attr."
_EC_LEGEND = "aws-crypto-legend"
_EC_PUBLIC_KEY = "aws-crypto-public-key"
_EC_RESERVED = "aws-crypto-"

_E = CryptoAction.ENCRYPT_AND_SIGN
_S = CryptoAction.SIGN_ONLY
_C = CryptoAction.SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT
_N = CryptoAction.DO_NOTHING
_LEGEND_CHAR = {_E: "e", _S: "s", _C: "c"}
_LEGEND_ACTION = {"e": _E, "s": _S, "c": _C}

_pack_u64 = struct.Struct(">Q").pack
_U64_ONE_DOLLAR = _pack_u64(1) + b"$"
_sha384 = hashlib.sha384
_hmac_digest = hmac.digest
_compare = hmac.compare_digest
_PLAN_CACHE_SIZE = 256
_ENCRYPTED_MARK = b"ENCRYPTED"
_PLAINTEXT_MARK = b"PLAINTEXT"
_GCM_TAG = 16
_LARGE = 1 << 14  # values longer than this are hashed in place rather than joined first


def _utf8(text: str) -> bytes | None:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def canonical_path(table: bytes, name: str) -> bytes:
    """``UTF8(table) || u64(1) || '$' || u64(name length in UTF-16 code units) || UTF8(name)``."""
    return table + _U64_ONE_DOLLAR + _pack_u64(_utf16_len(name)) + name.encode("utf-8")


def _ec_value_v2(type_id: bytes, body: bytes) -> tuple[str, str]:
    """An ``c`` attribute's encryption context value and its ``aws-crypto-legend`` character."""
    if type_id == TYPE_S:
        return body.decode("utf-8"), "S"
    if type_id == TYPE_N:
        return body.decode("ascii"), "N"
    if type_id == TYPE_NULL:
        return "null", "L"
    if type_id == TYPE_BOOL:
        return ("true" if body == b"\x01" else "false"), "L"
    return base64.b64encode(type_id + body).decode("ascii"), "B"


@dataclass(frozen=True, slots=True, kw_only=True)
class DbeItemHeader:
    """What the header of a stored item says, read without any key.

    ``attribute_actions`` maps each signed attribute of the item to the action it was written
    with (from the legend and this encryptor's signature scope); it is empty when the legend
    does not fit the item's attributes (the item would fail to decrypt).
    """

    header: DbeHeader
    attribute_actions: Mapping[str, CryptoAction]

    @property
    def algorithm_suite(self) -> DbeAlgorithmSuite:
        """The suite the item was written with."""
        return self.header.algorithm_suite

    @property
    def version(self) -> int:
        """The format version: 2 when some attribute is SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT."""
        return self.header.version

    @property
    def legend(self) -> str:
        """One letter per signed attribute in canonical order: ``e``, ``s`` or ``c``."""
        return self.header.legend

    @property
    def provider_ids(self) -> tuple[str, ...]:
        """The provider id of each encrypted data key (which keyring kind wrapped it)."""
        return self.header.provider_ids

    @property
    def provider_infos(self) -> tuple[bytes, ...]:
        """The provider info of each encrypted data key (which key wrapped it)."""
        return tuple(e.provider_info for e in self.header.encrypted_data_keys)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to do with an item that has a given tuple of attribute names (cached)."""

    # Signed attributes in canonical-path order: (name, canonical path, action).
    signed: tuple[tuple[str, bytes, CryptoAction], ...]
    legend: str
    version: int
    # The SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attributes ordered by UTF-8 name.
    context_attributes: tuple[str, ...]


class DbEsdkItemEncryptor(PythonValuesMixin):
    """Encrypts and decrypts items of one table in the AWS Database Encryption SDK format.

    Build it once per table and reuse it. Configuration errors (an attribute whose action and
    signature scope disagree, key attributes with the wrong action) raise `ConfigurationError`
    here, not on the first item.

    Args:
        table_name: the logical table name, bound into every item.
        partition_key_name: the partition key attribute (signed, never encrypted).
        sort_key_name: the sort key attribute, if the table has one.
        attribute_actions: the `CryptoAction` of every attribute name an item may hold
            (except those outside the signature scope, which default to DO_NOTHING).
        keyring: where data keys come from.
        allowed_unsigned_attributes: names outside the signature scope.
        allowed_unsigned_attribute_prefix: a name prefix outside the signature scope.
        algorithm_suite: `DbeAlgorithmSuite`; the default adds an ECDSA P-384 signature.
    """

    __slots__ = (
        "_actions",
        "_decrypt_plans",
        "_key_action",
        "_keyring",
        "_partition_key_name",
        "_paths",
        "_plans",
        "_sort_key_name",
        "_suite",
        "_table_bytes",
        "_table_name",
        "_unsigned",
        "_unsigned_prefix",
        "_version",
    )

    def __init__(
        self,
        *,
        table_name: str,
        partition_key_name: str,
        sort_key_name: str | None = None,
        attribute_actions: Mapping[str, CryptoAction],
        keyring: Keyring,
        allowed_unsigned_attributes: Iterable[str] = (),
        allowed_unsigned_attribute_prefix: str | None = None,
        algorithm_suite: DbeAlgorithmSuite = DEFAULT_SUITE,
    ) -> None:
        if not isinstance(table_name, str) or not table_name or _utf8(table_name) is None:
            raise ConfigurationError("table_name must be a non-empty, valid Unicode string")
        for label, key in (
            ("partition_key_name", partition_key_name),
            ("sort_key_name", sort_key_name),
        ):
            if key is None and label == "sort_key_name":
                continue
            if not isinstance(key, str) or not key or _utf8(key) is None:
                raise ConfigurationError(f"{label} must be a non-empty, valid Unicode string")
        if not isinstance(keyring, Keyring):
            raise ConfigurationError("keyring must have on_encrypt() and on_decrypt()")
        if not isinstance(algorithm_suite, DbeAlgorithmSuite):
            raise ConfigurationError("algorithm_suite must be a DbeAlgorithmSuite")
        if isinstance(allowed_unsigned_attributes, (str, bytes)):
            raise ConfigurationError("allowed_unsigned_attributes must be a collection of names")
        unsigned = frozenset(allowed_unsigned_attributes)
        for name in unsigned:
            if not isinstance(name, str):
                raise ConfigurationError("allowed_unsigned_attributes must hold str names")
        if allowed_unsigned_attribute_prefix is not None and (
            not isinstance(allowed_unsigned_attribute_prefix, str)
            or not allowed_unsigned_attribute_prefix
        ):
            raise ConfigurationError("allowed_unsigned_attribute_prefix must be a non-empty str")
        if not isinstance(attribute_actions, Mapping):
            raise ConfigurationError("attribute_actions must map attribute names to CryptoAction")
        self._table_name = table_name
        self._table_bytes = table_name.encode("utf-8")
        self._partition_key_name = partition_key_name
        self._sort_key_name = sort_key_name
        self._keyring = keyring
        self._suite = algorithm_suite
        self._unsigned = unsigned
        self._unsigned_prefix = allowed_unsigned_attribute_prefix
        actions: dict[str, CryptoAction] = {}
        for name, action in attribute_actions.items():
            if not isinstance(name, str) or not name or _utf8(name) is None:
                raise ConfigurationError("attribute names must be non-empty, valid Unicode str")
            if not isinstance(action, CryptoAction):
                raise ConfigurationError(
                    f"an attribute action must be a CryptoAction, got {type(action).__name__}",
                    attribute=name,
                )
            if name.startswith(RESERVED_PREFIX):
                raise ConfigurationError(
                    f"names starting with {RESERVED_PREFIX!r} are reserved", attribute=name
                )
            in_scope = self._in_scope(name)
            if action is _N and in_scope:
                raise ConfigurationError(
                    "a DO_NOTHING attribute must be outside the signature scope: add it to "
                    "allowed_unsigned_attributes or give it the allowed prefix",
                    attribute=name,
                )
            if action is not _N and not in_scope:
                raise ConfigurationError(
                    "a signed attribute is listed in allowed_unsigned_attributes or has the "
                    "allowed unsigned prefix: make it DO_NOTHING or rename it",
                    attribute=name,
                )
            actions[name] = action
        self._version = 2 if _C in actions.values() else 1
        self._key_action = _C if self._version == 2 else _S
        for key in (partition_key_name, sort_key_name):
            if key is None:
                continue
            if actions.get(key) is not self._key_action:
                raise ConfigurationError(
                    "key attributes must be "
                    + self._key_action.name
                    + (
                        " (some attribute is SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT)"
                        if self._version == 2
                        else ""
                    ),
                    attribute=key,
                    table=table_name,
                )
        self._actions: Mapping[str, CryptoAction] = MappingProxyType(actions)
        self._plans: dict[tuple[str, ...], _Plan] = {}
        self._decrypt_plans: dict[tuple[tuple[str, ...], str], _Plan] = {}
        self._paths: dict[str, bytes] = {}

    # --------------------------------------------------------------------------------------

    @property
    def table_name(self) -> str:
        """The logical table name bound into every item."""
        return self._table_name

    @property
    def attribute_actions(self) -> Mapping[str, CryptoAction]:
        """The configured actions (read-only)."""
        return self._actions

    @property
    def algorithm_suite(self) -> DbeAlgorithmSuite:
        """The suite new items are written with (decrypt accepts either)."""
        return self._suite

    # The item-encryptor protocol (core/_protocol.py) that models, helpers and jobs use.

    @property
    def reserved_attributes(self) -> frozenset[str]:
        """The header and footer attributes."""
        return RESERVED_ATTRIBUTES

    @property
    def marker_attributes(self) -> tuple[str, ...]:
        """Every item this encryptor reads holds the header."""
        return _MARKERS

    def action(self, name: str) -> CryptoAction:
        """The action of a top-level attribute: ``DO_NOTHING`` outside the signature scope; an
        in-scope attribute with no configured action counts as signed (encrypt refuses it)."""
        action = self._actions.get(name)
        if action is not None:
            return action
        return _S if self._in_scope(name) else _N

    def is_encrypted(self, item: Mapping[str, Any]) -> bool:
        """Whether the item holds the DB-ESDK header and footer."""
        return HEADER_ATTRIBUTE in item and FOOTER_ATTRIBUTE in item

    def signature_attribute(self, item: Mapping[str, Any]) -> str | None:
        """The footer (its tags cover the header, whose message id is fresh per write)."""
        return FOOTER_ATTRIBUTE if FOOTER_ATTRIBUTE in item else None

    def write_is_unique(self, stored: Mapping[str, Any]) -> bool:
        """Always: every write draws a fresh message id into the header the footer covers."""
        return True

    def __repr__(self) -> str:
        actions = {k: v.name for k, v in sorted(self._actions.items())}
        return (
            f"DbEsdkItemEncryptor(table_name={self._table_name!r}, "
            f"partition_key_name={self._partition_key_name!r}, "
            f"sort_key_name={self._sort_key_name!r}, attribute_actions={actions}, "
            f"keyring={type(self._keyring).__name__}, algorithm_suite={self._suite.name})"
        )

    def _in_scope(self, name: str) -> bool:
        if name in self._unsigned or name.startswith(RESERVED_PREFIX):
            return False
        prefix = self._unsigned_prefix
        return prefix is None or not name.startswith(prefix)

    def _path(self, name: str) -> bytes:
        path = self._paths.get(name)
        if path is None:
            path = canonical_path(self._table_bytes, name)
            if len(self._paths) >= 4 * _PLAN_CACHE_SIZE:
                self._paths.clear()
            self._paths[name] = path
        return path

    def _encrypt_plan(self, names: tuple[str, ...]) -> _Plan:
        plan = self._plans.get(names)
        if plan is not None:
            return plan
        table = self._table_name
        signed = []
        for name in names:
            if type(name) is not str or not name or _utf8(name) is None:
                raise EncryptionError("attribute names must be non-empty, valid Unicode str")
            if name.startswith(RESERVED_PREFIX):
                raise EncryptionError(
                    f"names starting with {RESERVED_PREFIX!r} are reserved",
                    attribute=name,
                    table=table,
                )
            action = self._actions.get(name)
            if action is None:
                if self._in_scope(name):
                    raise EncryptionError(
                        "no crypto action is configured for this attribute",
                        attribute=name,
                        table=table,
                    )
                continue
            if action is not _N:
                signed.append((name, self._path(name), action))
        for key in (self._partition_key_name, self._sort_key_name):
            if key is not None and key not in names:
                raise EncryptionError("the item lacks a key attribute", attribute=key, table=table)
        plan = self._make_plan(signed)
        if len(self._plans) >= _PLAN_CACHE_SIZE:
            self._plans.clear()
        self._plans[names] = plan
        return plan

    @staticmethod
    def _make_plan(signed: list[tuple[str, bytes, CryptoAction]]) -> _Plan:
        """The plan for these signed attributes (sorted here, in place, by canonical path)."""
        signed.sort(key=lambda entry: entry[1])
        legend = "".join(_LEGEND_CHAR[action] for _, _, action in signed)
        context_attributes = tuple(
            sorted((name for name, _, action in signed if action is _C), key=lambda n: n.encode())
        )
        return _Plan(
            signed=tuple(signed),
            legend=legend,
            version=2 if context_attributes else 1,
            context_attributes=context_attributes,
        )

    def _required_context(
        self, plan: _Plan, serialized: Mapping[str, tuple[bytes, bytes]]
    ) -> dict[str, str]:
        """The encryption context rebuilt from the configuration and the item."""
        context = {_EC_TABLE: self._table_name, _EC_PARTITION: self._partition_key_name}
        if self._sort_key_name is not None:
            context[_EC_SORT] = self._sort_key_name
        if plan.version == 1:
            for key in (self._partition_key_name, self._sort_key_name):
                if key is None:
                    continue
                type_id, body = serialized[key]
                context[_EC_ATTR + key] = base64.b64encode(type_id + body).decode("ascii")
        else:
            legend = []
            for name in plan.context_attributes:
                value, char = _ec_value_v2(*serialized[name])
                context[_EC_ATTR + name] = value
                legend.append(char)
            context[_EC_LEGEND] = "".join(legend)
        return context

    # --------------------------------------------------------------------------------------
    # Encrypt

    def encrypt(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Encrypt and sign a DynamoDB-JSON item; returns a new item ready to write."""
        if type(item) is not dict and not isinstance(item, Mapping):
            raise EncryptionError("an item must be a mapping of attribute names to values")
        table = self._table_name
        plan = self._encrypt_plan(tuple(item))
        serialized: dict[str, tuple[bytes, bytes]] = {}
        for name, _, _ in plan.signed:
            try:
                serialized[name] = serialize(item[name])
            except CodecError as exc:
                raise EncryptionError(
                    f"cannot serialize the value: {exc}", attribute=name, table=table
                ) from exc
        context = self._required_context(plan, serialized)
        suite = self._suite
        signing_key = None
        stored_context: dict[str, str] = {}
        if suite.signs_with_ecdsa:
            signing_key = new_signing_key()
            stored_context[_EC_PUBLIC_KEY] = base64.b64encode(
                compressed_public_key(signing_key)
            ).decode("ascii")
            context.update(stored_context)

        try:
            aad = serialize_context(context)
        except HeaderError as exc:
            raise EncryptionError(
                f"cannot build the encryption context: {exc}", table=table
            ) from exc
        materials = self._encryption_materials(context, aad)
        data_key = materials.plaintext_data_key
        assert data_key is not None
        message_id = os.urandom(32)
        try:
            partial = serialize_partial_header(
                version=plan.version,
                algorithm_suite=suite,
                message_id=message_id,
                legend=plan.legend,
                stored_encryption_context=stored_context,
                encrypted_data_keys=materials.encrypted_data_keys,
            )
        except HeaderError as exc:
            raise EncryptionError(f"cannot build the header: {exc}", table=table) from exc
        commit_key, root_key = derive_item_keys(data_key, message_id)
        header = partial + commitment(commit_key, partial)

        encrypted_count = plan.legend.count("e")
        keys = field_keys(root_key, encrypted_count)
        out = dict(item)
        # Hashed as it goes: a large value goes to the hash as it is, never copied into one
        # long record.
        hasher = _sha384()
        record = [header, _pack_u64(len(aad)), aad]
        index = 0
        for name, path, action in plan.signed:
            type_id, body = serialized[name]
            if action is _E:
                key, nonce = keys[index]
                index += 1
                stored = type_id + AESGCM(key).encrypt(nonce, body, path)
                out[name] = {"B": stored}
                record.append(path + _pack_u64(len(stored) - 2) + _ENCRYPTED_MARK)
                value = stored
            else:
                record.append(path + _pack_u64(len(body)) + _PLAINTEXT_MARK + type_id)
                value = body
            if len(value) > _LARGE:
                hasher.update(b"".join(record))
                hasher.update(value)
                record.clear()
            else:
                record.append(value)
        hasher.update(b"".join(record))
        digest = hasher.digest()
        footer = [_hmac_digest(k, digest, "sha384") for k in materials.symmetric_signing_keys]
        if signing_key is not None:
            footer.append(ecdsa_sign(signing_key, digest))
        out[HEADER_ATTRIBUTE] = {"B": header}
        out[FOOTER_ATTRIBUTE] = {"B": b"".join(footer)}
        return out

    def _encryption_materials(self, context: dict[str, str], aad: bytes) -> DbeEncryptionMaterials:
        table = self._table_name
        request = DbeEncryptionMaterials(
            algorithm_suite=self._suite,
            encryption_context=MappingProxyType(context),
            serialized_encryption_context=aad,
        )
        try:
            materials = self._keyring.on_encrypt(request)
        except PynamoDBEncryptionError:
            raise
        except Exception as exc:
            raise EncryptionError("the keyring failed", table=table) from exc
        if not isinstance(materials, DbeEncryptionMaterials):
            raise EncryptionError("the keyring returned no encryption materials", table=table)
        data_key = materials.plaintext_data_key
        if not isinstance(data_key, bytes) or len(data_key) != 32:
            raise EncryptionError("the keyring gave no 32-byte data key", table=table)
        edks = materials.encrypted_data_keys
        if not edks or len(edks) != len(materials.symmetric_signing_keys):
            raise EncryptionError(
                "the keyring must add one encrypted data key and one signing key each",
                table=table,
            )
        if dict(materials.encryption_context) != context or materials.algorithm_suite is not (
            self._suite
        ):
            raise EncryptionError(
                "the keyring changed the encryption context or algorithm suite", table=table
            )
        return materials

    # --------------------------------------------------------------------------------------
    # Decrypt

    def read_header(self, item: Mapping[str, Any]) -> DbeItemHeader:
        """The parsed header of a stored item (suite, version, legend, data key providers),
        without any key and without verifying anything.

        Raises:
            DbeHeaderError: the item has no header, or it is malformed.
        """
        header = self._header(item)
        try:
            plan = self._decrypt_plan(item, header.legend)
        except DbeItemError:
            return DbeItemHeader(header=header, attribute_actions=MappingProxyType({}))
        return DbeItemHeader(
            header=header,
            attribute_actions=MappingProxyType({name: action for name, _, action in plan.signed}),
        )

    def _header(self, item: Mapping[str, Any]) -> DbeHeader:
        if type(item) is not dict and not isinstance(item, Mapping):
            raise DecryptionError("an item must be a mapping of attribute names to values")
        raw = _binary(item.get(HEADER_ATTRIBUTE))
        if raw is None and HEADER_ATTRIBUTE not in item and FOOTER_ATTRIBUTE not in item:
            raise PlaintextItemError(
                "the item has no DB-ESDK header or footer (was it written without encryption?)",
                table=self._table_name,
            )
        if raw is None:
            raise DbeHeaderError(
                "the DB-ESDK header is missing or not binary",
                attribute=HEADER_ATTRIBUTE,
                table=self._table_name,
            )
        try:
            return parse_header(raw)
        except HeaderError as exc:
            raise DbeHeaderError(
                f"malformed header: {exc}", attribute=HEADER_ATTRIBUTE, table=self._table_name
            ) from exc

    def _decrypt_plan(self, item: Mapping[str, Any], legend: str) -> _Plan:
        """The plan of a stored item: its signed attributes in canonical order with the
        actions its legend gives them (cached per attribute names and legend)."""
        names_key = tuple(item)
        cache_key = (names_key, legend)
        plan = self._decrypt_plans.get(cache_key)
        if plan is not None:
            return plan
        table = self._table_name
        names = []
        for name in names_key:
            if type(name) is not str or _utf8(name) is None:
                raise DbeItemError("attribute names must be valid Unicode str", table=table)
            if self._in_scope(name):
                names.append(name)
        names.sort(key=self._path)
        if len(legend) != len(names):
            raise DbeItemError(
                "the item's signed attributes do not match its header (an attribute was "
                "added, removed, or its action changed to or from DO_NOTHING)",
                table=table,
            )
        signed = [
            (name, self._path(name), _LEGEND_ACTION[char])
            for name, char in zip(names, legend, strict=True)
        ]
        plan = self._make_plan(signed)
        actions = {name: action for name, _, action in plan.signed}
        for key in (self._partition_key_name, self._sort_key_name):
            if key is None:
                continue
            if key not in names_key:
                raise DbeItemError("the item lacks a key attribute", attribute=key, table=table)
            if actions.get(key) is not (_C if plan.version == 2 else _S):
                raise DbeItemError(
                    "a key attribute does not carry the key action in the header",
                    attribute=key,
                    table=table,
                )
        plans = self._decrypt_plans
        if len(plans) >= _PLAN_CACHE_SIZE:
            plans.clear()
        plans[cache_key] = plan
        return plan

    def decrypt(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Verify and decrypt a stored DynamoDB-JSON item; returns a new plaintext item.

        Raises:
            DbeHeaderError: no header, or a malformed one.
            DbeItemError: the item's attributes do not fit its header.
            DbeNoDataKeyError: the keyring opened none of the encrypted data keys.
            DbeSignatureError: the commitment, the footer tags or the signature do not match.
            DecryptionError: any other failure (a value that does not decrypt).
        """
        header = self._header(item)
        table = self._table_name
        footer = _binary(item.get(FOOTER_ATTRIBUTE))
        if footer is None:
            raise DbeSignatureError(
                "the item has no DB-ESDK footer", attribute=FOOTER_ATTRIBUTE, table=table
            )
        plan = self._decrypt_plan(item, header.legend)
        signed = plan.signed
        if plan.version != header.version:  # pragma: no cover - parse_header checks the legend
            raise DbeHeaderError("the format version does not match the legend", table=table)
        serialized: dict[str, tuple[bytes, Any]] = {}
        for name, _, action in signed:
            if action is _E:
                stored = _binary(item[name])
                if stored is None or len(stored) < 2 + _GCM_TAG:
                    raise DbeItemError(
                        "an encrypted attribute is not a binary value", attribute=name, table=table
                    )
                # A view, not a copy: a large value is read where it is.
                serialized[name] = (stored[:2], memoryview(stored)[2:])
            else:
                try:
                    serialized[name] = serialize(item[name])
                except CodecError as exc:
                    raise DbeItemError(
                        "a signed attribute is not a valid DynamoDB value",
                        attribute=name,
                        table=table,
                    ) from exc
        context = self._required_context(plan, serialized)
        stored_context = header.stored_encryption_context
        for key in stored_context:
            if key in context:
                raise DbeHeaderError(
                    "the header's encryption context repeats a required key", table=table
                )
        context.update(stored_context)
        suite = header.algorithm_suite
        public_key = None
        if suite.signs_with_ecdsa:
            encoded = stored_context.get(_EC_PUBLIC_KEY)
            try:
                public_key = public_key_from_compressed(
                    base64.b64decode(encoded or "", validate=True)
                )
            except ValueError as exc:
                raise DbeHeaderError(
                    "the header holds no valid verification key", table=table
                ) from exc
        elif _EC_PUBLIC_KEY in stored_context:
            raise DbeHeaderError("a verification key in an unsigned suite", table=table)
        expected = len(header.encrypted_data_keys) * TAG_LENGTH + (
            ECDSA_SIGNATURE_LENGTH if public_key is not None else 0
        )
        if len(footer) != expected:
            raise DbeSignatureError(
                "the footer does not match the header", attribute=FOOTER_ATTRIBUTE, table=table
            )

        try:
            aad = serialize_context(context)
        except HeaderError as exc:
            raise DbeItemError(
                f"cannot rebuild the encryption context: {exc}", table=table
            ) from exc
        materials = self._decryption_materials(suite, context, header, aad)
        data_key = materials.plaintext_data_key
        signing_key = materials.symmetric_signing_key
        assert data_key is not None
        assert signing_key is not None
        commit_key, root_key = derive_item_keys(data_key, header.message_id)
        raw_header = _binary(item[HEADER_ATTRIBUTE])
        assert raw_header is not None
        partial = raw_header[:-COMMITMENT_LENGTH]
        if not _compare(commitment(commit_key, partial), header.commitment):
            raise DbeSignatureError(
                "the header commitment does not match", attribute=HEADER_ATTRIBUTE, table=table
            )
        hasher = _sha384()
        record = [raw_header, _pack_u64(len(aad)), aad]
        for name, path, action in signed:
            type_id, body = serialized[name]
            if action is _E:
                record.append(path + _pack_u64(len(body)) + _ENCRYPTED_MARK + type_id)
            else:
                record.append(path + _pack_u64(len(body)) + _PLAINTEXT_MARK + type_id)
            if len(body) > _LARGE:
                hasher.update(b"".join(record))
                hasher.update(body)
                record.clear()
            else:
                record.append(body)
        hasher.update(b"".join(record))
        digest = hasher.digest()
        tag = _hmac_digest(signing_key, digest, "sha384")
        matched = False
        for offset in range(0, len(header.encrypted_data_keys) * TAG_LENGTH, TAG_LENGTH):
            # Compare with every tag (no early exit) so timing says nothing about which matched.
            matched |= _compare(tag, footer[offset : offset + TAG_LENGTH])
        if not matched:
            raise DbeSignatureError(
                "no footer tag matches: the item was changed, moved, or written with other keys",
                table=table,
            )
        if public_key is not None and not ecdsa_verify(
            public_key, footer[-ECDSA_SIGNATURE_LENGTH:], digest
        ):
            raise DbeSignatureError(
                "the signature does not match: the item was changed or moved", table=table
            )

        out = {k: v for k, v in item.items() if k not in (HEADER_ATTRIBUTE, FOOTER_ATTRIBUTE)}
        encrypted = [(name, path) for name, path, action in signed if action is _E]
        for (name, path), (field_key, nonce) in zip(
            encrypted, field_keys(root_key, len(encrypted)), strict=True
        ):
            type_id, body = serialized[name]
            try:
                plaintext = AESGCM(field_key).decrypt(nonce, body, path)
                out[name] = deserialize(type_id, plaintext)
            except (InvalidTag, CodecError) as exc:
                raise DecryptionError(
                    "the attribute could not be decrypted", attribute=name, table=table
                ) from exc
        return out

    def _decryption_materials(
        self, suite: DbeAlgorithmSuite, context: dict[str, str], header: DbeHeader, aad: bytes
    ) -> DbeDecryptionMaterials:
        table = self._table_name
        request = DbeDecryptionMaterials(
            algorithm_suite=suite,
            encryption_context=MappingProxyType(context),
            serialized_encryption_context=aad,
        )
        try:
            materials = self._keyring.on_decrypt(request, header.encrypted_data_keys)
        except PynamoDBEncryptionError:
            raise
        except Exception as exc:
            raise DecryptionError("the keyring failed", table=table) from exc
        if not isinstance(materials, DbeDecryptionMaterials):
            raise DecryptionError("the keyring returned no decryption materials", table=table)
        data_key = materials.plaintext_data_key
        signing_key = materials.symmetric_signing_key
        if data_key is None:
            raise DbeNoDataKeyError(
                "the keyring could not open any of the item's encrypted data keys", table=table
            )
        if (
            not isinstance(data_key, bytes)
            or len(data_key) != 32
            or not isinstance(signing_key, bytes)
        ):
            raise DecryptionError("the keyring gave malformed materials", table=table)
        return materials

    def read_header_python(self, item: Mapping[str, Any]) -> DbeItemHeader:
        """`read_header` on plain Python values."""
        try:
            ddb = to_ddb_item(item)
        except CodecError as exc:
            raise DbeHeaderError(f"cannot convert the item: {exc}", table=self._table_name) from exc
        return self.read_header(ddb)


def _binary(value: Any) -> bytes | None:
    if (type(value) is dict or isinstance(value, Mapping)) and len(value) == 1:
        raw = value.get("B")
        if isinstance(raw, bytes):
            return raw
        if isinstance(raw, (bytearray, memoryview)):
            return bytes(raw)
    return None
