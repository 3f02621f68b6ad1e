"""AWS's material providers (PyPI ``aws-cryptographic-material-providers``, test-only) as the
oracle for the raw AES keyring: each side opens the other's encrypted data keys and gets the
same data key and the same footer HMAC key, for both DB-ESDK suites and several key sizes.
"""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

mpl_client = pytest.importorskip("aws_cryptographic_material_providers.mpl")
mpl_config = pytest.importorskip("aws_cryptographic_material_providers.mpl.config")
mpl_models = pytest.importorskip("aws_cryptographic_material_providers.mpl.models")

from pynamodb_encryption.dbesdk import (  # noqa: E402
    DbeAlgorithmSuite,
    DbeDecryptionMaterials,
    DbeEncryptionMaterials,
    EncryptedDataKey,
    RawAesKeyring,
)

_ALGS = {
    16: "ALG_AES128_GCM_IV12_TAG16",
    24: "ALG_AES192_GCM_IV12_TAG16",
    32: "ALG_AES256_GCM_IV12_TAG16",
}
# A context shaped like DB-ESDK's, with non-ASCII to exercise the serialization order.
CONTEXT = {
    "aws-crypto-table-name": "Tàble",
    "aws-crypto-partition-name": "pk",
    "aws-crypto-attr.pk": "AAFh",
    "aws-crypto-public-key": "A8n4ItdTBgiyUIaCLKrj3wUWy98fi0Np0rEOZi0YEv4yL/fCtKmul3ihqiR60YSO8w==",
    "zé": "𐀁",
}


@pytest.fixture(scope="module")
def mpl() -> object:
    return mpl_client.AwsCryptographicMaterialProviders(mpl_config.MaterialProvidersConfig())


def _suite_id(suite: DbeAlgorithmSuite) -> object:
    return mpl_models.AlgorithmSuiteIdDBE(getattr(mpl_models.DBEAlgorithmSuiteId, suite.name))


def _their_keyring(mpl: object, key: bytes, name: str) -> object:
    return mpl.create_raw_aes_keyring(  # type: ignore[attr-defined]
        mpl_models.CreateRawAesKeyringInput(
            key_namespace="ns-ü",
            key_name=name,
            wrapping_key=key,
            wrapping_alg=getattr(mpl_models.AesWrappingAlg, _ALGS[len(key)]),
        )
    )


def _context(suite: DbeAlgorithmSuite) -> dict[str, str]:
    if suite.signs_with_ecdsa:
        return dict(CONTEXT)
    return {k: v for k, v in CONTEXT.items() if k != "aws-crypto-public-key"}


@pytest.mark.parametrize("suite", list(DbeAlgorithmSuite), ids=lambda s: s.name[-30:])
@pytest.mark.parametrize("key_size", [16, 24, 32])
def test_they_open_our_edks(mpl: object, suite: DbeAlgorithmSuite, key_size: int) -> None:
    key = os.urandom(key_size)
    context = _context(suite)
    ours = RawAesKeyring(key_namespace="ns-ü", key_name="kéy", wrapping_key=key)
    materials = ours.on_encrypt(
        DbeEncryptionMaterials(algorithm_suite=suite, encryption_context=context)
    )
    (edk,) = materials.encrypted_data_keys
    assert len(edk.ciphertext) == 96
    request = mpl.initialize_decryption_materials(  # type: ignore[attr-defined]
        mpl_models.InitializeDecryptionMaterialsInput(
            algorithm_suite_id=_suite_id(suite),
            encryption_context=context,
            required_encryption_context_keys=[],
        )
    )
    result = (
        _their_keyring(mpl, key, "kéy")
        .on_decrypt(
            mpl_models.OnDecryptInput(
                materials=request,
                encrypted_data_keys=[
                    mpl_models.EncryptedDataKey(
                        key_provider_id=edk.provider_id.decode("utf-8"),
                        key_provider_info=edk.provider_info,
                        ciphertext=edk.ciphertext,
                    )
                ],
            )
        )
        .materials
    )
    assert result.plaintext_data_key == materials.plaintext_data_key
    assert result.symmetric_signing_key == materials.symmetric_signing_keys[0]


@pytest.mark.parametrize("suite", list(DbeAlgorithmSuite), ids=lambda s: s.name[-30:])
def test_we_open_their_edks(mpl: object, suite: DbeAlgorithmSuite) -> None:
    key = os.urandom(32)
    # They add the verification key to the context themselves (and refuse one given).
    context = _context(DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384)
    signing: dict[str, bytes] = {}
    if suite.signs_with_ecdsa:
        private = ec.generate_private_key(ec.SECP384R1())
        signing = {
            "signing_key": private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()),
            "verification_key": private.public_key().public_bytes(
                Encoding.X962, PublicFormat.CompressedPoint
            ),
        }
    request = mpl.initialize_encryption_materials(  # type: ignore[attr-defined]
        mpl_models.InitializeEncryptionMaterialsInput(
            algorithm_suite_id=_suite_id(suite),
            encryption_context=context,
            required_encryption_context_keys=[],
            **signing,
        )
    )
    context = dict(request.encryption_context)
    if suite.signs_with_ecdsa:
        assert base64.b64decode(context["aws-crypto-public-key"]) == signing["verification_key"]
    theirs = (
        _their_keyring(mpl, key, "k1")
        .on_encrypt(mpl_models.OnEncryptInput(materials=request))
        .materials
    )
    edks = [
        EncryptedDataKey(
            provider_id=e.key_provider_id.encode("utf-8"),
            provider_info=e.key_provider_info,
            ciphertext=e.ciphertext,
        )
        for e in theirs.encrypted_data_keys
    ]
    ours = RawAesKeyring(key_namespace="ns-ü", key_name="k1", wrapping_key=key)
    got = ours.on_decrypt(
        DbeDecryptionMaterials(algorithm_suite=suite, encryption_context=context), edks
    )
    assert got.plaintext_data_key == theirs.plaintext_data_key
    assert got.symmetric_signing_key == theirs.symmetric_signing_keys[0]
    # A changed encryption context is refused (the context is the AAD of both wraps).
    other = dict(context, extra="x")
    refused = ours.on_decrypt(
        DbeDecryptionMaterials(algorithm_suite=suite, encryption_context=other), edks
    )
    assert refused.plaintext_data_key is None
