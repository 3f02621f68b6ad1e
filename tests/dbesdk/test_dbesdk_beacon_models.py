"""Beacons on models and on the boto3 helpers (issue 12), on DynamoDB Local: a model with two
beacons (SSN, ZIP) and GSIs on them, equality queries that return exactly the matching items,
items written by models read by helpers and the other way round, and the false positives of a
1-bit beacon dropped before they reach the caller."""

from __future__ import annotations

import importlib.util
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.expressions.operand import Path as AttrPath
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.transactions import TransactWrite

from pynamodb_encryption import ConfigurationError, UnsupportedOperationError
from pynamodb_encryption.boto3 import EncryptedClient, EncryptedTable
from pynamodb_encryption.dbesdk import (
    BeaconVersion,
    CompoundBeacon,
    CryptoAction,
    DynamoDbTableEncryptionConfig,
    DynamoDbTablesEncryptionConfig,
    EncryptedPart,
    HierarchicalKeyring,
    LegacyPolicy,
    MultiBeaconKeySource,
    RawAesKeyring,
    SearchConfig,
    SignedPart,
    SingleBeaconKeySource,
    StandardBeacon,
    StaticKeyStore,
)
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

KEY_STORE = StaticKeyStore(
    branch_key_id="patients",
    branch_key_version=str(uuid.uuid4()),
    branch_key=secrets.token_bytes(32),
    beacon_key=secrets.token_bytes(32),
)
KEYRING = HierarchicalKeyring(key_store=KEY_STORE, branch_key_id="patients")
E, S = CryptoAction.ENCRYPT_AND_SIGN, CryptoAction.SIGN_ONLY

PEOPLE = [
    ("p1", "078-05-1120", "02134"),
    ("p2", "219-09-9999", "02134"),
    ("p3", "457-55-5462", "10001"),
    ("p4", "078-05-1120", "94105"),  # same SSN as p1 (shared account, say)
    ("p5", "123-45-6789", "10001"),
    ("p6", "987-65-4320", "60601"),
]


def _model(table: str, host: str, ssn_bits: int = 16, zip_bits: int = 10) -> Any:
    class SsnIndex(GlobalSecondaryIndex[Any]):
        class Meta:
            index_name = "ssn-index"
            projection = AllProjection()

        ssn = UnicodeAttribute(hash_key=True)

    class ZipIndex(GlobalSecondaryIndex[Any]):
        class Meta:
            index_name = "zip-index"
            projection = AllProjection()

        zip_code = UnicodeAttribute(hash_key=True)

    class Patient(EncryptedModel):
        class Meta:
            table_name = table
            keyring = KEYRING
            billing_mode = "PAY_PER_REQUEST"

        patient_id = UnicodeAttribute(hash_key=True)
        ssn = EncryptedAttribute(UnicodeAttribute(), beacon=StandardBeacon(length=ssn_bits))
        zip_code = EncryptedAttribute(UnicodeAttribute(), beacon=StandardBeacon(length=zip_bits))
        name = EncryptedAttribute(UnicodeAttribute(null=True))
        ssn_index = SsnIndex()
        zip_index = ZipIndex()

    Patient.Meta.host = host  # type: ignore[attr-defined]
    return Patient


def _helper(client: Any, table: str, ssn_bits: int = 16, zip_bits: int = 10) -> EncryptedClient:
    config = DynamoDbTableEncryptionConfig(
        logical_table_name=table,
        partition_key_name="patient_id",
        attribute_actions_on_encrypt={
            "patient_id": S,
            "ssn": E,
            "zip_code": E,
            "name": E,
        },
        keyring=KEYRING,
        search=SearchConfig(
            versions=[
                BeaconVersion(
                    standard_beacons=(
                        StandardBeacon("ssn", length=ssn_bits),
                        StandardBeacon("zip_code", length=zip_bits),
                    ),
                    key_source=SingleBeaconKeySource(key_store=KEY_STORE, beacon_key_id="patients"),
                )
            ],
            write_version=1,
        ),
    )
    return EncryptedClient(
        client,
        encryption_config=DynamoDbTablesEncryptionConfig(table_encryption_configs={table: config}),
    )


