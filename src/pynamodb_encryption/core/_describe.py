"""What a stored item says about its own protection: `describe_item` and `ItemDescription`.

Pure: it reads the stored item (the material description of the legacy format, the header of
the DB-ESDK format) and, when given a provider, verifies the signature to learn exactly which
attributes are encrypted and signed. Nothing here prints, and nothing returned holds a value,
plaintext or key byte: only names, algorithms and key identifiers.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from ..errors import (
    ConfigurationError,
    DecryptionError,
    PynamoDBEncryptionError,
    SignatureVerificationError,
)
from ._actions import AttributeActions, CryptoAction
from ._encryptor import MATERIAL_DESCRIPTION_ATTRIBUTE, SIGNATURE_ATTRIBUTE, ItemEncryptor
from ._materials import (
    DecryptionMaterials,
    EncryptionContext,
    EncryptionMaterials,
    MaterialsProvider,
)
from ._md import (
    MD_CONTENT_KEY_ALGORITHM,
    MD_ENCRYPTED_KEY,
    MD_KEY_WRAP_ALGORITHM,
    MD_KMS_EC_ATTRIBUTES,
    MD_META_ID,
    MD_SIGNING_ALGORITHM,
    MD_SIGNING_KEY_ALGORITHM,
    MD_SYMMETRIC_MODE,
    MaterialDescriptionError,
    decode_material_description,
)

__all__ = [
    "DBESDK_FOOTER_ATTRIBUTE",
    "DBESDK_HEADER_ATTRIBUTE",
    "MAX_SEARCH_ATTRIBUTES",
    "ItemDescription",
    "VerifiedItem",
    "candidate_actions",
    "describe_item",
    "legacy_provider_kind",
    "looks_encrypted",
    "verify_item",
]

DBESDK_HEADER_ATTRIBUTE = "aws_dbe_head"
DBESDK_FOOTER_ATTRIBUTE = "aws_dbe_foot"
_DBESDK_PREFIX = "aws_dbe_"
#: Above this many candidate attributes the action search is refused (2**n candidates).
MAX_SEARCH_ATTRIBUTES = 14

ItemFormat = Literal["legacy", "dbesdk", "plaintext"]

_DBESDK_SUITES = {
    0: ("HMAC-SHA384", "AES-256-GCM, HKDF-SHA512 with key commitment"),
    1: ("ECDSA-P384-SHA384 + HMAC-SHA384", "AES-256-GCM, HKDF-SHA512 with key commitment"),
}
# Raw AES keyring provider info: key name || u32 tag bits (128) || u32 IV length (12) || IV.
_RAW_AES_INFO_TAIL = struct.pack(">II", 128, 12)


@dataclass(frozen=True, slots=True)
class ItemDescription:
    """How a stored item is protected, as far as the item (and a provider, if given) tells.

    Attributes:
        format: ``"legacy"`` (AWS DynamoDB Encryption Client), ``"dbesdk"`` (AWS Database
            Encryption SDK) or ``"plaintext"`` (neither: written without this library).
        signed: the item carries a signature.
        provider_kind: for legacy items the kind of materials provider that wrote it, named as
            in provider config files (``"static"``, ``"wrapped"``, ``"aws-kms"``,
            ``"most-recent"``); for DB-ESDK items the keyring kinds (``"aws-kms"``,
            ``"aws-kms-hierarchy"``, ``"raw-aes"``, ``"raw-rsa"``, joined by ``+``).
        material_name: most-recent material name (legacy) or branch key id (DB-ESDK
            hierarchical keyring).
        material_version: most-recent material version (legacy).
        branch_key_version: branch key version (DB-ESDK hierarchical keyring).
        kms_key_id: the KMS key, when known: from the DB-ESDK header, or from the provider
            that verified a legacy item (a legacy item does not name its KMS key in the clear).
        key_name: raw keyring key namespace and name (DB-ESDK), as ``namespace/name``.
        signing_algorithm: the signature (and MAC) algorithm.
        content_algorithm: the encryption of attribute values.
        wrap_algorithm: how the per-item key is wrapped (legacy), if it is.
        encrypted_attributes: names of the encrypted attributes.
        signed_attributes: names of the signed attributes (encrypted ones included), or None
            when only a verification can tell.
        certain: the two sets above are exact (verified with keys, or read from a DB-ESDK
            header that covers every attribute); otherwise ``encrypted_attributes`` is inferred
            from the values' shape.
        verified: True or False once a provider checked the signature; None when not checked.
        material_description: the legacy material description (algorithms and key ids only).
        error: why the description is incomplete or verification failed, if it is or did.
    """

    format: ItemFormat
    signed: bool
    provider_kind: str | None = None
    material_name: str | None = None
    material_version: int | None = None
    branch_key_version: str | None = None
    kms_key_id: str | None = None
    key_name: str | None = None
    signing_algorithm: str | None = None
    content_algorithm: str | None = None
    wrap_algorithm: str | None = None
    encrypted_attributes: frozenset[str] = frozenset()
    signed_attributes: frozenset[str] | None = None
    certain: bool = False
    verified: bool | None = None
    material_description: Mapping[str, str] = field(default_factory=dict, hash=False)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class VerifiedItem:
    """Internal result of `verify_item`: the actions that verify, and the plaintext item."""

    actions: AttributeActions
    plaintext: Mapping[str, Any] = field(repr=False)
    searched: bool


def describe_item(
    item: Mapping[str, Any],
    *,
    provider: MaterialsProvider | None = None,
    table_name: str | None = None,
    partition_key_name: str | None = None,
    sort_key_name: str | None = None,
    attribute_actions: AttributeActions | None = None,
) -> ItemDescription:
    """Describe how a stored item (DynamoDB JSON, as returned by ``GetItem``) is protected.

    Without a provider only what is stored in the clear is read: the format, the provider or
    keyring kind, material name and version or KMS key, algorithms, and which attributes
    look encrypted. With a legacy ``provider`` (and the table and key names, which the
    signature covers) the signature is verified; the attribute actions are then exact. When
    ``attribute_actions`` is not given they are found: the signature matches one set of signed
    attributes, so candidates are tried, most likely first, with the materials fetched once.

    Raises:
        ConfigurationError: a provider was given without ``table_name`` and
            ``partition_key_name``.
        ProviderError: the provider could not produce decryption materials.
    """
    description = _describe_stored(item)
    if provider is None or description.format != "legacy" or not description.signed:
        return description
    if table_name is None or partition_key_name is None:
        raise ConfigurationError(
            "describe_item with a provider needs table_name and partition_key_name"
        )
    outcome = verify_item(
        item,
        provider=provider,
        table_name=table_name,
        partition_key_name=partition_key_name,
        sort_key_name=sort_key_name,
        attribute_actions=attribute_actions,
    )
    return with_verification(description, outcome, provider=provider)


def with_verification(
    description: ItemDescription,
    outcome: VerifiedItem | PynamoDBEncryptionError,
    *,
    provider: MaterialsProvider,
    item: Mapping[str, Any] | None = None,
) -> ItemDescription:
    """``description`` completed with the outcome of `verify_item`."""
    if isinstance(outcome, PynamoDBEncryptionError):
        return _replace(description, verified=False, error=outcome.message)
    names = [n for n in outcome.plaintext if not _reserved(n)]
    actions = outcome.actions
    encrypted = frozenset(n for n in names if actions.action(n) is CryptoAction.ENCRYPT_AND_SIGN)
    signed = frozenset(n for n in names if actions.action(n) is not CryptoAction.DO_NOTHING)
    kms_key_id = description.kms_key_id
    if description.provider_kind == "aws-kms" and kms_key_id is None:
        # Legacy KMS items do not name their key in the clear; the provider that verified
        # the item does (duck-typed: this layer does not import the providers).
        key_id = getattr(provider, "key_id", None)
        kms_key_id = key_id if isinstance(key_id, str) else None
    return _replace(
        description,
        verified=True,
        certain=True,
        encrypted_attributes=encrypted,
        signed_attributes=signed,
        kms_key_id=kms_key_id,
        error=None,
    )


def _replace(description: ItemDescription, **changes: Any) -> ItemDescription:
    from dataclasses import replace

    return replace(description, **changes)


def _reserved(name: str) -> bool:
    return name in (SIGNATURE_ATTRIBUTE, MATERIAL_DESCRIPTION_ATTRIBUTE) or name.startswith(
        _DBESDK_PREFIX
    )


def looks_encrypted(value: Any) -> bool:
    """A ``B`` value shaped like the legacy ``IV (16) || AES-CBC ciphertext`` (>= 2 blocks)."""
    if not isinstance(value, Mapping) or set(value) != {"B"}:
        return False
    size = len(bytes(value["B"]))
    return size >= 32 and size % 16 == 0


def legacy_provider_kind(description: Mapping[str, str]) -> str:
    """The provider kind (as in provider config files) that wrote a legacy description."""
    if MD_META_ID in description:
        return "most-recent"
    if description.get(MD_KEY_WRAP_ALGORITHM) == "kms" or MD_KMS_EC_ATTRIBUTES in description:
        return "aws-kms"
    if MD_ENCRYPTED_KEY in description:
        return "wrapped"
    return "static"


def _describe_stored(item: Mapping[str, Any]) -> ItemDescription:
    if DBESDK_HEADER_ATTRIBUTE in item or DBESDK_FOOTER_ATTRIBUTE in item:
        return _describe_dbesdk(item)
    signed = SIGNATURE_ATTRIBUTE in item
    raw_md = item.get(MATERIAL_DESCRIPTION_ATTRIBUTE)
    if not signed and raw_md is None:
        return ItemDescription(format="plaintext", signed=False, certain=True)
    description: dict[str, str] = {}
    error = None
    if isinstance(raw_md, Mapping) and "B" in raw_md:
        try:
            description = decode_material_description(bytes(raw_md["B"]))
        except MaterialDescriptionError as exc:
            error = f"the material description is malformed: {exc}"
    elif signed:
        error = "the material description is missing"
    name = version = None
    meta_id = description.get(MD_META_ID)
    if meta_id is not None:
        raw_name, _, raw_version = meta_id.rpartition("#")
        name = raw_name or meta_id
        version = int(raw_version) if raw_version.isdigit() else None
    can_encrypt = MD_SYMMETRIC_MODE in description
    encrypted = frozenset(
        n for n, v in item.items() if not _reserved(n) and can_encrypt and looks_encrypted(v)
    )
    # Legacy content encryption is always AES: "AES/256" (per-item key) or the static key's
    # AES, then the mode ("/CBC/PKCS5Padding").
    mode = description.get(MD_SYMMETRIC_MODE)
    content = f"{description.get(MD_CONTENT_KEY_ALGORITHM) or 'AES'}{mode}" if mode else ""
    return ItemDescription(
        format="legacy",
        signed=signed,
        provider_kind=legacy_provider_kind(description) if description else None,
        material_name=name,
        material_version=version,
        signing_algorithm=description.get(MD_SIGNING_ALGORITHM)
        or description.get(MD_SIGNING_KEY_ALGORITHM),
        content_algorithm=content or None,
        wrap_algorithm=description.get(MD_KEY_WRAP_ALGORITHM),
        encrypted_attributes=encrypted,
        material_description=MappingProxyType(
            {k: v for k, v in description.items() if k != MD_ENCRYPTED_KEY}
        ),
        error=error,
    )


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def take(self, size: int) -> bytes:
        if self._at + size > len(self._data):
            raise ValueError("truncated")
        chunk = self._data[self._at : self._at + size]
        self._at += size
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        value: int = struct.unpack(">H", self.take(2))[0]
        return value

    def sized(self) -> bytes:
        return self.take(self.u16())


def _canonical_order(name: str) -> tuple[int, bytes]:
    # DB-ESDK sorts signed attributes by canonical path: length first (UTF-16 code units),
    # then bytes.
    return (len(name.encode("utf-16-le")) // 2, name.encode("utf-8"))


def _describe_dbesdk(item: Mapping[str, Any]) -> ItemDescription:
    raw = item.get(DBESDK_HEADER_ATTRIBUTE)
    signed = DBESDK_FOOTER_ATTRIBUTE in item
    if not isinstance(raw, Mapping) or "B" not in raw:
        return ItemDescription(format="dbesdk", signed=signed, error="the header is missing")
    try:
        reader = _Reader(bytes(raw["B"]))
        version, flavor = reader.u8(), reader.u8()
        reader.take(32)  # message id
        legend = reader.sized()
        for _ in range(reader.u16()):  # stored encryption context entries
            reader.sized()
            reader.sized()
        edks = [(reader.sized(), reader.sized(), reader.sized()) for _ in range(reader.u8())]
    except ValueError:
        return ItemDescription(format="dbesdk", signed=signed, error="the header is malformed")
    if version not in (1, 2) or flavor not in _DBESDK_SUITES:
        return ItemDescription(
            format="dbesdk", signed=signed, error=f"unknown header version {version}/{flavor}"
        )
    kinds: list[str] = []
    kms_key_id = material_name = branch_version = key_name = None
    for provider_id, info, ciphertext in edks:
        pid = provider_id.decode("utf-8", "replace")
        if pid == "aws-kms":
            kinds.append("aws-kms")
            kms_key_id = kms_key_id or info.decode("utf-8", "replace")
        elif pid == "aws-kms-hierarchy":
            kinds.append("aws-kms-hierarchy")
            material_name = material_name or info.decode("utf-8", "replace")
            uuid = ciphertext[48 + 28 : 48 + 44]
            if len(uuid) == 16 and branch_version is None:
                hexed = uuid.hex()
                branch_version = "-".join(
                    (hexed[:8], hexed[8:12], hexed[12:16], hexed[16:20], hexed[20:])
                )
        elif len(info) >= 20 and info[-20:-12] == _RAW_AES_INFO_TAIL:
            kinds.append("raw-aes")
            key_name = key_name or f"{pid}/{info[:-20].decode('utf-8', 'replace')}"
        else:
            kinds.append("raw-rsa")
            key_name = key_name or f"{pid}/{info.decode('utf-8', 'replace')}"
    names = sorted((n for n in item if not _reserved(n)), key=_canonical_order)
    signing, content = _DBESDK_SUITES[flavor]
    certain = len(legend) == len(names)
    if certain:
        encrypted = frozenset(n for n, c in zip(names, legend, strict=True) if c == ord("e"))
        signed_names: frozenset[str] | None = frozenset(names)
    else:
        # Some attributes are DO_NOTHING: which ones only the configuration tells.
        encrypted = frozenset()
        signed_names = None
    return ItemDescription(
        format="dbesdk",
        signed=signed,
        provider_kind="+".join(dict.fromkeys(kinds)) or None,
        material_name=material_name,
        branch_key_version=branch_version,
        kms_key_id=kms_key_id,
        key_name=key_name,
        signing_algorithm=signing,
        content_algorithm=content,
        encrypted_attributes=encrypted,
        signed_attributes=signed_names,
        certain=certain,
    )


class _FixedMaterials:
    """A provider that answers every decryption request with materials fetched once.

    The action search re-verifies one item many times; asking KMS or a meta store each time
    would cost a network round trip per candidate.
    """

    def __init__(self, materials: DecryptionMaterials) -> None:
        self._materials = materials

    def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
        raise ConfigurationError("describing an item never encrypts")

    def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
        return self._materials


def candidate_actions(
    item: Mapping[str, Any], key_names: Sequence[str], *, can_encrypt: bool
) -> Iterator[AttributeActions]:
    """Attribute actions to try, most likely first.

    Binary values shaped like ciphertext are taken as encrypted; every subset of the other
    attributes is then tried as the signed set, largest first (keys and modelled attributes
    are usually all signed).
    """
    names = [n for n in item if not _reserved(n)]
    encrypted = {
        n: CryptoAction.ENCRYPT_AND_SIGN
        for n in names
        if can_encrypt and n not in key_names and looks_encrypted(item[n])
    }
    rest = sorted(n for n in names if n not in encrypted)
    if len(rest) > MAX_SEARCH_ATTRIBUTES:
        raise ConfigurationError(
            f"too many attributes ({len(rest)}) to find the actions by search; give the "
            "attribute actions"
        )
    for size in range(len(rest), -1, -1):
        for signed in itertools.combinations(rest, size):
            overrides = dict(encrypted)
            overrides.update({n: CryptoAction.SIGN_ONLY for n in signed})
            yield AttributeActions(CryptoAction.DO_NOTHING, overrides)


def verify_item(
    item: Mapping[str, Any],
    *,
    provider: MaterialsProvider,
    table_name: str,
    partition_key_name: str,
    sort_key_name: str | None = None,
    attribute_actions: AttributeActions | None = None,
) -> VerifiedItem | PynamoDBEncryptionError:
    """Verify and decrypt a legacy item, searching the actions when they are not given.

    Returns the actions that verify with the plaintext, or the last verification error.
    """
    body = {k: v for k, v in item.items() if not _reserved(k)}
    description: dict[str, str] = {}
    raw_md = item.get(MATERIAL_DESCRIPTION_ATTRIBUTE)
    if isinstance(raw_md, Mapping) and "B" in raw_md:
        description = decode_material_description(bytes(raw_md["B"]))
    context = EncryptionContext(
        table_name=table_name,
        partition_key_name=partition_key_name,
        sort_key_name=sort_key_name,
        attributes=MappingProxyType(body),
        material_description=MappingProxyType(description),
    )
    fixed = _FixedMaterials(provider.decryption_materials(context))
    keys = [n for n in (partition_key_name, sort_key_name) if n is not None]
    searched = attribute_actions is None
    candidates: Iterator[AttributeActions] = (
        iter([attribute_actions])
        if attribute_actions is not None
        else candidate_actions(item, keys, can_encrypt=MD_SYMMETRIC_MODE in description)
    )
    last_error: PynamoDBEncryptionError | None = None
    for candidate in candidates:
        encryptor = ItemEncryptor(
            table_name=table_name,
            partition_key_name=partition_key_name,
            sort_key_name=sort_key_name,
            attribute_actions=candidate,
            materials_provider=fixed,
        )
        try:
            plain = encryptor.decrypt(item)
        except SignatureVerificationError as exc:
            last_error = exc
            continue
        except DecryptionError as exc:
            last_error = exc
            if searched:
                continue
            break
        return VerifiedItem(encryptor.attribute_actions, plain, searched)
    if last_error is None:
        return SignatureVerificationError("no candidate actions")
    if searched:
        return SignatureVerificationError(
            "no set of signed attributes matches the signature: wrong keys, or the item was "
            f"changed ({last_error.message})"
        )
    return last_error
