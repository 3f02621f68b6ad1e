"""What a DB-ESDK keyring is given and returns, and the branch key store it may read.

These are the seams between the pure format (`structured`) and the key sources
(`keyrings`): the engine builds the materials with the item's encryption context, a keyring
adds the data key and its encrypted copies, and the engine checks what comes back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from ._suites import DbeAlgorithmSuite
from ._wrapping import serialize_encryption_context

__all__ = [
    "BeaconKeyMaterials",
    "BranchKeyMaterials",
    "BranchKeyStore",
    "DbeDecryptionMaterials",
    "DbeEncryptionMaterials",
    "EncryptedDataKey",
    "Keyring",
]

_EMPTY: Mapping[str, str] = MappingProxyType({})


def _empty() -> Mapping[str, str]:
    return _EMPTY


@dataclass(frozen=True, slots=True, kw_only=True)
class EncryptedDataKey:
    """One encrypted copy of an item's data key, as stored in the header.

    ``provider_id`` names the keyring kind (a raw keyring's namespace, ``aws-kms``,
    ``aws-kms-hierarchy``); ``provider_info`` names the key (key name and IV, KMS key ARN,
    branch key id); ``ciphertext`` is the wrapped material.
    """

    provider_id: bytes
    provider_info: bytes
    ciphertext: bytes = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class DbeEncryptionMaterials:
    """Materials for one item write.

    ``encryption_context`` is the full context (table, key names and values, the public
    verification key for the ECDSA suite). A keyring that finds ``plaintext_data_key`` unset
    generates one; every keyring appends one entry to ``encrypted_data_keys`` and the
    matching HMAC key to ``symmetric_signing_keys`` (same order, same count).
    """

    algorithm_suite: DbeAlgorithmSuite
    encryption_context: Mapping[str, str] = field(default_factory=_empty)
    plaintext_data_key: bytes | None = field(default=None, repr=False)
    encrypted_data_keys: tuple[EncryptedDataKey, ...] = ()
    symmetric_signing_keys: tuple[bytes, ...] = field(default=(), repr=False)
    # ``serialize_encryption_context(encryption_context)`` when the caller already built it
    # (the engine does, for its own AAD), so that keyrings do not serialize it again.
    serialized_encryption_context: bytes | None = field(default=None, repr=False, compare=False)

    def encryption_context_bytes(self) -> bytes:
        """The serialized encryption context, the AAD of every wrap: the caller's copy when
        it made one, else serialized here."""
        cached = self.serialized_encryption_context
        if cached is not None:
            return cached
        return serialize_encryption_context(self.encryption_context)

    def with_data_key(self, plaintext_data_key: bytes) -> DbeEncryptionMaterials:
        """A copy holding ``plaintext_data_key`` (only when none is set yet)."""
        if self.plaintext_data_key is not None:
            raise ValueError("the materials already hold a data key")
        # Built directly: dataclasses.replace costs several microseconds per item.
        return DbeEncryptionMaterials(
            algorithm_suite=self.algorithm_suite,
            encryption_context=self.encryption_context,
            plaintext_data_key=plaintext_data_key,
            encrypted_data_keys=self.encrypted_data_keys,
            symmetric_signing_keys=self.symmetric_signing_keys,
            serialized_encryption_context=self.serialized_encryption_context,
        )

    def with_encrypted_data_key(
        self, edk: EncryptedDataKey, symmetric_signing_key: bytes
    ) -> DbeEncryptionMaterials:
        """A copy with one more encrypted data key and its footer HMAC key."""
        return DbeEncryptionMaterials(
            algorithm_suite=self.algorithm_suite,
            encryption_context=self.encryption_context,
            plaintext_data_key=self.plaintext_data_key,
            encrypted_data_keys=(*self.encrypted_data_keys, edk),
            symmetric_signing_keys=(*self.symmetric_signing_keys, symmetric_signing_key),
            serialized_encryption_context=self.serialized_encryption_context,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DbeDecryptionMaterials:
    """Materials for one item read.

    A keyring that can open one of the item's encrypted data keys returns a copy with
    ``plaintext_data_key`` and ``symmetric_signing_key`` (the HMAC key of the footer tag that
    belongs to that data key) set; a keyring that cannot returns the materials unchanged.
    """

    algorithm_suite: DbeAlgorithmSuite
    encryption_context: Mapping[str, str] = field(default_factory=_empty)
    plaintext_data_key: bytes | None = field(default=None, repr=False)
    symmetric_signing_key: bytes | None = field(default=None, repr=False)
    # As on `DbeEncryptionMaterials`: the serialized context when the caller already has it.
    serialized_encryption_context: bytes | None = field(default=None, repr=False, compare=False)

    def encryption_context_bytes(self) -> bytes:
        """The serialized encryption context, the AAD of every wrap: the caller's copy when
        it made one, else serialized here."""
        cached = self.serialized_encryption_context
        if cached is not None:
            return cached
        return serialize_encryption_context(self.encryption_context)

    def with_data_key(
        self, plaintext_data_key: bytes, symmetric_signing_key: bytes
    ) -> DbeDecryptionMaterials:
        """A copy holding the data key and its HMAC key (only when none is set yet)."""
        if self.plaintext_data_key is not None:
            raise ValueError("the materials already hold a data key")
        return DbeDecryptionMaterials(
            algorithm_suite=self.algorithm_suite,
            encryption_context=self.encryption_context,
            plaintext_data_key=plaintext_data_key,
            symmetric_signing_key=symmetric_signing_key,
            serialized_encryption_context=self.serialized_encryption_context,
        )


@runtime_checkable
class Keyring(Protocol):
    """A source of data keys for DB-ESDK items. Implement both methods for your own.

    Both may do I/O. They raise a `PynamoDBEncryptionError` subclass on failure and never put a
    key byte in an error. ``on_decrypt`` returns the materials unchanged when none of the data
    keys is one it can open; the engine then reports a single opaque error.
    """

    def on_encrypt(self, materials: DbeEncryptionMaterials) -> DbeEncryptionMaterials:
        """Generate the data key if unset, then add this keyring's encrypted copy of it."""
        ...

    def on_decrypt(
        self,
        materials: DbeDecryptionMaterials,
        encrypted_data_keys: Sequence[EncryptedDataKey],
    ) -> DbeDecryptionMaterials:
        """Open the first of ``encrypted_data_keys`` this keyring can, if any."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class BranchKeyMaterials:
    """One version of a branch key: the 32-byte key the hierarchical keyring derives from.

    ``branch_key_version`` is the version's UUID as text (``"b9b2...-..."``); its 16 raw bytes
    go into each encrypted data key.
    """

    branch_key_id: str
    branch_key_version: str
    branch_key: bytes = field(repr=False)
    encryption_context: Mapping[str, str] = field(default_factory=_empty)


@dataclass(frozen=True, slots=True, kw_only=True)
class BeaconKeyMaterials:
    """The beacon key of a branch key id (32 bytes; searchable encryption derives from it)."""

    beacon_key_id: str
    beacon_key: bytes = field(repr=False)
    encryption_context: Mapping[str, str] = field(default_factory=_empty)


@runtime_checkable
class BranchKeyStore(Protocol):
    """Where the hierarchical keyring and beacons get branch and beacon keys.

    `KeyStore` reads AWS's DynamoDB key-store table and unwraps with KMS; `StaticKeyStore`
    holds plaintext material (tests, AWS's published vectors). Errors are `ProviderError`s.
    """

    def get_active_branch_key(self, branch_key_id: str) -> BranchKeyMaterials:
        """The active version of ``branch_key_id`` (used to encrypt)."""
        ...

    def get_branch_key_version(
        self, branch_key_id: str, branch_key_version: str
    ) -> BranchKeyMaterials:
        """A given version of ``branch_key_id`` (used to decrypt)."""
        ...

    def get_beacon_key(self, branch_key_id: str) -> BeaconKeyMaterials:
        """The beacon key stored under ``branch_key_id``."""
        ...
