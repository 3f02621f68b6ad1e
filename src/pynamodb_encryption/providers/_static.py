"""The static provider: the same raw keys for every item."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..core import (
    DecryptionMaterials,
    EncryptionContext,
    EncryptionMaterials,
    Signer,
    SymmetricKey,
    Verifier,
)
from ..errors import ConfigurationError
from ._common import (
    check_context,
    check_description,
    check_signing_key,
    merged_description,
    resolve_verification_key,
)

__all__ = ["StaticMaterialsProvider"]


def _check_content_key(key: object, role: str) -> SymmetricKey | None:
    if key is None:
        return None
    if not isinstance(key, SymmetricKey) or key.algorithm != "AES":
        raise ConfigurationError(f"{role} must be a SymmetricKey with algorithm 'AES'")
    return key


class StaticMaterialsProvider:
    """Fixed keys (the reference's ``StaticCryptographicMaterialsProvider`` with raw materials).

    Args:
        encryption_key: AES key for ENCRYPT_AND_SIGN attributes; omit for sign-only items.
        decryption_key: AES key to decrypt; defaults to ``encryption_key``.
        signing_key: HMAC ``SymmetricKey`` or ``RsaPrivateKey`` (``SHA*withRSA``).
        verification_key: defaults to the signing key (HMAC) or its public half (RSA).
        material_description: extra entries stored with every item (not secret, not signed).
    """

    __slots__ = (
        "_decryption_key",
        "_description",
        "_encryption_key",
        "_signing_key",
        "_verification_key",
    )

    def __init__(
        self,
        *,
        encryption_key: SymmetricKey | None = None,
        decryption_key: SymmetricKey | None = None,
        signing_key: Signer | None = None,
        verification_key: Verifier | None = None,
        material_description: Mapping[str, str] | None = None,
    ) -> None:
        self._encryption_key = _check_content_key(encryption_key, "encryption_key")
        self._decryption_key = _check_content_key(decryption_key, "decryption_key") or (
            self._encryption_key
        )
        self._signing_key = check_signing_key(signing_key, required=verification_key is None)
        self._verification_key = resolve_verification_key(self._signing_key, verification_key)
        self._description = MappingProxyType(check_description(material_description))

    def __repr__(self) -> str:
        return (
            f"StaticMaterialsProvider(encryption_key={self._encryption_key!r}, "
            f"signing_key={self._signing_key!r}, verification_key={self._verification_key!r})"
        )

    def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
        check_context(context)
        if self._signing_key is None:
            raise ConfigurationError(
                "this StaticMaterialsProvider has no signing_key, so it can only decrypt",
                table=context.table_name,
            )
        return EncryptionMaterials(
            signing_key=self._signing_key,
            encryption_key=self._encryption_key,
            material_description=merged_description(
                self._description, context.material_description
            ),
        )

    def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
        check_context(context)
        return DecryptionMaterials(
            verification_key=self._verification_key,
            decryption_key=self._decryption_key,
            material_description=context.material_description,
        )
