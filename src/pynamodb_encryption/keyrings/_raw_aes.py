"""The raw AES keyring: a local AES-GCM wrapping key (AWS's ``RawAesKeyring``).

EDK layout (``framework/raw-aes-keyring.md`` with intermediate key wrapping):
``provider_id`` = the key namespace; ``provider_info`` = ``key name || u32 tag bits (128) ||
u32 IV length (12) || IV``; ``ciphertext`` = the 48-byte wrapped data key, then the
intermediate key encrypted under the wrapping key (32 bytes and a 16-byte tag), with the
serialized encryption context as AAD.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import ConfigurationError
from ..structured._materials import (
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

__all__ = ["RawAesKeyring"]

_TAG_BITS = 128
_IV_LENGTH = 12
_INFO_SUFFIX = struct.Struct(">II").pack(_TAG_BITS, _IV_LENGTH)
_WRAPPED_IK_LENGTH = DATA_KEY_LENGTH + 16


class RawAesKeyring:
    """Wraps data keys with a local AES key (16, 24 or 32 bytes) under ``key_namespace`` and
    ``key_name``; a reader needs the same namespace, name and key.

    Keep the wrapping key in a secrets manager or HSM-backed store; `repr` never shows it.
    """

    __slots__ = ("_aead", "_info_prefix", "_key_name", "_key_namespace", "_namespace_bytes")

    def __init__(self, *, key_namespace: str, key_name: str, wrapping_key: bytes) -> None:
        if not isinstance(key_namespace, str) or not key_namespace:
            raise ConfigurationError("key_namespace must be a non-empty str")
        if key_namespace.startswith("aws-kms"):
            raise ConfigurationError("key namespaces starting with 'aws-kms' are reserved")
        if not isinstance(key_name, str) or not key_name:
            raise ConfigurationError("key_name must be a non-empty str")
        if not isinstance(wrapping_key, (bytes, bytearray)) or len(wrapping_key) not in (
            16,
            24,
            32,
        ):
            raise ConfigurationError("wrapping_key must be 16, 24 or 32 bytes")
        try:
            self._namespace_bytes = key_namespace.encode("utf-8")
            name_bytes = key_name.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigurationError("key names must be valid Unicode") from None
        self._key_namespace = key_namespace
        self._key_name = key_name
        self._info_prefix = name_bytes + _INFO_SUFFIX
        self._aead = AESGCM(bytes(wrapping_key))

    def __repr__(self) -> str:
        return f"RawAesKeyring(key_namespace={self._key_namespace!r}, key_name={self._key_name!r})"

    def on_encrypt(self, materials: DbeEncryptionMaterials) -> DbeEncryptionMaterials:
        """Generate the data key if unset and add its copy wrapped under this key."""
        if materials.plaintext_data_key is None:
            materials = materials.with_data_key(os.urandom(DATA_KEY_LENGTH))
        data_key = materials.plaintext_data_key
        assert data_key is not None
        context = materials.encryption_context
        intermediate_key = os.urandom(DATA_KEY_LENGTH)
        aad = materials.encryption_context_bytes()
        wrapped, mac_key = wrap_data_key(
            data_key, context, intermediate_key, serialized_context=aad
        )
        iv = os.urandom(_IV_LENGTH)
        wrapped_ik = self._aead.encrypt(iv, intermediate_key, aad)
        edk = EncryptedDataKey(
            provider_id=self._namespace_bytes,
            provider_info=self._info_prefix + iv,
            ciphertext=wrapped + wrapped_ik,
        )
        return materials.with_encrypted_data_key(edk, mac_key)

    def on_decrypt(
        self,
        materials: DbeDecryptionMaterials,
        encrypted_data_keys: Sequence[EncryptedDataKey],
    ) -> DbeDecryptionMaterials:
        """Open the first EDK with this namespace, key name and key; unchanged if none."""
        if materials.plaintext_data_key is not None:
            return materials
        context = materials.encryption_context
        aad: bytes | None = None
        prefix = self._info_prefix
        for edk in encrypted_data_keys:
            info = edk.provider_info
            if (
                edk.provider_id != self._namespace_bytes
                or len(info) != len(prefix) + _IV_LENGTH
                or not info.startswith(prefix)
                or len(edk.ciphertext) != WRAPPED_DATA_KEY_LENGTH + _WRAPPED_IK_LENGTH
            ):
                continue
            if aad is None:
                aad = materials.encryption_context_bytes()
            try:
                intermediate_key = self._aead.decrypt(
                    info[len(prefix) :], edk.ciphertext[WRAPPED_DATA_KEY_LENGTH:], aad
                )
                data_key, mac_key = unwrap_data_key(
                    edk.ciphertext[:WRAPPED_DATA_KEY_LENGTH],
                    context,
                    intermediate_key,
                    serialized_context=aad,
                )
            except InvalidTag:
                continue  # not ours after all, or tampered: try the next one
            return materials.with_data_key(data_key, mac_key)
        return materials
