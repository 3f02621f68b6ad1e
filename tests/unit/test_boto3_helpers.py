"""The boto3 helpers without a server: a small in-memory stand-in records every request.

These pin the fail-closed behaviour (refused before any request, DescribeTable included),
the plaintext hand-back of unprocessed and returned items, and what passes through.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from pynamodb_encryption import (
    SIGNATURE_ATTRIBUTE,
    AttributeActions,
    ConfigurationError,
    CryptoAction,
    EncryptedClient,
    EncryptionError,
    StaticMaterialsProvider,
    SymmetricKey,
    TableIndex,
    TableInfo,
    UnsupportedOperationError,
)
from pynamodb_encryption.boto3 import EncryptedPaginator

TABLE = "T"
_AES = SymmetricKey(bytes(range(32)), "AES")
_HMAC = SymmetricKey(bytes(range(32, 64)), "HmacSHA256")
PROVIDER = StaticMaterialsProvider(
    encryption_key=_AES, decryption_key=_AES, signing_key=_HMAC, verification_key=_HMAC
)
ACTIONS = AttributeActions(
    CryptoAction.ENCRYPT_AND_SIGN,
    {"signed": CryptoAction.SIGN_ONLY, "free": CryptoAction.DO_NOTHING},
)
DESCRIPTION = {
    "TableName": TABLE,
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "GlobalSecondaryIndexes": [
        {"IndexName": "g", "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}]}
    ],
    "LocalSecondaryIndexes": [
        {
            "IndexName": "l",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "lk", "KeyType": "RANGE"},
            ],
        }
    ],
}


class FakeClient:
    """Records calls; keeps put items in memory; can answer with prepared responses."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.unprocess_puts = False
        self.raise_error: ClientError | None = None

    def _record(self, operation: str, kwargs: dict[str, Any]) -> None:
        self.calls.append((operation, copy.deepcopy(kwargs)))
        if self.raise_error is not None:
            raise self.raise_error

    @property
    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]

    def describe_table(self, **kwargs: Any) -> Any:
        self._record("describe_table", kwargs)
        return {"Table": DESCRIPTION}

    def put_item(self, **kwargs: Any) -> Any:
        self._record("put_item", kwargs)
        item = kwargs["Item"]
        pk = item["pk"]["S"] if isinstance(item["pk"], dict) else item["pk"]
        self.items[(kwargs["TableName"], pk)] = item
        return {}

    def get_item(self, **kwargs: Any) -> Any:
        self._record("get_item", kwargs)
        found = self.items.get((kwargs["TableName"], kwargs["Key"]["pk"]["S"]))
        return {} if found is None else {"Item": copy.deepcopy(found)}

    def scan(self, **kwargs: Any) -> Any:
        self._record("scan", kwargs)
        items = [copy.deepcopy(v) for (t, _), v in self.items.items() if t == kwargs["TableName"]]
        return {"Items": items, "Count": len(items)}

    query = scan

    def update_item(self, **kwargs: Any) -> Any:
        self._record("update_item", kwargs)
        return {}

    def delete_item(self, **kwargs: Any) -> Any:
        self._record("delete_item", kwargs)
        return {}

    def batch_write_item(self, **kwargs: Any) -> Any:
        self._record("batch_write_item", kwargs)
        if self.unprocess_puts:
            return {"UnprocessedItems": copy.deepcopy(kwargs["RequestItems"])}
        return {"UnprocessedItems": {}}

    def batch_get_item(self, **kwargs: Any) -> Any:
        self._record("batch_get_item", kwargs)
        return {"Responses": {}, "UnprocessedKeys": {}}

    def transact_write_items(self, **kwargs: Any) -> Any:
        self._record("transact_write_items", kwargs)
        return {}

    def transact_get_items(self, **kwargs: Any) -> Any:
        self._record("transact_get_items", kwargs)
        return {"Responses": []}

    def execute_statement(self, **kwargs: Any) -> Any:
        raise AssertionError("must never be reached")

    def import_table(self, **kwargs: Any) -> Any:
        raise AssertionError("must never be reached")

    def list_tables(self, **kwargs: Any) -> Any:
        self._record("list_tables", kwargs)
        return {"TableNames": [TABLE]}

    def get_paginator(self, name: str) -> Any:
        client = self

        class Paginator:
            def paginate(self, **kwargs: Any) -> Any:
                yield getattr(client, name)(**kwargs)

        return Paginator()


