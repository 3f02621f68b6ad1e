"""Beacon key sources for DB-ESDK searchable encryption: the branch key store's beacon keys,
cached for a time-to-live (``search-config.md#beacon-key-source``).

A single source serves one beacon key id for the whole table; a multi-tenant source reads the
beacon key id from a field of each item (and from the query values), so tenants' beacons are
keyed apart.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from ..errors import ConfigurationError, ProviderError
from ..structured._materials import BeaconKeyMaterials, BranchKeyStore

__all__ = ["MultiBeaconKeySource", "SingleBeaconKeySource"]

Clock = Callable[[], float]


class _TtlCache:
    __slots__ = ("_clock", "_entries", "_lock", "_max", "_store", "_ttl")

    def __init__(self, store: BranchKeyStore, ttl: float, max_entries: int, clock: Clock) -> None:
        if not isinstance(store, BranchKeyStore):
            raise ConfigurationError(
                "key_store must have get_beacon_key() (KeyStore or StaticKeyStore)"
            )
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl > 0:
            raise ConfigurationError("cache_ttl_seconds must be a positive number (at least 1)")
        if not callable(clock):
            raise ConfigurationError("clock must be a callable returning seconds")
        self._store = store
        self._ttl = float(ttl)
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, BeaconKeyMaterials]] = OrderedDict()

    def get(self, key_id: str) -> BeaconKeyMaterials:
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key_id)
            # As AWS's cache: an entry is good while now - created <= ttl.
            if hit is not None and now - hit[0] <= self._ttl:
                self._entries.move_to_end(key_id)
                return hit[1]
        materials = self._store.get_beacon_key(key_id)
        if not isinstance(materials, BeaconKeyMaterials) or materials.beacon_key_id != key_id:
            raise ProviderError("the key store returned another beacon key", material_name=key_id)
        if len(materials.beacon_key) != 32:
            raise ProviderError("a beacon key must be 32 bytes", material_name=key_id)
        with self._lock:
            self._entries[key_id] = (now, materials)
            self._entries.move_to_end(key_id)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return materials


class SingleBeaconKeySource:
    """The beacon key of one branch key id, for every item of the table.

    Args:
        key_store: `KeyStore` (DynamoDB + KMS) or `StaticKeyStore`.
        beacon_key_id: the branch key id whose beacon key to use.
        cache_ttl_seconds: how long a fetched key is reused (DB-ESDK's ``cacheTTL``).
        clock: seconds, monotonic; injectable for tests.
    """

    __slots__ = ("_cache", "_id")

    def __init__(
        self,
        *,
        key_store: BranchKeyStore,
        beacon_key_id: str,
        cache_ttl_seconds: float = 60.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if not isinstance(beacon_key_id, str) or not beacon_key_id:
            raise ConfigurationError("beacon_key_id must be a non-empty str")
        self._id = beacon_key_id
        self._cache = _TtlCache(key_store, cache_ttl_seconds, 1, clock)

    @property
    def key_field_name(self) -> None:
        return None

    @property
    def beacon_key_id(self) -> str:
        return self._id

    def beacon_key(self, beacon_key_id: str | None = None) -> BeaconKeyMaterials:
        if beacon_key_id is not None and beacon_key_id != self._id:
            raise ConfigurationError(
                "a beacon key id must not be supplied with a single beacon key source"
            )
        return self._cache.get(self._id)

    def __repr__(self) -> str:
        return f"SingleBeaconKeySource(beacon_key_id={self._id!r})"


class MultiBeaconKeySource:
    """Per-tenant beacon keys: the beacon key id is the value of ``key_field_name``.

    On write the field is read from the item; on a query it must be given as a value compared
    with ``=`` (``TheKeyField = :tenant``). DB-ESDK removes the field from the item before
    writing when it is not a configured attribute.

    Args:
        key_store: `KeyStore` (DynamoDB + KMS) or `StaticKeyStore`.
        key_field_name: the item field holding the beacon key id.
        cache_ttl_seconds: how long a fetched key is reused.
        max_entries: keys kept at most (least recently used go first); AWS's default is 1000.
        clock: seconds, monotonic; injectable for tests.
    """

    __slots__ = ("_cache", "_field")

    def __init__(
        self,
        *,
        key_store: BranchKeyStore,
        key_field_name: str,
        cache_ttl_seconds: float = 60.0,
        max_entries: int = 1000,
        clock: Clock = time.monotonic,
    ) -> None:
        if not isinstance(key_field_name, str) or not key_field_name:
            raise ConfigurationError("key_field_name must be a non-empty str")
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigurationError("max_entries must be a positive int")
        self._field = key_field_name
        self._cache = _TtlCache(key_store, cache_ttl_seconds, max_entries, clock)

    @property
    def key_field_name(self) -> str:
        return self._field

    def beacon_key(self, beacon_key_id: str | None) -> BeaconKeyMaterials:
        if not isinstance(beacon_key_id, str) or not beacon_key_id:
            raise ConfigurationError(
                f"a multi-tenant beacon key source needs the beacon key id (field "
                f"{self._field!r}) in the item or the query"
            )
        return self._cache.get(beacon_key_id)

    def __repr__(self) -> str:
        return f"MultiBeaconKeySource(key_field_name={self._field!r})"