@pytest.fixture
def patients(ddb_backend: str, ddb_endpoint: str, table_name: str) -> Iterator[Any]:
    if ddb_backend != "ddblocal":
        pytest.skip("beacon GSIs are proven on DynamoDB Local")
    model = _model(table_name, ddb_endpoint)
    model.create_table(wait=True)
    yield model
    model.delete_table()


def test_model_beacons_end_to_end(patients: Any, dynamodb_client: Any) -> None:
    table = patients.Meta.table_name
    desc = dynamodb_client.describe_table(TableName=table)["Table"]
    gsi_keys = {
        g["IndexName"]: g["KeySchema"][0]["AttributeName"] for g in desc["GlobalSecondaryIndexes"]
    }
    assert gsi_keys == {"ssn-index": "aws_dbe_b_ssn", "zip-index": "aws_dbe_b_zip_code"}
    for pid, ssn, zip_code in PEOPLE:
        patients(pid, ssn=ssn, zip_code=zip_code, name=f"name {pid}").save()
    raw = dynamodb_client.get_item(TableName=table, Key={"patient_id": {"S": "p1"}})["Item"]
    assert "B" in raw["ssn"]
    assert len(raw["aws_dbe_b_ssn"]["S"]) == 4  # 16 bits, hex
    assert raw["aws_dbe_v_1"] == {"S": " "}
    got = patients.get("p1")
    assert (got.ssn, got.zip_code) == ("078-05-1120", "02134")
    assert not any(k.startswith("aws_dbe_") for k in got.attribute_values)

    def ids(results: Any) -> set[str]:
        return {p.patient_id for p in results}

    assert ids(patients.ssn_index.query("078-05-1120")) == {"p1", "p4"}
    assert ids(patients.zip_index.query("10001")) == {"p3", "p5"}
    assert ids(patients.scan(patients.ssn == "219-09-9999")) == {"p2"}
    both = (patients.zip_code == "02134") & (patients.ssn == "078-05-1120")
    assert ids(patients.scan(both)) == {"p1"}
    assert ids(
        patients.ssn_index.query("078-05-1120", filter_condition=patients.zip_code == "94105")
    ) == {"p4"}
    assert patients.ssn_index.count("078-05-1120") == 2
    assert ids(patients.ssn_index.query("000-00-0000")) == set()

    # An update of a field rewrites its beacon (no stale beacon, no lost item).
    p6 = patients.get("p6")
    p6.update(actions=[patients.ssn.set("111-22-3333")])
    assert ids(patients.ssn_index.query("111-22-3333")) == {"p6"}
    assert ids(patients.ssn_index.query("987-65-4320")) == set()

    # Batch writes add beacons too.
    with patients.batch_write() as batch:
        batch.save(patients("b1", ssn="222-33-4444", zip_code="60601"))
    with TransactWrite(connection=Connection(host=patients.Meta.host)) as transaction:
        transaction.save(patients("t1", ssn="333-44-5555", zip_code="60601"))
    assert ids(patients.zip_index.query("60601")) == {"p6", "b1", "t1"}

    # What DB-ESDK refuses, refused clearly.
    with pytest.raises(ConfigurationError, match="standard beacon"):
        list(patients.scan(patients.ssn.startswith("078")))
    with pytest.raises(UnsupportedOperationError, match="encrypted"):
        list(patients.scan(patients.name == "name p1"))  # no beacon on name

    # The boto3 helper on the same table reads the model's items and writes its own.
    helper = _helper(boto3.client("dynamodb", endpoint_url=patients.Meta.host), table)
    page = helper.query(
        TableName=table,
        IndexName="ssn-index",
        KeyConditionExpression="ssn = :s",
        ExpressionAttributeValues={":s": {"S": "078-05-1120"}},
    )
    assert {i["patient_id"]["S"] for i in page["Items"]} == {"p1", "p4"}
    assert all("aws_dbe_b_ssn" not in i for i in page["Items"])
    helper.put_item(
        TableName=table,
        Item={"patient_id": {"S": "h1"}, "ssn": {"S": "555-12-3456"}, "zip_code": {"S": "10001"}},
    )
    helper.batch_write_item(
        RequestItems={
            table: [
                {
                    "PutRequest": {
                        "Item": {
                            "patient_id": {"S": "h2"},
                            "ssn": {"S": "555-12-0000"},
                            "zip_code": {"S": "10001"},
                        }
                    }
                }
            ]
        }
    )
    helper.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": table,
                    "Item": {
                        "patient_id": {"S": "h3"},
                        "ssn": {"S": "555-12-1111"},
                        "zip_code": {"S": "10001"},
                    },
                }
            }
        ]
    )
    assert ids(patients.zip_index.query("10001")) == {"p3", "p5", "h1", "h2", "h3"}
    with pytest.raises(ConfigurationError, match="standard beacon"):
        helper.scan(
            TableName=table,
            FilterExpression="ssn < :s",
            ExpressionAttributeValues={":s": {"S": "1"}},
        )
    assert patients.get("h1").ssn == "555-12-3456"
    scanned = helper.scan(
        TableName=table,
        FilterExpression="zip_code = :z",
        ExpressionAttributeValues={":z": {"S": "02134"}},
    )
    assert {i["patient_id"]["S"] for i in scanned["Items"]} == {"p1", "p2"}

    # Paginators are not rewritten for beacons: a condition on an encrypted field is refused.
    with pytest.raises(UnsupportedOperationError, match="encrypted"):
        list(
            helper.get_paginator("scan").paginate(
                TableName=table,
                FilterExpression="ssn = :s",
                ExpressionAttributeValues={":s": {"S": "078-05-1120"}},
            )
        )

    # The resource-style table: Key/Attr conditions and Python values.
    resource = boto3.resource("dynamodb", endpoint_url=patients.Meta.host)
    encrypted_table = EncryptedTable(
        resource.Table(table), encryption_config=helper._ops.engine.encryption_config
    )
    page = encrypted_table.query(
        IndexName="zip-index",
        KeyConditionExpression=Key("zip_code").eq("10001"),
        FilterExpression=Attr("ssn").eq("457-55-5462"),
    )
    assert [i["patient_id"] for i in page["Items"]] == ["p3"]
    scanned = encrypted_table.scan(FilterExpression=Attr("ssn").is_in(["078-05-1120"]))
    assert {i["patient_id"] for i in scanned["Items"]} == {"p1", "p4"}


