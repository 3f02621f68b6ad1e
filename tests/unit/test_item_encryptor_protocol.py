"""The item-encryptor protocol (issue 11): both formats and the migrating encryptor satisfy it,
and the migrating encryptor follows DB-ESDK's legacy and plaintext overrides."""

from __future__ import annotations

import os
from typing import Any

import pytest
from _strategies import canonical_item, ddb_items
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pynamodb_encryption import (
    AttributeActions,
    ConfigurationError,
    DecryptionError,
    EncryptionError,
    ItemEncryptor,
    PlaintextItemError,
    StaticMaterialsProvider,
    SymmetricKey,
)
from pynamodb_encryption.dbesdk import (
    CryptoAction,
    DbEsdkItemEncryptor,
    ItemEncryptorProtocol,
    LegacyPolicy,
    MigratingItemEncryptor,
    PlaintextOverride,
    RawAesKeyring,
)

E, S, N = CryptoAction.ENCRYPT_AND_SIGN, CryptoAction.SIGN_ONLY, CryptoAction.DO_NOTHING
LEGACY = ItemEncryptor(
    table_name="t",
    partition_key_name="pk",
    attribute_actions=AttributeActions(N, {"secret": E, "status": S}),
    materials_provider=StaticMaterialsProvider(
        encryption_key=SymmetricKey.generate("AES", 256),
        signing_key=SymmetricKey.generate("HmacSHA256", 256),
    ),
)
DBE = DbEsdkItemEncryptor(
    table_name="t",
    partition_key_name="pk",
    attribute_actions={"pk": S, "secret": E, "status": S, "hits": N},
    allowed_unsigned_attributes={"hits"},
    keyring=RawAesKeyring(key_namespace="n", key_name="k", wrapping_key=os.urandom(32)),
)
ITEM = {"pk": {"S": "a"}, "secret": {"S": "s"}, "status": {"S": "x"}, "hits": {"N": "1"}}


def _format(item: dict[str, Any]) -> str:
    if "aws_dbe_head" in item:
        return "dbesdk"
    return "legacy" if "*amzn-ddb-map-sig*" in item else "plaintext"


def test_every_encryptor_satisfies_the_protocol() -> None:
    migrating = MigratingItemEncryptor(dbesdk=DBE, legacy=LEGACY)
    for encryptor in (LEGACY, DBE, migrating):
        assert isinstance(encryptor, ItemEncryptorProtocol)
    assert LEGACY.reserved_attributes == {"*amzn-ddb-map-sig*", "*amzn-ddb-map-desc*"}
    assert DBE.reserved_attributes == {"aws_dbe_head", "aws_dbe_foot"}
    assert migrating.reserved_attributes == LEGACY.reserved_attributes | DBE.reserved_attributes
    assert DBE.action("hits") is N
    assert DBE.action("status") is S
    assert DBE.action("unconfigured") is S  # in scope: counts as signed (encrypt refuses it)
    stored = DBE.encrypt(ITEM)
    assert DBE.signature_attribute(stored) == "aws_dbe_foot"
    assert DBE.write_is_unique(stored)
    legacy_stored = LEGACY.encrypt(ITEM)
    assert LEGACY.signature_attribute(legacy_stored) == "*amzn-ddb-map-sig*"
    assert migrating.signature_attribute(legacy_stored) == "*amzn-ddb-map-sig*"
    assert migrating.signature_attribute(ITEM) is None


@pytest.mark.parametrize(
    ("policy", "writes", "reads_legacy"),
    [
        (LegacyPolicy.FORCE_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT, "legacy", True),
        (LegacyPolicy.FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT, "dbesdk", True),
        (LegacyPolicy.FORBID_LEGACY_ENCRYPT_FORBID_LEGACY_DECRYPT, "dbesdk", False),
        (None, "dbesdk", True),  # the default with both formats
    ],
)
def test_legacy_policies(policy: LegacyPolicy | None, writes: str, reads_legacy: bool) -> None:
    encryptor = MigratingItemEncryptor(dbesdk=DBE, legacy=LEGACY, legacy_policy=policy)
    assert _format(encryptor.encrypt(ITEM)) == writes
    assert encryptor.decrypt(DBE.encrypt(ITEM)) == ITEM  # DB-ESDK items: always read
    legacy_item = LEGACY.encrypt(ITEM)
    if reads_legacy:
        assert encryptor.decrypt(legacy_item) == ITEM
    else:
        with pytest.raises(DecryptionError, match="FORBID_LEGACY_ENCRYPT_FORBID"):
            encryptor.decrypt(legacy_item)


