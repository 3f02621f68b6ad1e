"""The most-recent provider: wrapped keys from a `MetaStore`, newest version on write.

Behaves like the reference's ``CachingMostRecentProvider`` (wire-format notes, section 6.4):

- encrypt uses the highest version, re-read from the meta store at most every
  ``ttl_seconds``; during a short grace period after that, one caller refreshes while the
  others keep using the cached version instead of waiting; after it, callers wait for the
  refresh;
- decrypt reads the version from the item's ``amzn-ddb-meta-id`` (``name#version``) and loads
  that version of the *configured* material name, with the same TTL per version;
- version 0 is created on the first encryption if the material has none.

Unlike the reference, a meta store outage does not stop the provider (see
``outage_grace_seconds``): versions already in memory keep serving, decrypt without limit and
encrypt for a bounded time, while later calls retry the meta store at most once per
``outage_retry_seconds``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

from .. import _telemetry
from ..core import DecryptionMaterials, EncryptionContext, EncryptionMaterials
from ..core._md import MD_META_ID
from ..errors import (
    ConfigurationError,
    InvalidMaterialDescriptionError,
    NoKnownVersionError,
    ProviderError,
)
from ._cache import LruCache
from ._common import check_context, reference_names
from ._meta_store import MetaStore, check_material_name
from ._wrapped import WrappedMaterialsProvider

__all__ = ["MostRecentProvider", "version_from_description"]

#: After the TTL, for this long a refresh is tried without blocking other callers.
GRACE_SECONDS = 0.5
DEFAULT_OUTAGE_GRACE_SECONDS = 300.0
DEFAULT_OUTAGE_RETRY_SECONDS = 1.0

_log = logging.getLogger("pynamodb_encryption.providers")

_Entry = tuple[float, WrappedMaterialsProvider]


def version_from_description(description: Mapping[str, str]) -> int:
    """The version in ``amzn-ddb-meta-id`` (the text after the first ``#``).

    The name before the ``#`` is ignored, as in the reference: the provider's configured
    material name is used.
    """
    info = description.get(MD_META_ID)
    if info is None:
        raise InvalidMaterialDescriptionError("the material description has no amzn-ddb-meta-id")
    _, sep, text = info.partition("#")
    if not sep or not text.isascii() or not text.isdigit():
        raise InvalidMaterialDescriptionError("malformed amzn-ddb-meta-id")
    return int(text)


class MostRecentProvider:
    """Encrypts with the newest version of a material in a `MetaStore`; decrypts with
    whichever version the item names.

    Thread-safe. Rotation is explicit (`MetaStore.new_version`): writers pick the new
    version up within ``ttl_seconds``.

    Args:
        meta_store: where the versions live.
        material_name: the material to use (no ``#``).
        ttl_seconds: how long a version is trusted before the meta store is asked again.
        clock: monotonic time source in seconds (injectable for tests).
        cache_size: at most this many versions are kept in memory (least recently used
            goes first).
        outage_grace_seconds: when the meta store cannot be read (unreachable, throttled,
            its KMS key unavailable), encryption keeps using the current version for up to
            this long past its TTL, logging a warning, then fails with `ProviderError`; 0
            fails as soon as the TTL and the short refresh grace are over. Decryption keeps
            using the versions already in memory for as long as the outage lasts (a version
            the meta store says no longer exists is dropped at once).
        outage_retry_seconds: during an outage, at most one call per this interval retries
            the meta store (without making the others wait); the first success ends the
            outage.
    """

    __slots__ = (
        "_cache",
        "_clock",
        "_current",
        "_lock",
        "_material_name",
        "_meta_store",
        "_outage_grace",
        "_outage_retry",
        "_retry_at",
        "_ttl",
    )

    @reference_names(
        "MostRecentProvider",
        {
            "provider_store": "meta_store=",
            "keystore": "meta_store=",
            "version_ttl": "ttl_seconds=",
            "ttlInMillis": "ttl_seconds= (in seconds)",
            "materialName": "material_name=",
            "maxCacheSize": "cache_size=",
        },
        positional=1,
    )
    def __init__(
        self,
        *,
        meta_store: MetaStore,
        material_name: str,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        cache_size: int = 1000,
        outage_grace_seconds: float = DEFAULT_OUTAGE_GRACE_SECONDS,
        outage_retry_seconds: float = DEFAULT_OUTAGE_RETRY_SECONDS,
    ) -> None:
        if not isinstance(meta_store, MetaStore):
            raise ConfigurationError("meta_store must be a MetaStore")
        self._meta_store = meta_store
        self._material_name = check_material_name(material_name)
        self._ttl = _seconds(ttl_seconds, "ttl_seconds", finite=False)
        self._outage_grace = _seconds(outage_grace_seconds, "outage_grace_seconds")
        self._outage_retry = _seconds(outage_retry_seconds, "outage_retry_seconds")
        if not callable(clock):
            raise ConfigurationError("clock must be a callable returning seconds")
        self._clock = clock
        self._cache: LruCache[int, _Entry] = LruCache(cache_size)
        # While the meta store is failing: when the next call may try it again.
        self._retry_at: float | None = None
        # Serializes meta store reads; the fast path (a fresh cached version) never takes it.
        self._lock = threading.Lock()
        # (version, when it was read): one attribute, so readers never see a torn update.
        self._current: tuple[int, float] | None = None

    def __repr__(self) -> str:
        return (
            f"MostRecentProvider(meta_store={self._meta_store!r}, "
            f"material_name={self._material_name!r}, ttl_seconds={self._ttl:g})"
        )

    @property
    def material_name(self) -> str:
        return self._material_name

    @property
    def current_version(self) -> int | None:
        """The version encryption currently uses (None before the first encryption)."""
        current = self._current
        return None if current is None else current[0]

    def refresh(self) -> None:
        """Forget every cached version: the next call asks the meta store again."""
        with self._lock:
            self._cache.clear()
            self._current = None
            self._retry_at = None

    def _waits(self, age: float, now: float) -> bool | None:
        """How a call with a cached version ``age`` seconds old goes on: None serves it as
        is, False tries a refresh only if no other caller is (serving it otherwise), True
        waits for a refresh."""
        if age < self._ttl:
            return None
        retry_at = self._retry_at
        if retry_at is not None:
            # The meta store is failing: nobody waits for it, one caller retries when due.
            return None if now < retry_at else False
        return age >= self._ttl + GRACE_SECONDS

    def _failed(self, exc: ProviderError, what: str) -> None:
        """Note a failed meta store read (lock held): no retry before the interval is over."""
        # One warning per outage (retries are logged at DEBUG): a long outage must not flood
        # the logs. ProviderError messages carry operation names and error codes, no value.
        log = _log.warning if self._retry_at is None else _log.debug
        log("meta store %r unreachable (%s); %s", self._meta_store.table_name, exc.message, what)
        self._retry_at = self._clock() + self._outage_retry

    def _recovered(self) -> None:
        if self._retry_at is not None:
            self._retry_at = None
            _log.info("meta store %r reachable again", self._meta_store.table_name)

    # -- encrypt ----------------------------------------------------------------------

    def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
        check_context(context)
        return self._current_provider().encryption_materials(context)

    def _current_provider(self) -> WrappedMaterialsProvider:
        current = self._current
        if current is not None:
            version, updated = current
            entry = self._cache.get(version)
            if entry is not None:
                now = self._clock()
                waits = self._waits(now - updated, now)
                if waits is None:
                    _telemetry.cache_lookup("most_recent", True, f"newest version {version}")
                    return self._usable_current(entry[1], now - updated)
                if not waits:
                    # Refresh if nobody else is, otherwise keep going.
                    if not self._lock.acquire(blocking=False):
                        return self._usable_current(entry[1], now - updated)
                    try:
                        return self._refresh_current()
                    finally:
                        self._lock.release()
        with self._lock:
            # Another thread may have refreshed while this one waited.
            current = self._current
            if current is not None:
                entry = self._cache.get(current[0])
                now = self._clock()
                if entry is not None and self._waits(now - current[1], now) is None:
                    return self._usable_current(entry[1], now - current[1])
            return self._refresh_current()

    def _usable_current(
        self, provider: WrappedMaterialsProvider, age: float
    ) -> WrappedMaterialsProvider:
        """``provider`` unless the meta store has been failing for longer than the outage
        grace allows encryption to go on with a version it cannot confirm."""
        if age >= self._ttl + self._outage_grace and self._retry_at is not None:
            raise ProviderError(
                f"the meta store has been unreachable for longer than the outage grace "
                f"({self._outage_grace:g} s past the {self._ttl:g} s TTL): not encrypting "
                "with a version that may have been rotated",
                table=self._meta_store.table_name,
                material_name=self._material_name,
            )
        return provider

    def _refresh_current(self) -> WrappedMaterialsProvider:
        """Ask the meta store for the newest version (creating 0 if none). Lock held.

        If the meta store fails, the current version keeps serving within the outage grace.
        """
        name = self._material_name
        try:
            try:
                version = _telemetry.traced(
                    "meta_store.max_version",
                    {"material_name": name},
                    self._meta_store.max_version,
                    name,
                )
            except NoKnownVersionError:
                version = None
            created = version is None
            if version is None:
                version = 0
                provider = self._meta_store.get_or_create_provider(name, 0)
            else:
                entry = self._cache.get(version)
                provider = (
                    entry[1] if entry is not None else self._meta_store.provider(name, version)
                )
        except ProviderError as exc:
            current = self._current
            entry = self._cache.get(current[0]) if current is not None else None
            if current is None or entry is None:
                raise
            age = self._clock() - current[1]
            self._failed(
                exc,
                f"encrypting with the cached version {current[0]} of material {name!r} for "
                f"up to {max(0.0, self._ttl + self._outage_grace - age):.0f} s more",
            )
            try:
                return self._usable_current(entry[1], age)
            except ProviderError as expired:
                raise expired from exc
        self._recovered()
        now = self._clock()
        self._cache.put(version, (now, provider))
        self._current = (version, now)
        _telemetry.version_loaded(name, version, newest=True, created=created)
        return provider

    # -- decrypt ----------------------------------------------------------------------

    def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
        check_context(context)
        try:
            version = version_from_description(context.material_description)
        except InvalidMaterialDescriptionError as exc:
            raise InvalidMaterialDescriptionError(
                exc.message, table=context.table_name, material_name=self._material_name
            ) from exc
        return self._version_provider(version).decryption_materials(context)

    def _version_provider(self, version: int) -> WrappedMaterialsProvider:
        entry = self._cache.get(version)
        if entry is not None:
            now = self._clock()
            waits = self._waits(now - entry[0], now)
            if waits is None:
                _telemetry.cache_lookup("most_recent", True, f"version {version}")
                return entry[1]
            if not waits:
                # Reload if nobody else is loading, otherwise keep going.
                if not self._lock.acquire(blocking=False):
                    return entry[1]
                try:
                    return self._load_version(version)
                finally:
                    self._lock.release()
        with self._lock:
            entry = self._cache.get(version)
            if entry is not None:
                now = self._clock()
                if self._waits(now - entry[0], now) is None:
                    return entry[1]
            return self._load_version(version)

    def _load_version(self, version: int) -> WrappedMaterialsProvider:
        """Load one version from the meta store (never creates it). Lock held.

        A version already in memory keeps serving while the meta store fails; one that the
        meta store says does not exist (any more) is dropped.
        """
        _telemetry.cache_lookup("most_recent", False, f"version {version}")
        try:
            provider = _telemetry.traced(
                "meta_store.load",
                {"material_name": self._material_name, "version": version},
                self._meta_store.provider,
                self._material_name,
                version,
            )
        except NoKnownVersionError:
            self._cache.evict(version)
            self._recovered()
            raise
        except ProviderError as exc:
            entry = self._cache.get(version)
            if entry is None:
                raise
            self._failed(
                exc,
                f"decrypting with the cached versions of material {self._material_name!r} "
                "until it is back",
            )
            return entry[1]
        self._recovered()
        self._cache.put(version, (self._clock(), provider))
        _telemetry.version_loaded(self._material_name, version, newest=False, created=False)
        return provider


def _seconds(value: object, name: str, *, finite: bool = True) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
        raise ConfigurationError(f"{name} must be a number >= 0")
    if finite and value == float("inf"):
        # The point of the outage bounds is that they end.
        raise ConfigurationError(f"{name} must be finite")
    return float(value)
