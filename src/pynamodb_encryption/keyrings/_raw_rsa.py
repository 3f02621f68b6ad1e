"""Raw RSA keyring: the data key protected by an RSA key pair held by the application.

Wire format (AWS's material providers, ``Keyrings/RawRSAKeyring.dfy`` with intermediate key
wrapping): provider id = key namespace, provider info = key name, ciphertext = the 48-byte
wrapped data key followed by ``RSA-Encrypt(public key, intermediate key)``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import ConfigurationError, EncryptionError, ProviderError
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
from ._keysource import new_data_key, new_intermediate_key

__all__ = ["RawRsaKeyring", "RsaPadding"]


@enum.unique
class RsaPadding(enum.Enum):
    """RSA padding of a `RawRsaKeyring`. OAEP uses MGF1 with the same hash as OAEP.

    ``PKCS1`` (PKCS #1 v1.5) only opens data keys written by other implementations: a keyring
    configured with it refuses to encrypt.
    """

    PKCS1 = "PKCS1"
    OAEP_SHA1 = "OAEP_SHA1_MGF1"
    OAEP_SHA256 = "OAEP_SHA256_MGF1"
    OAEP_SHA384 = "OAEP_SHA384_MGF1"
    OAEP_SHA512 = "OAEP_SHA512_MGF1"

    def _hash(self) -> hashes.HashAlgorithm | None:
        return {
            # SHA-1 inside OAEP is still sound (no collision resistance needed); the spec lists it.
            RsaPadding.OAEP_SHA1: hashes.SHA1(),  # noqa: S303
            RsaPadding.OAEP_SHA256: hashes.SHA256(),
            RsaPadding.OAEP_SHA384: hashes.SHA384(),
            RsaPadding.OAEP_SHA512: hashes.SHA512(),
        }.get(self)

    def _padding(self) -> rsa_padding.AsymmetricPadding:
        algorithm = self._hash()
        if algorithm is None:
            return rsa_padding.PKCS1v15()
        return rsa_padding.OAEP(
            mgf=rsa_padding.MGF1(algorithm=algorithm), algorithm=algorithm, label=None
        )

    def _overhead(self) -> int:
        algorithm = self._hash()
        return 11 if algorithm is None else 2 * algorithm.digest_size + 2


def _utf8(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{what} must be a non-empty str")
    return value.encode("utf-8")


def _load_public(pem: object) -> rsa.RSAPublicKey:
    if not isinstance(pem, (bytes, bytearray)):
        raise ConfigurationError("public_key must be PEM bytes (X.509 SubjectPublicKeyInfo)")
    try:
        key = serialization.load_pem_public_key(bytes(pem))
    except (ValueError, TypeError) as exc:
        raise ConfigurationError("public_key is not a PEM public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigurationError("public_key is not an RSA key")
    return key


def _load_private(pem: object) -> rsa.RSAPrivateKey:
    if not isinstance(pem, (bytes, bytearray)):
        raise ConfigurationError("private_key must be PEM bytes (PKCS #8 PrivateKeyInfo)")
    try:
        key = serialization.load_pem_private_key(bytes(pem), password=None)
    except (ValueError, TypeError) as exc:
        # The loader's message can quote the input: it stays in __cause__ only.
        raise ConfigurationError("private_key is not an unencrypted PEM private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError("private_key is not an RSA key")
    return key


def _key_size(key: rsa.RSAPrivateKey | None) -> int:
    return 0 if key is None else key.key_size


class RawRsaKeyring:
    """A DB-ESDK keyring that protects data keys with an RSA key pair you hold.

    Give ``public_key`` to write items, ``private_key`` to read them, or both. Keys are PEM
    bytes (X.509 SubjectPublicKeyInfo, PKCS #8; unencrypted). ``key_namespace`` and
    ``key_name`` are written next to each data key: readers find their key by them.
    """

    __slots__ = ("_key_name", "_key_namespace", "_padding", "_private", "_public")

    def __init__(
        self,
        *,
        key_namespace: str,
        key_name: str,
        public_key: bytes | None = None,
        private_key: bytes | None = None,
        padding: RsaPadding = RsaPadding.OAEP_SHA256,
    ) -> None:
        self._key_namespace = _utf8(key_namespace, "key_namespace")
        self._key_name = _utf8(key_name, "key_name")
        if not isinstance(padding, RsaPadding):
            raise ConfigurationError("padding must be an RsaPadding")
        if public_key is None and private_key is None:
            raise ConfigurationError("RawRsaKeyring needs a public_key, a private_key or both")
        self._padding = padding
        self._private = None if private_key is None else _load_private(private_key)
        public = None if public_key is None else _load_public(public_key)
        if (
            public is not None
            and self._private is not None
            and public.public_numbers() != self._private.public_key().public_numbers()
        ):
            raise ConfigurationError("public_key and private_key are not one key pair")
        self._public = public
        size = public.key_size if public is not None else _key_size(self._private)
        if size // 8 - padding._overhead() < DATA_KEY_LENGTH:
            raise ConfigurationError(
                f"an RSA key of {size} bits is too small for {padding.name} padding"
            )

    def __repr__(self) -> str:
        return (
            f"RawRsaKeyring(key_namespace={self._key_namespace.decode()!r}, "
            f"key_name={self._key_name.decode()!r}, padding={self._padding.name}, "
            f"can_encrypt={self._public is not None}, can_decrypt={self._private is not None})"
        )

    def on_encrypt(self, materials: DbeEncryptionMaterials) -> DbeEncryptionMaterials:
        """Generate the data key if unset, then add its copy wrapped under the public key."""
        if self._public is None:
            raise EncryptionError(
                "this RawRsaKeyring has no public_key, so it cannot encrypt",
                material_name=self._key_name.decode(),
            )
        if self._padding is RsaPadding.PKCS1:
            raise EncryptionError(
                "PKCS1 padding only reads existing items; encrypt with an OAEP padding",
                material_name=self._key_name.decode(),
            )
        if materials.plaintext_data_key is None:
            materials = materials.with_data_key(new_data_key())
        data_key = materials.plaintext_data_key
        assert data_key is not None
        intermediate = new_intermediate_key()
        wrapped, mac_key = wrap_data_key(
            data_key,
            materials.encryption_context,
            intermediate,
            serialized_context=materials.encryption_context_bytes(),
        )
        encrypted_ik = self._public.encrypt(intermediate, self._padding._padding())
        edk = EncryptedDataKey(
            provider_id=self._key_namespace,
            provider_info=self._key_name,
            ciphertext=wrapped + encrypted_ik,
        )
        return materials.with_encrypted_data_key(edk, mac_key)

    def on_decrypt(
        self,
        materials: DbeDecryptionMaterials,
        encrypted_data_keys: Sequence[EncryptedDataKey],
    ) -> DbeDecryptionMaterials:
        """Open the first data key written under this key pair; unchanged if there is none."""
        if materials.plaintext_data_key is not None:
            raise ProviderError("the decryption materials already hold a data key")
        if self._private is None:
            return materials
        for edk in encrypted_data_keys:
            if edk.provider_id != self._key_namespace or edk.provider_info != self._key_name:
                continue
            opened = self._open(edk.ciphertext, materials)
            if opened is not None:
                return materials.with_data_key(*opened)
        return materials

    def _open(
        self, ciphertext: bytes, materials: DbeDecryptionMaterials
    ) -> tuple[bytes, bytes] | None:
        # Every failure looks the same to the caller (try the next EDK): no padding oracle.
        assert self._private is not None
        if len(ciphertext) <= WRAPPED_DATA_KEY_LENGTH:
            return None
        try:
            intermediate = self._private.decrypt(
                ciphertext[WRAPPED_DATA_KEY_LENGTH:], self._padding._padding()
            )
        except ValueError:
            return None
        if len(intermediate) != DATA_KEY_LENGTH:
            return None
        try:
            return unwrap_data_key(
                ciphertext[:WRAPPED_DATA_KEY_LENGTH],
                materials.encryption_context,
                intermediate,
                serialized_context=materials.encryption_context_bytes(),
            )
        except InvalidTag:
            return None
