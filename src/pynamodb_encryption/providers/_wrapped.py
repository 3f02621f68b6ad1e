"""The wrapped provider: a fresh content key per item, wrapped by a long-lived key."""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Mapping
from types import MappingProxyType

from ..core import (
    DecryptionMaterials,
    EncryptionContext,
    EncryptionMaterials,
    RsaPrivateKey,
    RsaPublicKey,
    Signer,
    SymmetricKey,
    Verifier,
)
from ..core._keys import KeyUnwrapError
from ..core._md import MD_CONTENT_KEY_ALGORITHM, MD_ENCRYPTED_KEY, MD_KEY_WRAP_ALGORITHM
from ..errors import (
    ConfigurationError,
    DecryptionError,
    InvalidMaterialDescriptionError,
    PynamoDBEncryptionError,
)
from ._common import (
    check_context,
    check_description,
    check_signing_key,
    decode_b64,
    merged_description,
    parse_algorithm,
    resolve_verification_key,
)

__all__ = ["WrappedMaterialsProvider"]

DEFAULT_CONTENT_ALGORITHM = "AES/256"
_AES_BITS = (128, 192, 256)
# What Python ("AES/256") and Java ("AES") writers put in every item, parsed once.
_COMMON_ALGORITHMS = {"AES/256": ("AES", 256), "AES": ("AES", 256)}

WrappingKey = SymmetricKey | RsaPublicKey | RsaPrivateKey
UnwrappingKey = SymmetricKey | RsaPrivateKey


