"""Materials providers: where the keys come from.

Runs offline: ``python examples/providers.py`` (the KMS part uses the embedded moto server
from the ``demo`` extra, so no AWS account is needed).
"""

# --8<-- [start:imports]
from __future__ import annotations

from typing import Any

from pynamodb_encryption import (
    AttributeActions,
    AwsKmsMaterialsProvider,
    CryptoAction,
    ItemEncryptor,
    MaterialsProvider,
    RsaPrivateKey,
    StaticMaterialsProvider,
    SymmetricKey,
    WrappedMaterialsProvider,
)

# --8<-- [end:imports]


def static_provider() -> StaticMaterialsProvider:
    # --8<-- [start:static]
    provider = StaticMaterialsProvider(
        encryption_key=SymmetricKey.generate("AES", 256),  # encrypts every item
        signing_key=SymmetricKey.generate("HmacSHA256", 256),  # signs every item
    )
    # --8<-- [end:static]
    return provider  # noqa: RET504 - the assignment is what the docs quote


def wrapped_providers() -> tuple[WrappedMaterialsProvider, WrappedMaterialsProvider]:
    # --8<-- [start:wrapped]
    # A fresh AES-256 content key per item, wrapped (AESWrap) by a long-lived key.
    symmetric = WrappedMaterialsProvider(
        wrapping_key=SymmetricKey.generate("AES", 256),
        signing_key=SymmetricKey.generate("HmacSHA256", 256),
    )
    # Or RSA: content keys wrapped with RSA-OAEP under the public key (only the private
    # key unwraps them), items signed with SHA256withRSA.
    wrapping = RsaPrivateKey.generate("RSA", 3072)
    signing = RsaPrivateKey.generate("SHA256withRSA", 3072)
    asymmetric = WrappedMaterialsProvider(
        wrapping_key=wrapping.public_key(),
        unwrapping_key=wrapping,
        signing_key=signing,  # verification uses its public half
    )
    # --8<-- [end:wrapped]
    return symmetric, asymmetric


# --8<-- [start:kms]
def kms_provider_for(key_id: str, kms: Any = None) -> AwsKmsMaterialsProvider:
    return AwsKmsMaterialsProvider(
        key_id=key_id,  # a key id, ARN or alias: KMS makes one data key per item
        kms_client=kms,  # optional; by default a client for the key's region
    )


# --8<-- [end:kms]


def kms_provider(endpoint_url: str) -> MaterialsProvider:
    import boto3

    kms: Any = boto3.client(
        "kms",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    key_id = kms.create_key(Description="example")["KeyMetadata"]["KeyId"]
    return kms_provider_for(key_id, kms)


def round_trip(provider: MaterialsProvider) -> None:
    encryptor = ItemEncryptor(
        table_name="orders",
        partition_key_name="order_id",
        attribute_actions=AttributeActions(
            CryptoAction.ENCRYPT_AND_SIGN, {"order_id": CryptoAction.SIGN_ONLY}
        ),
        materials_provider=provider,
    )
    item = {"order_id": "o-1", "card": "4111 1111 1111 1111"}
    stored = encryptor.encrypt_python(item)
    assert stored["card"] != item["card"]
    assert encryptor.decrypt_python(stored) == item


def main(kms_endpoint_url: str | None = None) -> None:
    """Round-trip an item through each provider; KMS at ``kms_endpoint_url`` or embedded."""
    round_trip(static_provider())
    for provider in wrapped_providers():
        round_trip(provider)
    if kms_endpoint_url is not None:
        round_trip(kms_provider(kms_endpoint_url))
    else:
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as endpoint_url:
            round_trip(kms_provider(endpoint_url))
    print("providers: ok")


if __name__ == "__main__":
    main()
