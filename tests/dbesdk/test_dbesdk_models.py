"""DB-ESDK on EncryptedModel (issue 11): every lifecycle path on DynamoDB Local, items read by
the engine and by an independent decoder, the signed update() that keeps concurrent unsigned
writes, and the class-definition checks."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from _dbe_independent import decrypt as independent_decrypt
from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.transactions import TransactGet, TransactWrite

from pynamodb_encryption import ConfigurationError, UnsupportedOperationError
from pynamodb_encryption.dbesdk import (
    CryptoAction,
    DbEsdkItemEncryptor,
    LegacyPolicy,
    RawAesKeyring,
)
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

WRAPPING_KEY = os.urandom(32)
KEYRING = RawAesKeyring(key_namespace="tests", key_name="models", wrapping_key=WRAPPING_KEY)
E, S, N = CryptoAction.ENCRYPT_AND_SIGN, CryptoAction.SIGN_ONLY, CryptoAction.DO_NOTHING


def _model(table: str, host: str, **meta: Any) -> Any:
    class Patient(EncryptedModel):
        class Meta:
            table_name = table
            keyring = KEYRING

        pk = UnicodeAttribute(hash_key=True)
        sk = NumberAttribute(range_key=True)
        ssn = EncryptedAttribute(
            UnicodeAttribute(null=True),
        )
        status = SignedAttribute(UnicodeAttribute(null=True))
        hits = NumberAttribute(null=True)  # unsigned: DO_NOTHING, outside the signature scope

    for key, value in meta.items():
        setattr(Patient.Meta, key, value)
    Patient.Meta.host = host  # type: ignore[attr-defined]
    return Patient


@pytest.fixture
def patient(ddb_endpoint: str, make_table: Callable[..., str]) -> Any:
    return _model(make_table(range_key=True), ddb_endpoint)


def test_lifecycle_on_dbesdk_items(patient: Any, dynamodb_client: Any) -> None:
    table = patient.Meta.table_name
    patient("a", 1, ssn="123", status="new", hits=0).save()
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    raw = dynamodb_client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert {"aws_dbe_head", "aws_dbe_foot"} <= set(raw)
    assert "*amzn-ddb-map-sig*" not in raw
    assert "B" in raw["ssn"]
    assert raw["status"] == {"S": "new"}

    # The engine, configured independently from the model's declarations, reads it...
    engine = DbEsdkItemEncryptor(
        table_name=patient.Meta.table_name,
        partition_key_name="pk",
        sort_key_name="sk",
        attribute_actions={"pk": S, "sk": S, "ssn": E, "status": S, "hits": N},
        allowed_unsigned_attributes={"hits"},
        keyring=KEYRING,
    )
    assert engine.decrypt(raw)["ssn"] == {"S": "123"}
    # ... and so does a decoder that shares no code with the library.
    plain = independent_decrypt(
        raw,
        table=patient.Meta.table_name,
        partition_key="pk",
        sort_key="sk",
        unsigned={"hits"},
        namespace="tests",
        key_name="models",
        wrapping_key=WRAPPING_KEY,
    )
    assert plain["ssn"] == {"S": "123"}
    # And the model reads what the engine writes.
    stored = engine.encrypt(
        {"pk": {"S": "a"}, "sk": {"N": "2"}, "ssn": {"S": "456"}, "status": {"S": "x"}}
    )
    dynamodb_client.put_item(TableName=table, Item=stored)
    assert patient.get("a", 2).ssn == "456"

    got = patient.get("a", 1, consistent_read=True)
    assert (got.ssn, got.status, got.hits) == ("123", "new", 0)
    assert [p.sk for p in patient.query("a")] == [1, 2]
    assert sorted(p.sk for p in patient.scan()) == [1, 2]
    assert [p.ssn for p in patient.query("a", filter_condition=patient.status == "new")] == ["123"]
    with patient.batch_write() as batch:
        for sk in (3, 4):
            batch.save(patient("a", sk, ssn=f"s{sk}", status="batch"))
    assert sorted(p.ssn for p in patient.batch_get([("a", 3), ("a", 4)])) == ["s3", "s4"]
    conn = Connection(host=patient.Meta.host)
    with TransactWrite(connection=conn) as write:
        write.save(patient("a", 5, ssn="t5", status="tx"))
    with TransactGet(connection=conn) as get:
        future = get.get(patient, "a", 5)
    assert future.get().ssn == "t5"

    # Refused before any request, as with legacy items.
    with pytest.raises(UnsupportedOperationError):
        patient.get("a", 1, attributes_to_get=["ssn"])
    with pytest.raises(UnsupportedOperationError):
        list(patient.query("a", filter_condition=patient.ssn == "123"))

    # Tampering is caught: the footer covers the signed attributes.
    dynamodb_client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET #s = :v",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":v": {"S": "forged"}},
    )
    with pytest.raises(Exception, match="match"):
        patient.get("a", 1, consistent_read=True)


def test_signed_update_keeps_unsigned_writes(patient: Any) -> None:
    patient("u", 1, ssn="1", status="s0", hits=0).save()
    writers, per_writer = 4, 10
    errors: list[BaseException] = []

    def native() -> None:
        try:
            for _ in range(per_writer):
                patient("u", 1).update([patient.hits.add(1)])  # unsigned: native UpdateItem
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def signed(n: int) -> None:
        try:
            for i in range(per_writer):
                patient("u", 1).update([patient.status.set(f"w{n}-{i}")])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=native) for _ in range(writers)]
    threads += [threading.Thread(target=signed, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    got = patient.get("u", 1, consistent_read=True)
    # Every acknowledged unsigned increment is there, and the item still verifies.
    assert got.hits == writers * per_writer
    assert got.ssn == "1"
    assert got.status.startswith("w")


def test_update_of_encrypted_field_and_version(
    ddb_endpoint: str, make_table: Callable[..., str], dynamodb_client: Any
) -> None:
    table = make_table()

    class Doc(EncryptedModel):
        class Meta:
            table_name = table
            host = ddb_endpoint
            keyring = KEYRING

        pk = UnicodeAttribute(hash_key=True)
        body = EncryptedAttribute(UnicodeAttribute(null=True))
        tag = SignedAttribute(UnicodeAttribute(null=True), in_encryption_context=True)
        version = VersionAttribute()

    doc = Doc("d", body="one", tag="t")
    doc.save()
    doc.update([Doc.body.set("two")])
    assert Doc.get("d", consistent_read=True).body == "two"
    stale = Doc.get("d", consistent_read=True)
    Doc.get("d", consistent_read=True).update([Doc.tag.set("t2")])
    with pytest.raises(UpdateError):
        stale.update([Doc.body.set("lost?")])
    stale.body = "lost?"
    with pytest.raises(PutError):
        stale.save()
    got = Doc.get("d", consistent_read=True)
    assert (got.body, got.tag, got.version) == ("two", "t2", 3)
    # SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT: the format version 2 header.
    raw = dynamodb_client.get_item(TableName=table, Key={"pk": {"S": "d"}})["Item"]
    assert raw["aws_dbe_head"]["B"][0] == 2


def test_class_definition_checks() -> None:
    with pytest.raises(ConfigurationError, match="aws_dbe_"):

        class Bad(EncryptedModel):
            class Meta:
                table_name = "t"
                keyring = KEYRING

            pk = UnicodeAttribute(hash_key=True)
            head = UnicodeAttribute(attr_name="aws_dbe_x")

    with pytest.raises(ConfigurationError, match="legacy_policy"):

        class OnlyKeyring(EncryptedModel):
            class Meta:
                table_name = "t"
                keyring = KEYRING
                legacy_policy = LegacyPolicy.FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT

            pk = UnicodeAttribute(hash_key=True)

    with pytest.raises(ConfigurationError, match="in_encryption_context"):

        class LegacyContext(EncryptedModel):
            class Meta:
                table_name = "t"
                materials_provider = object

            pk = UnicodeAttribute(hash_key=True)
            tag = SignedAttribute(UnicodeAttribute(), in_encryption_context=True)


def test_attr_name_is_what_is_signed(
    ddb_endpoint: str, make_table: Callable[..., str], dynamodb_client: Any
) -> None:
    table = make_table()

    class Renamed(EncryptedModel):
        class Meta:
            table_name = table
            host = ddb_endpoint
            keyring = lambda: KEYRING  # noqa: E731 - a zero-argument callable, resolved once

        pk = UnicodeAttribute(hash_key=True)
        secret = EncryptedAttribute(UnicodeAttribute(attr_name="s"))

    Renamed("r", secret="x").save()
    raw = dynamodb_client.get_item(TableName=table, Key={"pk": {"S": "r"}})["Item"]
    assert "s" in raw
    assert "secret" not in raw
    engine = DbEsdkItemEncryptor(
        table_name=table,
        partition_key_name="pk",
        attribute_actions={"pk": S, "s": E},
        keyring=KEYRING,
    )
    assert engine.decrypt(raw)["s"] == {"S": "x"}
    assert Renamed._pde_encryptor() is Renamed._pde_encryptor()


@contextlib.contextmanager
def _hooked(model: Any, event: str, handler: Callable[..., Any]) -> Iterator[None]:
    events = model._get_connection().connection.client.meta.events
    events.register(event, handler)
    try:
        yield
    finally:
        events.unregister(event, handler)


def test_writes_slipped_in_before_the_conditional_write(
    ddb_endpoint: str, make_table: Callable[..., str], dynamodb_client: Any
) -> None:
    """Faults injected through botocore: an unsigned write and a signed write land between the
    signed update's read and its conditional UpdateItem."""
    table = make_table(range_key=True)
    model, other = _model(table, ddb_endpoint), _model(table, ddb_endpoint)
    model("k", 1, ssn="s", status="a", hits=0).save()
    slipped = [0]

    def slip_unsigned(**_: Any) -> None:
        if slipped[0] == 0:
            slipped[0] += 1
            dynamodb_client.update_item(
                TableName=table,
                Key={"pk": {"S": "k"}, "sk": {"N": "1"}},
                UpdateExpression="ADD hits :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

    with _hooked(model, "before-send.dynamodb.UpdateItem", slip_unsigned):
        model("k", 1).update([model.status.set("b"), model.hits.add(10)])
    stored = model.get("k", 1, consistent_read=True)
    assert (stored.status, stored.hits) == ("b", 11)

    sends = [0]

    def count(**_: Any) -> None:
        sends[0] += 1

    def slip_signed(**_: Any) -> None:
        if slipped[0] == 1:
            slipped[0] += 1
            other("k", 1).update([other.ssn.set("other")])

    with (
        _hooked(model, "before-send.dynamodb.UpdateItem", count),
        _hooked(model, "before-send.dynamodb.UpdateItem", slip_signed),
    ):
        model("k", 1).update([model.status.set("c")])
    stored = model.get("k", 1, consistent_read=True)
    assert (stored.ssn, stored.status, stored.hits) == ("other", "c", 11)
    assert sends[0] == 2  # the footer changed under it: the conditional write failed once
