"""DB-ESDK AWS KMS keyring against moto's KMS, with AWS's material providers as the oracle."""

from __future__ import annotations

import base64
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pynamodb_encryption.errors import ConfigurationError, ProviderError
from pynamodb_encryption.keyrings import AwsKmsKeyring, MplKeyring, MultiKeyring
from pynamodb_encryption.structured import (
    DbeAlgorithmSuite,
    DbeDecryptionMaterials,
    DbeEncryptionMaterials,
)

ECDSA = DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384


def context(suite: DbeAlgorithmSuite = ECDSA) -> dict[str, str]:
    ctx = {
        "aws-crypto-table-name": "orders",
        "aws-crypto-partition-name": "pk",
        "aws-crypto-attr.pk": "AAFvcmRlci0x",
    }
    if suite.signs_with_ecdsa:
        point = (
            ec.generate_private_key(ec.SECP384R1())
            .public_key()
            .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
        )
        ctx["aws-crypto-public-key"] = base64.b64encode(point).decode()
    return ctx


class Requests:
    """The KMS requests a client really makes (operation name and parameters)."""

    def __init__(self, client: Any) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._client = client
        client.meta.events.register("before-parameter-build.kms.*", self._record)

    def _record(self, model: Any, params: Any, **_: Any) -> None:
        with self._lock:
            self.calls.append((model.name, dict(params)))

    def names(self) -> Counter[str]:
        return Counter(name for name, _ in self.calls)

    def close(self) -> None:
        self._client.meta.events.unregister("before-parameter-build.kms.*", self._record)


@pytest.fixture
def requests(kms_client: Any) -> Iterator[Requests]:
    recorder = Requests(kms_client)
    yield recorder
    recorder.close()


@pytest.mark.parametrize("suite", list(DbeAlgorithmSuite), ids=lambda s: s.name[-20:])
def test_round_trip_sends_key_id_and_context(
    kms_client: Any, kms_key_arn: str, requests: Requests, suite: DbeAlgorithmSuite
) -> None:
    keyring = AwsKmsKeyring(kms_key_id=kms_key_arn, kms_client=kms_client, grant_tokens=["gt"])
    ctx = context(suite)
    enc = keyring.on_encrypt(DbeEncryptionMaterials(algorithm_suite=suite, encryption_context=ctx))
    (edk,) = enc.encrypted_data_keys
    assert edk.provider_id == b"aws-kms"
    assert edk.provider_info == kms_key_arn.encode()
    assert len(enc.symmetric_signing_keys) == 1
    dec = keyring.on_decrypt(
        DbeDecryptionMaterials(algorithm_suite=suite, encryption_context=ctx), [edk]
    )
    assert dec.plaintext_data_key == enc.plaintext_data_key
    assert dec.symmetric_signing_key == enc.symmetric_signing_keys[0]
    assert requests.names() == Counter({"GenerateDataKey": 1, "Decrypt": 1})
    (_, generate), (_, decrypt) = requests.calls
    assert generate["NumberOfBytes"] == 32
    assert generate["EncryptionContext"] == ctx
    assert generate["GrantTokens"] == ["gt"]
    assert decrypt["KeyId"] == kms_key_arn
    assert decrypt["EncryptionContext"] == ctx
    assert decrypt["CiphertextBlob"] == edk.ciphertext[48:]


