"""EncryptedModel.update(): native for unsigned attributes, read / apply / re-sign / conditional
put for signed and encrypted ones. The local interpreter is checked against DynamoDB itself:
the same actions run natively on a plain PynamoDB model must give the same item."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from pynamodb_encryption import (
    SIGNATURE_ATTRIBUTE,
    StaticMaterialsProvider,
    SymmetricKey,
    UnsupportedOperationError,
)
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

PROVIDER = StaticMaterialsProvider(
    encryption_key=SymmetricKey.generate("AES", 256),
    signing_key=SymmetricKey.generate("HmacSHA256", 256),
)


def build(table: str, host: str) -> tuple[Any, Any]:
    class Plain(Model):
        class Meta:
            table_name = table + "-plain"

        pk = UnicodeAttribute(hash_key=True)
        name = UnicodeAttribute(null=True)
        count = NumberAttribute(null=True)
        tags = UnicodeSetAttribute(null=True)
        nums = NumberSetAttribute(null=True)
        items = ListAttribute[Any](null=True)
        doc = MapAttribute[str, Any](null=True)
        note = UnicodeAttribute(null=True)
        version = VersionAttribute()

    class Secure(EncryptedModel):
        class Meta:
            table_name = table
            materials_provider = PROVIDER
            update_attempts = 200

        pk = UnicodeAttribute(hash_key=True)
        name = EncryptedAttribute(UnicodeAttribute(null=True))
        count = SignedAttribute(NumberAttribute(null=True))
        tags = EncryptedAttribute(UnicodeSetAttribute(null=True))
        nums = SignedAttribute(NumberSetAttribute(null=True))
        items = EncryptedAttribute(ListAttribute[Any](null=True))
        doc = SignedAttribute(MapAttribute[str, Any](null=True))
        note = UnicodeAttribute(null=True)
        version = VersionAttribute()

    for model in (Plain, Secure):
        model.Meta.host = host
        model._connection = None
    return Plain, Secure


@pytest.fixture
def pair(ddb_endpoint: str, table_name: str) -> Iterator[tuple[Any, Any]]:
    plain, secure = build(table_name, ddb_endpoint)
    for model in (plain, secure):
        model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    yield plain, secure
    for model in (plain, secure):
        with contextlib.suppress(Exception):
            model.delete_table()


INITIAL: dict[str, Any] = {
    "name": "alice",
    "count": 5,
    "tags": {"a", "b"},
    "nums": {1, 2, 3},
    "items": [1, "two", 3],
    "doc": {"inner": {"x": 1}, "list": [1, 2]},
    "note": "n",
}

SCENARIOS: dict[str, Callable[[Any], list[Action]]] = {
    "set-values": lambda m: [m.name.set("bob"), m.note.set("new note")],
    "increment": lambda m: [m.count.set(m.count + 10)],
    "decrement": lambda m: [m.count.set(m.count - 7)],
    "add-number": lambda m: [m.count.add(2)],
    "add-to-sets": lambda m: [m.tags.add({"c", "a"}), m.nums.add({4, 1})],
    "delete-from-sets": lambda m: [m.tags.delete({"a"}), m.nums.delete({1, 2, 3})],
    "remove": lambda m: [m.name.remove(), m.items.remove()],
    "list-append": lambda m: [m.items.set(m.items.append([4])), m.doc["list"].set([9])],
    "list-prepend": lambda m: [m.items.set(m.items.prepend(["zero"]))],
    "list-index": lambda m: [m.items[1].set("TWO"), m.items[10].set("end")],
    "list-index-remove": lambda m: [m.items[0].remove()],
    "if-not-exists": lambda m: [
        m.count.set(m.count | 100),
        m.note.set(m.note | "x"),
    ],
    "nested-map": lambda m: [m.doc["inner"]["y"].set(2), m.doc["inner"]["x"].remove()],
    "copy-path": lambda m: [m.note.set(m.name)],
}


def _state(model: Any, pk: str) -> dict[str, Any]:
    item = model.get(pk, consistent_read=True)
    values = dict(item.attribute_values)
    for key in ("doc",):
        if values.get(key) is not None:
            values[key] = values[key].as_dict()
    return values


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_local_update_matches_dynamodb(pair: tuple[Any, Any], scenario: str) -> None:
    Plain, Secure = pair
    plain = Plain("k", **INITIAL)
    plain.save()
    secure = Secure("k", **INITIAL)
    secure.save()
    plain.update(SCENARIOS[scenario](Plain))
    secure.update(SCENARIOS[scenario](Secure))
    expected = _state(Plain, "k")
    assert _state(Secure, "k") == expected
    # The instance was refreshed with the new values (ALL_NEW), as PynamoDB does.
    local = dict(secure.attribute_values)
    if local.get("doc") is not None:
        local["doc"] = local["doc"].as_dict()
    assert local == expected


def test_update_of_missing_item_creates_it_signed(pair: tuple[Any, Any]) -> None:
    Plain, Secure = pair
    Plain("new").update([Plain.count.add(1), Plain.name.set("x")])
    Secure("new").update([Secure.count.add(1), Secure.name.set("x")])
    assert _state(Secure, "new") == _state(Plain, "new")


def test_native_update_for_unsigned_attributes(pair: tuple[Any, Any]) -> None:
    _, Secure = pair

    class NoVersion(EncryptedModel):
        class Meta:
            table_name = Secure.Meta.table_name
            host = Secure.Meta.host
            materials_provider = PROVIDER

        pk = UnicodeAttribute(hash_key=True)
        name = EncryptedAttribute(UnicodeAttribute(null=True))
        note = UnicodeAttribute(null=True)

    item = NoVersion("nv", name="secret")
    item.save()
    response = item.update([NoVersion.note.set("native")])
    # A native UpdateItem returns the stored attributes (the signature is unchanged).
    assert SIGNATURE_ATTRIBUTE in response["Attributes"]
    assert item.note == "native"
    assert item.name == "secret"
    assert NoVersion.get("nv").note == "native"
    # A native update never creates an unsigned item.
    with pytest.raises(UpdateError):
        NoVersion("missing").update([NoVersion.note.set("x")])


def test_conditions_and_version_are_enforced(pair: tuple[Any, Any]) -> None:
    _, Secure = pair
    item = Secure("c", **INITIAL)
    item.save()
    item.update([Secure.count.add(1)], condition=Secure.count == 5)
    assert item.count == 6
    assert item.version == 2
    with pytest.raises(UpdateError) as failure:
        item.update([Secure.count.add(1)], condition=Secure.count == 5)
    assert failure.value.cause_response_code == "ConditionalCheckFailedException"
    stale = Secure.get("c")
    item.update([Secure.name.set("fresh")])
    with pytest.raises(UpdateError):
        stale.update([Secure.name.set("stale")])
    assert Secure.get("c").name == "fresh"
    # add_version_condition=False: last writer wins, the version still moves on.
    stale.update([Secure.name.set("forced")], add_version_condition=False)
    loaded = Secure.get("c")
    assert loaded.name == "forced"
    assert loaded.version == 4


def test_refused_before_any_write(pair: tuple[Any, Any]) -> None:
    _, Secure = pair
    item = Secure("r", **INITIAL)
    item.save()
    with pytest.raises(UnsupportedOperationError, match="encrypted attribute"):
        item.update([Secure.count.add(1)], condition=Secure.name == "alice")
    with pytest.raises(UnsupportedOperationError, match="key"):
        item.update([Secure.pk.set("other")])

    class Custom(Action):
        format_string = "{0}"

    with pytest.raises(UnsupportedOperationError, match="Custom"):
        item.update([Secure.count.add(1), Custom(Secure.count)])  # type: ignore[arg-type]
    loaded = Secure.get("r")
    assert loaded.count == 5
    assert loaded.version == 1


def test_concurrent_updates_retry_on_signature_conflict(pair: tuple[Any, Any]) -> None:
    _, Secure = pair
    Secure("hot", count=0).save()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                # Fresh instance, no version condition: only the signature guard serializes.
                Secure("hot").update([Secure.count.add(1)], add_version_condition=False)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    final = Secure.get("hot", consistent_read=True)
    assert final.count == 20
    # Like PynamoDB: an instance without a local version sets the version to 1.
    assert final.version == 1
