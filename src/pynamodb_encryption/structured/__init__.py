"""The DB-ESDK structured encryption format: pure, no I/O (checked by import-linter).

Public names are re-exported from `pynamodb_encryption.dbesdk`; import from there.
"""

from ._config import DynamoDbTableEncryptionConfig, DynamoDbTablesEncryptionConfig, LegacyOverride
from ._encryptor import DbeItemHeader, DbEsdkItemEncryptor
from ._header import DbeHeader
from ._materials import (
    BeaconKeyMaterials,
    BranchKeyMaterials,
    BranchKeyStore,
    DbeDecryptionMaterials,
    DbeEncryptionMaterials,
    EncryptedDataKey,
    Keyring,
)
from ._migrating import MigratingItemEncryptor, item_format
from ._suites import DEFAULT_SUITE, DbeAlgorithmSuite

__all__ = [
    "DEFAULT_SUITE",
    "BeaconKeyMaterials",
    "BranchKeyMaterials",
    "BranchKeyStore",
    "DbeAlgorithmSuite",
    "DbEsdkItemEncryptor",
    "DbeDecryptionMaterials",
    "DbeEncryptionMaterials",
    "DbeHeader",
    "DbeItemHeader",
    "DynamoDbTableEncryptionConfig",
    "DynamoDbTablesEncryptionConfig",
    "EncryptedDataKey",
    "Keyring",
    "LegacyOverride",
    "MigratingItemEncryptor",
    "item_format",
]
