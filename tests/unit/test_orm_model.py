"""EncryptedModel without a server: hooks on serialize/from_raw_data, refusals raised before
any request (the model points at a closed port), lazy provider resolution, per-class caching."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pynamodb.attributes import (
    BinaryAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.expressions.condition import size
from pynamodb.transactions import TransactWrite

from pynamodb_encryption import (
    SIGNATURE_ATTRIBUTE,
    ConfigurationError,
    ItemEncryptor,
    PlaintextItemError,
    SignatureVerificationError,
    StaticMaterialsProvider,
    SymmetricKey,
    UnsupportedOperationError,
)
from pynamodb_encryption.core import ItemEncryptorProtocol
from pynamodb_encryption.orm import (
    EncryptedAttribute,
    EncryptedModel,
    PlaintextPolicy,
    SignedAttribute,
)
from pynamodb_encryption.orm._expressions import apply_actions, condition_names

CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: any request would fail loudly


def provider() -> StaticMaterialsProvider:
    return StaticMaterialsProvider(
        encryption_key=SymmetricKey(bytes(range(32)), "AES"),
        signing_key=SymmetricKey(bytes(range(32)), "HmacSHA256"),
    )


calls: list[int] = []


def counting_factory() -> StaticMaterialsProvider:
    calls.append(1)
    return provider()


class Note(EncryptedModel):
    class Meta:
        table_name = "notes"
        host = CLOSED_PORT
        materials_provider = counting_factory
        max_retry_attempts = 0

    pk = UnicodeAttribute(hash_key=True)
    sk = NumberAttribute(range_key=True)
    body = EncryptedAttribute(UnicodeAttribute(null=True))
    tags = EncryptedAttribute(UnicodeSetAttribute(null=True))
    blob = EncryptedAttribute(BinaryAttribute(null=True, legacy_encoding=False))
    items = EncryptedAttribute(ListAttribute[Any](null=True))
    status = SignedAttribute(UnicodeAttribute(null=True))
    free = UnicodeAttribute(null=True)
    version = VersionAttribute()


def test_provider_factory_is_resolved_once_on_first_use() -> None:
    calls.clear()

    class Lazy(EncryptedModel):
        class Meta:
            table_name = "lazy"
            materials_provider = counting_factory

        pk = UnicodeAttribute(hash_key=True)
        body = EncryptedAttribute(UnicodeAttribute())

    assert calls == []  # defining the class does not call the factory
    first = Lazy("a", body="x").serialize()
    for _ in range(5):
        Lazy.from_raw_data(Lazy("b", body="y").serialize())
    assert calls == [1]
    assert Lazy._pde_encryptor() is Lazy._pde_encryptor()
    assert set(first["body"]) == {"B"}


def test_encryptor_is_rebuilt_when_table_or_provider_changes() -> None:
    class Moving(EncryptedModel):
        class Meta:
            table_name = "one"
            materials_provider = provider()

        pk = UnicodeAttribute(hash_key=True)

    first = Moving._pde_encryptor()
    assert isinstance(first, ItemEncryptorProtocol)
    assert isinstance(first.legacy, ItemEncryptor)
    Moving.Meta.table_name = "two"
    second = Moving._pde_encryptor()
    assert second is not first
    assert second.table_name == "two"
    Moving.Meta.materials_provider = provider()  # type: ignore[attr-defined]
    assert Moving._pde_encryptor() is not second


def test_missing_provider_is_a_clear_error() -> None:
    class NoKeys(EncryptedModel):
        class Meta:
            table_name = "t"

        pk = UnicodeAttribute(hash_key=True)

    with pytest.raises(ConfigurationError, match="materials_provider is not set"):
        NoKeys("a").serialize()

    class BadFactory(EncryptedModel):
        class Meta:
            table_name = "t"
            materials_provider = staticmethod(lambda: "nope")

        pk = UnicodeAttribute(hash_key=True)

    with pytest.raises(ConfigurationError, match="returned str"):
        BadFactory("a").serialize()


def test_serialize_and_from_raw_data_round_trip() -> None:
    note = Note("p", 1, body="hello", tags={"a", "b"}, blob=b"\x00", items=[1, "x"], status="s")
    stored = note.serialize()
    assert SIGNATURE_ATTRIBUTE in stored
    assert set(stored["body"]) == {"B"}
    assert stored["status"] == {"S": "s"}
    loaded = Note.from_raw_data(stored)
    assert loaded.body == "hello"
    assert loaded.tags == {"a", "b"}
    assert loaded.blob == b"\x00"
    assert loaded.items == [1, "x"]
    fresh = Note()
    fresh.deserialize(stored)
    assert fresh.body == "hello"
    # The caller's item is not modified by reading it.
    assert SIGNATURE_ATTRIBUTE in stored


@settings(max_examples=50, deadline=None)
@given(
    body=st.text(),
    tags=st.frozensets(st.text(min_size=1), min_size=1, max_size=5),
    status=st.text(min_size=1),
)
def test_round_trip_property(body: str, tags: frozenset[str], status: str) -> None:
    note = Note("p", 1, body=body, tags=set(tags), status=status)
    loaded = Note.from_raw_data(note.serialize())
    assert (loaded.body, loaded.tags, loaded.status) == (body, set(tags), status)


def test_signed_value_tampering_detected_offline() -> None:
    stored = Note("p", 1, status="ok").serialize()
    stored["status"] = {"S": "forged"}
    with pytest.raises(SignatureVerificationError):
        Note.from_raw_data(stored)
    stored = Note("p", 1, status="ok", free="x").serialize()
    stored["free"] = {"S": "changed freely"}
    assert Note.from_raw_data(stored).free == "changed freely"


def test_plaintext_policy_offline() -> None:
    raw = {"pk": {"S": "p"}, "sk": {"N": "1"}, "body": {"S": "legacy"}}
    with pytest.raises(PlaintextItemError):
        Note.from_raw_data(raw)

    class Lenient(EncryptedModel):
        class Meta:
            table_name = "notes"
            materials_provider = provider()
            plaintext_policy = PlaintextPolicy.ALLOW_PLAINTEXT_READ

        pk = UnicodeAttribute(hash_key=True)
        sk = NumberAttribute(range_key=True)
        body = EncryptedAttribute(UnicodeAttribute(null=True))

    assert Lenient.from_raw_data(raw).body == "legacy"
    # Signed items are still verified under the lenient policy.
    signed = Lenient("p", 1, body="new").serialize()
    signed["pk"] = {"S": "q"}
    with pytest.raises(SignatureVerificationError):
        Lenient.from_raw_data(signed)


def test_version_bump_happens_before_signing() -> None:
    note = Note("p", 1, body="x")
    args, kwargs = note._get_save_args()
    stored = dict(kwargs["attributes"], pk={"S": args[0]}, sk={"N": kwargs["range_key"]})  # type: ignore[index]
    assert stored["version"] == {"N": "1"}
    assert Note.from_raw_data(stored).version == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda: Note("p", 1).save(condition=Note.body == "x"),
        lambda: Note("p", 1).delete(condition=Note.items[0].exists()),
        lambda: Note("p", 1).delete(condition=size(Note.body) > 3),
        lambda: Note("p", 1).update([Note.status.set("x")], condition=Note.tags.contains("a")),
        lambda: Note.query("p", filter_condition=Note.body.startswith("a")),
        lambda: Note.query("p", filter_condition=(Note.status == "a") | (Note.items[0] == 1)),
        lambda: Note.scan(filter_condition=~(Note.blob == b"x")),
        lambda: Note.count("p", filter_condition=Note.body == "x"),
        lambda: Note.get("p", 1, attributes_to_get=["pk"]),
        lambda: Note.batch_get([("p", 1)], attributes_to_get=["pk"]),
        lambda: Note.scan(attributes_to_get=["pk"]),
        lambda: Note.query("p", index_name="nope"),
        lambda: TransactWrite(connection=Connection(host=CLOSED_PORT)).condition_check(
            Note, "p", 1, condition=Note.body == "x"
        ),
        lambda: TransactWrite(connection=Connection(host=CLOSED_PORT)).save(
            Note("p", 1), condition=Note.body == "x"
        ),
        lambda: TransactWrite(connection=Connection(host=CLOSED_PORT)).delete(
            Note("p", 1), condition=Note.body == "x"
        ),
        lambda: TransactWrite(connection=Connection(host=CLOSED_PORT)).update(
            Note("p", 1), [Note.status.set("x")]
        ),
        lambda: Note("p", 1).update([Note.sk.set(2)]),
    ],
)
def test_refused_before_any_request(call: Any) -> None:
    """Every one of these would hit the closed port (a connection error) if it got that far."""
    with pytest.raises(UnsupportedOperationError):
        call()


def test_conditions_on_signed_attributes_pass_the_check() -> None:
    Note._pde_check_condition((Note.status == "x") & Note.free.exists(), "condition")
    # Presence of a whole encrypted attribute is visible without decrypting: allowed.
    Note._pde_check_condition(Note.body.exists() | Note.tags.does_not_exist(), "condition")
    assert condition_names((Note.status == "x") & (Note.items[2] == 1)) == {"status", "items"}


def test_repr_masks_encrypted_fields() -> None:
    note = Note("p", 1, body="top secret", status="visible")
    text = repr(note)
    assert "top secret" not in text
    assert "top secret" not in str(note)
    assert "body=<encrypted>" in text
    assert "status='visible'" in text


def test_apply_actions_does_not_mutate_the_input() -> None:
    item = {"pk": {"S": "p"}, "n": {"N": "1"}, "l": {"L": [{"S": "a"}]}}
    snapshot = repr(item)
    out = apply_actions(item, [Note.status.set("x"), Note.items.remove()])
    assert repr(item) == snapshot
    assert out["status"] == {"S": "x"}


def test_provider_class_is_a_factory() -> None:
    class Keys:
        def __init__(self) -> None:
            self.inner = provider()

        def encryption_materials(self, context: Any) -> Any:
            return self.inner.encryption_materials(context)

        def decryption_materials(self, context: Any) -> Any:
            return self.inner.decryption_materials(context)

    class ByClass(EncryptedModel):
        class Meta:
            table_name = "t"
            materials_provider = Keys

        pk = UnicodeAttribute(hash_key=True)
        body = EncryptedAttribute(UnicodeAttribute())

    assert ByClass.from_raw_data(ByClass("k", body="b").serialize()).body == "b"