def test_false_positives_never_reach_the_caller(
    ddb_backend: str, ddb_endpoint: str, table_name: str, dynamodb_client: Any
) -> None:
    if ddb_backend != "ddblocal":
        pytest.skip("beacon GSIs are proven on DynamoDB Local")
    # 1-bit beacons: about half of all SSNs share a beacon value with any given one.
    patients = _model(table_name, ddb_endpoint, ssn_bits=1, zip_bits=2)
    patients.create_table(wait=True)
    try:
        ssns = [f"{n:03d}-00-0000" for n in range(24)]
        for n, ssn in enumerate(ssns):
            patients(f"p{n}", ssn=ssn, zip_code=f"{n % 5:05d}").save()
        target = ssns[7]
        raw = dynamodb_client.query(
            TableName=table_name,
            IndexName="ssn-index",
            KeyConditionExpression="aws_dbe_b_ssn = :b",
            ExpressionAttributeValues={
                ":b": dynamodb_client.get_item(
                    TableName=table_name, Key={"patient_id": {"S": "p7"}}
                )["Item"]["aws_dbe_b_ssn"]
            },
        )
        assert raw["Count"] > 1  # collisions exist on the index...
        assert [p.patient_id for p in patients.ssn_index.query(target)] == ["p7"]  # ...dropped
        helper = _helper(
            boto3.client("dynamodb", endpoint_url=ddb_endpoint), table_name, ssn_bits=1, zip_bits=2
        )
        page = helper.query(
            TableName=table_name,
            IndexName="ssn-index",
            KeyConditionExpression="ssn = :s",
            ExpressionAttributeValues={":s": {"S": target}},
        )
        assert [i["patient_id"]["S"] for i in page["Items"]] == ["p7"]
        assert page["Count"] == 1
        zips = {p.patient_id for p in patients.scan(patients.zip_code == "00003")}
        assert zips == {f"p{n}" for n in range(24) if n % 5 == 3}
    finally:
        patients.delete_table()


