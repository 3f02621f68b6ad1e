"""Find patients by SSN and by ZIP code, both encrypted: beacons on a PynamoDB model and on the
boto3 helpers (DB-ESDK searchable encryption).

``main(endpoint_url)`` runs against a DynamoDB server you already run (DynamoDB Local); the
tests run it. Each encrypted field with ``beacon=`` gets an ``aws_dbe_b_<field>`` attribute
(a truncated HMAC of its value), which a GSI can index; queries and scans name the field and
its plaintext value, and false positives are dropped before they reach you.
"""

from __future__ import annotations

# --8<-- [start:imports]
import secrets
import uuid
from typing import Any

import boto3
from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from pynamodb_encryption.boto3 import EncryptedClient
from pynamodb_encryption.dbesdk import (
    BeaconVersion,
    CryptoAction,
    DynamoDbTableEncryptionConfig,
    DynamoDbTablesEncryptionConfig,
    HierarchicalKeyring,
    SearchConfig,
    SingleBeaconKeySource,
    StandardBeacon,
    StaticKeyStore,
)
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

# --8<-- [end:imports]

# --8<-- [start:keys]
# In an app: KeyStore(...) over AWS's branch key store table, protected by KMS. The
# hierarchical keyring's key store also gives the beacon key (or set Meta.beacon_key_source).
key_store = StaticKeyStore(
    branch_key_id="patients",
    branch_key_version=str(uuid.uuid4()),
    branch_key=secrets.token_bytes(32),
    beacon_key=secrets.token_bytes(32),
)
# --8<-- [end:keys]


# --8<-- [start:model]
class SsnIndex(GlobalSecondaryIndex["Patient"]):  # type: ignore[no-untyped-call]  # PynamoDB
    class Meta:
        index_name = "ssn-index"
        projection = AllProjection()  # whole items: their signatures are verified

    ssn = UnicodeAttribute(hash_key=True)  # the beacon: aws_dbe_b_ssn in the table


class ZipIndex(GlobalSecondaryIndex["Patient"]):  # type: ignore[no-untyped-call]  # PynamoDB
    class Meta:
        index_name = "zip-index"
        projection = AllProjection()

    zip_code = UnicodeAttribute(hash_key=True)


class Patient(EncryptedModel):
    class Meta:
        table_name = "patients"
        keyring = HierarchicalKeyring(key_store=key_store, branch_key_id="patients")

    patient_id = UnicodeAttribute(hash_key=True)
    # 16 bits: a few hundred thousand patients share each beacon value with ~1 other SSN.
    ssn = EncryptedAttribute(UnicodeAttribute(), beacon=StandardBeacon(length=16))
    # 10 bits: ZIP codes are few (~40,000), a shorter beacon hides more of them.
    zip_code = EncryptedAttribute(UnicodeAttribute(), beacon=StandardBeacon(length=10))
    name = EncryptedAttribute(UnicodeAttribute())  # no beacon: never searchable
    visit = SignedAttribute(UnicodeAttribute())
    ssn_index = SsnIndex()
    zip_index = ZipIndex()


# --8<-- [end:model]


# --8<-- [start:helper]
def patients_client(endpoint_url: str, table: str) -> EncryptedClient:
    """The same table through the boto3 helper: AWS's configuration shape."""
    config = DynamoDbTableEncryptionConfig(
        logical_table_name=table,
        partition_key_name="patient_id",
        attribute_actions_on_encrypt={
            "patient_id": CryptoAction.SIGN_ONLY,
            "ssn": CryptoAction.ENCRYPT_AND_SIGN,
            "zip_code": CryptoAction.ENCRYPT_AND_SIGN,
            "name": CryptoAction.ENCRYPT_AND_SIGN,
            "visit": CryptoAction.SIGN_ONLY,
        },
        keyring=HierarchicalKeyring(key_store=key_store, branch_key_id="patients"),
        search=SearchConfig(
            versions=[
                BeaconVersion(
                    standard_beacons=(
                        StandardBeacon("ssn", length=16),
                        StandardBeacon("zip_code", length=10),
                    ),
                    key_source=SingleBeaconKeySource(key_store=key_store, beacon_key_id="patients"),
                )
            ],
            write_version=1,
        ),
    )
    return EncryptedClient(
        boto3.client("dynamodb", endpoint_url=endpoint_url),
        encryption_config=DynamoDbTablesEncryptionConfig(table_encryption_configs={table: config}),
    )


# --8<-- [end:helper]


def main(endpoint_url: str, *, table: str = "patients") -> dict[str, Any]:
    Patient.Meta.table_name = table
    Patient.Meta.host = endpoint_url  # type: ignore[attr-defined]
    if not Patient.exists():
        # The GSIs are created on aws_dbe_b_ssn and aws_dbe_b_zip_code.
        Patient.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    # --8<-- [start:use]
    Patient("p-1", ssn="078-05-1120", zip_code="02134", name="Ada", visit="2025-11-30").save()
    Patient("p-2", ssn="219-09-9999", zip_code="02134", name="Bo", visit="2025-12-01").save()
    Patient("p-3", ssn="457-55-5462", zip_code="10001", name="Cy", visit="2025-12-02").save()

    by_ssn = [p.name for p in Patient.ssn_index.query("078-05-1120")]
    by_zip = sorted(p.name for p in Patient.zip_index.query("02134"))
    # Scans and filters on beacon fields work too (equality, IN, contains).
    scanned = [p.name for p in Patient.scan(Patient.ssn == "457-55-5462")]
    # --8<-- [end:use]
    # --8<-- [start:helper-use]
    client = patients_client(endpoint_url, table)
    page = client.query(
        TableName=table,
        IndexName="zip-index",
        KeyConditionExpression="zip_code = :zip",
        ExpressionAttributeValues={":zip": {"S": "10001"}},
    )
    from_helper = [item["name"]["S"] for item in page["Items"]]
    # --8<-- [end:helper-use]
    assert by_ssn == ["Ada"]
    assert by_zip == ["Ada", "Bo"]
    assert scanned == ["Cy"]
    assert from_helper == ["Cy"]
    return {"by_ssn": by_ssn, "by_zip": by_zip, "scanned": scanned, "from_helper": from_helper}
