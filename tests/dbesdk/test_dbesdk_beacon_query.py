"""Query rewriting for beacons: what DB-ESDK refuses is refused; re-filtering drops false
positives; CreateTable requests get beacon key schemas (unit tests, no server)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from pynamodb_encryption.dbesdk import (
    BeaconItemEncryptor,
    BeaconVersion,
    CompoundBeacon,
    CryptoAction,
    DbEsdkItemEncryptor,
    EncryptedPart,
    RawAesKeyring,
    SignedPart,
    SingleBeaconKeySource,
    StandardBeacon,
    StaticKeyStore,
    beacon_table_schema,
    number_of_queries,
    prepare_query,
)
from pynamodb_encryption.errors import ConfigurationError

E = CryptoAction.ENCRYPT_AND_SIGN
S = CryptoAction.SIGN_ONLY


def _beacons(*, partitions: int = 1, ssn_bits: int = 16) -> BeaconItemEncryptor:
    store = StaticKeyStore(
        branch_key_id="bk",
        branch_key_version=str(uuid.UUID(int=1)),
        branch_key=bytes(32),
        beacon_key=bytes(range(32)),
    )
    version = BeaconVersion(
        standard_beacons=(
            StandardBeacon("ssn", ssn_bits),
            StandardBeacon("zip", 10),
            StandardBeacon("tags", 8, as_set=True),
            StandardBeacon("last", 12, part_only=True),
        ),
        compound_beacons=(
            CompoundBeacon(
                "key",
                ".",
                encrypted=(EncryptedPart("last", "L-"),),
                signed=(SignedPart("visit", "V-"),),
            ),
        ),
        key_source=SingleBeaconKeySource(key_store=store, beacon_key_id="bk"),
        maximum_number_of_partitions=partitions,
    )
    encryptor = DbEsdkItemEncryptor(
        table_name="t",
        partition_key_name="pk",
        attribute_actions={
            "pk": S,
            "ssn": E,
            "zip": E,
            "tags": E,
            "last": E,
            "visit": S,
            "secret": E,
        },
        keyring=RawAesKeyring(key_namespace="ns", key_name="k", wrapping_key=bytes(32)),
    )
    return BeaconItemEncryptor(encryptor, version)


def _q(expr: str, values: dict[str, Any], *, scan: bool = True, beacons: Any = None) -> Any:
    request: dict[str, Any] = {"TableName": "t", "ExpressionAttributeValues": values}
    request["FilterExpression" if scan else "KeyConditionExpression"] = expr
    return prepare_query(beacons or _beacons(), request, scan=scan)


S1 = {":v": {"S": "078-05-1120"}}


def test_standard_beacon_equality_is_rewritten() -> None:
    beacons = _beacons()
    q = _q("ssn = :v", S1, scan=False, beacons=beacons)
    assert q.request["KeyConditionExpression"] == "#aws_dbe_b0 = :v"
    assert q.request["ExpressionAttributeNames"] == {"#aws_dbe_b0": "aws_dbe_b_ssn"}
    expected = beacons.beacons({"ssn": {"S": "078-05-1120"}})["aws_dbe_b_ssn"]
    assert q.request["ExpressionAttributeValues"] == {":v": expected}


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("ssn < :v", "standard beacon"),
        ("ssn <> :v", "standard beacon"),
        ("begins_with(ssn, :v)", "standard beacon"),
        ("ssn BETWEEN :v AND :w", "BETWEEN cannot be used with a standard"),
        ("secret = :v", "cannot be searched without a beacon"),
        ("last = :v", "part_only"),
        ("ssn = :v AND zip = :v", "two beacons"),
        ("ssn = :v AND pk = :v", "not a beacon"),
        ("size(ssn) > :n", "size cannot be used"),
        ("attribute_type(ssn, :t)", "attribute_type cannot be used"),
        ("key < :k", "LessThanComparable"),
        ("key BETWEEN :k AND :j", "LessThanComparable"),
        ("key = :bad", "prefix"),
        ("ssn = :missing", "not supplied"),
        ("ssn = = :v", "does not parse"),
    ],
)
def test_refused_like_dbesdk(expr: str, message: str) -> None:
    values = {
        **S1,
        ":w": {"S": "z"},
        ":n": {"N": "3"},
        ":t": {"S": "S"},
        ":k": {"S": "V-2024.L-Smith"},
        ":j": {"S": "V-2025.L-Jones"},
        ":bad": {"S": "Q-1"},
    }
    with pytest.raises(ConfigurationError, match=message):
        _q(expr, values)


def test_compound_beacon_comparisons_that_dbesdk_allows() -> None:
    beacons = _beacons()
    values = {":k": {"S": "V-2024.L-"}, ":a": {"S": "V-2024"}, ":b": {"S": "V-2025"}}
    q = _q("key >= :k AND key BETWEEN :a AND :b", values, beacons=beacons)
    # A bare encrypted prefix at the end stays as it is (not hashed) for a range comparison.
    assert q.request["ExpressionAttributeValues"][":k"] == {"S": "V-2024.L-"}
    eq = _q("key = :k", {":k": {"S": "V-2024.L-Smith"}}, beacons=beacons)
    value = eq.request["ExpressionAttributeValues"][":k"]["S"]
    stored = beacons.beacons({"last": {"S": "Smith"}, "visit": {"S": "2024"}})
    assert value == stored["aws_dbe_b_key"]["S"]


def test_as_set_beacon_with_contains() -> None:
    beacons = _beacons()
    q = _q("contains(tags, :t)", {":t": {"S": "red"}}, beacons=beacons)
    item = {"tags": {"SS": ["red", "blue"]}}
    assert (
        q.request["ExpressionAttributeValues"][":t"]["S"]
        in beacons.beacons(item)["aws_dbe_b_tags"]["SS"]
    )
    assert q.matches(item)
    assert not q.matches({"tags": {"SS": ["green"]}})


def test_refiltering_drops_false_positives() -> None:
    beacons = _beacons(ssn_bits=1)
    q = _q("ssn = :v", S1, scan=False, beacons=beacons)
    target = q.request["ExpressionAttributeValues"][":v"]
    collision = next(
        f"{n:09d}"
        for n in range(1000)
        if beacons.beacons({"ssn": {"S": f"{n:09d}"}})["aws_dbe_b_ssn"] == target
        and f"{n:09d}" != "078-05-1120"
    )
    # DynamoDB would return both items; only the real match reaches the caller.
    items = [{"pk": {"S": "a"}, "ssn": S1[":v"]}, {"pk": {"S": "b"}, "ssn": {"S": collision}}]
    assert q.filter(items) == [items[0]]


def test_partitions_are_required_checked_and_expanded() -> None:
    beacons = _beacons(partitions=3)
    with pytest.raises(ConfigurationError, match=":aws_dbe_partition"):
        _q("ssn = :v", S1, scan=False, beacons=beacons)
    with pytest.raises(ConfigurationError, match="must be less than"):
        _q("ssn = :v", {**S1, ":aws_dbe_partition": {"N": "3"}}, scan=False, beacons=beacons)
    with pytest.raises(ConfigurationError, match="Scan"):
        _q("ssn = :v", {**S1, ":aws_dbe_partition": {"N": "0"}}, beacons=beacons)
    with pytest.raises(ConfigurationError, match="no partitions"):
        _q("ssn = :v", {**S1, ":aws_dbe_partition": {"N": "0"}}, scan=False)
    q = _q("ssn = :v", {**S1, ":aws_dbe_partition": {"N": "2"}}, scan=False, beacons=beacons)
    assert ":aws_dbe_partition" not in q.request["ExpressionAttributeValues"]
    assert (
        number_of_queries(
            beacons, {"KeyConditionExpression": "ssn = :v", "ExpressionAttributeValues": S1}
        )
        == 3
    )
    # A scan matches every partition: the filter is OR-expanded with one value per partition.
    scan = _q("ssn = :v", S1, beacons=beacons)
    assert scan.request["FilterExpression"].count(" OR ") == 2
    assert len(scan.request["ExpressionAttributeValues"]) == 3
    assert len(set(map(str, scan.request["ExpressionAttributeValues"].values()))) == 3


def test_unused_names_are_dropped_and_projection_names_kept() -> None:
    q = prepare_query(
        _beacons(),
        {
            "TableName": "t",
            "KeyConditionExpression": "#s = :v",
            "ProjectionExpression": "#p, zip",
            "ExpressionAttributeNames": {"#s": "ssn", "#p": "pk"},
            "ExpressionAttributeValues": S1,
            "IndexName": "ssn-index",
        },
    )
    assert q.request["ExpressionAttributeNames"] == {"#p": "pk", "#aws_dbe_b0": "aws_dbe_b_ssn"}
    assert q.request["IndexName"] == "ssn-index"
    assert q.matches({"pk": {"S": "x"}, "ssn": S1[":v"]})


def test_legacy_parameters_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="ScanFilter"):
        prepare_query(_beacons(), {"TableName": "t", "ScanFilter": {}}, scan=True)


def test_create_table_on_beacons() -> None:
    request = {
        "TableName": "t",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "ssn", "AttributeType": "S"},
            {"AttributeName": "key", "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "ssn-index",
                "KeySchema": [
                    {"AttributeName": "ssn", "KeyType": "HASH"},
                    {"AttributeName": "key", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }
    out = beacon_table_schema(_beacons(), request)
    assert [d["AttributeName"] for d in out["AttributeDefinitions"]] == [
        "pk",
        "aws_dbe_b_ssn",
        "aws_dbe_b_key",
    ]
    assert out["GlobalSecondaryIndexes"][0]["KeySchema"][0]["AttributeName"] == "aws_dbe_b_ssn"
    assert request["AttributeDefinitions"][1]["AttributeName"] == "ssn"  # caller's not mutated
    bad = {**request, "KeySchema": [{"AttributeName": "secret", "KeyType": "HASH"}]}
    with pytest.raises(ConfigurationError, match="no beacon"):
        beacon_table_schema(_beacons(), bad)


def test_virtual_field_beacon_through_names_and_boolean_operators() -> None:
    from pynamodb_encryption.dbesdk import Insert, Lower, VirtualField, VirtualPart

    store = StaticKeyStore(
        branch_key_id="bk",
        branch_key_version=str(uuid.UUID(int=1)),
        branch_key=bytes(32),
        beacon_key=bytes(range(32)),
    )
    version = BeaconVersion(
        standard_beacons=(StandardBeacon("FullName", 24), StandardBeacon("last", 16)),
        virtual_fields=(
            VirtualField(
                "FullName",
                (VirtualPart("last", (Lower(), Insert("__"))), VirtualPart("first", (Lower(),))),
            ),
        ),
        key_source=SingleBeaconKeySource(key_store=store, beacon_key_id="bk"),
    )
    encryptor = DbEsdkItemEncryptor(
        table_name="t",
        partition_key_name="pk",
        attribute_actions={"pk": S, "last": E, "first": E},
        keyring=RawAesKeyring(key_namespace="ns", key_name="k", wrapping_key=bytes(32)),
    )
    beacons = BeaconItemEncryptor(encryptor, version)
    item = {"pk": {"S": "1"}, "last": {"S": "Smith"}, "first": {"S": "Ann"}}
    stored = beacons.encrypt(item)
    q = prepare_query(
        beacons,
        {
            "TableName": "t",
            "FilterExpression": "#f = :f OR NOT (#l = :l)",
            "ExpressionAttributeNames": {"#f": "FullName", "#l": "last"},
            "ExpressionAttributeValues": {":f": {"S": "smith__ann"}, ":l": {"S": "Jones"}},
        },
        scan=True,
    )
    values = q.request["ExpressionAttributeValues"]
    assert values[":f"] == stored["aws_dbe_b_FullName"]
    assert set(q.request["ExpressionAttributeNames"].values()) == {
        "aws_dbe_b_FullName",
        "aws_dbe_b_last",
    }
    assert q.decrypt([stored]) == [item]
    assert not q.matches({**item, "first": {"S": "Bob"}, "last": {"S": "Jones"}})
    assert q.matches({**item, "first": {"S": "Bob"}})  # NOT (last = Jones)


def test_tables_without_beacons_refuse_conditions_on_encrypted_fields() -> None:
    encryptor = _beacons().encryptor
    with pytest.raises(ConfigurationError, match="secret is encrypted"):
        prepare_query(
            encryptor,
            {
                "TableName": "t",
                "FilterExpression": "#s = :v",
                "ExpressionAttributeNames": {"#s": "secret"},
                "ExpressionAttributeValues": S1,
            },
            scan=True,
        )
    request = {
        "TableName": "t",
        "KeyConditionExpression": "pk = :v",
        "FilterExpression": "attribute_exists(secret)",
        "ExpressionAttributeValues": S1,
    }
    q = prepare_query(encryptor, request)
    assert q.request == request
    stored = encryptor.encrypt({"pk": S1[":v"], "secret": {"S": "x"}})
    assert q.decrypt([stored]) == [{"pk": S1[":v"], "secret": {"S": "x"}}]
    assert number_of_queries(encryptor, request) == 1
