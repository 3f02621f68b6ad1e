"""Adapter: any keyring of AWS's material providers package used as a DB-ESDK keyring.

``aws-cryptographic-material-providers`` (the ``mpl`` extra) is imported when an adapter is
built, never on the library's import path. Materials are translated field by field; the
intermediate key wrapping, the EDK format and every KMS call stay the MPL keyring's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ConfigurationError, ProviderError
from ..structured._materials import (
    DbeDecryptionMaterials,
    DbeEncryptionMaterials,
    EncryptedDataKey,
)

__all__ = ["MplKeyring"]

# The MPL checks that materials of a signing suite carry a signing key, but no keyring reads
# it: the engine keeps the real ECDSA key and never hands it to a keyring. This stand-in
# satisfies the check; the MPL must return it unchanged (checked), and it is dropped.
_SIGNING_KEY_STAND_IN = b"pynamodb-encryption: the engine holds the signing key"


def _load_mpl() -> Any:
    try:
        from aws_cryptographic_material_providers.mpl import (
            AwsCryptographicMaterialProviders,
            models,
        )
        from aws_cryptographic_material_providers.mpl.config import (
            MaterialProvidersConfig,
        )
    except ImportError as exc:
        raise ConfigurationError(
            "MplKeyring needs AWS's material providers: pip install 'pynamodb-encryption[mpl]'"
        ) from exc
    return AwsCryptographicMaterialProviders(config=MaterialProvidersConfig()), models


class MplKeyring:
    """Use a keyring of AWS's material providers library as a DB-ESDK keyring.

    ``keyring`` is any object the MPL's ``create_*_keyring`` methods return (or your own
    MPL ``IKeyring``): KMS RSA, KMS ECDH, raw ECDH and the others this library does not
    implement natively. Needs ``pip install 'pynamodb-encryption[mpl]'``. Errors the MPL
    keyring raises become `ProviderError` (the MPL error in ``__cause__``).
    """

    __slots__ = ("_keyring", "_models", "_mpl")

    def __init__(self, keyring: Any) -> None:
        if not callable(getattr(keyring, "on_encrypt", None)) or not callable(
            getattr(keyring, "on_decrypt", None)
        ):
            raise ConfigurationError(
                "MplKeyring wraps a keyring of aws-cryptographic-material-providers "
                "(an object with on_encrypt and on_decrypt)"
            )
        self._mpl, self._models = _load_mpl()
        self._keyring = keyring

    def __repr__(self) -> str:
        return f"MplKeyring({type(self._keyring).__name__})"

    def _suite_info(self, materials: DbeEncryptionMaterials | DbeDecryptionMaterials) -> Any:
        return self._call(
            "get_algorithm_suite_info",
            self._mpl.get_algorithm_suite_info,
            materials.algorithm_suite.suite_id,
        )

    @staticmethod
    def _call(what: str, function: Any, *args: Any) -> Any:
        try:
            return function(*args)
        except Exception as exc:  # the MPL raises its own tree and Dafny runtime errors
            raise ProviderError(
                f"the material providers keyring failed in {what} ({type(exc).__name__})"
            ) from exc

    def _to_mpl_edk(self, edk: EncryptedDataKey) -> Any:
        try:
            provider_id = edk.provider_id.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProviderError("an encrypted data key has a non-UTF-8 provider id") from exc
        return self._models.EncryptedDataKey(
            key_provider_id=provider_id,
            key_provider_info=edk.provider_info,
            ciphertext=edk.ciphertext,
        )

    def on_encrypt(self, materials: DbeEncryptionMaterials) -> DbeEncryptionMaterials:
        """Hand the materials to the MPL keyring; take back the data key and its new EDKs."""
        models = self._models
        suite = materials.algorithm_suite
        edks = [self._to_mpl_edk(e) for e in materials.encrypted_data_keys]
        mpl_materials = models.EncryptionMaterials(
            algorithm_suite=self._suite_info(materials),
            encryption_context=dict(materials.encryption_context),
            encrypted_data_keys=edks,
            required_encryption_context_keys=[],
            plaintext_data_key=materials.plaintext_data_key,
            signing_key=_SIGNING_KEY_STAND_IN if suite.signs_with_ecdsa else None,
            symmetric_signing_keys=list(materials.symmetric_signing_keys) if edks else None,
        )
        out = self._call(
            "on_encrypt",
            lambda: self._keyring.on_encrypt(models.OnEncryptInput(materials=mpl_materials)),
        ).materials
        out_edks = list(out.encrypted_data_keys)
        out_macs = list(out.symmetric_signing_keys or [])
        count = len(materials.encrypted_data_keys)
        data_key = out.plaintext_data_key
        if (
            data_key is None
            or (
                materials.plaintext_data_key is not None
                and data_key != materials.plaintext_data_key
            )
            or len(out_edks) <= count
            or len(out_macs) != len(out_edks)
            or dict(out.encryption_context) != dict(materials.encryption_context)
            or out.signing_key != mpl_materials.signing_key
        ):
            raise ProviderError("the material providers keyring returned invalid materials")
        if materials.plaintext_data_key is None:
            materials = materials.with_data_key(bytes(data_key))
        for edk, mac_key in zip(out_edks[count:], out_macs[count:], strict=True):
            materials = materials.with_encrypted_data_key(
                EncryptedDataKey(
                    provider_id=edk.key_provider_id.encode("utf-8"),
                    provider_info=bytes(edk.key_provider_info),
                    ciphertext=bytes(edk.ciphertext),
                ),
                bytes(mac_key),
            )
        return materials

    def on_decrypt(
        self,
        materials: DbeDecryptionMaterials,
        encrypted_data_keys: Sequence[EncryptedDataKey],
    ) -> DbeDecryptionMaterials:
        """Ask the MPL keyring to open one of the data keys.

        The MPL reports "none of these is mine" as an error; that surfaces as a
        `ProviderError`, which a `MultiKeyring` collects before trying its next keyring.
        """
        if materials.plaintext_data_key is not None:
            raise ProviderError("the decryption materials already hold a data key")
        models = self._models
        # initialize_decryption_materials also decodes the ECDSA verification key the MPL
        # expects from the context's aws-crypto-public-key entry.
        suite_id = models.AlgorithmSuiteIdDBE("0x" + materials.algorithm_suite.suite_id.hex())
        mpl_materials = self._call(
            "initialize_decryption_materials",
            self._mpl.initialize_decryption_materials,
            models.InitializeDecryptionMaterialsInput(
                algorithm_suite_id=suite_id,
                encryption_context=dict(materials.encryption_context),
                required_encryption_context_keys=[],
            ),
        )
        edks = [self._to_mpl_edk(e) for e in encrypted_data_keys]
        out = self._call(
            "on_decrypt",
            lambda: self._keyring.on_decrypt(
                models.OnDecryptInput(materials=mpl_materials, encrypted_data_keys=edks)
            ),
        ).materials
        if out.plaintext_data_key is None:
            return materials
        if out.symmetric_signing_key is None:
            raise ProviderError("the material providers keyring returned no signing key")
        return materials.with_data_key(
            bytes(out.plaintext_data_key), bytes(out.symmetric_signing_key)
        )