@pytest.fixture
def fake() -> FakeClient:
    return FakeClient()


@pytest.fixture
def client(fake: FakeClient) -> EncryptedClient:
    return EncryptedClient(client=fake, materials_provider=PROVIDER, attribute_actions=ACTIONS)


def _item(pk: str = "a") -> dict[str, Any]:
    return {
        "pk": {"S": pk},
        "sk": {"N": "1"},
        "gk": {"S": "index key"},
        "lk": {"N": "7"},
        "secret": {"S": "s"},
        "signed": {"S": "v"},
        "free": {"N": "0"},
    }


def test_keys_of_every_index_stay_plaintext(client: EncryptedClient, fake: FakeClient) -> None:
    client.put_item(TableName=TABLE, Item=_item())
    stored = fake.items[(TABLE, "a")]
    for key in ("pk", "sk", "gk", "lk", "signed", "free"):
        assert stored[key] == _item()[key]
    assert set(stored["secret"]) == {"B"}
    assert fake.operations == ["describe_table", "put_item"]
    assert (
        client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})["Item"]
        == _item()
    )
    client.scan(TableName=TABLE)
    assert fake.operations.count("describe_table") == 1


def test_caller_arguments_are_not_modified(client: EncryptedClient) -> None:
    kwargs = {"TableName": TABLE, "Item": _item(), "ReturnValues": "NONE"}
    before = copy.deepcopy(kwargs)
    client.put_item(**kwargs)
    assert kwargs == before
    batch = {"RequestItems": {TABLE: [{"PutRequest": {"Item": _item("b")}}]}}
    before = copy.deepcopy(batch)
    client.batch_write_item(**batch)
    assert batch == before


REFUSED: list[tuple[str, dict[str, Any]]] = [
    ("execute_statement", {"Statement": "SELECT * FROM T"}),
    ("batch_execute_statement", {"Statements": []}),
    ("execute_transaction", {"TransactStatements": []}),
    (
        "update_item",
        {
            "TableName": TABLE,
            "Key": {},
            "UpdateExpression": "SET signed = :v",
            "ExpressionAttributeValues": {":v": {"S": "x"}},
        },
    ),
    (
        "update_item",
        {
            "TableName": TABLE,
            "Key": {},
            "UpdateExpression": "SET free = #s",
            "ExpressionAttributeNames": {"#s": "secret"},
        },
    ),
    (
        "update_item",
        {
            "TableName": TABLE,
            "Key": {},
            "UpdateExpression": "REMOVE #s",
            "ExpressionAttributeNames": {"#s": SIGNATURE_ATTRIBUTE},
        },
    ),
    ("update_item", {"TableName": TABLE, "Key": {}, "UpdateExpression": "SET unknown_attr = :v"}),
    (
        "update_item",
        {"TableName": TABLE, "Key": {}, "AttributeUpdates": {"signed": {"Action": "DELETE"}}},
    ),
    ("get_item", {"TableName": TABLE, "Key": {}, "ProjectionExpression": "pk"}),
    ("get_item", {"TableName": TABLE, "Key": {}, "AttributesToGet": ["pk"]}),
    ("query", {"TableName": TABLE, "Select": "SPECIFIC_ATTRIBUTES"}),
    ("scan", {"TableName": TABLE, "Select": "ALL_PROJECTED_ATTRIBUTES"}),
    ("batch_get_item", {"RequestItems": {TABLE: {"Keys": [], "ProjectionExpression": "pk"}}}),
    (
        "transact_get_items",
        {"TransactItems": [{"Get": {"TableName": TABLE, "Key": {}, "ProjectionExpression": "pk"}}]},
    ),
    (
        "transact_write_items",
        {
            "TransactItems": [
                {"Put": {"TableName": TABLE, "Item": _item()}},
                {"Update": {"TableName": TABLE, "Key": {}, "UpdateExpression": "ADD secret :one"}},
            ]
        },
    ),
    ("transact_write_items", {"TransactItems": [{"Bogus": {"TableName": TABLE}}]}),
    (
        "transact_get_items",
        {
            "TransactItems": [
                {"Get": {"TableName": TABLE, "Key": {}}},
                {"Get": {"TableName": "Other", "Key": {}, "AttributesToGet": ["pk"]}},
            ]
        },
    ),
    (
        "batch_get_item",
        {"RequestItems": {TABLE: {"Keys": []}, "Other": {"Keys": [], "AttributesToGet": ["a"]}}},
    ),
]


