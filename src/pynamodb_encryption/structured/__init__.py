"""The DB-ESDK structured encryption format: pure, no I/O (checked by import-linter).

Public names are re-exported from `pynamodb_encryption.dbesdk`; import from there.
"""

from ._beacon_encryptor import BeaconItemEncryptor, PartitionSelector
from ._beacon_query import BeaconQuery, beacon_table_schema, number_of_queries, prepare_query
from ._beacons import (
    BeaconKeySource,
    BeaconVersion,
    CompoundBeacon,
    Constructor,
    ConstructorPart,
    EncryptedPart,
    SignedPart,
    StandardBeacon,
    beacon_length_bounds,
)
from ._config import (
    DynamoDbTableEncryptionConfig,
    DynamoDbTablesEncryptionConfig,
    LegacyOverride,
    SearchConfig,
)
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
from ._virtual import (
    Insert,
    Lower,
    Prefix,
    Segment,
    Segments,
    Substring,
    Suffix,
    Upper,
    VirtualField,
    VirtualPart,
    VirtualTransform,
)

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
    # Searchable encryption (beacons)
    "BeaconItemEncryptor",
    "BeaconKeySource",
    "BeaconQuery",
    "BeaconVersion",
    "CompoundBeacon",
    "Constructor",
    "ConstructorPart",
    "EncryptedPart",
    "Insert",
    "Lower",
    "PartitionSelector",
    "Prefix",
    "SearchConfig",
    "Segment",
    "Segments",
    "SignedPart",
    "StandardBeacon",
    "Substring",
    "Suffix",
    "Upper",
    "VirtualField",
    "VirtualPart",
    "VirtualTransform",
    "beacon_length_bounds",
    "beacon_table_schema",
    "number_of_queries",
    "prepare_query",
]
