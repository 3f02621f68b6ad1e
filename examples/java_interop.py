"""Reading and writing the same items as the Java DynamoDB Encryption Client.

Runs offline: ``python examples/java_interop.py``.
"""

# --8<-- [start:imports]
from __future__ import annotations

from pynamodb_encryption import (
    AttributeActions,
    CryptoAction,
    ItemEncryptor,
    SymmetricKey,
    WrappedMaterialsProvider,
)

# --8<-- [end:imports]


def main() -> None:
    # --8<-- [start:mapper-actions]
    # The Java DynamoDBMapper with AttributeEncryptor:
    #   hash/range keys and @DynamoDBVersionAttribute -> SIGN only
    #   @DoNotEncrypt -> SIGN only; @DoNotTouch -> nothing; every other field -> ENCRYPT + SIGN
    java_mapper_equivalent = AttributeActions(
        default_action=CryptoAction.ENCRYPT_AND_SIGN,
        attribute_actions={
            "customer_id": CryptoAction.SIGN_ONLY,  # @DynamoDBHashKey
            "order_date": CryptoAction.SIGN_ONLY,  # @DynamoDBRangeKey
            "version": CryptoAction.SIGN_ONLY,  # @DynamoDBVersionAttribute
            "status": CryptoAction.SIGN_ONLY,  # @DoNotEncrypt
            "ttl": CryptoAction.DO_NOTHING,  # @DoNotTouch
        },
    )
    # --8<-- [end:mapper-actions]

    # --8<-- [start:shared-keys]
    # The same raw keys as the Java side's WrappedMaterialProvider(wrappingKey, unwrappingKey,
    # signingKey): an AES key-encryption key and an HmacSHA256 key, loaded from your secret
    # store (here generated for the example).
    wrapping_key = SymmetricKey(SymmetricKey.generate("AES", 256).export_material(), "AES")
    signing_key = SymmetricKey(
        SymmetricKey.generate("HmacSHA256", 256).export_material(), "HmacSHA256"
    )
    provider = WrappedMaterialsProvider(wrapping_key=wrapping_key, signing_key=signing_key)
    encryptor = ItemEncryptor(
        table_name="Orders",  # the *physical* table name: Java signs it too
        partition_key_name="customer_id",
        sort_key_name="order_date",
        attribute_actions=java_mapper_equivalent,
        materials_provider=provider,
    )
    # --8<-- [end:shared-keys]

    item = {
        "customer_id": "c-1",
        "order_date": 20260101,
        "version": 3,
        "status": "SHIPPED",
        "ttl": 1_900_000_000,
        "address": "1 Main St",
    }
    stored = encryptor.encrypt_python(item)
    assert isinstance(stored["address"], bytes)
    assert stored["status"] == "SHIPPED"
    assert encryptor.decrypt_python(stored) == item
    print("java_interop: ok")


if __name__ == "__main__":
    main()
