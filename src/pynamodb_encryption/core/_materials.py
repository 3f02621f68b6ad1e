"""What a materials provider is given and what it returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from ._keys import Signer, SymmetricKey, Verifier

__all__ = [
    "DecryptionMaterials",
    "EncryptionContext",
    "EncryptionMaterials",
    "MaterialsProvider",
]

_EMPTY: Mapping[str, str] = MappingProxyType({})


def _empty() -> Mapping[str, str]:
    return _EMPTY


@dataclass(frozen=True, slots=True, kw_only=True)
class EncryptionContext:
    """The request a provider answers: which table and item the keys are for.

    ``attributes`` is the item in DynamoDB JSON (on decrypt: as stored, without the signature
    and material description). It is hidden from ``repr``.
    """

    table_name: str
    partition_key_name: str | None = None
    sort_key_name: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=_empty, repr=False)
    material_description: Mapping[str, str] = field(default_factory=_empty)


@dataclass(frozen=True, slots=True, kw_only=True)
class EncryptionMaterials:
    """Keys for one item write: a signer, an optional content key, and the description to store."""

    signing_key: Signer
    encryption_key: SymmetricKey | None = None
    material_description: Mapping[str, str] = field(default_factory=_empty)


@dataclass(frozen=True, slots=True, kw_only=True)
class DecryptionMaterials:
    """Keys for one item read: a verifier and an optional content key."""

    verification_key: Verifier
    decryption_key: SymmetricKey | None = None
    material_description: Mapping[str, str] = field(default_factory=_empty)


@runtime_checkable
class MaterialsProvider(Protocol):
    """Where keys come from. Implement these two methods for your own key source.

    Both methods may do I/O (KMS, a meta store, an HSM). They raise a
    `PynamoDBEncryptionError` subclass on failure.
    """

    def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
        """Keys to encrypt and sign the item described by ``context``."""
        ...

    def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
        """Keys to verify and decrypt the item described by ``context``.

        ``context.material_description`` holds the item's stored (unsigned) description.
        """
        ...