def test_declarations_refused_clearly() -> None:
    with pytest.raises(ConfigurationError, match="legacy"):

        class _Legacy(EncryptedModel):
            class Meta:
                table_name = "t"
                keyring = KEYRING
                legacy_policy = LegacyPolicy.FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT

            pk = UnicodeAttribute(hash_key=True)
            ssn = EncryptedAttribute(UnicodeAttribute(), beacon=StandardBeacon(length=8))

    with pytest.raises(ConfigurationError, match=r"Meta\.keyring"):

        class _NoKeyring(EncryptedModel):
            class Meta:
                table_name = "t"

            pk = UnicodeAttribute(hash_key=True)
            ssn = EncryptedAttribute(UnicodeAttribute(), beacon=StandardBeacon(length=8))

    with pytest.raises(ConfigurationError, match="StandardBeacon"):
        EncryptedAttribute(UnicodeAttribute(), beacon=16)  # type: ignore[arg-type]

    class _RawAes(EncryptedModel):
        class Meta:
            table_name = "t"
            keyring = RawAesKeyring(key_namespace="n", key_name="k", wrapping_key=bytes(32))

        pk = UnicodeAttribute(hash_key=True)
        ssn = EncryptedAttribute(UnicodeAttribute(), beacon=StandardBeacon(length=8))

    with pytest.raises(ConfigurationError, match="beacon_key_source"):
        _RawAes._pde_encryptor()
    with pytest.raises(ConfigurationError, match="needs a name"):
        BeaconVersion(
            standard_beacons=(StandardBeacon(length=4),),
            key_source=SingleBeaconKeySource(key_store=KEY_STORE, beacon_key_id="p"),
        )
    with pytest.raises(ConfigurationError, match="legacy_override"):
        DynamoDbTableEncryptionConfig(
            logical_table_name="t",
            partition_key_name="pk",
            attribute_actions_on_encrypt={"pk": S},
            keyring=KEYRING,
            legacy_override=object(),  # type: ignore[arg-type]
            search=SearchConfig(
                versions=[
                    BeaconVersion(
                        standard_beacons=(StandardBeacon("x", length=4),),
                        key_source=SingleBeaconKeySource(key_store=KEY_STORE, beacon_key_id="p"),
                    )
                ]
            ),
        )


