"""Walk a live table from the legacy DynamoDB Encryption Client format to DB-ESDK: the four
stages of a model's settings, with the re-encryption job converting the items nobody rewrites.

Runs offline: ``python examples/dbesdk_migration.py`` starts the embedded moto server (the
``demo`` extra). ``main(endpoint_url)`` uses a DynamoDB server you already run.
"""

from __future__ import annotations

# --8<-- [start:imports]
import os
import sys
import uuid
from collections import Counter
from typing import Any

import boto3
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from pynamodb_encryption import StaticMaterialsProvider, SymmetricKey
from pynamodb_encryption.dbesdk import LegacyPolicy, RawAesKeyring
from pynamodb_encryption.maintenance import (
    CryptoConfig,
    ReencryptOptions,
    job_for_model,
    reencrypt_table,
)
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

# --8<-- [end:imports]

# --8<-- [start:setup]
# Stand-ins for the keys of your deployment (the legacy provider's and the new keyring's).
LEGACY_PROVIDER = StaticMaterialsProvider(
    encryption_key=SymmetricKey.generate("AES", 256),
    signing_key=SymmetricKey.generate("HmacSHA256", 256),
)
KEYRING = RawAesKeyring(key_namespace="accounts", key_name="key-1", wrapping_key=os.urandom(32))
# --8<-- [end:setup]


# --8<-- [start:stages]
STAGE_POLICY = {
    1: LegacyPolicy.FORCE_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT,  # readers learn DB-ESDK
    2: LegacyPolicy.FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT,  # write DB-ESDK, read both
    3: LegacyPolicy.FORBID_LEGACY_ENCRYPT_FORBID_LEGACY_DECRYPT,  # DB-ESDK only
}


def account_model(table: str, stage: int) -> Any:
    """The model as each stage deploys it: the settings change, never the fields."""
    meta: dict[str, Any] = {"table_name": table, "materials_provider": LEGACY_PROVIDER}
    if stage >= 1:
        meta["keyring"] = KEYRING
        meta["legacy_policy"] = STAGE_POLICY[stage]
    fields = {
        "account_id": UnicodeAttribute(hash_key=True),
        "iban": EncryptedAttribute(UnicodeAttribute()),
        "owner": SignedAttribute(UnicodeAttribute()),
        "logins": NumberAttribute(default=0),  # unsigned
    }
    return type("Account", (EncryptedModel,), {"Meta": type("Meta", (), meta), **fields})


# --8<-- [end:stages]


# --8<-- [start:convert]
def convert_stored_items(dynamodb_client: Any, model: Any) -> dict[str, Any]:
    """Stage 2, once every host runs it: rewrite the items nobody touched, online.

    Conditional writes (a concurrent write makes the job re-read, never overwrite),
    checkpoints to resume after a crash; a second run rewrites nothing.
    """
    job = job_for_model(
        model,  # its Meta.keyring and declarations: the new (DB-ESDK) side
        old=CryptoConfig(
            materials_provider=LEGACY_PROVIDER, attribute_actions=model.get_attribute_actions()
        ),
    )
    report = reencrypt_table(dynamodb_client, job, ReencryptOptions(segments=2))
    return report.to_dict()


# --8<-- [end:convert]


def _formats(dynamodb_client: Any, table: str) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for item in dynamodb_client.scan(TableName=table, ConsistentRead=True)["Items"]:
        if "aws_dbe_head" in item:
            counts["dbesdk"] += 1
        elif "*amzn-ddb-map-sig*" in item:
            counts["legacy"] += 1
    return dict(counts)


def main(endpoint_url: str, *, table: str = "accounts") -> dict[str, Any]:
    options: dict[str, Any] = {
        "region_name": "us-east-1",
        "aws_access_key_id": "local",
        "aws_secret_access_key": "local",
    }
    client = boto3.client("dynamodb", endpoint_url=endpoint_url, **options)
    models = [account_model(table, stage) for stage in range(4)]
    for model in models:
        model.Meta.host = endpoint_url
        model.Meta.region = "us-east-1"
        model.Meta.aws_access_key_id = "local"
        model.Meta.aws_secret_access_key = "local"
    models[0].create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    results: dict[str, Any] = {}
    for n in range(6):  # stage 0: the legacy format
        models[0](f"acc-{n}", iban=f"DE00 {n}", owner="ada").save()
    models[1]("acc-6", iban="DE00 6", owner="bob").save()  # stage 1: still legacy
    results["after stage 1"] = _formats(client, table)
    models[2]("acc-7", iban="DE00 7", owner="eve").save()  # stage 2: new writes are DB-ESDK
    models[2].get("acc-0").update([models[2].owner.set("ada l.")])  # a rewrite converts too
    results["after stage 2 writes"] = _formats(client, table)
    report = convert_stored_items(client, models[2])
    results["job"] = {k: report[k] for k in ("reencrypted", "already_current", "failed")}
    results["after the job"] = _formats(client, table)
    results["second run rewrites"] = convert_stored_items(client, models[2])["reencrypted"]
    results["stage 3 reads"] = sorted(a.iban for a in models[3].scan())  # legacy refused now
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(main(sys.argv[1]))
    else:
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as url:
            print(main(url, table=f"accounts-{uuid.uuid4().hex[:8]}"))