@pytest.mark.parametrize(("operation", "kwargs"), REFUSED)
def test_refused_before_any_request(
    client: EncryptedClient, fake: FakeClient, operation: str, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(UnsupportedOperationError):
        getattr(client, operation)(**kwargs)
    assert fake.calls == [], "not even DescribeTable"


def _with_known_table(fake: FakeClient) -> EncryptedClient:
    info = TableInfo.from_description(DESCRIPTION)
    return EncryptedClient(
        client=fake,
        materials_provider=PROVIDER,
        attribute_actions=ACTIONS,
        auto_refresh_table_indexes=False,
        table_info=[info],
    )


CONDITIONS_ON_ENCRYPTED: list[tuple[str, dict[str, Any]]] = [
    ("put_item", {"TableName": TABLE, "Item": _item(), "ConditionExpression": "secret <> :v"}),
    ("put_item", {"TableName": TABLE, "Item": _item(), "Expected": {"secret": {"Exists": False}}}),
    (
        "delete_item",
        {
            "TableName": TABLE,
            "Key": {},
            "ConditionExpression": "attribute_exists(#x.y)",
            "ExpressionAttributeNames": {"#x": "secret"},
        },
    ),
    (
        "update_item",
        {
            "TableName": TABLE,
            "Key": {},
            "UpdateExpression": "SET free = :v",
            "ConditionExpression": "secret = :s",
        },
    ),
    (
        "query",
        {
            "TableName": TABLE,
            "KeyConditionExpression": "pk = :p",
            "FilterExpression": "contains(secret, :s)",
        },
    ),
    ("query", {"TableName": TABLE, "QueryFilter": {"secret": {"ComparisonOperator": "NULL"}}}),
    ("scan", {"TableName": TABLE, "ScanFilter": {"secret": {"ComparisonOperator": "NULL"}}}),
    ("scan", {"TableName": TABLE, "FilterExpression": "secret = :s OR pk = :p"}),
    ("scan", {"TableName": TABLE, "FilterExpression": "a = 'x'"}),
    (
        "transact_write_items",
        {
            "TransactItems": [
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {},
                        "ConditionExpression": "begins_with(secret, :p)",
                    }
                }
            ]
        },
    ),
]


@pytest.mark.parametrize(("operation", "kwargs"), CONDITIONS_ON_ENCRYPTED)
def test_conditions_on_encrypted_attributes_are_refused(
    fake: FakeClient, operation: str, kwargs: dict[str, Any]
) -> None:
    client = _with_known_table(fake)
    with pytest.raises(UnsupportedOperationError):
        getattr(client, operation)(**kwargs)
    assert fake.calls == []


def test_conditions_on_signed_and_key_attributes_pass(fake: FakeClient) -> None:
    client = _with_known_table(fake)
    client.put_item(
        TableName=TABLE,
        Item=_item(),
        ConditionExpression="attribute_not_exists(pk) OR (signed = :v AND gk = :g)",
    )
    client.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
        UpdateExpression="SET free = free + :one",
        ConditionExpression="signed = :v",
    )
    client.scan(TableName=TABLE, Select="COUNT", FilterExpression="lk > :n")
    assert fake.operations == ["put_item", "update_item", "scan"]


def test_unprocessed_items_come_back_as_the_callers_plaintext(
    client: EncryptedClient, fake: FakeClient
) -> None:
    fake.unprocess_puts = True
    entries = [{"PutRequest": {"Item": _item(pk)}} for pk in ("a", "b")]
    entries.append({"DeleteRequest": {"Key": {"pk": {"S": "c"}, "sk": {"N": "1"}}}})
    response = client.batch_write_item(RequestItems={TABLE: entries})
    sent = fake.calls[-1][1]["RequestItems"][TABLE]
    assert set(sent[0]["PutRequest"]["Item"]["secret"]) == {"B"}
    assert response["UnprocessedItems"][TABLE] == entries


