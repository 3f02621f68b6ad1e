"""KeyRotationProvider: writes with the new keys (tagged), reads whichever key the tag names."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption import (
    AttributeActions,
    ConfigurationError,
    DecryptionError,
    ItemEncryptor,
    MaterialsProvider,
    SignatureVerificationError,
    StaticMaterialsProvider,
    SymmetricKey,
    WrappedMaterialsProvider,
)
from pynamodb_encryption.core import MATERIAL_DESCRIPTION_ATTRIBUTE
from pynamodb_encryption.core._md import decode_material_description
from pynamodb_encryption.maintenance import KeyRotationProvider


def static() -> StaticMaterialsProvider:
    return StaticMaterialsProvider(
        encryption_key=SymmetricKey.generate("AES"), signing_key=SymmetricKey.generate("HmacSHA256")
    )


def wrapped() -> WrappedMaterialsProvider:
    return WrappedMaterialsProvider(
        wrapping_key=SymmetricKey.generate("AES"), signing_key=SymmetricKey.generate("HmacSHA256")
    )


def enc(provider: MaterialsProvider) -> ItemEncryptor:
    return ItemEncryptor(
        table_name="t",
        partition_key_name="pk",
        attribute_actions=AttributeActions(),
        materials_provider=provider,
    )


def tag_of(item: dict[str, Any]) -> str | None:
    return decode_material_description(item[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"]).get("key-id")


@pytest.mark.parametrize("make", [static, wrapped])
def test_reads_untagged_previous_and_current_items(make: Any) -> None:
    first, second, third = make(), make(), make()
    item = {"pk": {"S": "a"}, "v": {"S": "secret"}}
    untagged_item = enc(first).encrypt(item)
    during = KeyRotationProvider(current=second, current_id="2", untagged=first)
    second_item = enc(during).encrypt(item)
    assert tag_of(untagged_item) is None
    assert tag_of(second_item) == "2"
    assert enc(during).decrypt(untagged_item) == item
    assert enc(during).decrypt(second_item) == item
    assert enc(second).decrypt(second_item) == item  # the tag does not bother plain providers

    later = KeyRotationProvider(current=third, current_id="3", previous={"2": second})
    assert enc(later).decrypt(second_item) == item
    assert tag_of(enc(later).encrypt(item)) == "3"
    with pytest.raises(DecryptionError, match="no key id"):
        enc(later).decrypt(untagged_item)


def test_unknown_tag_and_forged_tag_fail() -> None:
    old, new = static(), static()
    item = {"pk": {"S": "a"}, "v": {"S": "secret"}}
    provider = KeyRotationProvider(current=new, current_id="2", untagged=old)
    stored = enc(KeyRotationProvider(current=static(), current_id="9")).encrypt(item)
    with pytest.raises(DecryptionError, match="does not have"):
        enc(provider).decrypt(stored)
    # Tag an old item as "2": the new key is picked and the signature check refuses it.
    forged = enc(KeyRotationProvider(current=old, current_id="2")).encrypt(item)
    with pytest.raises(SignatureVerificationError):
        enc(provider).decrypt(forged)


@settings(max_examples=25, deadline=None)
@given(
    current=st.text(min_size=1, max_size=20),
    # Entries of the format itself (amzn-*, aws-*) are written by the encryptor.
    key=st.text(min_size=1, max_size=20).filter(lambda k: not k.startswith(("amzn-", "aws-"))),
)
def test_any_tag_and_entry_name_round_trip(current: str, key: str) -> None:
    new = static()
    provider = KeyRotationProvider(current=new, current_id=current, description_key=key)
    item = {"pk": {"S": "a"}, "v": {"N": "1"}}
    stored = enc(provider).encrypt(item)
    description = decode_material_description(stored[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"])
    assert description[key] == current
    assert enc(provider).decrypt(stored) == item


@pytest.mark.parametrize(
    "kwargs",
    [
        {"current_id": ""},
        {"current_id": "1", "previous": {"1": "x"}},
        {"current_id": "1", "previous": {"1": None}},
        {"current_id": "1", "description_key": ""},
    ],
)
def test_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        KeyRotationProvider(current=static(), **kwargs)


def test_repr_shows_no_keys() -> None:
    text = repr(KeyRotationProvider(current=static(), current_id="2", untagged=static()))
    assert text == "KeyRotationProvider(current_id='2', previous=[], untagged=True)"
