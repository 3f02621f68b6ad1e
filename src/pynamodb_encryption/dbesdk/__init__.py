"""The AWS Database Encryption SDK for DynamoDB (DB-ESDK) item format, in pure Python.

Byte-compatible with AWS's Java and .NET DB-ESDK: items written by either are read here and
the other way round. Build a `DbEsdkItemEncryptor` per table with a keyring::

    from pynamodb_encryption.dbesdk import CryptoAction, DbEsdkItemEncryptor, RawAesKeyring

See the DB-ESDK concepts page of the documentation.
"""

from ..core._actions import CryptoAction
from ..core._protocol import ItemEncryptorProtocol, LegacyPolicy, PlaintextOverride
from ..errors import DbeHeaderError, DbeItemError, DbeNoDataKeyError, DbeSignatureError
from ..keyrings import (
    AwsKmsKeyring,
    BranchKeyIdSupplier,
    HierarchicalKeyring,
    KeyStore,
    MplKeyring,
    MultiKeyring,
    RawAesKeyring,
    RawRsaKeyring,
    RsaPadding,
    StaticKeyStore,
)
from ..structured import (
    BeaconKeyMaterials,
    BranchKeyMaterials,
    BranchKeyStore,
    DbeAlgorithmSuite,
    DbeDecryptionMaterials,
    DbeEncryptionMaterials,
    DbeHeader,
    DbeItemHeader,
    DbEsdkItemEncryptor,
    DynamoDbTableEncryptionConfig,
    DynamoDbTablesEncryptionConfig,
    EncryptedDataKey,
    Keyring,
    LegacyOverride,
    MigratingItemEncryptor,
)

__all__ = [
    "AwsKmsKeyring",
    "KeyStore",
    "MplKeyring",
    "MultiKeyring",
    "RawRsaKeyring",
    "RsaPadding",
    "BeaconKeyMaterials",
    "BranchKeyIdSupplier",
    "BranchKeyMaterials",
    "BranchKeyStore",
    "CryptoAction",
    "DbEsdkItemEncryptor",
    "DbeAlgorithmSuite",
    "DbeDecryptionMaterials",
    "DbeEncryptionMaterials",
    "DbeHeader",
    "DbeHeaderError",
    "DbeItemError",
    "DbeItemHeader",
    "DbeNoDataKeyError",
    "DynamoDbTableEncryptionConfig",
    "DynamoDbTablesEncryptionConfig",
    "LegacyOverride",
    "DbeSignatureError",
    "EncryptedDataKey",
    "HierarchicalKeyring",
    "ItemEncryptorProtocol",
    "Keyring",
    "LegacyPolicy",
    "MigratingItemEncryptor",
    "PlaintextOverride",
    "RawAesKeyring",
    "StaticKeyStore",
]