def test_full_return_values_are_decrypted(client: EncryptedClient, fake: FakeClient) -> None:
    client.put_item(TableName=TABLE, Item=_item())
    stored = fake.items[(TABLE, "a")]

    def returning(**kwargs: Any) -> Any:
        fake.calls.append(("delete_item", kwargs))
        return {"Attributes": copy.deepcopy(stored)}

    fake.delete_item = returning  # type: ignore[method-assign]
    got = client.delete_item(
        TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"N": "1"}}, ReturnValues="ALL_OLD"
    )
    assert got["Attributes"] == _item()


def _condition_failure(**extra: Any) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ConditionalCheckFailedException", "Message": "failed"}, **extra},
        "PutItem",
    )


def test_condition_failure_items_are_decrypted_or_dropped(
    client: EncryptedClient, fake: FakeClient
) -> None:
    client.put_item(TableName=TABLE, Item=_item())
    stored = copy.deepcopy(fake.items[(TABLE, "a")])
    fake.raise_error = _condition_failure(Item=copy.deepcopy(stored))
    with pytest.raises(ClientError) as caught:
        client.put_item(
            TableName=TABLE, Item=_item(), ConditionExpression="attribute_not_exists(pk)"
        )
    assert caught.value.response["Item"] == _item()  # type: ignore[typeddict-item]

    forged = copy.deepcopy(stored)
    forged["signed"] = {"S": "forged"}
    fake.raise_error = ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "x"},
            "CancellationReasons": [  # type: ignore[typeddict-unknown-key]
                {"Code": "ConditionalCheckFailed", "Item": copy.deepcopy(stored)},
                {"Code": "ConditionalCheckFailed", "Item": forged},
                {"Code": "None"},
            ],
        },
        "TransactWriteItems",
    )
    with pytest.raises(ClientError) as caught:
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": _item(),
                        "ConditionExpression": "signed = :v",
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {},
                        "ConditionExpression": "pk = :p",
                    }
                },
                {"Delete": {"TableName": TABLE, "Key": {}}},
            ]
        )
    reasons = caught.value.response["CancellationReasons"]  # type: ignore[typeddict-item]
    assert reasons[0]["Item"] == _item()
    assert "Item" not in reasons[1], "an item that does not verify is not handed back"


def test_transaction_encrypts_puts_only(client: EncryptedClient, fake: FakeClient) -> None:
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": _item()}},
            {"Delete": {"TableName": TABLE, "Key": key}},
            {"Update": {"TableName": TABLE, "Key": key, "UpdateExpression": "SET free = :v"}},
            {
                "ConditionCheck": {
                    "TableName": TABLE,
                    "Key": key,
                    "ConditionExpression": "signed = :v",
                }
            },
        ]
    )
    sent = fake.calls[-1][1]["TransactItems"]
    assert set(sent[0]["Put"]["Item"]["secret"]) == {"B"}
    assert SIGNATURE_ATTRIBUTE in sent[0]["Put"]["Item"]
    assert sent[1] == {"Delete": {"TableName": TABLE, "Key": key}}


def test_passthrough_and_refusal_of_other_attributes(
    client: EncryptedClient, fake: FakeClient
) -> None:
    assert client.list_tables() == {"TableNames": [TABLE]}
    assert client.describe_table(TableName=TABLE)["Table"]["TableName"] == TABLE
    with pytest.raises(UnsupportedOperationError):
        _ = client.import_table
    with pytest.raises(AttributeError):
        _ = client.no_such_operation
    with pytest.raises(AttributeError):
        _ = client._client_internals
    assert isinstance(client.get_paginator("scan"), EncryptedPaginator)
    with pytest.raises(UnsupportedOperationError):
        client.get_paginator("something_new")


def test_paginator_checks_before_the_first_page(client: EncryptedClient, fake: FakeClient) -> None:
    paginator = client.get_paginator("scan")
    with pytest.raises(UnsupportedOperationError):
        paginator.paginate(TableName=TABLE, ProjectionExpression="pk")
    assert fake.calls == []
    client.put_item(TableName=TABLE, Item=_item())
    pages = list(paginator.paginate(TableName=TABLE))
    assert pages[0]["Items"] == [_item()]


def test_reference_style_per_call_config_is_explained(client: EncryptedClient) -> None:
    with pytest.raises(ConfigurationError, match="item_encryptor"):
        client.put_item(TableName=TABLE, Item=_item(), crypto_config=object())


