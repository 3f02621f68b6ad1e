"""DB-ESDK table configurations in AWS's own shape (``DynamoDbTablesEncryptionConfig``,
``DynamoDbTableEncryptionConfig``, ``LegacyOverride``), so that code written for AWS's DB-ESDK
Python API moves with renamed imports. Each table configuration builds one item encryptor
(the migrating encryptor of ``_migrating.py``), which the boto3 helpers and the jobs use
through the item-encryptor protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from ..core._actions import AttributeActions, CryptoAction
from ..core._encryptor import ItemEncryptor
from ..core._materials import MaterialsProvider
from ..core._protocol import LegacyPolicy, PlaintextOverride
from ..errors import ConfigurationError
from ._beacon_encryptor import BeaconItemEncryptor
from ._beacons import BeaconVersion
from ._encryptor import DbEsdkItemEncryptor
from ._materials import Keyring
from ._migrating import MigratingItemEncryptor
from ._suites import DEFAULT_SUITE, DbeAlgorithmSuite

__all__ = [
    "DynamoDbTableEncryptionConfig",
    "DynamoDbTablesEncryptionConfig",
    "LegacyOverride",
    "SearchConfig",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchConfig:
    """A table's searchable-encryption configuration (AWS's ``SearchConfig``).

    Args:
        versions: the beacon versions; exactly one (as DB-ESDK today).
        write_version: the version items are written with (its ``version``, i.e. 1).
    """

    versions: Sequence[BeaconVersion]
    write_version: int = 1

    def __post_init__(self) -> None:
        versions = tuple(self.versions)
        if len(versions) != 1 or not isinstance(versions[0], BeaconVersion):
            raise ConfigurationError("SearchConfig.versions must hold exactly one BeaconVersion")
        if self.write_version != versions[0].version:
            raise ConfigurationError(
                f"SearchConfig.write_version must be the version of the BeaconVersion "
                f"({versions[0].version})"
            )
        object.__setattr__(self, "versions", versions)

    @property
    def beacon_version(self) -> BeaconVersion:
        """The version items are written and searched with."""
        return self.versions[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacyOverride:
    """How a DB-ESDK table configuration treats items in the legacy DynamoDB Encryption Client
    format (AWS's ``LegacyOverride``).

    Args:
        policy: a `LegacyPolicy` (AWS's policy names).
        encryptor: the legacy configuration: a legacy `ItemEncryptor` used as it is, or a
            materials provider (an `ItemEncryptor` is built with the table's key names and
            ``attribute_actions_on_encrypt``). AWS takes a legacy client here.
        attribute_actions_on_encrypt: the legacy actions by attribute name.
        default_attribute_flag: the legacy action of unlisted attributes (default
            ``DO_NOTHING``).
    """

    policy: LegacyPolicy
    encryptor: ItemEncryptor | MaterialsProvider
    attribute_actions_on_encrypt: Mapping[str, CryptoAction] = field(default_factory=dict)
    default_attribute_flag: CryptoAction | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.policy, LegacyPolicy):
            raise ConfigurationError("LegacyOverride.policy must be a LegacyPolicy")
        if not isinstance(self.encryptor, (ItemEncryptor, MaterialsProvider)):
            raise ConfigurationError(
                "LegacyOverride.encryptor must be a legacy ItemEncryptor or a materials provider"
            )
        if not isinstance(self.attribute_actions_on_encrypt, Mapping):
            raise ConfigurationError("attribute_actions_on_encrypt must be a mapping")

    def item_encryptor(
        self, table_name: str, partition_key_name: str, sort_key_name: str | None
    ) -> ItemEncryptor:
        """The legacy item encryptor (the legacy format binds the physical table name)."""
        if isinstance(self.encryptor, ItemEncryptor):
            return self.encryptor
        return ItemEncryptor(
            table_name=table_name,
            partition_key_name=partition_key_name,
            sort_key_name=sort_key_name,
            attribute_actions=AttributeActions(
                self.default_attribute_flag or CryptoAction.DO_NOTHING,
                self.attribute_actions_on_encrypt,
            ),
            materials_provider=self.encryptor,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DynamoDbTableEncryptionConfig:
    """One table's DB-ESDK configuration (AWS's ``DynamoDbTableEncryptionConfig``).

    Args:
        logical_table_name: the name bound into every item (keeps items readable after a
            table is restored or copied under another physical name).
        partition_key_name: the partition key attribute.
        sort_key_name: the sort key attribute, if any.
        attribute_actions_on_encrypt: the `CryptoAction` of every attribute items may hold
            (DO_NOTHING ones must also be allowed unsigned).
        keyring: where data keys come from.
        allowed_unsigned_attributes: names outside the signature scope.
        allowed_unsigned_attribute_prefix: a name prefix outside the signature scope.
        algorithm_suite_id: a `DbeAlgorithmSuite` (default: the ECDSA-signing suite).
        legacy_override: reading (and, in stage 1, writing) the legacy format.
        plaintext_override: a `PlaintextOverride` (default: refuse plaintext items).
        search: a `SearchConfig`: beacons written with every item, and queries and scans
            on them (not with ``legacy_override``, as DB-ESDK).
    """

    logical_table_name: str
    partition_key_name: str
    sort_key_name: str | None = None
    attribute_actions_on_encrypt: Mapping[str, CryptoAction]
    keyring: Keyring
    allowed_unsigned_attributes: Iterable[str] | None = None
    allowed_unsigned_attribute_prefix: str | None = None
    algorithm_suite_id: DbeAlgorithmSuite | None = None
    legacy_override: LegacyOverride | None = None
    plaintext_override: PlaintextOverride | None = None
    search: SearchConfig | None = None

    def __post_init__(self) -> None:
        if self.search is not None:
            if not isinstance(self.search, SearchConfig):
                raise ConfigurationError("search must be a SearchConfig")
            if self.legacy_override is not None:
                raise ConfigurationError(
                    "search cannot be combined with legacy_override: DB-ESDK refuses beacons "
                    "on a table that still reads the legacy format"
                )
        if self.legacy_override is not None and not isinstance(
            self.legacy_override, LegacyOverride
        ):
            raise ConfigurationError("legacy_override must be a LegacyOverride")
        if self.plaintext_override is not None and not isinstance(
            self.plaintext_override, PlaintextOverride
        ):
            raise ConfigurationError("plaintext_override must be a PlaintextOverride")
        if self.allowed_unsigned_attributes is not None:
            if isinstance(self.allowed_unsigned_attributes, (str, bytes)):
                raise ConfigurationError("allowed_unsigned_attributes must be a list of names")
            # Frozen: store a tuple so the configuration cannot change under a helper.
            object.__setattr__(
                self, "allowed_unsigned_attributes", tuple(self.allowed_unsigned_attributes)
            )
        object.__setattr__(
            self,
            "attribute_actions_on_encrypt",
            MappingProxyType(dict(self.attribute_actions_on_encrypt)),
        )

    def item_encryptor(self, table_name: str | None = None) -> MigratingItemEncryptor:
        """The item encryptor this configuration describes; ``table_name`` is the physical
        table (bound by the legacy format; default the logical name)."""
        dbe = DbEsdkItemEncryptor(
            table_name=self.logical_table_name,
            partition_key_name=self.partition_key_name,
            sort_key_name=self.sort_key_name,
            attribute_actions=(
                {
                    **self.search.beacon_version.signed_beacon_actions(),
                    **self.attribute_actions_on_encrypt,
                }
                if self.search is not None
                else self.attribute_actions_on_encrypt
            ),
            keyring=self.keyring,
            allowed_unsigned_attributes=self.allowed_unsigned_attributes or (),
            allowed_unsigned_attribute_prefix=self.allowed_unsigned_attribute_prefix,
            algorithm_suite=self.algorithm_suite_id or DEFAULT_SUITE,
        )
        legacy = None
        policy = None
        if self.legacy_override is not None:
            policy = self.legacy_override.policy
            legacy = self.legacy_override.item_encryptor(
                table_name or self.logical_table_name,
                self.partition_key_name,
                self.sort_key_name,
            )
        writer: DbEsdkItemEncryptor | BeaconItemEncryptor = dbe
        if self.search is not None:
            writer = BeaconItemEncryptor(dbe, self.search.beacon_version)
        return MigratingItemEncryptor(
            dbesdk=writer,
            legacy=legacy,
            legacy_policy=policy,
            plaintext_override=(
                self.plaintext_override
                or PlaintextOverride.FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ
            ),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DynamoDbTablesEncryptionConfig:
    """The DB-ESDK configuration of every table a helper protects, by physical table name
    (AWS's ``DynamoDbTablesEncryptionConfig``). A table missing from it is refused, never
    written or read in plaintext."""

    table_encryption_configs: Mapping[str, DynamoDbTableEncryptionConfig]

    def __post_init__(self) -> None:
        configs = self.table_encryption_configs
        if not isinstance(configs, Mapping) or not configs:
            raise ConfigurationError(
                "table_encryption_configs must map physical table names to "
                "DynamoDbTableEncryptionConfig objects"
            )
        for name, config in configs.items():
            if not isinstance(name, str) or not isinstance(config, DynamoDbTableEncryptionConfig):
                raise ConfigurationError(
                    "table_encryption_configs must map physical table names to "
                    "DynamoDbTableEncryptionConfig objects"
                )
        object.__setattr__(self, "table_encryption_configs", MappingProxyType(dict(configs)))

    def item_encryptors(self) -> dict[str, MigratingItemEncryptor]:
        """One item encryptor per physical table (configuration errors raise here)."""
        return {name: c.item_encryptor(name) for name, c in self.table_encryption_configs.items()}
