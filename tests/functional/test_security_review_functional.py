"""Security review regressions against real servers (DynamoDB Local / moto, moto KMS).

- no plaintext in any DEBUG log line of pynamodb, botocore, boto3 or this library;
- no plaintext in PynamoDB / botocore errors wrapping a failed write;
- reads never accept an unsigned item, whatever the read path;
- the caller's arguments and model instances are not changed by writes;
- the most-recent provider ignores the material name an item's (unsigned) md claims.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError

from pynamodb_encryption import (
    MATERIAL_DESCRIPTION_ATTRIBUTE,
    SIGNATURE_ATTRIBUTE,
    AttributeActions,
    AwsKmsMaterialsProvider,
    CryptoAction,
    DecryptionError,
    EncryptedClient,
    EncryptedTable,
    ItemEncryptor,
    MetaStore,
    MostRecentProvider,
    PlaintextItemError,
    PynamoDBEncryptionError,
    StaticMaterialsProvider,
    SymmetricKey,
    TableIndex,
    TableInfo,
)
from pynamodb_encryption.core._md import (
    MD_META_ID,
    decode_material_description,
    encode_material_description,
)
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

# ASCII on purpose: botocore logs JSON bodies, where non-ASCII text would be \u-escaped.
SECRET = "hunter2-correct-horse-battery-staple"
SECRET_FORMS = (SECRET, base64.b64encode(SECRET.encode()).decode())
LOGGERS = ("", "pynamodb", "botocore", "boto3", "urllib3", "pynamodb_encryption")
ACTIONS = AttributeActions(
    CryptoAction.ENCRYPT_AND_SIGN,
    {"status": CryptoAction.SIGN_ONLY, "note": CryptoAction.DO_NOTHING},
)


def _provider() -> StaticMaterialsProvider:
    return StaticMaterialsProvider(
        encryption_key=SymmetricKey.generate("AES", 256),
        signing_key=SymmetricKey.generate("HmacSHA256", 256),
    )


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.lines.append(record.getMessage())
        self.lines.append(repr(record.args))


@contextlib.contextmanager
def debug_logs() -> Iterator[_Capture]:
    handler = _Capture()
    saved = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for logger, level in saved:
            logger.setLevel(level)


def assert_not_logged(capture: _Capture, *secrets: str) -> None:
    assert capture.lines, "nothing was logged: the capture is not working"
    for line in capture.lines:
        for secret in secrets:
            assert secret not in line, f"plaintext in a log line: {line[:200]}"


def assert_no_secret_in_chain(exc: BaseException) -> None:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        for text in (str(current), repr(current.args)):
            assert SECRET not in text, f"{type(current).__name__} carries plaintext"
        todo.extend((current.__cause__, current.__context__, getattr(current, "cause", None)))


def build_model(table: str, host: str, provider: Any) -> Any:
    class Secretive(EncryptedModel):
        class Meta:
            table_name = table
            materials_provider = provider

        pk = UnicodeAttribute(hash_key=True)
        secret = EncryptedAttribute(UnicodeAttribute(null=True))
        status = SignedAttribute(UnicodeAttribute(null=True))
        counter = SignedAttribute(NumberAttribute(null=True))
        note = UnicodeAttribute(null=True)

    Secretive.Meta.host = host  # type: ignore[attr-defined]
    Secretive._connection = None
    return Secretive


@pytest.fixture
def model(ddb_endpoint: str, table_name: str) -> Iterator[Any]:
    built = build_model(table_name + "-m", ddb_endpoint, _provider())
    built.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    yield built
    with contextlib.suppress(Exception):
        built.delete_table()


@pytest.fixture
def table(make_table: Callable[..., str]) -> str:
    return make_table()


def _info(name: str) -> TableInfo:
    return TableInfo(name=name, primary_index=TableIndex(partition="pk"))


# -------------------------------------------------------------------------------------------
# Logs


def test_model_operations_log_no_plaintext(model: Any) -> None:
    with debug_logs() as capture:
        record = model("a", secret=SECRET, status="s", counter=1, note="n")
        record.save()
        loaded = model.get("a", consistent_read=True)
        assert loaded.secret == SECRET
        record.update(actions=[model.counter.add(1)])
        record.update(actions=[model.secret.set(SECRET + "-2")])
        record.refresh(consistent_read=True)
        list(model.query("a"))
        list(model.scan())
        with model.batch_write() as batch:
            batch.save(model("b", secret=SECRET))
        list(model.batch_get(["a", "b"]))
        repr(loaded)
        str(loaded)
    assert_not_logged(capture, *SECRET_FORMS)


def test_boto3_helpers_log_no_plaintext(dynamodb_client: Any, table: str) -> None:
    import boto3

    client = EncryptedClient(dynamodb_client, _provider(), ACTIONS, table_info=_info(table))
    item = {"pk": {"S": "a"}, "secret": {"S": SECRET}, "status": {"S": "s"}}
    endpoint = dynamodb_client.meta.endpoint_url
    resource_table = boto3.resource(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1"
    ).Table(table)
    encrypted_table = EncryptedTable(resource_table, _provider(), _info(table), ACTIONS)
    with debug_logs() as capture:
        client.put_item(TableName=table, Item=item)
        assert client.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]["secret"] == {
            "S": SECRET
        }
        client.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "a"}},
        )
        client.scan(TableName=table)
        client.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": dict(item, pk={"S": "b"})}}]}
        )
        client.batch_get_item(
            RequestItems={table: {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}]}}
        )
        client.transact_write_items(
            TransactItems=[{"Put": {"TableName": table, "Item": dict(item, pk={"S": "c"})}}]
        )
        client.transact_get_items(
            TransactItems=[{"Get": {"TableName": table, "Key": {"pk": {"S": "c"}}}}]
        )
        with encrypted_table.batch_writer() as writer:
            writer.put_item(Item={"pk": "d", "secret": SECRET})
        encrypted_table.put_item(Item={"pk": "e", "secret": SECRET})
        assert encrypted_table.get_item(Key={"pk": "e"})["Item"]["secret"] == SECRET
    assert_not_logged(capture, *SECRET_FORMS)


# botocore logs every response body at DEBUG (botocore.parsers); the library's KMS calls run
# under a filter that redacts those records (pynamodb_encryption._telemetry.kms_call).
def test_kms_data_key_not_in_debug_logs(
    dynamodb_client: Any, kms_client: Any, kms_key_id: str, table: str
) -> None:
    provider = AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client)
    client = EncryptedClient(dynamodb_client, provider, ACTIONS, table_info=_info(table))
    keys: list[str] = []
    original = kms_client.generate_data_key

    def spy(**kwargs: Any) -> Any:
        response = original(**kwargs)
        keys.append(base64.b64encode(response["Plaintext"]).decode())
        return response

    kms_client.generate_data_key = spy
    try:
        with debug_logs() as capture:
            client.put_item(TableName=table, Item={"pk": {"S": "k"}, "secret": {"S": SECRET}})
            client.get_item(TableName=table, Key={"pk": {"S": "k"}})
    finally:
        del kms_client.generate_data_key
    assert keys
    assert_not_logged(capture, *SECRET_FORMS)  # the item plaintext never is
    assert_not_logged(capture, *keys)


# -------------------------------------------------------------------------------------------
# Errors wrapping failed writes


def test_failed_conditional_writes_carry_no_plaintext(model: Any) -> None:
    record = model("a", secret=SECRET, status="s")
    record.save()
    with pytest.raises(PutError) as put_error:
        model("a", secret=SECRET, status="x").save(condition=model.status == "other")
    assert_no_secret_in_chain(put_error.value)
    with pytest.raises(UpdateError) as update_error:
        record.update(actions=[model.secret.set(SECRET)], condition=model.status == "other")
    assert_no_secret_in_chain(update_error.value)


def test_failed_client_write_message_carries_no_plaintext(dynamodb_client: Any, table: str) -> None:
    client = EncryptedClient(dynamodb_client, _provider(), ACTIONS, table_info=_info(table))
    item = {"pk": {"S": "a"}, "secret": {"S": SECRET}, "status": {"S": "s"}}
    client.put_item(TableName=table, Item=item)
    with pytest.raises(ClientError) as info:
        client.put_item(
            TableName=table,
            Item=item,
            ConditionExpression="#s = :x",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":x": {"S": "other"}},
        )
    assert SECRET not in str(info.value)
    assert all(SECRET not in str(arg) for arg in info.value.args)


# -------------------------------------------------------------------------------------------
# Fail-closed reads


def test_unsigned_items_are_refused_by_every_read_path(
    dynamodb_client: Any, model: Any, table: str
) -> None:
    plain = {"pk": {"S": "p"}, "secret": {"S": SECRET}}
    dynamodb_client.put_item(TableName=model.Meta.table_name, Item=plain)
    dynamodb_client.put_item(TableName=table, Item=plain)
    for read in (
        lambda: model.get("p"),
        lambda: list(model.query("p")),
        lambda: list(model.scan()),
        lambda: list(model.batch_get(["p"])),
        lambda: model("p").refresh(),
    ):
        with pytest.raises(PlaintextItemError):
            read()
    client = EncryptedClient(dynamodb_client, _provider(), ACTIONS, table_info=_info(table))
    key = {"pk": {"S": "p"}}
    for call in (
        lambda: client.get_item(TableName=table, Key=key),
        lambda: client.scan(TableName=table),
        lambda: client.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
        ),
        lambda: client.batch_get_item(RequestItems={table: {"Keys": [key]}}),
        lambda: client.transact_get_items(
            TransactItems=[{"Get": {"TableName": table, "Key": key}}]
        ),
        lambda: list(client.get_paginator("scan").paginate(TableName=table)),
    ):
        with pytest.raises(PlaintextItemError):
            call()


def test_transaction_and_batch_writes_store_ciphertext(dynamodb_client: Any, table: str) -> None:
    client = EncryptedClient(dynamodb_client, _provider(), ACTIONS, table_info=_info(table))
    item = {"pk": {"S": "t"}, "secret": {"S": SECRET}}
    request = {"TransactItems": [{"Put": {"TableName": table, "Item": item}}]}
    before = copy.deepcopy(request)
    client.transact_write_items(**request)
    assert request == before
    batch = {"RequestItems": {table: [{"PutRequest": {"Item": dict(item, pk={"S": "b"})}}]}}
    batch_before = copy.deepcopy(batch)
    client.batch_write_item(**batch)
    assert batch == batch_before
    for pk in ("t", "b"):
        raw = dynamodb_client.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True)[
            "Item"
        ]
        assert SIGNATURE_ATTRIBUTE in raw
        assert "B" in raw["secret"]
        assert SECRET.encode() not in raw["secret"]["B"]


def test_batch_writer_does_not_change_the_callers_items(dynamodb_client: Any, table: str) -> None:
    import boto3

    resource = boto3.resource(
        "dynamodb", endpoint_url=dynamodb_client.meta.endpoint_url, region_name="us-east-1"
    )
    encrypted = EncryptedTable(resource.Table(table), _provider(), _info(table), ACTIONS)
    items = [
        {"pk": f"w{i}", "secret": SECRET, "status": "s", "nested": {"l": [SECRET]}}
        for i in range(30)
    ]
    before = copy.deepcopy(items)
    with encrypted.batch_writer() as writer:
        for item in items:
            writer.put_item(Item=item)
    assert items == before
    raw = dynamodb_client.get_item(TableName=table, Key={"pk": {"S": "w0"}}, ConsistentRead=True)[
        "Item"
    ]
    assert "B" in raw["secret"]
    assert SIGNATURE_ATTRIBUTE in raw


def test_model_writes_do_not_change_the_instance(model: Any) -> None:
    record = model("m", secret=SECRET, status="s", counter=1)
    before = copy.deepcopy(record.attribute_values)
    record.save()
    assert record.attribute_values == before
    with model.batch_write() as batch:
        batch.save(record)
    assert record.attribute_values == before


# -------------------------------------------------------------------------------------------
# Most recent provider: the md's material name is never trusted


def test_most_recent_ignores_the_material_name_in_the_md(
    dynamodb_client: Any, make_table: Callable[..., str], table_name: str
) -> None:
    meta_table = table_name + "-meta"
    MetaStore.create_table(dynamodb_client, meta_table)
    try:
        store = MetaStore(
            table_name=meta_table, materials_provider=_provider(), dynamodb_client=dynamodb_client
        )
        writer = MostRecentProvider(meta_store=store, material_name="tenant-b", ttl_seconds=60)
        reader = MostRecentProvider(meta_store=store, material_name="tenant-a", ttl_seconds=60)
        store.new_version("tenant-a")

        def encryptor(provider: Any) -> ItemEncryptor:
            return ItemEncryptor(
                table_name="data",
                partition_key_name="pk",
                attribute_actions=AttributeActions(),
                materials_provider=provider,
            )

        stored = encryptor(writer).encrypt({"pk": {"S": "x"}, "secret": {"S": SECRET}})
        md = decode_material_description(stored[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"])
        assert md[MD_META_ID] == "tenant-b#0"
        # tenant-a's reader does not load tenant-b's keys because the md names them.
        with pytest.raises(DecryptionError):
            encryptor(reader).decrypt(stored)
        md[MD_META_ID] = "tenant-a#0"
        relabelled = dict(stored)
        relabelled[MATERIAL_DESCRIPTION_ATTRIBUTE] = {"B": encode_material_description(md)}
        with pytest.raises(PynamoDBEncryptionError):
            encryptor(reader).decrypt(relabelled)
    finally:
        with contextlib.suppress(Exception):
            dynamodb_client.delete_table(TableName=meta_table)


def test_update_does_not_change_the_callers_actions(ddb_endpoint: str, table_name: str) -> None:
    from pynamodb.attributes import VersionAttribute
    from pynamodb.expressions.update import Action

    class Versioned(EncryptedModel):
        class Meta:
            table_name = "x"
            materials_provider = _provider()

        pk = UnicodeAttribute(hash_key=True)
        secret = EncryptedAttribute(UnicodeAttribute(null=True))
        version = VersionAttribute()

    Versioned.Meta.table_name = table_name + "-v"
    Versioned.Meta.host = ddb_endpoint  # type: ignore[attr-defined]
    Versioned._connection = None
    Versioned.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    try:
        record = Versioned("v", secret=SECRET)
        record.save()
        actions: list[Action] = [Versioned.secret.set(SECRET + "-new")]
        before = list(actions)
        record.update(actions=actions)
        assert actions == before
        assert len(actions) == 1
        assert Versioned.get("v", consistent_read=True).secret == SECRET + "-new"
    finally:
        with contextlib.suppress(Exception):
            Versioned.delete_table()