def test_refusals(kms_client: Any, kms_key_arn: str, kms_key_id: str) -> None:
    keyring = AwsKmsKeyring(kms_key_id=kms_key_arn, kms_client=kms_client)
    ctx = context()
    enc = keyring.on_encrypt(DbeEncryptionMaterials(algorithm_suite=ECDSA, encryption_context=ctx))
    (edk,) = enc.encrypted_data_keys
    fresh = DbeDecryptionMaterials(algorithm_suite=ECDSA, encryption_context=ctx)
    # Another item's context: KMS refuses, which the spec makes an error.
    moved = DbeDecryptionMaterials(
        algorithm_suite=ECDSA, encryption_context={**ctx, "aws-crypto-attr.pk": "AAF4"}
    )
    with pytest.raises(ProviderError, match="InvalidCiphertext"):
        keyring.on_decrypt(moved, [edk])
    # Tampered wrapped data key: KMS opens the intermediate key, the data key does not verify.
    flipped = bytearray(edk.ciphertext)
    flipped[3] ^= 1
    with pytest.raises(ProviderError, match="does not match"):
        keyring.on_decrypt(fresh, [replace(edk, ciphertext=bytes(flipped))])
    # Another key's data key is not ours: not sent to KMS, materials unchanged.
    other_arn = kms_client.describe_key(KeyId=kms_client.create_key()["KeyMetadata"]["KeyId"])[
        "KeyMetadata"
    ]["Arn"]
    other = AwsKmsKeyring(kms_key_id=other_arn, kms_client=kms_client)
    assert other.on_decrypt(fresh, [edk]) is fresh
    # The same key named by its bare id never matches a stored ARN (spec: exact match).
    by_id = AwsKmsKeyring(kms_key_id=kms_key_id, kms_client=kms_client)
    assert by_id.on_decrypt(fresh, [edk]) is fresh
    # A provider info that is not a key ARN is malformed: an error, as the spec says.
    with pytest.raises(ProviderError, match="does not name a KMS key ARN"):
        keyring.on_decrypt(fresh, [replace(edk, provider_info=b"alias/app")])
    # One good data key after a broken one still opens.
    broken = replace(edk, ciphertext=edk.ciphertext[:50])
    dec = keyring.on_decrypt(fresh, [broken, edk])
    assert dec.plaintext_data_key == enc.plaintext_data_key


def test_answer_for_another_key_and_wrong_length_are_refused(kms_key_arn: str) -> None:
    class FakeKms:
        def __init__(self, key_id: str, plaintext: bytes) -> None:
            self.key_id, self.plaintext = key_id, plaintext

        def generate_data_key(self, **kwargs: Any) -> dict[str, Any]:
            return {"KeyId": self.key_id, "Plaintext": self.plaintext, "CiphertextBlob": b"c"}

        def decrypt(self, **kwargs: Any) -> dict[str, Any]:
            return {"KeyId": self.key_id, "Plaintext": self.plaintext}

    good = AwsKmsKeyring(kms_key_id=kms_key_arn, kms_client=FakeKms(kms_key_arn, b"k" * 32))
    ctx = context()
    enc = good.on_encrypt(DbeEncryptionMaterials(algorithm_suite=ECDSA, encryption_context=ctx))
    fresh = DbeDecryptionMaterials(algorithm_suite=ECDSA, encryption_context=ctx)
    assert good.on_decrypt(fresh, enc.encrypted_data_keys).plaintext_data_key is not None
    elsewhere = kms_key_arn.replace("us-east-1", "eu-west-1")
    liar = AwsKmsKeyring(kms_key_id=kms_key_arn, kms_client=FakeKms(elsewhere, b"k" * 32))
    with pytest.raises(ProviderError, match="another key"):
        liar.on_decrypt(fresh, enc.encrypted_data_keys)
    short = AwsKmsKeyring(kms_key_id=kms_key_arn, kms_client=FakeKms(kms_key_arn, b"k" * 16))
    with pytest.raises(ProviderError, match="wrong length"):
        short.on_decrypt(fresh, enc.encrypted_data_keys)
    with pytest.raises(ProviderError, match="wrong length"):
        short.on_encrypt(DbeEncryptionMaterials(algorithm_suite=ECDSA, encryption_context=ctx))
    not_arn = AwsKmsKeyring(kms_key_id=kms_key_arn, kms_client=FakeKms("alias/x", b"k" * 32))
    with pytest.raises(ProviderError, match="valid key ARN"):
        not_arn.on_encrypt(DbeEncryptionMaterials(algorithm_suite=ECDSA, encryption_context=ctx))


