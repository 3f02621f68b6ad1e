"""Bounded, thread-safe caches for the providers that do I/O.

Two users:

- `KmsDecryptCache` (public): an opt-in cache of the keys that AWS KMS ``Decrypt`` gave
  for an item, so that reading the same item again does not call KMS again.
- `LruCache` (private): the per-version cache of `MostRecentProvider`.

Cached values can be key material: nothing here logs a value or a cache key, or shows one
in a ``repr``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..core import SymmetricKey
from ..errors import ConfigurationError

__all__ = ["CacheStats", "DerivedKeys", "KmsDecryptCache", "LruCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Clock = Callable[[], float]

#: What a KMS decrypt-cache entry is keyed by: the provider's key id, the ciphertext blob and
#: the KMS encryption context as a sorted tuple of pairs.
KmsCacheKey = tuple[str, bytes, tuple[tuple[str, str], ...]]


class LruCache(Generic[K, V]):
    """A least-recently-used map with a fixed capacity, guarded by a lock.

    No TTL of its own: callers that need one store a timestamp in the value.
    """

    __slots__ = ("_capacity", "_entries", "_lock")

    def __init__(self, capacity: int) -> None:
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise ConfigurationError("cache capacity must be an int >= 1")
        self._capacity = capacity
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LruCache(capacity={self._capacity}, size={len(self)})"

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: K) -> V | None:
        """The value for ``key`` (marked as most recently used), or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        """Store ``value``, evicting the least recently used entries beyond the capacity."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def evict(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass(frozen=True, slots=True)
class DerivedKeys:
    """The two keys HKDF derives from one KMS data key (what the decrypt cache stores)."""

    encryption_key: SymmetricKey
    mac_key: SymmetricKey


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheStats:
    """Counters of a `KmsDecryptCache` since it was created or cleared."""

    hits: int
    misses: int
    evictions: int
    size: int


@dataclass(slots=True)
class _Entry:
    keys: DerivedKeys
    expires_at: float
    uses_left: int


class KmsDecryptCache:
    """Caches the keys derived from KMS ``Decrypt`` results, for repeated reads of the same item.

    Off by default: pass one to `AwsKmsMaterialsProvider` as ``decrypt_cache=``. An
    entry is keyed by the provider's key id, the item's encrypted data key (the ciphertext
    blob stored in its material description) and the KMS encryption context (table name, key
    values, algorithms), so a hit can only ever serve the item that was decrypted before.
    Encryption never uses the cache: every written item still gets a fresh data key.

    The trade-off: fewer KMS calls (latency, cost, throttling) against derived keys kept in
    process memory for up to ``ttl_seconds``, and reads that skip KMS's access check (a key
    disabled or a grant revoked in KMS takes effect only when the entry expires). For the
    same reason, share one cache only between providers with the same KMS access rights.

    Args:
        max_entries: at most this many entries; the least recently used goes first.
        ttl_seconds: an entry is dropped this long after it was fetched from KMS.
        max_uses: an entry serves at most this many cache hits, then KMS is asked again.
        clock: monotonic time source in seconds (injectable for tests).
    """

    __slots__ = (
        "_clock",
        "_entries",
        "_evictions",
        "_hits",
        "_lock",
        "_max_entries",
        "_max_uses",
        "_misses",
        "_ttl",
    )

    def __init__(
        self,
        *,
        max_entries: int = 1000,
        ttl_seconds: float = 300.0,
        max_uses: int = 1000,
        clock: Clock = time.monotonic,
    ) -> None:
        if not isinstance(max_entries, int) or isinstance(max_entries, bool) or max_entries < 1:
            raise ConfigurationError("max_entries must be an int >= 1")
        if not isinstance(max_uses, int) or isinstance(max_uses, bool) or max_uses < 1:
            raise ConfigurationError("max_uses must be an int >= 1")
        if (
            not isinstance(ttl_seconds, (int, float))
            or isinstance(ttl_seconds, bool)
            or not ttl_seconds > 0
        ):
            raise ConfigurationError("ttl_seconds must be a number > 0")
        self._max_entries = max_entries
        self._ttl = float(ttl_seconds)
        self._max_uses = max_uses
        self._clock = clock
        self._entries: OrderedDict[KmsCacheKey, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._evictions = 0

    def __repr__(self) -> str:
        # Sizes only: entries hold key material.
        return (
            f"KmsDecryptCache(max_entries={self._max_entries}, ttl_seconds={self._ttl}, "
            f"max_uses={self._max_uses}, size={len(self)})"
        )

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @staticmethod
    def make_key(key_id: str, ciphertext: bytes, context: Mapping[str, str]) -> KmsCacheKey:
        """The cache key for one KMS ``Decrypt`` request."""
        return (key_id, bytes(ciphertext), tuple(sorted(context.items())))

    def get(self, key: KmsCacheKey) -> DerivedKeys | None:
        """The cached keys, or None when absent, expired or used up (then the entry is dropped)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self._misses += 1
                return None
            if self._clock() >= entry.expires_at or entry.uses_left <= 0:
                del self._entries[key]
                self._evictions += 1
                self._misses += 1
                return None
            entry.uses_left -= 1
            self._entries.move_to_end(key)
            self._hits += 1
            return entry.keys

    def put(self, key: KmsCacheKey, keys: DerivedKeys) -> None:
        """Store freshly derived keys (called after a successful KMS ``Decrypt``)."""
        with self._lock:
            self._entries[key] = _Entry(
                keys=keys, expires_at=self._clock() + self._ttl, uses_left=self._max_uses
            )
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
                self._evictions += 1

    def clear(self) -> None:
        """Drop every entry (for example after a key was disabled or a grant revoked)."""
        with self._lock:
            self._entries.clear()
            self._hits = self._misses = self._evictions = 0

    def stats(self) -> CacheStats:
        """Hit, miss and eviction counters and the current size."""
        with self._lock:
            return CacheStats(
                hits=self._hits,
                misses=self._misses,
                evictions=self._evictions,
                size=len(self._entries),
            )
