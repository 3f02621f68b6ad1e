"""The hierarchical keyring: data keys wrapped under keys derived from a branch key.

A branch key (32 bytes, one per tenant or application, versioned and rotated in a key store)
never leaves the process; each item's intermediate key is wrapped with AES-256-GCM under a key
derived from the branch key and a random salt (NIST SP 800-108 counter-mode KDF with
HMAC-SHA256). Branch keys are cached for ``ttl_seconds``, so a warm process asks the key store
(and KMS) nothing per item. Source: ``framework/aws-kms/aws-kms-hierarchical-keyring.md``.

EDK layout: ``provider_id`` = ``aws-kms-hierarchy``; ``provider_info`` = the branch key id;
``ciphertext`` = the 48-byte wrapped data key ``|| salt(16) || IV(12) || branch key version
(16-byte UUID) ||`` the wrapped intermediate key (32 bytes and a 16-byte tag).
"""

from __future__ import annotations

import hmac
import os
import struct
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import ConfigurationError, ProviderError, PynamoDBEncryptionError
from ..structured._materials import (
    BranchKeyMaterials,
    BranchKeyStore,
    DbeDecryptionMaterials,
    DbeEncryptionMaterials,
    EncryptedDataKey,
)
from ..structured._wrapping import (
    DATA_KEY_LENGTH,
    WRAPPED_DATA_KEY_LENGTH,
    unwrap_data_key,
    wrap_data_key,
)

__all__ = ["BranchKeyIdSupplier", "HierarchicalKeyring"]

PROVIDER_ID = b"aws-kms-hierarchy"
_SALT = 16
_IV = 12
_VERSION = 16
_W = WRAPPED_DATA_KEY_LENGTH
_HEAD = _W + _SALT + _IV + _VERSION
_EDK_LENGTH = _HEAD + DATA_KEY_LENGTH + 16
_KDF_LABEL = struct.pack(">I", 1) + PROVIDER_ID + b"\x00"
_KDF_LENGTH = struct.pack(">I", 256)
#: Cache bound: entries beyond it evict the least recently used.
DEFAULT_CACHE_ENTRIES = 1000


@runtime_checkable
class BranchKeyIdSupplier(Protocol):
    """Chooses the branch key id of an item (multi-tenant tables: one branch key per tenant).

    ``encryption_context`` is the item's encryption context: table name, key names and the key
    values (``aws-crypto-attr.<name>``), and every SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT value.
    """

    def get_branch_key_id(self, encryption_context: Mapping[str, str]) -> str: ...


def _derive_wrapping_key(branch_key: bytes, salt: bytes) -> bytes:
    # SP 800-108 counter mode, one HMAC-SHA256 block: u32(1) || label || 0x00 || salt || u32(L)
    return hmac.digest(branch_key, _KDF_LABEL + salt + _KDF_LENGTH, "sha256")


