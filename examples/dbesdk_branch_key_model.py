"""A model whose keys come from a branch key store: the hierarchical keyring (one KMS call per
branch key and cache period, not per item), resolved on the model's first use.

Runs offline: ``python examples/dbesdk_branch_key_model.py`` starts the embedded moto server
(the ``demo`` extra) for KMS and DynamoDB. ``main(endpoint_url, kms_endpoint_url)`` uses
servers you already run.
"""

from __future__ import annotations

import sys
import uuid

# --8<-- [start:imports]
from typing import Any

import boto3
from pynamodb.attributes import UnicodeAttribute

from pynamodb_encryption.dbesdk import HierarchicalKeyring, KeyStore
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

# --8<-- [end:imports]


# --8<-- [start:keyring]
SETTINGS: dict[str, Any] = {}  # stands for your application's settings, loaded at start-up


def orders_keyring() -> HierarchicalKeyring:
    key_store = KeyStore(
        table_name=SETTINGS["key_store_table"],
        logical_key_store_name="orders-key-store",
        kms_key_id=SETTINGS["kms_key_arn"],
        dynamodb_client=SETTINGS["dynamodb_client"],
        kms_client=SETTINGS["kms_client"],
    )
    # Branch keys are cached for ttl_seconds: warm reads and writes make no KMS call.
    return HierarchicalKeyring(
        key_store=key_store, branch_key_id=SETTINGS["branch_key_id"], ttl_seconds=600
    )


class Order(EncryptedModel):
    class Meta:
        table_name = "orders"
        keyring = orders_keyring  # called once, on first use, after settings are loaded

    order_id = UnicodeAttribute(hash_key=True)
    card = EncryptedAttribute(UnicodeAttribute())
    state = SignedAttribute(UnicodeAttribute())


# --8<-- [end:keyring]


# --8<-- [start:setup]
def create_branch_key(dynamodb: Any, kms: Any, kms_key_arn: str, store_table: str) -> str:
    """Once per deployment: the key-store table and a branch key (its id goes to settings)."""
    store = KeyStore(
        table_name=store_table,
        logical_key_store_name="orders-key-store",
        kms_key_id=kms_key_arn,
        dynamodb_client=dynamodb,
        kms_client=kms,
    )
    store.create_key_store()
    return store.create_key()


# --8<-- [end:setup]


def main(
    endpoint_url: str,
    kms_endpoint_url: str | None = None,
    *,
    table: str = "orders",
    store_table: str = "orders-key-store",
) -> dict[str, Any]:
    options: dict[str, Any] = {
        "region_name": "us-east-1",
        "aws_access_key_id": "local",
        "aws_secret_access_key": "local",
    }
    kms = boto3.client("kms", endpoint_url=kms_endpoint_url or endpoint_url, **options)
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, **options)
    kms_key_arn = kms.create_key(Description="orders branch keys")["KeyMetadata"]["Arn"]
    branch_key_id = create_branch_key(dynamodb, kms, kms_key_arn, store_table)
    SETTINGS.update(
        key_store_table=store_table,
        kms_key_arn=kms_key_arn,
        dynamodb_client=dynamodb,
        kms_client=kms,
        branch_key_id=branch_key_id,
    )
    Order.Meta.table_name = table
    Order.Meta.host = endpoint_url  # type: ignore[attr-defined]
    Order.Meta.region = "us-east-1"  # type: ignore[attr-defined]
    Order.Meta.aws_access_key_id = "local"  # type: ignore[attr-defined]
    Order.Meta.aws_secret_access_key = "local"  # type: ignore[attr-defined]
    Order.reset_materials_provider()
    if not Order.exists():
        Order.create_table(billing_mode="PAY_PER_REQUEST", wait=True)

    calls: list[str] = []
    kms.meta.events.register("before-call.kms.*", lambda model, **_: calls.append(model.name))
    for n in range(5):
        Order(f"o-{n}", card=f"4111-{n}", state="new").save()
    cards = [Order.get(f"o-{n}", consistent_read=True).card for n in range(5)]
    Order.get("o-0", consistent_read=True).update([Order.state.set("shipped")])
    return {
        "cards": cards,
        "kms calls": len(calls),
        "state": Order.get("o-0", consistent_read=True).state,
    }


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(main(sys.argv[1]))
    else:
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as url:
            suffix = uuid.uuid4().hex[:8]
            print(main(url, table=f"orders-{suffix}", store_table=f"keys-{suffix}"))
