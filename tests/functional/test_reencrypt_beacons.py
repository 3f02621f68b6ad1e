"""The re-encryption job on a table with beacons, on DynamoDB Local: a legacy table converted to
a DB-ESDK model with two beacons (every item then found by equality queries on the beacon
GSIs, a second run rewrites nothing, a concurrent unsigned write slipped in between the job's
read and its write is kept), and a beacon added to the schema (every item rewritten with it,
the others left as they are)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from pynamodb_encryption import StaticMaterialsProvider, SymmetricKey
from pynamodb_encryption.dbesdk import (
    HierarchicalKeyring,
    SingleBeaconKeySource,
    StandardBeacon,
    StaticKeyStore,
)
from pynamodb_encryption.maintenance import (
    CryptoConfig,
    ReencryptOptions,
    WriteMode,
    job_for_model,
    reencrypt_table,
)
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel

PROVIDER = StaticMaterialsProvider(
    encryption_key=SymmetricKey.generate("AES", 256),
    signing_key=SymmetricKey.generate("HmacSHA256", 256),
)
KEY_STORE = StaticKeyStore(
    branch_key_id="patients",
    branch_key_version=str(uuid.uuid4()),
    branch_key=secrets.token_bytes(32),
    beacon_key=secrets.token_bytes(32),
)
KEYRING = HierarchicalKeyring(key_store=KEY_STORE, branch_key_id="patients")
PEOPLE = [
    ("p1", "078-05-1120", "02134"),
    ("p2", "219-09-9999", "02134"),
    ("p3", "457-55-5462", "10001"),
    ("p4", "078-05-1120", "94105"),
    ("p5", "123-45-6789", "10001"),
    ("p6", "987-65-4320", "60601"),
]


def _legacy_model(table: str, host: str) -> Any:
    class LegacyPatient(EncryptedModel):
        class Meta:
            table_name = table
            materials_provider = PROVIDER

        patient_id = UnicodeAttribute(hash_key=True)
        ssn = EncryptedAttribute(UnicodeAttribute())
        zip_code = EncryptedAttribute(UnicodeAttribute())
        notes = UnicodeAttribute(null=True)  # unsigned

    LegacyPatient.Meta.host = host  # type: ignore[attr-defined]
    return LegacyPatient


def _beacon_model(
    table: str, host: str, *, zip_beacon: bool = True, beacon_key: bytes | None = None
) -> Any:
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

    zip_attribute = (
        EncryptedAttribute(UnicodeAttribute(), beacon=StandardBeacon(length=10))
        if zip_beacon
        else EncryptedAttribute(UnicodeAttribute())
    )

    class Patient(EncryptedModel):
        class Meta:
            table_name = table
            keyring = KEYRING
            billing_mode = "PAY_PER_REQUEST"
            if beacon_key is not None:
                beacon_key_source = SingleBeaconKeySource(
                    key_store=StaticKeyStore(
                        branch_key_id="patients",
                        branch_key_version=str(uuid.uuid4()),
                        branch_key=secrets.token_bytes(32),
                        beacon_key=beacon_key,
                    ),
                    beacon_key_id="patients",
                )

        patient_id = UnicodeAttribute(hash_key=True)
        ssn = EncryptedAttribute(UnicodeAttribute(), beacon=StandardBeacon(length=16))
        zip_code = zip_attribute
        notes = UnicodeAttribute(null=True)  # unsigned
        ssn_index = SsnIndex()
        if zip_beacon:
            zip_index = ZipIndex()

    Patient.Meta.host = host  # type: ignore[attr-defined]
    return Patient


@pytest.fixture
def patients(ddb_backend: str, ddb_endpoint: str, table_name: str) -> Iterator[Any]:
    if ddb_backend != "ddblocal":
        pytest.skip("beacon GSIs are proven on DynamoDB Local")
    model = _beacon_model(table_name, ddb_endpoint)
    model.create_table(wait=True)
    yield model
    model.delete_table()


def _ids(results: Any) -> set[str]:
    return {p.patient_id for p in results}


def _assert_found(model: Any) -> None:
    for pid, ssn, zip_code in PEOPLE:
        assert pid in _ids(model.ssn_index.query(ssn))
        assert pid in _ids(model.zip_index.query(zip_code))
    assert _ids(model.ssn_index.query("078-05-1120")) == {"p1", "p4"}
    assert _ids(model.zip_index.query("10001")) == {"p3", "p5"}


def test_legacy_to_dbesdk_with_beacons_keeps_a_concurrent_unsigned_write(
    patients: Any, dynamodb_client: Any
) -> None:
    table = patients.Meta.table_name
    legacy = _legacy_model(table, patients.Meta.host)
    for pid, ssn, zip_code in PEOPLE:
        legacy(pid, ssn=ssn, zip_code=zip_code, notes=f"n {pid}").save()
    assert _ids(patients.ssn_index.query("078-05-1120")) == set()

    # Between the job's read of p3 and its write, the application changes an unsigned field.
    other = boto3.client("dynamodb", endpoint_url=patients.Meta.host)
    slipped: list[str] = []

    def slip_in(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key") == {"patient_id": {"S": "p3"}} and not slipped:
            other.update_item(
                TableName=table,
                Key={"patient_id": {"S": "p3"}},
                UpdateExpression="SET notes = :n",
                ExpressionAttributeValues={":n": {"S": "written meanwhile"}},
            )
            slipped.append("p3")

    event = "before-parameter-build.dynamodb.UpdateItem"
    dynamodb_client.meta.events.register(event, slip_in)
    job = job_for_model(
        patients,
        old=CryptoConfig(
            materials_provider=PROVIDER, attribute_actions=legacy.get_attribute_actions()
        ),
    )
    try:
        first = reencrypt_table(dynamodb_client, job, ReencryptOptions(page_size=4))
    finally:
        dynamodb_client.meta.events.unregister(event, slip_in)
    assert first.ok, first.to_dict()
    assert slipped == ["p3"]
    assert first.reencrypted == len(PEOPLE)
    assert first.conflicts_retried == 1

    _assert_found(patients)
    assert patients.get("p3").notes == "written meanwhile"
    assert patients.get("p1").notes == "n p1"
    raw = dynamodb_client.get_item(TableName=table, Key={"patient_id": {"S": "p1"}})["Item"]
    assert "*amzn-ddb-map-sig*" not in raw
    assert raw["aws_dbe_v_1"] == {"S": " "}

    second = reencrypt_table(dynamodb_client, job)
    assert second.ok
    assert second.reencrypted == 0
    assert second.already_current == len(PEOPLE)


def test_a_beacon_added_to_the_schema_is_written_to_every_item(
    patients: Any, dynamodb_client: Any
) -> None:
    table = patients.Meta.table_name
    before = _beacon_model(table, patients.Meta.host, zip_beacon=False)
    for pid, ssn, zip_code in PEOPLE:
        before(pid, ssn=ssn, zip_code=zip_code).save()
    assert _ids(patients.zip_index.query("10001")) == set()
    # p6 already written with both beacons: it is left alone.
    patients("p6", ssn=PEOPLE[5][1], zip_code=PEOPLE[5][2]).save()

    job = job_for_model(patients, old=CryptoConfig(dbesdk=_config_of(before)))
    first = reencrypt_table(dynamodb_client, job)
    assert first.ok, first.to_dict()
    assert (first.reencrypted, first.already_current) == (len(PEOPLE) - 1, 1)
    _assert_found(patients)
    second = reencrypt_table(dynamodb_client, job)
    assert second.ok
    assert second.reencrypted == 0

    # Back to a configuration without the zip beacon: the stale beacon is removed.
    back = job_for_model(before, old=CryptoConfig(dbesdk=_config_of(patients)))
    third = reencrypt_table(dynamodb_client, back)
    assert third.ok
    assert third.reencrypted == len(PEOPLE)
    raw = dynamodb_client.get_item(TableName=table, Key={"patient_id": {"S": "p2"}})["Item"]
    assert "aws_dbe_b_ssn" in raw
    assert "aws_dbe_b_zip_code" not in raw
    assert _ids(before.ssn_index.query("219-09-9999")) == {"p2"}


def test_a_new_beacon_key_rewrites_every_beacon_in_transactions(
    patients: Any, dynamodb_client: Any
) -> None:
    table = patients.Meta.table_name
    for pid, ssn, zip_code in PEOPLE:
        patients(pid, ssn=ssn, zip_code=zip_code).save()
    rotated = _beacon_model(table, patients.Meta.host, beacon_key=secrets.token_bytes(32))
    assert _ids(rotated.ssn_index.query("078-05-1120")) == set()  # old beacons: not found

    job = job_for_model(rotated, old=CryptoConfig(dbesdk=_config_of(patients)))
    options = ReencryptOptions(write_mode=WriteMode.TRANSACT, transaction_size=4)
    first = reencrypt_table(dynamodb_client, job, options)
    assert first.ok, first.to_dict()
    assert first.reencrypted == len(PEOPLE)
    _assert_found(rotated)
    assert _ids(patients.ssn_index.query("078-05-1120")) == set()  # the old key finds nothing
    second = reencrypt_table(dynamodb_client, job, options)
    assert second.ok
    assert second.already_current == len(PEOPLE)


def _config_of(model: Any) -> Any:
    job = job_for_model(model, old=CryptoConfig())
    return job.new.dbesdk
