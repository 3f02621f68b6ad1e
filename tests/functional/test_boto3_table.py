"""EncryptedTable and EncryptedResource against a real DynamoDB API (DynamoDB Local and moto)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import Binary
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pynamodb_encryption import (
    SIGNATURE_ATTRIBUTE,
    AttributeActions,
    ConfigurationError,
    CryptoAction,
    EncryptedResource,
    EncryptedTable,
    EncryptionError,
    StaticMaterialsProvider,
    SymmetricKey,
    TableIndex,
    TableInfo,
    UnsupportedOperationError,
    WrappedMaterialsProvider,
)

ACTIONS = AttributeActions(
    default_action=CryptoAction.ENCRYPT_AND_SIGN,
    attribute_actions={"signed": CryptoAction.SIGN_ONLY, "hits": CryptoAction.DO_NOTHING},
)
_AES = SymmetricKey(bytes(range(32)), "AES")
_HMAC = SymmetricKey(bytes(range(32, 64)), "HmacSHA256")
PROVIDERS = {
    "static": StaticMaterialsProvider(
        encryption_key=_AES, decryption_key=_AES, signing_key=_HMAC, verification_key=_HMAC
    ),
    "wrapped": WrappedMaterialsProvider(
        wrapping_key=SymmetricKey(bytes(range(16)), "AES"), signing_key=_HMAC
    ),
}


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request: pytest.FixtureRequest) -> Any:
    return PROVIDERS[request.param]


@pytest.fixture
def resource(ddb_endpoint: str) -> Any:
    return boto3.resource("dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1")


@pytest.fixture
def table_name_created(make_table: Callable[..., str]) -> str:
    return make_table(range_key=True)


@pytest.fixture
def raw_table(resource: Any, table_name_created: str) -> Any:
    return resource.Table(table_name_created)


@pytest.fixture
def table(raw_table: Any, provider: Any) -> EncryptedTable:
    return EncryptedTable(table=raw_table, materials_provider=provider, attribute_actions=ACTIONS)


def _item(pk: str = "p", sk: int = 1, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": pk,
        "sk": sk,
        "secret": "classified",
        "signed": "visible",
        "hits": 0,
        "amount": Decimal("12.50"),
        "blob": b"\x00\xff",
        "tags": {"a", "b"},
        "nums": {1, 2},
        "doc": {"list": [1, "two", None, True], "bin": Binary(b"\x01")},
    }
    item.update(extra)
    return item


def test_round_trip_matches_plain_boto3_values(
    table: EncryptedTable, raw_table: Any, resource: Any, table_name_created: str
) -> None:
    item = _item()
    table.put_item(Item=item)
    stored = raw_table.get_item(Key={"pk": "p", "sk": 1})["Item"]
    assert isinstance(stored["secret"], Binary)
    assert stored["signed"] == "visible"
    assert SIGNATURE_ATTRIBUTE in stored

    got = table.get_item(Key={"pk": "p", "sk": 1})["Item"]
    # Exactly what a plain boto3 Table returns for the same plaintext item.
    raw_table.put_item(Item={**item, "pk": "plain"})
    plain = raw_table.get_item(Key={"pk": "plain", "sk": 1})["Item"]
    plain["pk"] = "p"
    assert got == plain
    assert {type(v) for v in got.values()} == {type(v) for v in plain.values()}
    assert isinstance(got["blob"], Binary)
    assert isinstance(got["sk"], Decimal)


def test_query_scan_with_condition_objects(table: EncryptedTable) -> None:
    for n in range(5):
        table.put_item(Item=_item("q", n, secret=f"s{n}"))
    items = table.query(
        KeyConditionExpression=Key("pk").eq("q") & Key("sk").gte(2),
        FilterExpression=Attr("signed").eq("visible"),
    )["Items"]
    assert [i["secret"] for i in items] == ["s2", "s3", "s4"]
    assert len(table.scan()["Items"]) == 5
    assert table.scan(Select="COUNT")["Count"] == 5


def test_update_delete_and_conditions(table: EncryptedTable) -> None:
    table.put_item(Item=_item())
    response = table.update_item(
        Key={"pk": "p", "sk": 1},
        UpdateExpression="SET hits = hits + :one",
        ConditionExpression=Attr("signed").eq("visible"),
        ExpressionAttributeValues={":one": 1},
        ReturnValues="ALL_NEW",
    )
    assert response["Attributes"]["hits"] == 1
    assert response["Attributes"]["secret"] == "classified"
    with pytest.raises(UnsupportedOperationError):
        table.update_item(
            Key={"pk": "p", "sk": 1},
            UpdateExpression="SET signed = :v",
            ExpressionAttributeValues={":v": "forged"},
        )
    with pytest.raises(UnsupportedOperationError):
        table.delete_item(Key={"pk": "p", "sk": 1}, ConditionExpression=Attr("secret").exists())
    with pytest.raises(UnsupportedOperationError):
        table.put_item(Item=_item(), ConditionExpression=Attr("doc.list").exists())
    old = table.delete_item(Key={"pk": "p", "sk": 1}, ReturnValues="ALL_OLD")["Attributes"]
    assert old["secret"] == "classified"
    assert "Item" not in table.get_item(Key={"pk": "p", "sk": 1})


def test_batch_writer(table: EncryptedTable, raw_table: Any) -> None:
    with table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as writer:
        for n in range(30):
            writer.put_item(Item=_item("b", n, secret=f"s{n}"))
        writer.delete_item(Key={"pk": "b", "sk": 0})
    raw = raw_table.scan()["Items"]
    assert len(raw) == 29
    assert all(isinstance(i["secret"], Binary) for i in raw)
    got = sorted(table.scan()["Items"], key=lambda i: i["sk"])
    assert [i["secret"] for i in got] == [f"s{n}" for n in range(1, 30)]


def test_float_is_refused_without_quoting_the_value(table: EncryptedTable) -> None:
    with pytest.raises(EncryptionError) as caught:
        table.put_item(Item=_item(secret=1.25))
    assert caught.value.attribute == "secret"
    assert "1.25" not in str(caught.value)


def test_refusals(table: EncryptedTable) -> None:
    with pytest.raises(UnsupportedOperationError):
        table.get_item(Key={"pk": "p", "sk": 1}, ProjectionExpression="pk")
    with pytest.raises(UnsupportedOperationError):
        table.scan(FilterExpression=Attr("secret").begins_with("c"))
    with pytest.raises(UnsupportedOperationError):
        table.query(KeyConditionExpression=Key("pk").eq("p"), Select="SPECIFIC_ATTRIBUTES")


def test_explicit_table_info_and_no_describe(raw_table: Any, provider: Any) -> None:
    calls: list[str] = []
    raw_table.meta.client.meta.events.register(
        "before-call.dynamodb.DescribeTable", lambda **_: calls.append("d")
    )
    info = TableInfo(name=raw_table.name, primary_index=TableIndex("pk", "sk"))
    table = EncryptedTable(
        table=raw_table,
        materials_provider=provider,
        table_info=info,
        attribute_actions=ACTIONS,
        auto_refresh_table_indexes=False,
    )
    table.put_item(Item=_item())
    assert table.get_item(Key={"pk": "p", "sk": 1})["Item"]["secret"] == "classified"
    assert calls == []
    with pytest.raises(ConfigurationError):
        EncryptedTable(
            table=raw_table, materials_provider=provider, auto_refresh_table_indexes=False
        )


def test_passthrough_metadata(table: EncryptedTable, table_name_created: str) -> None:
    assert table.name == table_name_created
    assert table.table_status == "ACTIVE"
    assert [k["AttributeName"] for k in table.key_schema] == ["pk", "sk"]


def test_resource_helpers(resource: Any, provider: Any, table_name_created: str) -> None:
    encrypted = EncryptedResource(
        resource=resource, materials_provider=provider, attribute_actions=ACTIONS
    )
    table = encrypted.Table(table_name_created)
    assert isinstance(table, EncryptedTable)
    table.put_item(Item=_item("r", 0))
    response = encrypted.batch_write_item(
        RequestItems={
            table_name_created: [{"PutRequest": {"Item": _item("r", n)}} for n in range(1, 4)]
        }
    )
    assert not response.get("UnprocessedItems")
    raw = resource.Table(table_name_created).get_item(Key={"pk": "r", "sk": 2})["Item"]
    assert isinstance(raw["secret"], Binary)
    got = encrypted.batch_get_item(
        RequestItems={table_name_created: {"Keys": [{"pk": "r", "sk": n} for n in range(4)]}}
    )["Responses"][table_name_created]
    assert sorted(i["sk"] for i in got) == [0, 1, 2, 3]
    assert all(i["secret"] == "classified" and isinstance(i["blob"], Binary) for i in got)
    with pytest.raises(UnsupportedOperationError):
        encrypted.batch_get_item(
            RequestItems={
                table_name_created: {"Keys": [{"pk": "r", "sk": 0}], "ProjectionExpression": "pk"}
            }
        )
    names = [t.name for t in encrypted.tables.all()]
    assert table_name_created in names
    assert all(isinstance(t, EncryptedTable) for t in encrypted.tables.all())


_python_values = st.recursive(
    st.one_of(
        st.text(max_size=15),
        st.integers(-(10**18), 10**18).map(Decimal),
        st.binary(min_size=1, max_size=15).map(Binary),
        st.booleans(),
        st.none(),
        st.frozensets(st.text(max_size=5), min_size=1, max_size=3).map(set),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    attributes=st.dictionaries(
        st.text(st.characters(codec="utf-8", exclude_characters="*"), min_size=1, max_size=8),
        _python_values,
        max_size=5,
    )
)
def test_round_trip_any_python_item(table: EncryptedTable, attributes: dict[str, Any]) -> None:
    item = {k: v for k, v in attributes.items() if k not in ("pk", "sk")}
    item.update({"pk": "h", "sk": 1})
    table.put_item(Item=item)
    assert table.get_item(Key={"pk": "h", "sk": 1})["Item"] == item


def test_per_call_and_per_table_overrides(
    table: EncryptedTable, raw_table: Any, resource: Any, provider: Any, table_name_created: str
) -> None:
    sign_only = AttributeActions(default_action=CryptoAction.SIGN_ONLY)
    table.put_item(Item=_item(), attribute_actions=sign_only)
    assert raw_table.get_item(Key={"pk": "p", "sk": 1})["Item"]["secret"] == "classified"
    got = table.get_item(Key={"pk": "p", "sk": 1}, attribute_actions=sign_only)["Item"]
    assert got["secret"] == "classified"

    encrypted = EncryptedResource(resource=resource, materials_provider=provider)
    signing = encrypted.Table(table_name_created, attribute_actions=sign_only)
    assert signing.get_item(Key={"pk": "p", "sk": 1})["Item"]["secret"] == "classified"
    with pytest.raises(ConfigurationError):
        encrypted.Table(table_name_created, crypto_config=object())
