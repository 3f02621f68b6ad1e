"""The static provider on a model: the same AES and HMAC keys for every item.

Good for tests and for small apps whose keys live in a secret store. Runs offline:
``python examples/provider_static.py`` starts the embedded moto server (the ``demo`` extra);
``main(endpoint_url)`` uses a server you already run (DynamoDB Local, or AWS with no endpoint).
"""

# --8<-- [start:imports]
from __future__ import annotations

import secrets
import sys

import boto3
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from pynamodb_encryption import SIGNATURE_ATTRIBUTE, StaticMaterialsProvider, SymmetricKey
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

# --8<-- [end:imports]

# --8<-- [start:provider]
# In an app these bytes come from your settings / secret store, never from source code.
AES_KEY = secrets.token_bytes(32)
HMAC_KEY = secrets.token_bytes(32)


def static_provider() -> StaticMaterialsProvider:
    return StaticMaterialsProvider(
        encryption_key=SymmetricKey(AES_KEY, "AES"),
        signing_key=SymmetricKey(HMAC_KEY, "HmacSHA256"),
    )


class Invoice(EncryptedModel):
    class Meta:
        table_name = "invoices"
        region = "us-east-1"
        materials_provider = static_provider  # resolved on first use
        host: str | None = None  # set to a local endpoint by main()
        aws_access_key_id: str | None = None
        aws_secret_access_key: str | None = None

    customer = UnicodeAttribute(hash_key=True)
    number = NumberAttribute(range_key=True)
    iban = EncryptedAttribute(UnicodeAttribute())
    amount = SignedAttribute(NumberAttribute())


# --8<-- [end:provider]


def main(endpoint_url: str, *, table: str | None = None) -> dict[str, object]:
    Invoice.Meta.host = endpoint_url
    Invoice.Meta.table_name = table or f"invoices-{secrets.token_hex(4)}"
    Invoice.Meta.aws_access_key_id = "local"  # local servers accept any credentials
    Invoice.Meta.aws_secret_access_key = "local"
    Invoice._connection = None
    Invoice.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    try:
        Invoice("acme", 1, iban="DE89 3704 0044 0532 0130 00", amount=120).save()
        loaded = Invoice.get("acme", 1)
        raw = boto3.client(
            "dynamodb",
            endpoint_url=endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        ).get_item(
            TableName=Invoice.Meta.table_name,
            Key={"customer": {"S": "acme"}, "number": {"N": "1"}},
        )["Item"]
        return {
            "iban": loaded.iban,
            "amount": loaded.amount,
            "stored_iban_type": next(iter(raw["iban"])),
            "signed": SIGNATURE_ATTRIBUTE in raw,
        }
    finally:
        Invoice.delete_table()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(main(sys.argv[1]))
    else:
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as url:
            print(main(url))