class HierarchicalKeyring:
    """Wraps data keys under a branch key from ``key_store``.

    Give either ``branch_key_id`` (one branch key for every item) or
    ``branch_key_id_supplier`` (a `BranchKeyIdSupplier` choosing per item). Branch key
    materials are cached per (id, version) for ``ttl_seconds`` in a bounded LRU cache;
    ``clock`` (seconds, monotonic) is injectable for tests.
    """

    __slots__ = (
        "_branch_key_id",
        "_cache",
        "_clock",
        "_key_store",
        "_lock",
        "_max_entries",
        "_supplier",
        "_ttl",
    )

    def __init__(
        self,
        *,
        key_store: BranchKeyStore,
        branch_key_id: str | None = None,
        branch_key_id_supplier: BranchKeyIdSupplier | None = None,
        ttl_seconds: float = 600,
        max_cache_entries: int = DEFAULT_CACHE_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(key_store, BranchKeyStore):
            raise ConfigurationError(
                "key_store must have get_active_branch_key(), get_branch_key_version() and "
                "get_beacon_key()"
            )
        if (branch_key_id is None) == (branch_key_id_supplier is None):
            raise ConfigurationError("give exactly one of branch_key_id and branch_key_id_supplier")
        if branch_key_id is not None and (not isinstance(branch_key_id, str) or not branch_key_id):
            raise ConfigurationError("branch_key_id must be a non-empty str")
        if branch_key_id_supplier is not None and not isinstance(
            branch_key_id_supplier, BranchKeyIdSupplier
        ):
            raise ConfigurationError("branch_key_id_supplier must have get_branch_key_id()")
        if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, (int, float)):
            raise ConfigurationError("ttl_seconds must be a number")
        if ttl_seconds < 0:
            raise ConfigurationError("ttl_seconds must not be negative")
        if isinstance(max_cache_entries, bool) or not isinstance(max_cache_entries, int):
            raise ConfigurationError("max_cache_entries must be an int")
        if max_cache_entries < 1:
            raise ConfigurationError("max_cache_entries must be at least 1")
        self._key_store = key_store
        self._branch_key_id = branch_key_id
        self._supplier = branch_key_id_supplier
        self._ttl = float(ttl_seconds)
        self._max_entries = max_cache_entries
        self._clock = clock
        self._lock = threading.Lock()
        # (branch key id, version bytes or None for the active one) -> (expiry, (key, version))
        self._cache: OrderedDict[tuple[str, bytes | None], tuple[float, tuple[bytes, bytes]]] = (
            OrderedDict()
        )

    @property
    def key_store(self) -> BranchKeyStore:
        """The branch key store (also the source of beacon keys)."""
        return self._key_store

    @property
    def branch_key_id(self) -> str | None:
        """The fixed branch key id (None with a branch key id supplier)."""
        return self._branch_key_id

    def __repr__(self) -> str:
        chooser = (
            f"branch_key_id={self._branch_key_id!r}"
            if self._supplier is None
            else f"branch_key_id_supplier={type(self._supplier).__name__}"
        )
        return f"HierarchicalKeyring({chooser}, ttl_seconds={self._ttl:g})"

    # --------------------------------------------------------------------------------------

    def _branch_key_id_for(self, context: Mapping[str, str]) -> str:
        if self._branch_key_id is not None:
            return self._branch_key_id
        assert self._supplier is not None
        try:
            chosen = self._supplier.get_branch_key_id(context)
        except PynamoDBEncryptionError:
            raise
        except Exception as exc:
            raise ProviderError("the branch key id supplier failed") from exc
        if not isinstance(chosen, str) or not chosen:
            raise ProviderError("the branch key id supplier returned no branch key id")
        return chosen

    def _materials(self, branch_key_id: str, version: bytes | None) -> tuple[bytes, bytes]:
        """``(branch key, 16-byte version)`` of the active version (``version=None``) or of
        the given one, from the cache or the key store."""
        key = (branch_key_id, version)
        now = self._clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                self._cache.move_to_end(key)
                return hit[1]
        version_text = None if version is None else str(uuid.UUID(bytes=version))
        try:
            if version_text is None:
                materials = self._key_store.get_active_branch_key(branch_key_id)
            else:
                materials = self._key_store.get_branch_key_version(branch_key_id, version_text)
        except PynamoDBEncryptionError:
            raise
        except Exception as exc:
            raise ProviderError("the key store failed", material_name=branch_key_id) from exc
        if (
            not isinstance(materials, BranchKeyMaterials)
            or materials.branch_key_id != branch_key_id
            or len(materials.branch_key) != 32
            or (version_text is not None and materials.branch_key_version != version_text)
        ):
            raise ProviderError(
                "the key store returned other materials than asked", material_name=branch_key_id
            )
        try:
            version_bytes = uuid.UUID(materials.branch_key_version).bytes
        except (TypeError, ValueError, AttributeError):
            raise ProviderError(
                "the branch key version is not a UUID", material_name=branch_key_id
            ) from None
        entry = (bytes(materials.branch_key), version_bytes)
        with self._lock:
            cache = self._cache
            cache[key] = (now + self._ttl, entry)
            cache.move_to_end(key)
            while len(cache) > self._max_entries:
                cache.popitem(last=False)
        return entry

    def clear_cache(self) -> None:
        """Forget every cached branch key (the next item asks the key store again)."""
        with self._lock:
            self._cache.clear()

    # --------------------------------------------------------------------------------------

    def on_encrypt(self, materials: DbeEncryptionMaterials) -> DbeEncryptionMaterials:
        """Generate the data key if unset and add its copy wrapped under the active version
        of the item's branch key."""
        context = materials.encryption_context
        branch_key_id = self._branch_key_id_for(context)
        branch_key, version = self._materials(branch_key_id, None)
        if materials.plaintext_data_key is None:
            materials = materials.with_data_key(os.urandom(DATA_KEY_LENGTH))
        data_key = materials.plaintext_data_key
        assert data_key is not None
        intermediate_key = os.urandom(DATA_KEY_LENGTH)
        serialized = materials.encryption_context_bytes()
        wrapped, mac_key = wrap_data_key(
            data_key, context, intermediate_key, serialized_context=serialized
        )
        salt = os.urandom(_SALT)
        iv = os.urandom(_IV)
        id_bytes = branch_key_id.encode("utf-8")
        aad = PROVIDER_ID + id_bytes + version + serialized
        wrapping_key = _derive_wrapping_key(branch_key, salt)
        wrapped_ik = AESGCM(wrapping_key).encrypt(iv, intermediate_key, aad)
        edk = EncryptedDataKey(
            provider_id=PROVIDER_ID,
            provider_info=id_bytes,
            ciphertext=wrapped + salt + iv + version + wrapped_ik,
        )
        return materials.with_encrypted_data_key(edk, mac_key)

    def on_decrypt(
        self,
        materials: DbeDecryptionMaterials,
        encrypted_data_keys: Sequence[EncryptedDataKey],
    ) -> DbeDecryptionMaterials:
        """Open the first EDK of the item's branch key (any version); unchanged if none."""
        if materials.plaintext_data_key is not None:
            return materials
        context = materials.encryption_context
        branch_key_id = self._branch_key_id_for(context)
        id_bytes = branch_key_id.encode("utf-8")
        serialized: bytes | None = None
        for edk in encrypted_data_keys:
            ciphertext = edk.ciphertext
            if (
                edk.provider_id != PROVIDER_ID
                or edk.provider_info != id_bytes
                or len(ciphertext) != _EDK_LENGTH
            ):
                continue
            salt = ciphertext[_W : _W + _SALT]
            iv = ciphertext[_W + _SALT : _W + _SALT + _IV]
            version = ciphertext[_W + _SALT + _IV : _HEAD]
            branch_key, _ = self._materials(branch_key_id, version)
            if serialized is None:
                serialized = materials.encryption_context_bytes()
            aad = PROVIDER_ID + id_bytes + version + serialized
            wrapping_key = _derive_wrapping_key(branch_key, salt)
            try:
                intermediate_key = AESGCM(wrapping_key).decrypt(iv, ciphertext[_HEAD:], aad)
                data_key, mac_key = unwrap_data_key(
                    ciphertext[:_W], context, intermediate_key, serialized_context=serialized
                )
            except InvalidTag:
                continue
            return materials.with_data_key(data_key, mac_key)
        return materials
