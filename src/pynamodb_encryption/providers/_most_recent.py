"""The most-recent provider: wrapped keys from a `MetaStore`, newest version on write.

Behaves like the reference's ``CachingMostRecentProvider`` (wire-format notes, section 6.4):

- encrypt uses the highest version, re-read from the meta store at most every
  ``ttl_seconds``; during a short grace period after that, one caller refreshes while the
  others keep using the cached version instead of waiting; after it, callers wait for the
  refresh;
- decrypt reads the version from the item's ``amzn-ddb-meta-id`` (``name#version``) and loads
  that version of the *configured* material name, with the same TTL per version;
- version 0 is created on the first encryption if the material has none.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from .. import _telemetry
from ..core import DecryptionMaterials, EncryptionContext, EncryptionMaterials
from ..core._md import MD_META_ID
from ..errors import ConfigurationError, InvalidMaterialDescriptionError, NoKnownVersionError
from ._cache import LruCache
from ._meta_store import MetaStore, check_material_name
from ._wrapped import WrappedMaterialsProvider

__all__ = ["MostRecentProvider", "version_from_description"]

#: After the TTL, for this long a refresh is tried without blocking other callers.
GRACE_SECONDS = 0.5

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
    """

    __slots__ = (
        "_cache",
        "_clock",
        "_current",
        "_lock",
        "_material_name",
        "_meta_store",
        "_ttl",
    )

    def __init__(
        self,
        *,
        meta_store: MetaStore,
        material_name: str,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        cache_size: int = 1000,
    ) -> None:
        if not isinstance(meta_store, MetaStore):
            raise ConfigurationError("meta_store must be a MetaStore")
        if (
            not isinstance(ttl_seconds, (int, float))
            or isinstance(ttl_seconds, bool)
            or not ttl_seconds >= 0
        ):
            raise ConfigurationError("ttl_seconds must be a number >= 0")
        self._meta_store = meta_store
        self._material_name = check_material_name(material_name)
        self._ttl = float(ttl_seconds)
        self._clock = clock
        self._cache: LruCache[int, _Entry] = LruCache(cache_size)
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

    # -- encrypt ----------------------------------------------------------------------

    def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
        return self._current_provider().encryption_materials(context)

    def _current_provider(self) -> WrappedMaterialsProvider:
        current = self._current
        if current is not None:
            version, updated = current
            age = self._clock() - updated
            entry = self._cache.get(version)
            if entry is not None:
                if age < self._ttl:
                    _telemetry.cache_lookup("most_recent", True, f"newest version {version}")
                    return entry[1]
                if age < self._ttl + GRACE_SECONDS:
                    # Grace period: refresh if nobody else is, otherwise keep going.
                    if not self._lock.acquire(blocking=False):
                        return entry[1]
                    try:
                        return self._refresh_current()
                    finally:
                        self._lock.release()
        with self._lock:
            # Another thread may have refreshed while this one waited.
            current = self._current
            if current is not None and self._clock() - current[1] < self._ttl:
                entry = self._cache.get(current[0])
                if entry is not None:
                    return entry[1]
            return self._refresh_current()

    def _refresh_current(self) -> WrappedMaterialsProvider:
        """Ask the meta store for the newest version (creating 0 if none). Lock held."""
        name = self._material_name
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
            provider = entry[1] if entry is not None else self._meta_store.provider(name, version)
        now = self._clock()
        self._cache.put(version, (now, provider))
        self._current = (version, now)
        _telemetry.version_loaded(name, version, newest=True, created=created)
        return provider

    # -- decrypt ----------------------------------------------------------------------

    def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
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
            age = self._clock() - entry[0]
            if age < self._ttl:
                _telemetry.cache_lookup("most_recent", True, f"version {version}")
                return entry[1]
            if age < self._ttl + GRACE_SECONDS:
                # Grace period: reload if nobody else is loading, otherwise keep going.
                if not self._lock.acquire(blocking=False):
                    return entry[1]
                try:
                    return self._load_version(version)
                finally:
                    self._lock.release()
        with self._lock:
            entry = self._cache.get(version)
            if entry is not None and self._clock() - entry[0] < self._ttl:
                return entry[1]
            return self._load_version(version)

    def _load_version(self, version: int) -> WrappedMaterialsProvider:
        """Load one version from the meta store (never creates it). Lock held."""
        _telemetry.cache_lookup("most_recent", False, f"version {version}")
        provider = _telemetry.traced(
            "meta_store.load",
            {"material_name": self._material_name, "version": version},
            self._meta_store.provider,
            self._material_name,
            version,
        )
        self._cache.put(version, (self._clock(), provider))
        _telemetry.version_loaded(self._material_name, version, newest=False, created=False)
        return provider