def test_configuration_errors(fake: FakeClient) -> None:
    with pytest.raises(ConfigurationError):
        EncryptedClient(client=fake, materials_provider=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        EncryptedClient(
            client=fake,
            materials_provider=PROVIDER,
            attribute_actions={"a": "b"},  # type: ignore[arg-type]
        )
    with pytest.raises(ConfigurationError):
        EncryptedClient(client=None, materials_provider=PROVIDER)
    explicit_encrypt_key = AttributeActions(
        CryptoAction.SIGN_ONLY, {"gk": CryptoAction.ENCRYPT_AND_SIGN}
    )
    strict = EncryptedClient(
        client=fake, materials_provider=PROVIDER, attribute_actions=explicit_encrypt_key
    )
    with pytest.raises(ConfigurationError):
        strict.put_item(TableName=TABLE, Item=_item())
    no_describe = EncryptedClient(
        client=fake, materials_provider=PROVIDER, auto_refresh_table_indexes=False
    )
    with pytest.raises(ConfigurationError):
        no_describe.get_item(TableName=TABLE, Key={})
    assert fake.operations == ["describe_table"]


def test_no_request_in_constructors(fake: FakeClient) -> None:
    EncryptedClient(client=fake, materials_provider=PROVIDER)
    assert fake.calls == []


def test_table_info() -> None:
    info = TableInfo.from_description(DESCRIPTION)
    assert info.primary_index == TableIndex("pk", "sk")
    assert info.index_key_names == {"pk", "sk", "gk", "lk"}
    assert hash(info) == hash(TableInfo.from_description(DESCRIPTION))
    with pytest.raises(ConfigurationError):
        TableIndex("")
    with pytest.raises(ConfigurationError):
        TableInfo(name="", primary_index=TableIndex("pk"))
    with pytest.raises(ConfigurationError):
        TableInfo(name="x", primary_index=TableIndex("pk"), secondary_indexes=["gk"])  # type: ignore[list-item]


def test_resource_shape_conditions_and_values(fake: FakeClient) -> None:
    """``expect_standard_dictionaries``: Python values and Attr conditions, as on a resource."""
    client = EncryptedClient(
        client=fake,
        materials_provider=PROVIDER,
        attribute_actions=ACTIONS,
        expect_standard_dictionaries=True,
        table_info=TableInfo.from_description(DESCRIPTION),
    )
    with pytest.raises(UnsupportedOperationError) as caught:
        client.put_item(
            TableName=TABLE,
            Item={"pk": "a", "sk": 1},
            ConditionExpression=Attr("secret.deep").exists() & Attr("signed").eq("v"),
        )
    assert caught.value.attribute == "secret"
    with pytest.raises(EncryptionError) as float_error:
        client.put_item(TableName=TABLE, Item={"pk": "a", "sk": 1, "secret": 0.125})
    assert "0.125" not in str(float_error.value)
    assert fake.calls == []
    client.put_item(
        TableName=TABLE,
        Item={"pk": "a", "sk": Decimal(1), "secret": {"x": [1, b"b"]}},
        ConditionExpression=Attr("signed").eq("v"),
    )
    sent = fake.calls[-1][1]["Item"]
    assert sent["pk"] == "a"
    assert sent["secret"].__class__.__name__ == "Binary"


def test_resource_shape_unprocessed_items_are_plaintext(fake: FakeClient) -> None:
    """What boto3's BatchWriter re-buffers after a partial write must be the plaintext."""
    client = EncryptedClient(
        client=fake,
        materials_provider=PROVIDER,
        attribute_actions=ACTIONS,
        expect_standard_dictionaries=True,
        table_info=TableInfo.from_description(DESCRIPTION),
    )
    fake.unprocess_puts = True
    entries = [
        {"PutRequest": {"Item": {"pk": pk, "sk": 1, "secret": {"a": {1, 2}}, "signed": b"x"}}}
        for pk in ("a", "b")
    ]
    response = client.batch_write_item(RequestItems={TABLE: entries})
    assert response["UnprocessedItems"][TABLE] == entries


def test_package_name_does_not_shadow_boto3() -> None:
    import sys

    import boto3

    import pynamodb_encryption.boto3 as ours

    assert boto3 is not ours
    assert sys.modules["boto3"] is boto3
    assert hasattr(boto3, "client")
    assert hasattr(boto3, "resource")
    assert ours.__name__ == "pynamodb_encryption.boto3"