def test_plaintext_overrides() -> None:
    strict = MigratingItemEncryptor(dbesdk=DBE)
    with pytest.raises(PlaintextItemError):
        strict.decrypt(ITEM)
    assert strict.marker_attributes == ("aws_dbe_head",)
    both = MigratingItemEncryptor(dbesdk=DBE, legacy=LEGACY)
    assert both.marker_attributes == ("*amzn-ddb-map-sig*", "aws_dbe_head")
    adopting = MigratingItemEncryptor(
        dbesdk=DBE, plaintext_override=PlaintextOverride.FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ
    )
    assert adopting.decrypt(ITEM) == ITEM
    assert adopting.marker_attributes == ()
    assert _format(adopting.encrypt(ITEM)) == "dbesdk"
    plain = MigratingItemEncryptor(
        dbesdk=DBE, plaintext_override=PlaintextOverride.FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ
    )
    assert plain.encrypt(ITEM) == ITEM
    with pytest.raises(EncryptionError):
        plain.encrypt({**ITEM, "aws_dbe_head": {"B": b"x"}})


def test_fail_closed() -> None:
    both = MigratingItemEncryptor(dbesdk=DBE, legacy=LEGACY)
    mixed = {**LEGACY.encrypt(ITEM), **{k: v for k, v in DBE.encrypt(ITEM).items() if "aws" in k}}
    with pytest.raises(DecryptionError, match="both"):
        both.decrypt(mixed)
    with pytest.raises(DecryptionError, match="no keyring"):
        MigratingItemEncryptor(legacy=LEGACY).decrypt(DBE.encrypt(ITEM))
    with pytest.raises(ConfigurationError):
        MigratingItemEncryptor()
    with pytest.raises(ConfigurationError, match="keyring"):
        MigratingItemEncryptor(
            legacy=LEGACY, legacy_policy=LegacyPolicy.FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT
        )
    # A footer changed to another item's: the DB-ESDK check fails, not the legacy one.
    other = DBE.encrypt({**ITEM, "status": {"S": "y"}})
    forged = {**DBE.encrypt(ITEM), "aws_dbe_foot": other["aws_dbe_foot"]}
    with pytest.raises(DecryptionError):
        both.decrypt(forged)


@settings(max_examples=40, deadline=None)
@given(
    item=ddb_items(min_size=0),
    choices=st.lists(st.sampled_from([E, S, N]), min_size=6, max_size=6),
    policy=st.sampled_from(list(LegacyPolicy)),
)
def test_every_policy_reads_what_it_writes(
    item: dict[str, Any], choices: list[CryptoAction], policy: LegacyPolicy
) -> None:
    """Property: under each legacy policy, with arbitrary values and actions, an item comes
    back as written (canonical form), in the format the policy writes; and every policy that
    reads that format reads it."""
    body = {k: v for k, v in item.items() if not k.startswith("aws_dbe_") and k != "pk"}
    actions = dict(zip(sorted(body), choices, strict=False))
    unsigned = {n for n, a in actions.items() if a is N}
    plain_item = {"pk": {"S": "k"}, **body}
    legacy = ItemEncryptor(
        table_name="t",
        partition_key_name="pk",
        attribute_actions=AttributeActions(N, {"pk": S, **actions}),
        materials_provider=LEGACY._provider,  # type: ignore[attr-defined]
    )
    dbe = DbEsdkItemEncryptor(
        table_name="t",
        partition_key_name="pk",
        attribute_actions={"pk": S, **actions},
        allowed_unsigned_attributes=unsigned,
        keyring=DBE._keyring,  # type: ignore[attr-defined]
    )
    writer = MigratingItemEncryptor(dbesdk=dbe, legacy=legacy, legacy_policy=policy)
    try:
        stored = writer.encrypt(plain_item)
    except EncryptionError:
        assume(False)  # a value DynamoDB itself refuses (an empty map key)
        raise
    written = _format(stored)
    assert written == (
        "legacy" if policy is LegacyPolicy.FORCE_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT else "dbesdk"
    )
    for reader_policy in LegacyPolicy:
        reader = MigratingItemEncryptor(dbesdk=dbe, legacy=legacy, legacy_policy=reader_policy)
        refuses = written == "legacy" and (
            reader_policy is LegacyPolicy.FORBID_LEGACY_ENCRYPT_FORBID_LEGACY_DECRYPT
        )
        if refuses:
            with pytest.raises(DecryptionError):
                reader.decrypt(stored)
        else:
            assert canonical_item(reader.decrypt(stored)) == canonical_item(plain_item)