def test_example_app_page(ddb_backend: str, ddb_endpoint: str, table_name: str) -> None:
    if ddb_backend != "ddblocal":
        pytest.skip("beacon GSIs are proven on DynamoDB Local")
    path = Path(__file__).resolve().parents[2] / "examples" / "dbesdk_beacon_models.py"
    spec = importlib.util.spec_from_file_location("dbesdk_beacon_models_example", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        found = module.main(ddb_endpoint, table=table_name)
    finally:
        module.Patient.delete_table()
    assert found == {
        "by_ssn": ["Ada"],
        "by_zip": ["Ada", "Bo"],
        "scanned": ["Cy"],
        "from_helper": ["Cy"],
    }


def test_compound_beacon_declared_in_meta(
    ddb_backend: str, ddb_endpoint: str, table_name: str
) -> None:
    if ddb_backend != "ddblocal":
        pytest.skip("beacon GSIs are proven on DynamoDB Local")

    class ZipVisitIndex(GlobalSecondaryIndex[Any]):
        class Meta:
            index_name = "zip-visit-index"
            projection = AllProjection()

        zip_visit = UnicodeAttribute(hash_key=True)  # a compound beacon: no model field

    class Visit(EncryptedModel):
        class Meta:
            table_name = ""
            keyring = KEYRING
            billing_mode = "PAY_PER_REQUEST"
            beacons = (
                CompoundBeacon(
                    "zip_visit",
                    split=".",
                    encrypted=(EncryptedPart("zip_code", prefix="Z-"),),
                    signed=(SignedPart("visit", prefix="V-"),),
                ),
            )

        patient_id = UnicodeAttribute(hash_key=True)
        zip_code = EncryptedAttribute(UnicodeAttribute(), beacon=StandardBeacon(length=8))
        visit = SignedAttribute(UnicodeAttribute())
        zip_visit_index = ZipVisitIndex()

    Visit.Meta.table_name = table_name
    Visit.Meta.host = ddb_endpoint  # type: ignore[attr-defined]
    Visit.create_table(wait=True)
    try:
        rows = [
            ("v1", "02134", "2025-11-30"),
            ("v2", "02134", "2025-12-01"),
            ("v3", "10001", "2025-11-30"),
        ]
        for pid, zip_code, visit in rows:
            Visit(pid, zip_code=zip_code, visit=visit).save()
        # The default constructor: signed parts first, then encrypted ones (as DB-ESDK).
        found = [v.patient_id for v in Visit.zip_visit_index.query("V-2025-11-30.Z-02134")]
        assert found == ["v1"]
        on_day = AttrPath(["zip_visit"]).startswith("V-2025-11-30")
        assert {v.patient_id for v in Visit.scan(on_day)} == {"v1", "v3"}
        assert {v.patient_id for v in Visit.scan(Visit.zip_code == "10001")} == {"v3"}
    finally:
        Visit.delete_table()

    with pytest.raises(ConfigurationError, match=r"Meta\.beacons holds"):

        class _Bad(EncryptedModel):
            class Meta:
                table_name = "t"
                keyring = KEYRING
                beacons = (StandardBeacon(length=4),)

            pk = UnicodeAttribute(hash_key=True)


def test_partitioned_beacons_query_every_partition(
    ddb_backend: str, ddb_endpoint: str, table_name: str
) -> None:
    if ddb_backend != "ddblocal":
        pytest.skip("beacon GSIs are proven on DynamoDB Local")

    class ByZip(GlobalSecondaryIndex[Any]):
        class Meta:
            index_name = "zip-index"
            projection = AllProjection()

        zip_code = UnicodeAttribute(hash_key=True)

    class Spread(EncryptedModel):
        class Meta:
            table_name = ""
            keyring = KEYRING
            billing_mode = "PAY_PER_REQUEST"
            beacon_version = BeaconVersion(
                standard_beacons=(StandardBeacon("zip_code", length=8),),
                key_source=SingleBeaconKeySource(key_store=KEY_STORE, beacon_key_id="patients"),
                maximum_number_of_partitions=3,
            )

        patient_id = UnicodeAttribute(hash_key=True)
        zip_code = EncryptedAttribute(UnicodeAttribute())
        zip_index = ByZip()

    Spread.Meta.table_name = table_name
    Spread.Meta.host = ddb_endpoint  # type: ignore[attr-defined]
    Spread.create_table(wait=True)
    try:
        for n in range(30):
            Spread(f"s{n}", zip_code="02134" if n % 2 else "10001").save()
        # Items are spread over 3 partitions (random), each with its own beacon value.
        stored = {
            i["aws_dbe_b_zip_code"]["S"]
            for i in boto3.client("dynamodb", endpoint_url=ddb_endpoint).scan(TableName=table_name)[
                "Items"
            ]
        }
        assert len(stored) > 2
        found = {s.patient_id for s in Spread.zip_index.query("02134")}
        assert found == {f"s{n}" for n in range(30) if n % 2}
        with pytest.raises(ConfigurationError, match="once per partition"):
            list(Spread.zip_index.query("02134", limit=5))
    finally:
        Spread.delete_table()


def test_multi_tenant_beacon_key_source(
    ddb_backend: str, ddb_endpoint: str, table_name: str
) -> None:
    if ddb_backend != "ddblocal":
        pytest.skip("beacon GSIs are proven on DynamoDB Local")

    class Tenanted(EncryptedModel):
        class Meta:
            table_name = ""
            keyring = KEYRING
            billing_mode = "PAY_PER_REQUEST"
            beacon_key_source = MultiBeaconKeySource(key_store=KEY_STORE, key_field_name="tenant")

        patient_id = UnicodeAttribute(hash_key=True)
        tenant = SignedAttribute(UnicodeAttribute())
        ssn = EncryptedAttribute(UnicodeAttribute(), beacon=StandardBeacon(length=16))

    Tenanted.Meta.table_name = table_name
    Tenanted.Meta.host = ddb_endpoint  # type: ignore[attr-defined]
    Tenanted.create_table(wait=True)
    try:
        Tenanted("a", tenant="patients", ssn="078-05-1120").save()
        Tenanted("b", tenant="patients", ssn="219-09-9999").save()
        mine = (Tenanted.tenant == "patients") & (Tenanted.ssn == "078-05-1120")
        assert [t.patient_id for t in Tenanted.scan(mine)] == ["a"]
        with pytest.raises(ConfigurationError, match="beacon key id"):
            list(Tenanted.scan(Tenanted.ssn == "078-05-1120"))  # which tenant's key?
    finally:
        Tenanted.delete_table()
