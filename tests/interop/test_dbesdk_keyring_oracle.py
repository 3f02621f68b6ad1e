"""AWS's material providers (``aws-cryptographic-material-providers``) as the oracle for our
raw RSA EDKs, and the `MplKeyring` adapter run against real MPL keyrings.

KMS keyring and key store oracles need moto: tests/functional/test_dbesdk_kms_keyring.py and
tests/functional/test_dbesdk_key_store.py.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from aws_cryptographic_material_providers.mpl import models as mpl_models
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption.errors import ConfigurationError, ProviderError
from pynamodb_encryption.keyrings import MplKeyring, MultiKeyring, RawRsaKeyring, RsaPadding
from pynamodb_encryption.structured import (
    DbeAlgorithmSuite,
    DbeDecryptionMaterials,
    DbeEncryptionMaterials,
)

pytestmark = pytest.mark.interop


ECDSA = DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384
MPL_PADDING = {
    RsaPadding.PKCS1: "PKCS1",
    RsaPadding.OAEP_SHA1: "OAEP_SHA1_MGF1",
    RsaPadding.OAEP_SHA256: "OAEP_SHA256_MGF1",
    RsaPadding.OAEP_SHA384: "OAEP_SHA384_MGF1",
    RsaPadding.OAEP_SHA512: "OAEP_SHA512_MGF1",
}


@pytest.fixture(scope="module")
def mpl() -> Any:
    from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
    from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig

    return AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())


@pytest.fixture(scope="module")
def pem() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return public, private


def context(suite: DbeAlgorithmSuite, **extra: str) -> dict[str, str]:
    ctx = {"aws-crypto-table-name": "orders", "aws-crypto-partition-name": "pk", **extra}
    if suite.signs_with_ecdsa:
        point = (
            ec.generate_private_key(ec.SECP384R1())
            .public_key()
            .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
        )
        ctx["aws-crypto-public-key"] = base64.b64encode(point).decode()
    return ctx


def mpl_rsa(mpl: Any, pem: tuple[bytes, bytes], padding: RsaPadding) -> Any:
    return mpl.create_raw_rsa_keyring(
        mpl_models.CreateRawRsaKeyringInput(
            key_namespace="app-keys",
            key_name="rsa-1",
            padding_scheme=MPL_PADDING[padding],
            public_key=pem[0],
            private_key=pem[1],
        )
    )


def ours_rsa(pem: tuple[bytes, bytes], padding: RsaPadding) -> RawRsaKeyring:
    return RawRsaKeyring(
        key_namespace="app-keys",
        key_name="rsa-1",
        public_key=pem[0],
        private_key=pem[1],
        padding=padding,
    )


def round_trip(writer: Any, reader: Any, suite: DbeAlgorithmSuite, ctx: dict[str, str]) -> None:
    enc = writer.on_encrypt(DbeEncryptionMaterials(algorithm_suite=suite, encryption_context=ctx))
    dec = reader.on_decrypt(
        DbeDecryptionMaterials(algorithm_suite=suite, encryption_context=ctx),
        enc.encrypted_data_keys,
    )
    assert dec.plaintext_data_key == enc.plaintext_data_key
    assert dec.symmetric_signing_key == enc.symmetric_signing_keys[-1]


@pytest.mark.parametrize("suite", list(DbeAlgorithmSuite), ids=lambda s: s.name[-20:])
@pytest.mark.parametrize("padding", list(RsaPadding), ids=lambda p: p.name)
def test_rsa_edks_open_both_ways(
    mpl: Any, pem: tuple[bytes, bytes], padding: RsaPadding, suite: DbeAlgorithmSuite
) -> None:
    theirs = MplKeyring(mpl_rsa(mpl, pem, padding))
    ours = ours_rsa(pem, padding)
    ctx = context(suite)
    # PKCS #1 v1.5 is read-only for us: only the MPL writes it.
    if padding is not RsaPadding.PKCS1:
        round_trip(ours, theirs, suite, ctx)
    round_trip(theirs, ours, suite, ctx)


@pytest.fixture(scope="module")
def mpl_oaep256(mpl: Any, pem: tuple[bytes, bytes]) -> MplKeyring:
    return MplKeyring(mpl_rsa(mpl, pem, RsaPadding.OAEP_SHA256))


@settings(max_examples=8)
@given(
    extra=st.dictionaries(
        st.text(min_size=1, max_size=10).filter(lambda k: not k.startswith("aws-crypto-")),
        st.text(max_size=16),
        max_size=3,
    )
)
def test_rsa_any_context_opens_in_the_mpl(
    mpl_oaep256: MplKeyring, pem: tuple[bytes, bytes], extra: dict[str, str]
) -> None:
    ctx = context(ECDSA, **extra)
    ours = ours_rsa(pem, RsaPadding.OAEP_SHA256)
    round_trip(ours, mpl_oaep256, ECDSA, ctx)
    round_trip(mpl_oaep256, ours, ECDSA, ctx)


def test_adapter_runs_an_mpl_raw_aes_keyring(mpl: Any) -> None:
    keyring = mpl.create_raw_aes_keyring(
        mpl_models.CreateRawAesKeyringInput(
            key_namespace="ns",
            key_name="aes",
            wrapping_key=bytes(range(32)),
            wrapping_alg=mpl_models.AesWrappingAlg.ALG_AES256_GCM_IV12_TAG16,
        )
    )
    adapter = MplKeyring(keyring)
    assert "MplKeyring" in repr(adapter)
    for suite in DbeAlgorithmSuite:
        ctx = context(suite)
        enc = adapter.on_encrypt(
            DbeEncryptionMaterials(algorithm_suite=suite, encryption_context=ctx)
        )
        (edk,) = enc.encrypted_data_keys
        assert (edk.provider_id, len(edk.ciphertext)) == (b"ns", 96)
        round_trip(adapter, adapter, suite, ctx)
        # Another item: the MPL says it cannot decrypt; that surfaces as a ProviderError.
        other = DbeDecryptionMaterials(
            algorithm_suite=suite, encryption_context={**ctx, "aws-crypto-table-name": "x"}
        )
        with pytest.raises(ProviderError, match="on_decrypt"):
            adapter.on_decrypt(other, enc.encrypted_data_keys)


def test_adapter_adds_a_copy_to_existing_materials_and_joins_a_multi_keyring(
    mpl: Any, pem: tuple[bytes, bytes]
) -> None:
    ours = ours_rsa(pem, RsaPadding.OAEP_SHA512)
    theirs = MplKeyring(mpl_rsa(mpl, pem, RsaPadding.OAEP_SHA1))
    ctx = context(ECDSA)
    multi = MultiKeyring(generator=ours, children=[theirs])
    enc = multi.on_encrypt(DbeEncryptionMaterials(algorithm_suite=ECDSA, encryption_context=ctx))
    assert len(enc.encrypted_data_keys) == 2
    assert len(enc.symmetric_signing_keys) == 2
    fresh = DbeDecryptionMaterials(algorithm_suite=ECDSA, encryption_context=ctx)
    dec = theirs.on_decrypt(fresh, enc.encrypted_data_keys[1:])
    assert dec.plaintext_data_key == enc.plaintext_data_key
    assert dec.symmetric_signing_key == enc.symmetric_signing_keys[1]
    # The first EDK (OAEP-SHA512) is not the MPL keyring's padding: it fails on it alone,
    # and the multi-keyring still opens with the next keyring.
    with pytest.raises(ProviderError):
        theirs.on_decrypt(fresh, enc.encrypted_data_keys[:1])
    reader = MultiKeyring(children=[theirs, ours])
    assert reader.on_decrypt(fresh, enc.encrypted_data_keys[:1]).plaintext_data_key == (
        enc.plaintext_data_key
    )


def test_adapter_refuses_what_is_not_an_mpl_keyring_and_bad_answers(mpl: Any) -> None:
    with pytest.raises(ConfigurationError, match="on_encrypt and on_decrypt"):
        MplKeyring(object())

    class Forgetful:
        """Answers on_encrypt without adding an EDK: the adapter must notice."""

        def on_encrypt(self, input: Any) -> Any:
            return mpl_models.OnEncryptOutput(materials=input.materials)

        def on_decrypt(self, input: Any) -> Any:
            return mpl_models.OnDecryptOutput(materials=input.materials)

    adapter = MplKeyring(Forgetful())
    ctx = context(ECDSA)
    with pytest.raises(ProviderError, match="invalid materials"):
        adapter.on_encrypt(DbeEncryptionMaterials(algorithm_suite=ECDSA, encryption_context=ctx))
    fresh = DbeDecryptionMaterials(algorithm_suite=ECDSA, encryption_context=ctx)
    assert adapter.on_decrypt(fresh, []) is fresh


def test_adapter_without_the_mpl_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    for name in list(sys.modules):
        if name.startswith("aws_cryptographic_material_providers"):
            monkeypatch.setitem(sys.modules, name, None)  # import now raises ImportError

    class AnyKeyring:
        def on_encrypt(self, input: Any) -> Any: ...

        def on_decrypt(self, input: Any) -> Any: ...

    with pytest.raises(ConfigurationError, match=r"pynamodb-encryption\[mpl\]"):
        MplKeyring(AnyKeyring())


def test_library_import_does_not_load_the_mpl() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pynamodb_encryption, pynamodb_encryption.keyrings; "
        "print(any(m.startswith('aws_cryptographic_material_providers') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