def test_configuration_errors(kms_client: Any) -> None:
    for bad in ("", "arn:aws:s3:::bucket", "arn:aws:kms:us-east-1:1:thing/x", "a/b"):
        with pytest.raises(ConfigurationError, match="kms_key_id"):
            AwsKmsKeyring(kms_key_id=bad, kms_client=kms_client)
    with pytest.raises(ConfigurationError, match="grant_tokens"):
        AwsKmsKeyring(kms_key_id="alias/app", kms_client=kms_client, grant_tokens="gt")
    assert "alias/app" in repr(AwsKmsKeyring(kms_key_id="alias/app", kms_client=kms_client))


def _aws_kms_keyring(kms_client: Any, arn: str) -> Any:
    from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
    from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
    from aws_cryptographic_material_providers.mpl.models import CreateAwsKmsKeyringInput

    mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
    return mpl.create_aws_kms_keyring(
        CreateAwsKmsKeyringInput(kms_key_id=arn, kms_client=kms_client)
    )


@pytest.mark.parametrize("suite", list(DbeAlgorithmSuite), ids=lambda s: s.name[-20:])
def test_aws_material_providers_opens_ours_and_we_open_theirs(
    kms_client: Any, kms_key_arn: str, suite: DbeAlgorithmSuite
) -> None:
    ours = AwsKmsKeyring(kms_key_id=kms_key_arn, kms_client=kms_client)
    theirs = MplKeyring(_aws_kms_keyring(kms_client, kms_key_arn))
    ctx = context(suite)
    for writer, reader in ((ours, theirs), (theirs, ours)):
        enc = writer.on_encrypt(
            DbeEncryptionMaterials(algorithm_suite=suite, encryption_context=ctx)
        )
        (edk,) = enc.encrypted_data_keys
        assert edk.provider_id == b"aws-kms"
        assert edk.provider_info == kms_key_arn.encode()
        dec = reader.on_decrypt(
            DbeDecryptionMaterials(algorithm_suite=suite, encryption_context=ctx), [edk]
        )
        assert dec.plaintext_data_key == enc.plaintext_data_key
        assert dec.symmetric_signing_key == enc.symmetric_signing_keys[0]


def test_multi_keyring_of_kms_and_an_mpl_keyring(kms_client: Any, kms_key_arn: str) -> None:
    """A child keyring adds a copy of the KMS-generated key; either alone opens the item."""
    second_arn = kms_client.describe_key(KeyId=kms_client.create_key()["KeyMetadata"]["KeyId"])[
        "KeyMetadata"
    ]["Arn"]
    first = AwsKmsKeyring(kms_key_id=kms_key_arn, kms_client=kms_client)
    second = MplKeyring(_aws_kms_keyring(kms_client, second_arn))
    multi = MultiKeyring(generator=first, children=[second])
    ctx = context()
    enc = multi.on_encrypt(DbeEncryptionMaterials(algorithm_suite=ECDSA, encryption_context=ctx))
    assert [e.provider_info for e in enc.encrypted_data_keys] == [
        kms_key_arn.encode(),
        second_arn.encode(),
    ]
    fresh = DbeDecryptionMaterials(algorithm_suite=ECDSA, encryption_context=ctx)
    for index, alone in enumerate((first, second)):
        dec = alone.on_decrypt(fresh, enc.encrypted_data_keys)
        assert dec.plaintext_data_key == enc.plaintext_data_key
        assert dec.symmetric_signing_key == enc.symmetric_signing_keys[index]
    # The MPL keyring of an unrelated key cannot open it: it reports that as an error, which
    # the multi-keyring collects while the next keyring succeeds.
    third_arn = kms_client.describe_key(KeyId=kms_client.create_key()["KeyMetadata"]["KeyId"])[
        "KeyMetadata"
    ]["Arn"]
    reader = MultiKeyring(children=[MplKeyring(_aws_kms_keyring(kms_client, third_arn)), first])
    assert reader.on_decrypt(fresh, enc.encrypted_data_keys).plaintext_data_key == (
        enc.plaintext_data_key
    )