class WrappedMaterialsProvider:
    """Envelope encryption: each item gets a random AES-256 key, stored wrapped in its
    material description (the reference's ``WrappedCryptographicMaterialsProvider``).

    Args:
        wrapping_key: AES ``SymmetricKey`` (AESWrap) or RSA public key (RSA-OAEP-SHA256).
        unwrapping_key: AES key or ``RsaPrivateKey``; defaults to an AES ``wrapping_key``.
        signing_key: HMAC ``SymmetricKey`` or ``RsaPrivateKey`` (``SHA*withRSA``).
        verification_key: defaults to the signing key (HMAC) or its public half (RSA).
        material_description: extra entries stored with every item (not secret, not signed).
    """

    __slots__ = (
        "_description",
        "_own_settings",
        "_signing_key",
        "_unwrapping_key",
        "_verification_key",
        "_wrapping_key",
    )

    def __init__(
        self,
        *,
        wrapping_key: WrappingKey | None = None,
        unwrapping_key: UnwrappingKey | None = None,
        signing_key: Signer | None = None,
        verification_key: Verifier | None = None,
        material_description: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(wrapping_key, RsaPrivateKey):
            if unwrapping_key is None:
                unwrapping_key = wrapping_key
            wrapping_key = wrapping_key.public_key()
        if wrapping_key is not None and not (
            isinstance(wrapping_key, RsaPublicKey)
            or (
                isinstance(wrapping_key, SymmetricKey)
                and wrapping_key.algorithm in ("AES", "AESWrap")
            )
        ):
            raise ConfigurationError("wrapping_key must be an AES SymmetricKey or an RSA key")
        if unwrapping_key is None and isinstance(wrapping_key, SymmetricKey):
            unwrapping_key = wrapping_key
        if unwrapping_key is not None and not (
            isinstance(unwrapping_key, RsaPrivateKey)
            or (
                isinstance(unwrapping_key, SymmetricKey)
                and unwrapping_key.algorithm in ("AES", "AESWrap")
            )
        ):
            raise ConfigurationError(
                "unwrapping_key must be an AES SymmetricKey or an RsaPrivateKey"
            )
        if wrapping_key is None and unwrapping_key is None:
            raise ConfigurationError("a wrapping_key or an unwrapping_key is required")
        self._wrapping_key = wrapping_key
        self._unwrapping_key = unwrapping_key
        self._signing_key = check_signing_key(signing_key, required=verification_key is None)
        self._verification_key = resolve_verification_key(self._signing_key, verification_key)
        self._description = MappingProxyType(check_description(material_description))
        # The item encryptor asks with an empty description, so the content and wrapping
        # algorithms normally follow from ours alone: work them out once, not per item.
        # (A bad configuration is left for encryption_materials to report, as it always did.)
        self._own_settings: tuple[str, int, str] | None = None
        if self._wrapping_key is not None:
            with contextlib.suppress(PynamoDBEncryptionError):
                self._own_settings = self._settings(self._description, self._wrapping_key)

    def __repr__(self) -> str:
        return (
            f"WrappedMaterialsProvider(wrapping_key={self._wrapping_key!r}, "
            f"unwrapping_key={self._unwrapping_key!r}, signing_key={self._signing_key!r})"
        )

    def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
        check_context(context)
        if self._wrapping_key is None or self._signing_key is None:
            raise ConfigurationError(
                "this WrappedMaterialsProvider has no wrapping_key or signing_key, so it can "
                "only decrypt",
                table=context.table_name,
            )
        settings = self._own_settings
        if settings is not None and not context.material_description:
            description = dict(self._description)
        else:
            description = merged_description(self._description, context.material_description)
            settings = self._settings(description, self._wrapping_key)
        content_algorithm, bits, wrap_algorithm = settings
        content_key = os.urandom(bits // 8)
        wrapped = self._wrapping_key.wrap(content_key, wrap_algorithm)
        description[MD_ENCRYPTED_KEY] = base64.b64encode(wrapped).decode("ascii")
        description[MD_CONTENT_KEY_ALGORITHM] = content_algorithm
        description[MD_KEY_WRAP_ALGORITHM] = wrap_algorithm
        return EncryptionMaterials(
            signing_key=self._signing_key,
            encryption_key=SymmetricKey._content_key(content_key),
            material_description=description,
        )

    @staticmethod
    def _settings(
        description: Mapping[str, str], wrapping_key: SymmetricKey | RsaPublicKey
    ) -> tuple[str, int, str]:
        """Content key algorithm, its size in bits, and the wrap algorithm for a description."""
        content_algorithm = description.get(MD_CONTENT_KEY_ALGORITHM, DEFAULT_CONTENT_ALGORITHM)
        name, bits = parse_algorithm(content_algorithm)
        if name != "AES" or bits not in _AES_BITS:
            raise ConfigurationError(f"unsupported content key algorithm {content_algorithm!r}")
        wrap_algorithm = description.get(MD_KEY_WRAP_ALGORITHM, wrapping_key.default_wrap_algorithm)
        return content_algorithm, bits, wrap_algorithm

    def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
        check_context(context)
        table = context.table_name
        if self._unwrapping_key is None:
            raise ConfigurationError(
                "this WrappedMaterialsProvider has no unwrapping_key, so it cannot decrypt",
                table=table,
            )
        description = context.material_description
        encoded = description.get(MD_ENCRYPTED_KEY)
        if encoded is None:
            raise InvalidMaterialDescriptionError(
                "the material description holds no wrapped key", table=table
            )
        wrapped = decode_b64(encoded, what="the wrapped key", table=table)
        # Old Java items carry no wrap algorithm: the unwrapping key's own name decides
        # ("RSA" means PKCS#1 v1.5).
        wrap_algorithm = description.get(MD_KEY_WRAP_ALGORITHM)
        if wrap_algorithm is None:
            wrap_algorithm = self._unwrapping_key.algorithm
            if isinstance(self._unwrapping_key, SymmetricKey):
                raise InvalidMaterialDescriptionError(
                    "the material description names no key wrap algorithm", table=table
                )
        content_algorithm = description.get(MD_CONTENT_KEY_ALGORITHM, "AES/256")
        name, _ = _COMMON_ALGORITHMS.get(content_algorithm) or parse_algorithm(content_algorithm)
        if name != "AES":
            raise InvalidMaterialDescriptionError(
                "unsupported content key algorithm in the material description", table=table
            )
        if isinstance(self._unwrapping_key, RsaPrivateKey):
            content_key = _rsa_unwrap(self._unwrapping_key, wrapped, wrap_algorithm)
        else:
            try:
                content_key = self._unwrapping_key.unwrap(wrapped, wrap_algorithm)
            except KeyUnwrapError as exc:
                raise DecryptionError(
                    "the content key could not be unwrapped", table=table
                ) from exc
            if len(content_key) * 8 not in _AES_BITS:
                raise DecryptionError("the content key could not be unwrapped", table=table)
        return DecryptionMaterials(
            verification_key=self._verification_key,
            decryption_key=SymmetricKey._content_key(content_key),
            material_description=description,
        )


def _rsa_unwrap(key: RsaPrivateKey, wrapped: bytes, wrap_algorithm: str) -> bytes:
    """RSA unwrap with implicit rejection: a failure yields a random key, not an error.

    The material description is unsigned, so anyone who can write an item chooses the
    wrap algorithm (PKCS#1 v1.5 included: old Java items need it) and the wrapped bytes,
    and this runs before the signature is checked. Distinct errors for "bad padding or
    size" and "key unwrapped" would be a Bleichenbacher oracle on the RSA key, which
    decrypts any content key wrapped under it. With a random key instead, every wrong
    wrapped key fails later, in the same way (the attributes do not decrypt).
    """
    try:
        content_key = key.unwrap(wrapped, wrap_algorithm)
    except KeyUnwrapError:
        return os.urandom(32)
    if len(content_key) * 8 not in _AES_BITS:
        return os.urandom(32)
    return content_key
