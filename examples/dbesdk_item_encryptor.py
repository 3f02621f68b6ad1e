"""The AWS Database Encryption SDK (DB-ESDK) item format with `DbEsdkItemEncryptor`.

Runs offline (no DynamoDB, no KMS): ``python examples/dbesdk_item_encryptor.py``.
"""

# --8<-- [start:imports]
from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping

from pynamodb_encryption.dbesdk import (
    CryptoAction,
    DbeAlgorithmSuite,
    DbEsdkItemEncryptor,
    DbeSignatureError,
    HierarchicalKeyring,
    RawAesKeyring,
    StaticKeyStore,
)

# --8<-- [end:imports]

# --8<-- [start:setup]
# In an app the wrapping key comes from a secret store, never from source code.
keyring = RawAesKeyring(
    key_namespace="my-app",  # both name the key in every item: a reader needs the same
    key_name="orders-key-2025",
    wrapping_key=secrets.token_bytes(32),
)
encryptor = DbEsdkItemEncryptor(
    table_name="orders",  # the logical table name, bound into every item
    partition_key_name="customer_id",
    sort_key_name="order_id",
    attribute_actions={
        "customer_id": CryptoAction.SIGN_ONLY,  # keys are signed, never encrypted
        "order_id": CryptoAction.SIGN_ONLY,
        "card_number": CryptoAction.ENCRYPT_AND_SIGN,
        "address": CryptoAction.ENCRYPT_AND_SIGN,
        "status": CryptoAction.SIGN_ONLY,  # readable and queryable, tamper-evident
    },
    keyring=keyring,
)
# --8<-- [end:setup]


def main() -> None:
    # --8<-- [start:roundtrip]
    item = {
        "customer_id": "c-42",
        "order_id": 1001,
        "card_number": "4111 1111 1111 1111",
        "address": {"city": "Lyon", "zip": "69001"},
        "status": "paid",
    }
    stored = encryptor.encrypt_python(item)  # what you write to DynamoDB
    assert isinstance(stored["card_number"], bytes)  # type id + AES-256-GCM ciphertext
    assert stored["status"] == "paid"
    assert {"aws_dbe_head", "aws_dbe_foot"} <= set(stored)  # header and footer
    assert encryptor.decrypt_python(stored) == item
    # --8<-- [end:roundtrip]

    # --8<-- [start:tamper]
    try:
        encryptor.decrypt_python(dict(stored, status="refunded"))
    except DbeSignatureError:
        pass  # the footer's HMAC tag and ECDSA signature cover every signed attribute
    else:
        raise AssertionError("a signed attribute was changed without detection")
    # --8<-- [end:tamper]

    # --8<-- [start:header]
    header = encryptor.read_header_python(stored)  # no key needed
    assert (
        header.algorithm_suite
        is DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384
    )
    assert header.version == 1
    assert header.provider_ids == ("my-app",)
    assert header.attribute_actions["card_number"] is CryptoAction.ENCRYPT_AND_SIGN
    # --8<-- [end:header]

    hierarchical()
    context_and_unsigned()


# --8<-- [start:hierarchical]
class TenantBranchKeys:
    """One branch key per tenant: the partition key names the tenant."""

    def get_branch_key_id(self, encryption_context: Mapping[str, str]) -> str:
        # v2 items (some attribute is SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT) carry the
        # partition key's string value as it is.
        return "tenant-" + encryption_context["aws-crypto-attr.tenant"]


def hierarchical() -> None:
    # StaticKeyStore holds plaintext branch material (tests, examples); production code uses
    # KeyStore, AWS's DynamoDB key-store table protected by KMS.
    store = StaticKeyStore(
        branch_key_id="tenant-acme",
        branch_key_version=str(uuid.uuid4()),
        branch_key=secrets.token_bytes(32),
        beacon_key=secrets.token_bytes(32),
    )
    tenants = DbEsdkItemEncryptor(
        table_name="documents",
        partition_key_name="tenant",
        attribute_actions={
            "tenant": CryptoAction.SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT,
            "body": CryptoAction.ENCRYPT_AND_SIGN,
        },
        keyring=HierarchicalKeyring(
            key_store=store,
            branch_key_id_supplier=TenantBranchKeys(),
            ttl_seconds=600,  # branch keys are cached: a warm process asks the store nothing
        ),
    )
    stored = tenants.encrypt_python({"tenant": "acme", "body": "quarterly report"})
    assert tenants.read_header_python(stored).provider_infos == (b"tenant-acme",)
    assert tenants.decrypt_python(stored)["body"] == "quarterly report"
    # --8<-- [end:hierarchical]


def context_and_unsigned() -> None:
    # --8<-- [start:unsigned]
    counters = DbEsdkItemEncryptor(
        table_name="sessions",
        partition_key_name="session_id",
        attribute_actions={
            "session_id": CryptoAction.SIGN_ONLY,
            "token": CryptoAction.ENCRYPT_AND_SIGN,
            "hits": CryptoAction.DO_NOTHING,  # must be outside the signature scope:
        },
        keyring=keyring,
        allowed_unsigned_attributes=["hits"],  # ... listed here
        allowed_unsigned_attribute_prefix="tmp_",  # or named with this prefix
        algorithm_suite=DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384,
    )
    stored = counters.encrypt_python({"session_id": "s-1", "token": "secret", "hits": 1})
    stored["hits"] = 2  # unsigned attributes may change freely
    stored["tmp_trace"] = "abc"  # and new ones with the prefix may appear
    assert counters.decrypt_python(stored)["hits"] == 2
    # --8<-- [end:unsigned]


if __name__ == "__main__":
    main()
    print("ok")
