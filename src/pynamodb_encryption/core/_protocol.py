"""The one item-encryptor protocol that models, boto3 helpers and the maintenance job use.

Both item formats (the legacy DynamoDB Encryption Client format in `core`, the DB-ESDK format in
`structured`) and the migrating encryptor that composes them satisfy it, so the shells above
never branch on the format: they ask the encryptor which attributes it reserves, which ones are
signed, whether a stored item is one it reads, and what to condition a rewrite on.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from ._actions import CryptoAction

__all__ = ["ItemEncryptorProtocol", "LegacyPolicy", "PlaintextOverride"]


@runtime_checkable
class ItemEncryptorProtocol(Protocol):
    """What the ORM, the boto3 helpers and the jobs need from an item encryptor."""

    @property
    def table_name(self) -> str:
        """The (logical) table name bound into every item."""
        ...

    @property
    def reserved_attributes(self) -> frozenset[str]:
        """The attribute names the format(s) it reads and writes keep for themselves."""
        ...

    @property
    def marker_attributes(self) -> tuple[str, ...]:
        """Attributes one of which every stored item it accepts holds (a write that must not
        create an unreadable item is conditioned on one of them existing); empty when it also
        accepts plaintext items."""
        ...

    def action(self, name: str) -> CryptoAction:
        """The action a write gives a top-level attribute (``DO_NOTHING``: unsigned)."""
        ...

    def is_encrypted(self, item: Mapping[str, Any]) -> bool:
        """Whether a stored item carries this encryptor's format (not plaintext)."""
        ...

    def signature_attribute(self, item: Mapping[str, Any]) -> str | None:
        """The attribute whose stored value changes whenever the item's signed part does: a
        rewrite of ``item`` is conditioned on it being unchanged. None for a plaintext item."""
        ...

    def write_is_unique(self, stored: Mapping[str, Any]) -> bool:
        """Whether the value of `signature_attribute` in this freshly encrypted item can have
        been produced by no other write (fresh randomness in it)."""
        ...

    def encrypt(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Encrypt and sign a DynamoDB-JSON item; returns a new item."""
        ...

    def decrypt(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Verify and decrypt a stored DynamoDB-JSON item; returns a new plaintext item."""
        ...


@enum.unique
class LegacyPolicy(enum.Enum):
    """DB-ESDK's legacy override: how an encryptor that knows both formats treats the legacy
    DynamoDB Encryption Client format (same names as AWS's ``LegacyPolicy``)."""

    #: Write legacy items, read both (stage 1: readers learn DB-ESDK before anyone writes it).
    FORCE_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT = "FORCE_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT"
    #: Write DB-ESDK items, read both (stage 2, the default when both are configured).
    FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT = "FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT"
    #: Write DB-ESDK items, refuse legacy ones (stage 3, once every item is DB-ESDK).
    FORBID_LEGACY_ENCRYPT_FORBID_LEGACY_DECRYPT = "FORBID_LEGACY_ENCRYPT_FORBID_LEGACY_DECRYPT"


@enum.unique
class PlaintextOverride(enum.Enum):
    """DB-ESDK's plaintext override: what an encryptor does with plaintext items (same names as
    AWS's ``PlaintextOverride``)."""

    #: Write items in plaintext, read plaintext items (before encryption is switched on).
    FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ = "FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ"
    #: Encrypt every write, still read plaintext items (while a table is being adopted).
    FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ = "FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ"
    #: Encrypt every write, refuse plaintext items (the default).
    FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ = "FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ"

    @property
    def reads_plaintext(self) -> bool:
        """Whether plaintext items are read (as they are, unverified)."""
        return self is not PlaintextOverride.FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ

    @property
    def writes_plaintext(self) -> bool:
        """Whether writes are left in plaintext."""
        return self is PlaintextOverride.FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ
