"""Searchable encryption (DB-ESDK beacons) with `BeaconItemEncryptor`.

Runs offline (no DynamoDB, no KMS): ``python examples/dbesdk_beacons.py``. The requests it
prepares are what you would send with a boto3 DynamoDB client.
"""

from __future__ import annotations

# --8<-- [start:setup]
import secrets
import uuid

from pynamodb_encryption.dbesdk import (
    BeaconItemEncryptor,
    BeaconVersion,
    CompoundBeacon,
    CryptoAction,
    DbEsdkItemEncryptor,
    EncryptedPart,
    HierarchicalKeyring,
    SignedPart,
    SingleBeaconKeySource,
    StandardBeacon,
    StaticKeyStore,
    beacon_length_bounds,
    beacon_table_schema,
    prepare_query,
)

# In an app: KeyStore(...) over AWS's branch key store table, protected by KMS.
key_store = StaticKeyStore(
    branch_key_id="patients",
    branch_key_version=str(uuid.uuid4()),
    branch_key=secrets.token_bytes(32),
    beacon_key=secrets.token_bytes(32),
)
beacons = BeaconVersion(
    standard_beacons=(
        StandardBeacon("ssn", length=16),  # ~10^9 possible values, few in the table
        StandardBeacon("zip_code", length=10),
    ),
    compound_beacons=(
        # "Z-<zip beacon>.V-<visit date>": equality on both, ranges on the date.
        CompoundBeacon(
            "zip_visit",
            split=".",
            encrypted=(EncryptedPart("zip_code", prefix="Z-"),),
            signed=(SignedPart("visit", prefix="V-"),),
        ),
    ),
    key_source=SingleBeaconKeySource(
        key_store=key_store, beacon_key_id="patients", cache_ttl_seconds=300
    ),
)
encryptor = DbEsdkItemEncryptor(
    table_name="patients",
    partition_key_name="patient_id",
    attribute_actions={
        "patient_id": CryptoAction.SIGN_ONLY,
        "ssn": CryptoAction.ENCRYPT_AND_SIGN,
        "zip_code": CryptoAction.ENCRYPT_AND_SIGN,
        "visit": CryptoAction.SIGN_ONLY,
        "notes": CryptoAction.ENCRYPT_AND_SIGN,
        **beacons.signed_beacon_actions(),  # none here; signed-only compound beacons
    },
    keyring=HierarchicalKeyring(key_store=key_store, branch_key_id="patients"),
)
table = BeaconItemEncryptor(encryptor, beacons)
# --8<-- [end:setup]


def main() -> None:
    # --8<-- [start:write]
    item = {
        "patient_id": {"S": "p-1"},
        "ssn": {"S": "078-05-1120"},
        "zip_code": {"S": "02134"},
        "visit": {"S": "2025-11-30"},
        "notes": {"S": "allergic to penicillin"},
    }
    stored = table.encrypt(item)  # client.put_item(TableName="patients", Item=stored)
    assert set(stored) >= {"aws_dbe_b_ssn", "aws_dbe_b_zip_code", "aws_dbe_b_zip_visit"}
    assert len(stored["aws_dbe_b_ssn"]["S"]) == 4  # 16 bits as hex
    assert stored["aws_dbe_b_zip_visit"]["S"].startswith("V-2025-11-30.Z-")
    assert table.decrypt(stored) == item  # beacons are dropped on read
    # --8<-- [end:write]

    # --8<-- [start:table]
    create = beacon_table_schema(
        table,
        {
            "TableName": "patients",
            "KeySchema": [{"AttributeName": "patient_id", "KeyType": "HASH"}],
            "AttributeDefinitions": [
                {"AttributeName": "patient_id", "AttributeType": "S"},
                {"AttributeName": "ssn", "AttributeType": "S"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "ssn-index",
                    "KeySchema": [{"AttributeName": "ssn", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )  # client.create_table(**create)
    assert create["GlobalSecondaryIndexes"][0]["KeySchema"][0]["AttributeName"] == "aws_dbe_b_ssn"
    # --8<-- [end:table]

    # --8<-- [start:query]
    query = prepare_query(
        table,
        {
            "TableName": "patients",
            "IndexName": "ssn-index",
            "KeyConditionExpression": "ssn = :ssn",
            "ExpressionAttributeValues": {":ssn": {"S": "078-05-1120"}},
        },
    )
    # response = client.query(**query.request)
    # found = query.filter(table.decrypt(i) for i in response["Items"])
    assert query.request["KeyConditionExpression"] == "#aws_dbe_b0 = :ssn"
    assert query.request["ExpressionAttributeValues"][":ssn"] == stored["aws_dbe_b_ssn"]
    neighbour = {**item, "ssn": {"S": "219-09-9999"}}  # a beacon collision would be dropped
    assert query.filter([item, neighbour]) == [item]
    # --8<-- [end:query]

    # --8<-- [start:length]
    # 5-digit ZIP codes: 100,000 possible values.
    assert beacon_length_bounds(100_000) == (9, 15)
    # --8<-- [end:length]


if __name__ == "__main__":
    main()
    print("ok")
