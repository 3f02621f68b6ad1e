"""Markers behave like the attributes they wrap where PynamoDB's own machinery reaches them
(issue 15, found by running PynamoDB's test suite on EncryptedModel), plus first-use locking
per model class and the signature error's advice (issue 9, points 7 and 9). No server."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pynamodb.attributes import (
    BinaryAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.exceptions import AttributeNullError
from pynamodb.models import Model

from pynamodb_encryption import (
    ConfigurationError,
    MissingMetaError,
    SignatureVerificationError,
    StaticMaterialsProvider,
    SymmetricKey,
)
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: any request would fail loudly


def provider() -> StaticMaterialsProvider:
    return StaticMaterialsProvider(
        encryption_key=SymmetricKey(bytes(range(32)), "AES"),
        signing_key=SymmetricKey(bytes(range(32)), "HmacSHA256"),
    )


class Detail(MapAttribute[str, Any]):
    _kind = UnicodeAttribute(attr_name="kind", null=True)
    blob = BinaryAttribute(null=True, legacy_encoding=False)
    count = NumberAttribute(null=True)
    tags = UnicodeSetAttribute(null=True)
    required = UnicodeAttribute()


class Marked(EncryptedModel):
    class Meta:
        table_name = "parity"
        host = CLOSED_PORT
        materials_provider = provider
        max_retry_attempts = 0

    pk = UnicodeAttribute(hash_key=True)
    signed_map = SignedAttribute(Detail(null=True))
    secret_map = EncryptedAttribute(Detail(null=True))
    signed_list = SignedAttribute(ListAttribute(of=Detail, null=True))
    secret_set = EncryptedAttribute(UnicodeSetAttribute(null=True))


class Plain(Model):
    class Meta:
        table_name = "parity-plain"
        host = CLOSED_PORT

    pk = UnicodeAttribute(hash_key=True)
    signed_map = Detail(null=True)
    secret_map = Detail(null=True)
    signed_list = ListAttribute(of=Detail, null=True)
    secret_set = UnicodeSetAttribute(null=True)


# ---------------------------------------------------------------------------------------------
# 1. Nested fields whose names start with "_"


def test_private_nested_field_of_a_marked_map_builds_paths_like_pynamodb() -> None:
    marked = Marked.signed_map._kind == "x"
    plain = Plain.signed_map._kind == "x"
    placeholders: dict[str, str] = {}
    values: dict[str, Any] = {}
    assert marked.serialize(placeholders, values) == plain.serialize({}, {})
    assert str(marked) == "signed_map.kind = {'S': 'x'}"
    assert str(Marked.signed_map._kind.set("y")) == str(Plain.signed_map._kind.set("y"))


def test_unknown_private_and_dunder_names_still_raise_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = Marked.signed_map._not_a_field
    with pytest.raises(AttributeError):
        _ = Marked.signed_map.__not_a_dunder__


# ---------------------------------------------------------------------------------------------
# 2. null_check=False reaches marked maps and lists


def _incomplete() -> dict[str, Any]:
    # `required` is missing in every nested map: only a null check can object.
    return {
        "pk": "a",
        "signed_map": Detail(count=1),
        "secret_map": Detail(_kind="k"),
        "signed_list": [Detail(count=2)],
    }


def test_to_simple_dict_and_to_dynamodb_dict_skip_the_null_check_like_pynamodb() -> None:
    marked, plain = Marked(**_incomplete()), Plain(**_incomplete())
    assert marked.to_simple_dict() == plain.to_simple_dict()
    assert marked.to_dynamodb_dict() == plain.to_dynamodb_dict()


def test_serialize_without_null_check_reaches_markers() -> None:
    stored = Marked(**_incomplete()).serialize(null_check=False)
    assert stored["signed_map"] == {"M": {"count": {"N": "1"}}}
    assert stored["signed_list"] == {"L": [{"M": {"count": {"N": "2"}}}]}
    assert stored["secret_map"].keys() == {"B"}


def test_serialize_still_null_checks_inside_markers_by_default() -> None:
    with pytest.raises(AttributeNullError, match=r"signed_map\.required"):
        Marked(pk="a", signed_map=Detail(count=1)).serialize()
    with pytest.raises(AttributeNullError, match=r"signed_map\.required"):
        Plain(pk="a", signed_map=Detail(count=1)).serialize()


# ---------------------------------------------------------------------------------------------
# 3. from_simple_dict() / from_dynamodb_dict() convert types inside markers


def _full() -> dict[str, Any]:
    return {
        "pk": "a",
        "signed_map": Detail(blob=b"\x00\x01", count=3, tags={"t"}, required="r"),
        "secret_map": Detail(blob=b"\xff", required="s"),
        "signed_list": [Detail(blob=b"zz", required="l")],
        "secret_set": {"a", "b"},
    }


def _sets_sorted(simple: dict[str, Any]) -> dict[str, Any]:
    # to_simple_dict() lists a set in its iteration order, which depends on the string hash
    # seed and on insertion order: compare sets as sets.
    return {**simple, "secret_set": sorted(simple["secret_set"])}


def test_simple_dict_round_trips_through_marked_typed_maps_and_lists() -> None:
    original = Marked(**_full())
    simple = original.to_simple_dict(force=True)
    assert _sets_sorted(simple) == _sets_sorted(Plain(**_full()).to_simple_dict(force=True))
    loaded = Marked()
    loaded.from_simple_dict(simple)
    assert loaded.signed_map.blob == b"\x00\x01"
    assert loaded.signed_map.tags == {"t"}
    assert loaded.secret_map.blob == b"\xff"
    assert loaded.signed_list[0].blob == b"zz"
    assert loaded.secret_set == {"a", "b"}
    assert _sets_sorted(loaded.to_simple_dict(force=True)) == _sets_sorted(simple)


def test_dynamodb_dict_round_trips_through_markers() -> None:
    original = Marked(**_full())
    loaded = Marked()
    loaded.from_dynamodb_dict(original.to_dynamodb_dict())
    assert loaded.to_dynamodb_dict() == original.to_dynamodb_dict()
    assert loaded.signed_list[0].blob == b"zz"


# ---------------------------------------------------------------------------------------------
# 4. No Meta, no table name


class NoMeta(EncryptedModel):
    pk = UnicodeAttribute(hash_key=True)


class NoTableName(EncryptedModel):
    class Meta:
        materials_provider = provider

    pk = UnicodeAttribute(hash_key=True)


@pytest.mark.parametrize(
    "operation",
    [
        lambda cls: cls(pk="a").serialize(),
        lambda cls: cls(pk="a").save(),
        lambda cls: cls.get("a"),
        lambda cls: cls.exists(),
        lambda cls: cls.from_raw_data({"pk": {"S": "a"}}),
    ],
    ids=["serialize", "save", "get", "exists", "from_raw_data"],
)
@pytest.mark.parametrize("cls", [NoMeta, NoTableName], ids=["no-meta", "no-table-name"])
def test_missing_meta_is_a_configuration_error_and_still_an_attribute_error(
    cls: type[EncryptedModel], operation: Any
) -> None:
    with pytest.raises(MissingMetaError) as failure:
        operation(cls)
    assert isinstance(failure.value, ConfigurationError)
    assert isinstance(failure.value, AttributeError)  # what PynamoDB raises, still caught
    assert cls.__name__ in str(failure.value)


# ---------------------------------------------------------------------------------------------
# Issue 9, point 7: one lock per model class for the first use


def _model(name: str, factory: Any) -> type[EncryptedModel]:
    meta = type(
        "Meta", (), {"table_name": name, "host": CLOSED_PORT, "materials_provider": factory}
    )
    return type(name, (EncryptedModel,), {"Meta": meta, "pk": UnicodeAttribute(hash_key=True)})


def test_a_slow_provider_resolution_does_not_block_another_model() -> None:
    entered, release = threading.Event(), threading.Event()

    def slow() -> StaticMaterialsProvider:
        entered.set()
        release.wait(10)
        return provider()

    slow_model, fast_model = _model("SlowModel", slow), _model("FastModel", provider)
    first_use = threading.Thread(target=slow_model._pde_encryptor)
    first_use.start()
    try:
        assert entered.wait(5)
        done = threading.Event()
        other = threading.Thread(target=lambda: (fast_model._pde_encryptor(), done.set()))
        other.start()
        # With a process-wide lock this waits for `release` (10 s).
        assert done.wait(5), "FastModel's first use waited for SlowModel's provider"
        other.join()
    finally:
        release.set()
        first_use.join()


def test_concurrent_first_uses_of_one_model_resolve_its_provider_once() -> None:
    calls: list[int] = []
    gate = threading.Barrier(8)

    def counted() -> StaticMaterialsProvider:
        calls.append(1)
        return provider()

    model = _model("CountedModel", counted)
    encryptors: list[Any] = []

    def use() -> None:
        gate.wait()
        encryptors.append(model._pde_encryptor())

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len({id(e) for e in encryptors}) == 1


# ---------------------------------------------------------------------------------------------
# Issue 9, point 9: the signature error names the usual cause in development


def test_signature_error_names_changed_actions_and_the_inspect_command() -> None:
    writer = _model("WriterModel", provider)
    reader_meta = type(
        "Meta",
        (),
        {"table_name": "WriterModel", "host": CLOSED_PORT, "materials_provider": provider},
    )
    reader = type(
        "ReaderModel",
        (EncryptedModel,),
        {
            "Meta": reader_meta,
            "pk": UnicodeAttribute(hash_key=True),
            "status": SignedAttribute(UnicodeAttribute(null=True)),
        },
    )
    stored = writer(pk="a").serialize()
    stored["status"] = {"S": "written unsigned"}  # a field the reader has since turned signed
    with pytest.raises(SignatureVerificationError) as failure:
        reader.from_raw_data(stored)
    message = str(failure.value)
    assert "attribute actions" in message
    assert "pynamodb-encryption inspect --provider-config" in message
    assert "another key" in message  # tampering and other keys remain possible causes


# ---------------------------------------------------------------------------------------------
# Issue 9, point 8: Meta.key_action (the interop and the move to signed keys are tested on a
# server in tests/interop/test_key_action_interop.py)


def test_key_action_do_nothing_covers_table_and_index_keys_only() -> None:
    from pynamodb.attributes import VersionAttribute
    from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

    from pynamodb_encryption import CryptoAction

    class ByStatus(GlobalSecondaryIndex[Any]):
        class Meta:
            index_name = "by-status"
            projection = AllProjection()

        status = UnicodeAttribute(hash_key=True)

    class Legacy(EncryptedModel):
        class Meta:
            table_name = "legacy"
            host = CLOSED_PORT
            materials_provider = provider
            key_action = CryptoAction.DO_NOTHING

        pk = UnicodeAttribute(hash_key=True)
        sk = SignedAttribute(NumberAttribute(range_key=True))  # a marker wins
        status = UnicodeAttribute()
        by_status = ByStatus()
        version = VersionAttribute()

    actions = Legacy.get_attribute_actions()
    assert actions.action("pk") is CryptoAction.DO_NOTHING
    assert actions.action("status") is CryptoAction.DO_NOTHING
    assert actions.action("sk") is CryptoAction.SIGN_ONLY
    assert actions.action("version") is CryptoAction.SIGN_ONLY

    # Written with signed keys (the default), read by the DO_NOTHING model: accepted.
    class Signed(EncryptedModel):
        class Meta:
            table_name = "legacy"
            host = CLOSED_PORT
            materials_provider = provider

        pk = UnicodeAttribute(hash_key=True)
        sk = SignedAttribute(NumberAttribute(range_key=True))
        status = UnicodeAttribute()
        by_status = ByStatus()
        version = VersionAttribute()

    assert Signed.get_attribute_actions().action("pk") is CryptoAction.SIGN_ONLY
    stored = Signed(pk="a", sk=1, status="s", version=1).serialize()
    assert Legacy.from_raw_data(stored).status == "s"
    # ...but not the other way round, and a tampered item is refused by both encryptors.
    legacy_item = Legacy(pk="a", sk=1, status="s", version=1).serialize()
    with pytest.raises(SignatureVerificationError):
        Signed.from_raw_data(legacy_item)
    with pytest.raises(SignatureVerificationError):
        Legacy.from_raw_data({**stored, "version": {"N": "2"}})
