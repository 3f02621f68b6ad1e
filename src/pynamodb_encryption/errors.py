"""The exception tree of pynamodb-encryption.

Every error raised on purpose by this library is a `PynamoDBEncryptionError`.
Messages and structured fields carry names (attribute, table, material) and never a value,
a plaintext or key material: exceptions end up in logs and error trackers.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "DbeHeaderError",
    "DbeItemError",
    "DbeNoDataKeyError",
    "DbeSignatureError",
    "DecryptionError",
    "EncryptionError",
    "InvalidMaterialDescriptionError",
    "MissingMetaError",
    "NoKnownVersionError",
    "PlaintextItemError",
    "ProviderError",
    "PynamoDBEncryptionError",
    "SignatureVerificationError",
    "UnsupportedOperationError",
    "VersionAlreadyExistsError",
]


class PynamoDBEncryptionError(Exception):
    """Base class of every error raised by pynamodb-encryption.

    Attributes:
        attribute: name of the attribute concerned, if any.
        table: name of the table concerned, if any.
        material_name: name of the key material concerned, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        attribute: str | None = None,
        table: str | None = None,
        material_name: str | None = None,
    ) -> None:
        self.message = message
        self.attribute = attribute
        self.table = table
        self.material_name = material_name
        super().__init__(message)

    def __str__(self) -> str:
        parts = [self.message]
        if self.table is not None:
            parts.append(f"table={self.table!r}")
        if self.attribute is not None:
            parts.append(f"attribute={self.attribute!r}")
        if self.material_name is not None:
            parts.append(f"material={self.material_name!r}")
        return parts[0] if len(parts) == 1 else f"{parts[0]} ({', '.join(parts[1:])})"


class ConfigurationError(PynamoDBEncryptionError, ValueError):
    """The library was set up in a way that cannot work (keys, actions, model declaration).

    Raised by constructors for an argument of the wrong type or value (never a bare
    ``TypeError``), for the reference library's keyword names (the message names ours), and
    on first use when an object given as a boto3 client is not one.
    """


class MissingMetaError(ConfigurationError, AttributeError):
    """A model has no ``Meta`` class, or no ``Meta.table_name``.

    Also an ``AttributeError``, which is what PynamoDB raises there, so that code written for
    plain models keeps catching it.
    """


class UnsupportedOperationError(PynamoDBEncryptionError):
    """The operation cannot be carried out without breaking encryption or signatures.

    Raised before anything is sent to DynamoDB.
    """


class EncryptionError(PynamoDBEncryptionError):
    """An item could not be encrypted or signed; nothing was written.

    Among the causes: a value DynamoDB could not store in the clear, such as one nesting
    lists or maps deeper than DynamoDB's 32 levels, or encrypted attributes over its 400 KB
    item size (checked before anything is sent, so that every item written can be read back).
    """


class DecryptionError(PynamoDBEncryptionError):
    """An item could not be verified or decrypted.

    Deliberately opaque: wrong keys, bad padding and truncated ciphertexts all look alike, so
    that the error cannot serve as an oracle. The low-level cause is kept in ``__cause__``.
    """


class SignatureVerificationError(DecryptionError):
    """The signature does not match: the item was written with other attribute actions (the
    usual cause in development), or it was changed, moved or signed with another key.

    ``pynamodb-encryption inspect --provider-config`` finds which actions verify an item.
    """


class InvalidMaterialDescriptionError(DecryptionError):
    """The stored material description is malformed or names an unknown algorithm or version."""


class PlaintextItemError(DecryptionError):
    """An item that should be signed carries no signature (it was written without encryption)."""


class ProviderError(PynamoDBEncryptionError):
    """A materials provider could not obtain keys (KMS or meta store failure)."""


class NoKnownVersionError(ProviderError):
    """The meta store holds no version of the requested material."""


class VersionAlreadyExistsError(ProviderError):
    """Another writer created the same material version first."""


# DB-ESDK (pynamodb_encryption.dbesdk): one subclass per stage of a failed read, all opaque.


class DbeHeaderError(DecryptionError):
    """A DB-ESDK item's header (``aws_dbe_head``) is malformed, or names an unknown format."""


class DbeItemError(DecryptionError):
    """A DB-ESDK item's attributes do not fit its header (an attribute was added, removed, or
    made unsigned), or a key attribute is missing."""


class DbeNoDataKeyError(DecryptionError):
    """The keyring could open none of a DB-ESDK item's encrypted data keys."""


class DbeSignatureError(SignatureVerificationError):
    """A DB-ESDK item's header commitment, footer tags or ECDSA signature do not match."""
