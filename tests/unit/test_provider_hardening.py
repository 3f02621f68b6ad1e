"""Hardening of the providers (issue 9): KMS data key length, the reference's keyword names."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from pynamodb_encryption import (
    AwsKmsMaterialsProvider,
    ConfigurationError,
    EncryptionContext,
    MetaStore,
    MostRecentProvider,
    ProviderError,
    SymmetricKey,
    WrappedMaterialsProvider,
)

KEY_ARN = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
MD = {
    "amzn-ddb-env-key": base64.b64encode(b"blob").decode(),
    "amzn-ddb-env-alg": "AES/256",
    "amzn-ddb-sig-alg": "HmacSHA256/256",
}


def _context(**kw: Any) -> EncryptionContext:
    return EncryptionContext(
        table_name="Orders", partition_key_name="pk", attributes={"pk": {"S": "p"}}, **kw
    )


class ShortKeyKms:
    """A KMS endpoint that answers with a data key of the wrong length (or type)."""

    def __init__(self, plaintext: Any) -> None:
        self.plaintext = plaintext

    def generate_data_key(self, **_: Any) -> Any:
        return {"Plaintext": self.plaintext, "CiphertextBlob": b"blob"}

    def decrypt(self, **_: Any) -> Any:
        return {"Plaintext": self.plaintext}


# --------------------------------------------------------------------------------------------
# 12: the KMS data key must be the 32 bytes asked for


@pytest.mark.parametrize("plaintext", [b"\x07", b"", bytes(31), bytes(33), bytes(64)])
def test_kms_data_key_of_the_wrong_length_is_refused(plaintext: bytes) -> None:
    provider = AwsKmsMaterialsProvider(key_id=KEY_ARN, kms_client=ShortKeyKms(plaintext))  # type: ignore[arg-type]
    with pytest.raises(ProviderError) as info:
        provider.encryption_materials(_context())
    assert f"{len(plaintext)} bytes" in str(info.value)
    with pytest.raises(ProviderError):
        provider.decryption_materials(_context(material_description=MD))


@pytest.mark.parametrize("plaintext", [None, "x" * 32, 32])
def test_kms_data_key_that_is_not_bytes_is_refused(plaintext: Any) -> None:
    provider = AwsKmsMaterialsProvider(key_id=KEY_ARN, kms_client=ShortKeyKms(plaintext))  # type: ignore[arg-type]
    with pytest.raises(ProviderError):
        provider.encryption_materials(_context())
    with pytest.raises(ProviderError):
        provider.decryption_materials(_context(material_description=MD))


def test_kms_data_key_of_32_bytes_is_accepted() -> None:
    provider = AwsKmsMaterialsProvider(key_id=KEY_ARN, kms_client=ShortKeyKms(bytes(32)))  # type: ignore[arg-type]
    assert provider.encryption_materials(_context()).encryption_key is not None
    assert provider.decryption_materials(_context(material_description=MD)).decryption_key


# --------------------------------------------------------------------------------------------
# 13: the reference's spellings say what to write instead


def _wrapped() -> WrappedMaterialsProvider:
    return WrappedMaterialsProvider(
        wrapping_key=SymmetricKey(bytes(32), "AES"),
        signing_key=SymmetricKey(bytes(32), "HmacSHA256"),
    )


def _store() -> MetaStore:
    return MetaStore(table_name="meta", materials_provider=_wrapped(), dynamodb_client=object())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "ours"),
    [
        (lambda: MetaStore(table=object(), materials_provider=_wrapped()), "table_name="),  # type: ignore[call-arg]
        (lambda: MetaStore(object(), _wrapped()), "table_name="),  # type: ignore[misc]
        (lambda: MetaStore(table_name="m", encryptor=_wrapped()), "materials_provider="),  # type: ignore[call-arg]
        (
            lambda: MostRecentProvider(provider_store=_store(), material_name="m", version_ttl=1.0),  # type: ignore[call-arg]
            "meta_store=",
        ),
        (
            lambda: MostRecentProvider(meta_store=_store(), material_name="m", version_ttl=1.0),  # type: ignore[call-arg]
            "ttl_seconds=",
        ),
        (lambda: MostRecentProvider(_store(), "m", 60.0), "meta_store="),  # type: ignore[misc]
        (
            lambda: MostRecentProvider(
                meta_store=_store(),
                material_name="m",
                ttl_seconds=1.0,
                maxCacheSize=3,  # type: ignore[call-arg]
            ),
            "cache_size=",
        ),
        (lambda: MetaStore.create_table(object(), "t", 5, 5), "read_capacity="),  # type: ignore[misc,arg-type]
        (
            lambda: MetaStore.create_table(object(), "t", read_units=5, write_units=5),  # type: ignore[call-arg,arg-type]
            "read_capacity=",
        ),
    ],
)
def test_reference_spellings_name_ours(call: Any, ours: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        call()
    assert ours in str(info.value)


def test_our_spellings_still_work() -> None:
    store = _store()
    provider = MostRecentProvider(meta_store=store, material_name="m", ttl_seconds=1.0)
    assert provider.material_name == "m"
    assert store.table_name == "meta"
