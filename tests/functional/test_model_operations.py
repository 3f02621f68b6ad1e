"""EncryptedModel against a real DynamoDB API (DynamoDB Local and moto): every operation goes
through the encryption hooks."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from pynamodb.attributes import (
    Attribute,
    BinaryAttribute,
    BinarySetAttribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    NumberSetAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.constants import ALL_OLD, STRING
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactGet, TransactWrite

from pynamodb_encryption import (
    MATERIAL_DESCRIPTION_ATTRIBUTE,
    SIGNATURE_ATTRIBUTE,
    PlaintextItemError,
    SignatureVerificationError,
    StaticMaterialsProvider,
    SymmetricKey,
    UnsupportedOperationError,
)
from pynamodb_encryption.orm import (
    EncryptedAttribute,
    EncryptedModel,
    PlaintextPolicy,
    SignedAttribute,
)

SECRET = "correct horse battery staple"


class Point(MapAttribute[str, Any]):
    x = NumberAttribute()
    y = NumberAttribute()


class UpperAttribute(Attribute[str]):
    """A custom attribute: stored upper-cased."""

    attr_type = STRING

    def serialize(self, value: str) -> str:
        return value.upper()

    def deserialize(self, value: str) -> str:
        return value.lower()


class ByCategory(GlobalSecondaryIndex["Any"]):
    class Meta:
        index_name = "by-category"
        projection = AllProjection()

    category = UnicodeAttribute(hash_key=True)


class KeysOnly(GlobalSecondaryIndex["Any"]):
    class Meta:
        index_name = "keys-only"
        projection = KeysOnlyProjection()

    category = UnicodeAttribute(hash_key=True)


def new_provider() -> StaticMaterialsProvider:
    return StaticMaterialsProvider(
        encryption_key=SymmetricKey.generate("AES", 256),
        signing_key=SymmetricKey.generate("HmacSHA256", 256),
    )


def build_models(table: str, host: str, provider: Any) -> dict[str, Any]:
    """Fresh model classes bound to ``table`` on ``host`` (one set per test)."""

    class Record(EncryptedModel):
        class Meta:
            table_name = table
            materials_provider = provider

        pk = UnicodeAttribute(hash_key=True)
        sk = NumberAttribute(range_key=True)
        category = UnicodeAttribute(null=True)
        by_category = ByCategory()
        keys_only = KeysOnly()
        secret = EncryptedAttribute(UnicodeAttribute(null=True))
        amount = EncryptedAttribute(NumberAttribute(null=True))
        blob = EncryptedAttribute(BinaryAttribute(null=True, legacy_encoding=False))
        flag = EncryptedAttribute(BooleanAttribute(null=True))
        tags = EncryptedAttribute(UnicodeSetAttribute(null=True))
        scores = EncryptedAttribute(NumberSetAttribute(null=True))
        blobs = EncryptedAttribute(BinarySetAttribute(null=True, legacy_encoding=False))
        items = EncryptedAttribute(ListAttribute[Any](null=True))
        doc = EncryptedAttribute(MapAttribute[str, Any](null=True))
        point = EncryptedAttribute(Point(null=True))
        blob_json = EncryptedAttribute(JSONAttribute(null=True))
        when = EncryptedAttribute(UTCDateTimeAttribute(null=True))
        shout = EncryptedAttribute(UpperAttribute(null=True))
        status = SignedAttribute(UnicodeAttribute(null=True))
        counter = SignedAttribute(NumberAttribute(null=True))
        labels = SignedAttribute(UnicodeSetAttribute(null=True))
        note = UnicodeAttribute(null=True)  # DO_NOTHING by default
        expires = TTLAttribute(null=True)

    class Versioned(EncryptedModel):
        class Meta:
            table_name = table + "-v"
            materials_provider = provider

        pk = UnicodeAttribute(hash_key=True)
        secret = EncryptedAttribute(UnicodeAttribute(null=True))
        counter = SignedAttribute(NumberAttribute(default=0))
        version = VersionAttribute()

    class Animal(EncryptedModel):
        class Meta:
            table_name = table + "-poly"
            materials_provider = provider

        pk = UnicodeAttribute(hash_key=True)
        kind = DiscriminatorAttribute()

    class Cat(Animal, discriminator="cat"):
        lives_secret = EncryptedAttribute(NumberAttribute(null=True))

    class Dog(Animal, discriminator="dog"):
        owner = EncryptedAttribute(UnicodeAttribute(null=True))

    models = {"Record": Record, "Versioned": Versioned, "Animal": Animal, "Cat": Cat, "Dog": Dog}
    for model in (Record, Versioned, Animal):
        model.Meta.host = host
        model._connection = None
    return models


@pytest.fixture
def models(ddb_endpoint: str, table_name: str) -> Iterator[dict[str, Any]]:
    built = build_models(table_name, ddb_endpoint, new_provider())
    created = []
    for name in ("Record", "Versioned", "Animal"):
        built[name].create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        created.append(built[name])
    yield built
    for model in created:
        with contextlib.suppress(Exception):
            model.delete_table()


def raw_item(dynamodb_client: Any, table: str, key: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = dynamodb_client.get_item(TableName=table, Key=key, ConsistentRead=True)[
        "Item"
    ]
    return item


def full_record(model: Any, pk: str = "p", sk: int = 1) -> Any:
    return model(
        pk,
        sk,
        category="cat-a",
        secret=SECRET,
        amount=12.5,
        blob=b"\x00\xff" * 512,
        flag=True,
        tags={"a", "b"},
        scores={1, 2.5},
        blobs={b"\x01", b"\x80"},
        items=[1, "two", {"three": 3}],
        doc={"nested": {"deep": ["x", 1]}},
        point=Point(x=1, y=2),
        blob_json={"k": [1, 2]},
        when=datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        shout="quiet",
        status="active",
        counter=3,
        labels={"l1"},
        note="free text",
        expires=datetime(2099, 1, 1, tzinfo=timezone.utc),
    )


def assert_full_record(loaded: Any) -> None:
    assert loaded.secret == SECRET
    assert loaded.amount == 12.5
    assert loaded.blob == b"\x00\xff" * 512
    assert loaded.flag is True
    assert loaded.tags == {"a", "b"}
    assert loaded.scores == {1, 2.5}
    assert loaded.blobs == {b"\x01", b"\x80"}
    assert loaded.items == [1, "two", {"three": 3}]
    assert loaded.doc.as_dict() == {"nested": {"deep": ["x", 1]}}
    assert (loaded.point.x, loaded.point.y) == (1, 2)
    assert loaded.blob_json == {"k": [1, 2]}
    assert loaded.when == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert loaded.shout == "quiet"
    assert loaded.status == "active"
    assert loaded.counter == 3
    assert loaded.labels == {"l1"}
    assert loaded.note == "free text"


# ---------------------------------------------------------------------------------------------
# save / get / refresh / delete


def test_save_get_round_trip_all_attribute_types(models: Any, dynamodb_client: Any) -> None:
    Record = models["Record"]
    full_record(Record).save()
    loaded = Record.get("p", 1)
    assert_full_record(loaded)

    raw = raw_item(dynamodb_client, Record.Meta.table_name, {"pk": {"S": "p"}, "sk": {"N": "1"}})
    assert SIGNATURE_ATTRIBUTE in raw
    assert MATERIAL_DESCRIPTION_ATTRIBUTE in raw
    for name in ("secret", "amount", "blob", "flag", "tags", "items", "doc", "point", "when"):
        assert set(raw[name]) == {"B"}, name
    assert raw["status"] == {"S": "active"}
    assert raw["note"] == {"S": "free text"}
    assert raw["category"] == {"S": "cat-a"}
    assert SECRET.encode() not in json.dumps(raw, default=repr).encode()


def test_refresh_and_delete(models: Any) -> None:
    Record = models["Record"]
    record = full_record(Record)
    record.save()
    stale = Record.get("p", 1)
    record.secret = "changed"
    record.save()
    stale.refresh(consistent_read=True)
    assert stale.secret == "changed"
    stale.delete(condition=Record.status == "active")
    with pytest.raises(Record.DoesNotExist):
        Record.get("p", 1)


def test_conditional_save_on_signed_attribute(models: Any) -> None:
    Record = models["Record"]
    record = full_record(Record)
    record.save()
    record.status = "closed"
    record.save(condition=Record.status == "active")
    with pytest.raises(PutError) as failure:
        record.save(condition=Record.status == "active")
    assert failure.value.cause_response_code == "ConditionalCheckFailedException"
    with pytest.raises(DeleteError):
        record.delete(condition=Record.status == "active")
    # Presence of an encrypted attribute can be tested (no value is compared).
    fresh = Record("p", 9, secret="x")
    fresh.save(condition=Record.secret.does_not_exist())
    with pytest.raises(PutError):
        fresh.save(condition=Record.secret.does_not_exist())


def test_tampering_is_detected(models: Any, dynamodb_client: Any) -> None:
    Record = models["Record"]
    full_record(Record).save()
    table = Record.Meta.table_name
    key = {"pk": {"S": "p"}, "sk": {"N": "1"}}
    # An unsigned (DO_NOTHING) attribute may change freely.
    dynamodb_client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET note = :v",
        ExpressionAttributeValues={":v": {"S": "edited"}},
    )
    assert Record.get("p", 1).note == "edited"
    # A signed one may not.
    dynamodb_client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET #s = :v",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":v": {"S": "forged"}},
    )
    with pytest.raises(SignatureVerificationError):
        Record.get("p", 1)


def test_item_copied_to_another_key_fails(models: Any, dynamodb_client: Any) -> None:
    Record = models["Record"]
    full_record(Record).save()
    table = Record.Meta.table_name
    raw = raw_item(dynamodb_client, table, {"pk": {"S": "p"}, "sk": {"N": "1"}})
    raw["sk"] = {"N": "2"}
    dynamodb_client.put_item(TableName=table, Item=raw)
    with pytest.raises(SignatureVerificationError):
        Record.get("p", 2)


# ---------------------------------------------------------------------------------------------
# query / scan / count / batch / index


def test_query_scan_count_with_conditions(models: Any) -> None:
    Record = models["Record"]
    for sk in range(5):
        record = full_record(Record, sk=sk)
        record.status = "even" if sk % 2 == 0 else "odd"
        record.save()
    found = list(Record.query("p", Record.sk >= 1, filter_condition=Record.status == "even"))
    assert [r.sk for r in found] == [2, 4]
    assert all(r.secret == SECRET for r in found)
    assert sorted(r.sk for r in Record.scan(filter_condition=Record.status == "odd")) == [1, 3]
    assert Record.count("p", filter_condition=Record.status == "even") == 3
    page = Record.query("p", limit=2)
    assert [r.sk for r in page] == [0, 1]


def test_batch_write_and_batch_get(models: Any) -> None:
    Record = models["Record"]
    with Record.batch_write() as batch:
        for sk in range(30):
            batch.save(full_record(Record, sk=sk))
    loaded = list(Record.batch_get([("p", sk) for sk in range(30)]))
    assert len(loaded) == 30
    assert all(r.secret == SECRET for r in loaded)
    with Record.batch_write() as batch:
        for r in loaded[:10]:
            batch.delete(r)
    assert Record.count("p") == 20


def test_index_query(models: Any) -> None:
    Record = models["Record"]
    for sk in range(3):
        full_record(Record, sk=sk).save()
    found = list(Record.by_category.query("cat-a"))
    assert len(found) == 3
    assert all(r.secret == SECRET for r in found)
    with pytest.raises(UnsupportedOperationError, match="AllProjection"):
        Record.keys_only.query("cat-a")


def test_projections_are_refused(models: Any) -> None:
    Record = models["Record"]
    full_record(Record).save()
    with pytest.raises(UnsupportedOperationError, match="partial items"):
        Record.get("p", 1, attributes_to_get=["secret"])
    with pytest.raises(UnsupportedOperationError):
        Record.query("p", attributes_to_get=["pk"])
    with pytest.raises(UnsupportedOperationError):
        Record.scan(attributes_to_get=["pk"])
    with pytest.raises(UnsupportedOperationError):
        Record.batch_get([("p", 1)], attributes_to_get=["pk"])


# ---------------------------------------------------------------------------------------------
# Transactions


def test_transact_write_and_get(models: Any) -> None:
    Record, Versioned = models["Record"], models["Versioned"]
    connection = Record._get_connection().connection
    v = Versioned("v1", secret="tx")
    with TransactWrite(connection=connection) as tx:
        tx.save(full_record(Record, sk=1))
        tx.save(v)
    assert v.version == 1
    with TransactGet(connection=connection) as get:
        first = get.get(Record, "p", 1)
        second = get.get(Versioned, "v1")
    assert first.get().secret == SECRET
    assert second.get().secret == "tx"
    assert second.get().version == 1

    record = first.get()
    with TransactWrite(connection=connection) as tx:
        tx.condition_check(Record, "p", 1, condition=Record.status == "active")
        tx.delete(second.get())
    with pytest.raises(Versioned.DoesNotExist):
        Versioned.get("v1")
    with pytest.raises(UnsupportedOperationError):
        TransactWrite(connection=connection).condition_check(
            Record, "p", 1, condition=Record.secret == "x"
        )
    with pytest.raises(UnsupportedOperationError, match=r"TransactWrite\.save"):
        TransactWrite(connection=connection).update(record, [Record.status.set("x")])
    # Unsigned attributes can still be updated natively in a transaction.
    with TransactWrite(connection=connection) as tx:
        tx.update(record, [Record.note.set("tx note")])
    assert Record.get("p", 1).note == "tx note"


def test_cancellation_old_values_load_through_the_model(models: Any, ddb_backend: str) -> None:
    Record = models["Record"]
    full_record(Record).save()
    connection = Record._get_connection().connection
    with (
        pytest.raises(TransactWriteError) as failure,
        TransactWrite(connection=connection) as tx,
    ):
        tx.save(full_record(Record), condition=Record.status == "nope", return_values=ALL_OLD)
    reasons = failure.value.cancellation_reasons
    assert reasons
    assert reasons[0] is not None
    raw = reasons[0].raw_item
    assert raw is not None
    assert SECRET not in repr(raw)
    old = Record.from_raw_data(raw)
    assert old.secret == SECRET


# ---------------------------------------------------------------------------------------------
# Versioning, polymorphism


def test_version_attribute_is_bumped_and_signed(models: Any, dynamodb_client: Any) -> None:
    Versioned = models["Versioned"]
    item = Versioned("v", secret="one")
    item.save()
    item.save()
    assert item.version == 2
    loaded = Versioned.get("v")
    assert loaded.version == 2
    stale = Versioned.get("v")
    loaded.secret = "two"
    loaded.save()
    stale.secret = "lost update"
    with pytest.raises(PutError):
        stale.save()
    assert Versioned.get("v").secret == "two"
    # The version is covered by the signature.
    table = Versioned.Meta.table_name
    dynamodb_client.update_item(
        TableName=table,
        Key={"pk": {"S": "v"}},
        UpdateExpression="SET version = :v",
        ExpressionAttributeValues={":v": {"N": "99"}},
    )
    with pytest.raises(SignatureVerificationError):
        Versioned.get("v")


def test_polymorphic_models(models: Any) -> None:
    Animal, Cat, Dog = models["Animal"], models["Cat"], models["Dog"]
    Cat("tom", lives_secret=9).save()
    Dog("rex", owner="alice").save()
    tom = Animal.get("tom")
    assert isinstance(tom, Cat)
    assert tom.lives_secret == 9
    rex = Dog.get("rex")
    assert rex.owner == "alice"
    assert {type(a).__name__ for a in Animal.scan()} == {"Cat", "Dog"}


# ---------------------------------------------------------------------------------------------
# Plaintext items and adoption


def test_plaintext_item_is_refused_then_adopted(
    ddb_endpoint: str, table_name: str, dynamodb_client: Any, make_table: Callable[..., str]
) -> None:
    make_table(range_key=True)
    dynamodb_client.put_item(
        TableName=table_name,
        Item={"pk": {"S": "old"}, "sk": {"N": "1"}, "secret": {"S": "legacy"}},
    )
    provider = new_provider()

    def model(policy: PlaintextPolicy) -> Any:
        class Adopt(EncryptedModel):
            class Meta:
                table_name = ""
                materials_provider = provider
                plaintext_policy = policy

            pk = UnicodeAttribute(hash_key=True)
            sk = NumberAttribute(range_key=True)
            secret = EncryptedAttribute(UnicodeAttribute(null=True))

        Adopt.Meta.table_name = table_name
        Adopt.Meta.host = ddb_endpoint
        Adopt._connection = None
        return Adopt

    strict = model(PlaintextPolicy.REQUIRE_ENCRYPTED)
    with pytest.raises(PlaintextItemError, match="plaintext_policy"):
        strict.get("old", 1)
    lenient = model(PlaintextPolicy.ALLOW_PLAINTEXT_READ)
    old = lenient.get("old", 1)
    assert old.secret == "legacy"
    old.save()  # rewritten encrypted
    raw = raw_item(dynamodb_client, table_name, {"pk": {"S": "old"}, "sk": {"N": "1"}})
    assert set(raw["secret"]) == {"B"}
    assert strict.get("old", 1).secret == "legacy"


# ---------------------------------------------------------------------------------------------
# Plaintext hygiene


def test_no_plaintext_in_debug_logs_repr_or_errors(
    models: Any, caplog: pytest.LogCaptureFixture, dynamodb_client: Any
) -> None:
    Record = models["Record"]
    caplog.set_level(logging.DEBUG)
    record = full_record(Record)
    record.save()
    loaded = Record.get("p", 1)
    loaded.update([Record.secret.set(SECRET + "!"), Record.counter.add(1)])
    list(Record.query("p"))
    with Record.batch_write() as batch:
        batch.save(full_record(Record, sk=2))
    assert "Calling PutItem" in caplog.text or "PutItem" in caplog.text
    assert SECRET not in caplog.text
    assert "QUIET" not in caplog.text
    assert SECRET not in repr(loaded)
    assert SECRET not in str(loaded)
    assert "secret=<encrypted>" in repr(loaded)
    assert "status='active'" in repr(loaded)
    # Errors name attributes, never values.
    dynamodb_client.update_item(
        TableName=Record.Meta.table_name,
        Key={"pk": {"S": "p"}, "sk": {"N": "1"}},
        UpdateExpression="SET #s = :v",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":v": {"S": "forged"}},
    )
    with pytest.raises(SignatureVerificationError) as failure:
        Record.get("p", 1)
    assert SECRET not in str(failure.value)


def test_plain_model_interplay_shows_ciphertext_only(models: Any, ddb_endpoint: str) -> None:
    """A plain PynamoDB model on the same table sees only ciphertext for encrypted fields."""
    Record = models["Record"]
    full_record(Record).save()

    class Plain(Model):
        class Meta:
            table_name = Record.Meta.table_name
            host = ddb_endpoint

        pk = UnicodeAttribute(hash_key=True)
        sk = NumberAttribute(range_key=True)
        secret = BinaryAttribute(legacy_encoding=False)

    plain = Plain.get("p", 1)
    assert SECRET.encode() not in plain.secret
