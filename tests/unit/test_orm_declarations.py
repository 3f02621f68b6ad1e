"""Model declarations: what is signed or encrypted, and the errors raised at class definition."""

from __future__ import annotations

from typing import Any

import pytest
from pynamodb.attributes import (
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, LocalSecondaryIndex

from pynamodb_encryption import (
    MATERIAL_DESCRIPTION_ATTRIBUTE,
    SIGNATURE_ATTRIBUTE,
    ConfigurationError,
    CryptoAction,
    StaticMaterialsProvider,
    SymmetricKey,
)
from pynamodb_encryption.orm import (
    EncryptedAttribute,
    EncryptedModel,
    PlaintextPolicy,
    SignedAttribute,
)

E, S, N = CryptoAction.ENCRYPT_AND_SIGN, CryptoAction.SIGN_ONLY, CryptoAction.DO_NOTHING
PROVIDER = StaticMaterialsProvider(
    encryption_key=SymmetricKey(bytes(32), "AES"),
    signing_key=SymmetricKey(bytes(32), "HmacSHA256"),
)


class ByOwner(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    created = NumberAttribute(range_key=True)


class ByRank(LocalSecondaryIndex[Any]):
    class Meta:
        index_name = "by-rank"
        projection = AllProjection()

    pk = UnicodeAttribute(hash_key=True)
    rank = NumberAttribute(range_key=True)


def test_actions_of_a_full_declaration() -> None:
    class Doc(EncryptedModel):
        class Meta:
            table_name = "docs"
            materials_provider = PROVIDER

        pk = UnicodeAttribute(hash_key=True)
        sk = NumberAttribute(range_key=True)
        owner = UnicodeAttribute()
        created = NumberAttribute()
        rank = NumberAttribute()
        by_owner = ByOwner()
        by_rank = ByRank()
        body = EncryptedAttribute(UnicodeAttribute(attr_name="b"))
        title = SignedAttribute(UnicodeAttribute())
        note = UnicodeAttribute(null=True)
        expires = TTLAttribute(null=True)
        version = VersionAttribute()
        kind = DiscriminatorAttribute()

    actions = Doc.get_attribute_actions()
    assert actions.default_action is N
    assert actions.action("b") is E
    assert actions.action("body") is N  # the DynamoDB name counts, not the Python name
    assert actions.action("title") is S
    assert actions.action("note") is N
    assert actions.action("unknown") is N
    for name in ("pk", "sk", "owner", "created", "rank", "expires", "version", "kind"):
        assert actions.action(name) is S, name


def test_default_action_applies_to_unmarked_attributes_but_not_keys() -> None:
    class Doc(EncryptedModel):
        class Meta:
            table_name = "docs"
            materials_provider = PROVIDER
            default_action = CryptoAction.ENCRYPT_AND_SIGN

        pk = UnicodeAttribute(hash_key=True)
        note = UnicodeAttribute()
        title = SignedAttribute(UnicodeAttribute())
        version = VersionAttribute()

    actions = Doc.get_attribute_actions()
    assert actions.action("pk") is S
    assert actions.action("version") is S
    assert actions.action("note") is E
    assert actions.action("title") is S
    assert actions.action("unmodelled") is E
    assert "note=<encrypted>" in repr(Doc("k", note="hidden"))


@pytest.mark.parametrize(
    ("field", "needle"),
    [
        ("hash", "hash key"),
        ("range", "range key"),
        ("gsi", "index 'by-owner'"),
        ("lsi", "index 'by-rank'"),
    ],
)
def test_encrypting_a_key_fails_at_class_definition(field: str, needle: str) -> None:
    with pytest.raises(ConfigurationError, match=needle) as failure:

        class Bad(EncryptedModel):
            class Meta:
                table_name = "t"
                materials_provider = PROVIDER

            pk = (
                EncryptedAttribute(UnicodeAttribute(hash_key=True))
                if field == "hash"
                else UnicodeAttribute(hash_key=True)
            )
            sk = (
                EncryptedAttribute(NumberAttribute(range_key=True))
                if field == "range"
                else NumberAttribute(range_key=True)
            )
            owner = EncryptedAttribute(UnicodeAttribute()) if field == "gsi" else UnicodeAttribute()
            created = NumberAttribute()
            rank = EncryptedAttribute(NumberAttribute()) if field == "lsi" else NumberAttribute()
            by_owner = ByOwner()
            by_rank = ByRank()

    assert "SignedAttribute" in str(failure.value)


def test_signed_keys_are_fine() -> None:
    class Ok(EncryptedModel):
        class Meta:
            table_name = "t"
            materials_provider = PROVIDER

        pk = SignedAttribute(UnicodeAttribute(hash_key=True))

    assert Ok._hash_keyname == "pk"
    assert Ok.get_attribute_actions().action("pk") is S


@pytest.mark.parametrize(
    "special",
    [VersionAttribute, TTLAttribute, DiscriminatorAttribute],
)
@pytest.mark.parametrize("marker", [EncryptedAttribute, SignedAttribute])
def test_special_attributes_cannot_be_wrapped(special: type, marker: type) -> None:
    with pytest.raises(ConfigurationError, match="always signed"):
        marker(special())


@pytest.mark.parametrize("reserved", [SIGNATURE_ATTRIBUTE, MATERIAL_DESCRIPTION_ATTRIBUTE])
def test_reserved_names_fail(reserved: str) -> None:
    with pytest.raises(ConfigurationError, match="attr_name"):

        class Bad(EncryptedModel):
            class Meta:
                table_name = "t"
                materials_provider = PROVIDER

            pk = UnicodeAttribute(hash_key=True)
            sig = UnicodeAttribute(attr_name=reserved)


def test_markers_inside_maps_fail() -> None:
    class Inner(MapAttribute[str, Any]):
        hidden = EncryptedAttribute(UnicodeAttribute())

    with pytest.raises(ConfigurationError, match="top-level"):

        class Bad(EncryptedModel):
            class Meta:
                table_name = "t"
                materials_provider = PROVIDER

            pk = UnicodeAttribute(hash_key=True)
            doc = Inner()

    with pytest.raises(ConfigurationError, match="top-level"):

        class AlsoBad(EncryptedModel):
            class Meta:
                table_name = "t"
                materials_provider = PROVIDER

            pk = UnicodeAttribute(hash_key=True)
            docs = ListAttribute(of=Inner)


def test_double_wrapping_and_non_attributes_fail() -> None:
    with pytest.raises(ConfigurationError, match="remove one"):
        EncryptedAttribute(SignedAttribute(UnicodeAttribute()))
    with pytest.raises(ConfigurationError, match="attribute instance"):
        EncryptedAttribute(UnicodeAttribute)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("meta_field", "value", "needle"),
    [
        ("default_action", "ENCRYPT", "default_action must be a CryptoAction"),
        ("plaintext_policy", True, "plaintext_policy must be a PlaintextPolicy"),
        ("materials_provider", "not a provider", "materials_provider must be"),
    ],
)
def test_bad_meta_values_fail(meta_field: str, value: object, needle: str) -> None:
    meta = type("Meta", (), {"table_name": "t", meta_field: value})
    if meta_field != "materials_provider":
        meta.materials_provider = PROVIDER  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match=needle):
        type(
            "Bad",
            (EncryptedModel,),
            {"Meta": meta, "pk": UnicodeAttribute(hash_key=True), "__module__": __name__},
        )


def test_policy_values() -> None:
    assert {p.name for p in PlaintextPolicy} == {"REQUIRE_ENCRYPTED", "ALLOW_PLAINTEXT_READ"}


def test_marker_delegates_to_inner_attribute() -> None:
    inner = UnicodeAttribute(null=True, default="d", attr_name="stored")
    marker = EncryptedAttribute(inner)
    assert marker.attr_type == "S"
    assert marker.null is True
    assert marker.default == "d"
    assert marker.attr_name == "stored"
    assert marker.serialize("x") == "x"
    assert marker.deserialize("x") == "x"
    assert "EncryptedAttribute(UnicodeAttribute" in repr(marker)


def test_signed_map_keeps_nested_paths() -> None:
    class Inner(MapAttribute[str, Any]):
        city = UnicodeAttribute()

    class Doc(EncryptedModel):
        class Meta:
            table_name = "t"
            materials_provider = PROVIDER

        pk = UnicodeAttribute(hash_key=True)
        address = SignedAttribute(Inner())

    condition = Doc.address.city == "Paris"
    assert str(condition.values[0]) == "address.city"
    assert Doc("k", address=Inner(city="Paris")).address.city == "Paris"
