"""Beacons on the item path: a wrapper over `DbEsdkItemEncryptor` (DB-ESDK ``ddb-support.md``).

On write: signed beacons are added before the item is signed, the item is encrypted, then the
``aws_dbe_b_*`` beacons (outside the signature, like every ``aws_dbe_`` name) and the version
tag ``aws_dbe_v_1`` are added. On read: the item is verified and decrypted, and every
``aws_dbe_`` attribute is dropped. The wrapped encryptor is used as it is; its contract does not
change.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ..core._actions import CryptoAction
from ..core._python_values import PythonValuesMixin
from ..errors import ConfigurationError, EncryptionError
from ._beacons import BEACON_PREFIX, VERSION_TAG, BeaconVersion, SearchInfo
from ._encryptor import RESERVED_PREFIX, DbeItemHeader, DbEsdkItemEncryptor

__all__ = ["BeaconItemEncryptor", "PartitionSelector"]

_HIERARCHY = "aws-kms-hierarchy"

PartitionSelector = Callable[[Mapping[str, Any], int], int]
"""``(plaintext item, number of partitions) -> partition number`` (0 <= n < number)."""


def _random_partition(item: Mapping[str, Any], partitions: int) -> int:
    # AWS's default selector: one random byte modulo the number of partitions.
    return 0 if partitions == 1 else os.urandom(1)[0] % partitions


class BeaconItemEncryptor(PythonValuesMixin):
    """`DbEsdkItemEncryptor` plus the beacons of a `BeaconVersion`.

    Args:
        encryptor: the table's item encryptor. Signed beacons must be among its attribute
            actions as SIGN_ONLY (merge in ``beacon_version.signed_beacon_actions()``).
        beacon_version: the searchable-encryption configuration.
        partition_selector: picks the beacon partition of an item written; default random,
            as AWS's. Only used when ``maximum_number_of_partitions > 1``.
    """

    __slots__ = ("_encryptor", "_info", "_keys", "_lock", "_select", "_version")

    def __init__(
        self,
        encryptor: DbEsdkItemEncryptor,
        beacon_version: BeaconVersion,
        *,
        partition_selector: PartitionSelector | None = None,
    ) -> None:
        if not isinstance(encryptor, DbEsdkItemEncryptor):
            raise ConfigurationError("encryptor must be a DbEsdkItemEncryptor")
        if not isinstance(beacon_version, BeaconVersion):
            raise ConfigurationError("beacon_version must be a BeaconVersion")
        self._encryptor = encryptor
        self._version = beacon_version
        self._info = beacon_version.bind(encryptor.attribute_actions)
        self._select = partition_selector or _random_partition
        self._keys: dict[tuple[str, bytes], dict[str, bytes]] = {}
        self._lock = threading.Lock()

    @property
    def encryptor(self) -> DbEsdkItemEncryptor:
        return self._encryptor

    @property
    def beacon_version(self) -> BeaconVersion:
        return self._version

    @property
    def search_info(self) -> SearchInfo:
        return self._info

    def hmac_keys(self, beacon_key_id: str | None) -> dict[str, bytes]:
        """The per-beacon HMAC keys for a beacon key id (None for a single key source)."""
        materials = self._version.key_source.beacon_key(beacon_key_id)
        cache_key = (materials.beacon_key_id, materials.beacon_key)
        with self._lock:
            keys = self._keys.get(cache_key)
        if keys is None:
            keys = self._info.hmac_keys(materials.beacon_key)
            with self._lock:
                if len(self._keys) >= 64:
                    self._keys.clear()
                self._keys[cache_key] = keys
        return keys

    def _item_key_id(self, item: Mapping[str, Any], stored: Mapping[str, Any]) -> str | None:
        field = self._version.key_source.key_field_name
        if field is None:
            return None
        # As DB-ESDK: the branch key id the hierarchical keyring wrapped the data key with.
        header = self._encryptor.read_header(stored)
        ids = [
            info.decode("utf-8", "replace")
            for pid, info in zip(header.provider_ids, header.provider_infos, strict=True)
            if pid == _HIERARCHY
        ]
        if len(ids) == 1:
            return ids[0]
        value = item.get(field)
        if isinstance(value, Mapping) and isinstance(value.get("S"), str):
            return str(value["S"])
        raise EncryptionError(
            f"the beacon key id field {field!r} is missing or not a string",
            attribute=field,
            table=self._encryptor.table_name,
        )

    def beacons(
        self, item: Mapping[str, Any], *, partition: int = 0, beacon_key_id: str | None = None
    ) -> dict[str, Any]:
        """The ``aws_dbe_b_*`` attributes of a plaintext item (no encryption)."""
        return self._info.encrypted_beacons(item, self.hmac_keys(beacon_key_id), partition)

    def encrypt(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Add signed beacons, encrypt and sign, add the beacons and the version tag."""
        table = self._encryptor.table_name
        for name in item:
            if name.startswith(RESERVED_PREFIX):
                raise EncryptionError(
                    "writing attributes with the reserved prefix is not allowed",
                    attribute=name,
                    table=table,
                )
        signed = self._info.signed_beacons(item)
        for name, value in signed.items():
            if name in item and item[name] != value:
                raise EncryptionError(
                    "a supplied signed beacon differs from the one computed from the item",
                    attribute=name,
                    table=table,
                )
        plain = {**item, **signed}
        to_encrypt = plain
        field = self._version.key_source.key_field_name
        if field is not None and field in plain and field not in self._encryptor.attribute_actions:
            # DB-ESDK drops a beacon key field that is not one of the table's attributes.
            to_encrypt = {k: v for k, v in plain.items() if k != field}
        stored = self._encryptor.encrypt(to_encrypt)
        key_id = self._item_key_id(plain, stored)
        partitions = self._info.max_partitions
        partition = self._select(plain, partitions) if partitions > 1 else 0
        if not isinstance(partition, int) or not 0 <= partition < partitions:
            raise ConfigurationError(
                f"the partition selector returned {partition!r}; it must be an int from 0 to "
                f"{partitions - 1}"
            )
        stored.update(self._info.encrypted_beacons(plain, self.hmac_keys(key_id), partition))
        stored[VERSION_TAG] = {"S": " "}
        return stored

    def beacons_are_current(self, stored: Mapping[str, Any], plaintext: Mapping[str, Any]) -> bool:
        """Whether ``stored`` holds exactly the unsigned beacons and version tag this
        configuration writes for ``plaintext`` (its decryption, in any beacon partition): a
        re-encryption job leaves such an item alone."""
        actions = self._encryptor.attribute_actions
        present = {
            name: value
            for name, value in stored.items()
            if name not in actions and (name.startswith(BEACON_PREFIX) or name == VERSION_TAG)
        }
        signed = self._info.signed_beacons(plaintext)
        if any(plaintext.get(name) != value for name, value in signed.items()):
            return False
        plain = {k: v for k, v in plaintext.items() if not k.startswith(RESERVED_PREFIX)}
        plain.update(signed)
        try:
            keys = self.hmac_keys(self._item_key_id(plain, stored))
        except (EncryptionError, ConfigurationError):
            return False
        for partition in range(self._info.max_partitions):
            expected = self._info.encrypted_beacons(plain, keys, partition)
            expected[VERSION_TAG] = {"S": " "}
            if present == expected:
                return True
        return False

    def decrypt(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Verify and decrypt a stored item; beacons and other ``aws_dbe_`` names are dropped."""
        out = self._encryptor.decrypt(item)
        return {k: v for k, v in out.items() if not k.startswith(RESERVED_PREFIX)}

    # The rest of DbEsdkItemEncryptor's surface, so that this wrapper can stand in for it.

    @property
    def table_name(self) -> str:
        return self._encryptor.table_name

    @property
    def attribute_actions(self) -> Mapping[str, CryptoAction]:
        return self._encryptor.attribute_actions

    def read_header(self, item: Mapping[str, Any]) -> DbeItemHeader:
        return self._encryptor.read_header(item)

    def action(self, name: str) -> CryptoAction:
        return self._encryptor.action(name)

    def signature_attribute(self, item: Mapping[str, Any]) -> str | None:
        return self._encryptor.signature_attribute(item)

    def write_is_unique(self, stored: Mapping[str, Any]) -> bool:
        return self._encryptor.write_is_unique(stored)

    def __repr__(self) -> str:
        return (
            f"BeaconItemEncryptor({self._encryptor!r}, beacons={list(self._info.beacon_names())})"
        )
