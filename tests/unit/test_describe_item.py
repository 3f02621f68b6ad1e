"""`describe_item`: what a stored item tells about its protection, with and without keys."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest

from pynamodb_encryption import (
    AttributeActions,
    CryptoAction,
    ItemDescription,
    ItemEncryptor,
    StaticMaterialsProvider,
    SymmetricKey,
    WrappedMaterialsProvider,
    describe_item,
)
from pynamodb_encryption.core._md import encode_material_description

E, S, N = CryptoAction.ENCRYPT_AND_SIGN, CryptoAction.SIGN_ONLY, CryptoAction.DO_NOTHING
AES = SymmetricKey(bytes(range(32)), "AES")
HMAC = SymmetricKey(bytes(range(32, 64)), "HmacSHA256")
OTHER_HMAC = SymmetricKey(bytes(range(64, 96)), "HmacSHA256")
ITEM = {
    "pk": {"S": "user-1"},
    "secret": {"S": "top secret value"},
    "signed": {"S": "signed value"},
    "plain": {"S": "plain value"},
}
ACTIONS = AttributeActions(N, {"pk": S, "secret": E, "signed": S})
TABLE = "describe-unit"


def _encrypt(provider: Any) -> dict[str, Any]:
    return ItemEncryptor(
        table_name=TABLE,
        partition_key_name="pk",
        attribute_actions=ACTIONS,
        materials_provider=provider,
    ).encrypt(ITEM)


def test_plaintext_item() -> None:
    described = describe_item(ITEM)
    assert described.format == "plaintext"
    assert not described.signed
    assert described.provider_kind is None


@pytest.mark.parametrize(
    ("provider", "kind"),
    [
        (StaticMaterialsProvider(encryption_key=AES, signing_key=HMAC), "static"),
        (WrappedMaterialsProvider(wrapping_key=AES, signing_key=HMAC), "wrapped"),
    ],
)
def test_legacy_items_without_keys(provider: Any, kind: str) -> None:
    described = describe_item(_encrypt(provider))
    assert described.format == "legacy"
    assert described.signed
    assert described.provider_kind == kind
    assert described.signing_algorithm == "HmacSHA256"
    assert described.encrypted_attributes == {"secret"}  # by its shape
    assert not described.certain
    assert described.signed_attributes is None
    assert described.verified is None
    # Nothing secret is kept: the wrapped key stays out of the description.
    assert "amzn-ddb-env-key" not in described.material_description


def test_most_recent_and_kms_descriptions() -> None:
    stored = dict(
        _encrypt(StaticMaterialsProvider(encryption_key=AES, signing_key=HMAC)),
        **{
            "*amzn-ddb-map-desc*": {
                "B": encode_material_description(
                    {"amzn-ddb-meta-id": "orders#7", "amzn-ddb-env-key": "AAAA"}
                )
            }
        },
    )
    described = describe_item(stored)
    assert (described.provider_kind, described.material_name, described.material_version) == (
        "most-recent",
        "orders",
        7,
    )
    stored["*amzn-ddb-map-desc*"] = {
        "B": encode_material_description({"amzn-ddb-wrap-alg": "kms", "amzn-ddb-env-key": "AA"})
    }
    assert describe_item(stored).provider_kind == "aws-kms"


def test_with_the_provider_the_actions_are_exact() -> None:
    provider = WrappedMaterialsProvider(wrapping_key=AES, signing_key=HMAC)
    described = describe_item(
        _encrypt(provider), provider=provider, table_name=TABLE, partition_key_name="pk"
    )
    assert described.verified is True
    assert described.certain
    assert described.encrypted_attributes == {"secret"}
    assert described.signed_attributes == {"pk", "secret", "signed"}
    # Given actions are used as they are.
    given = describe_item(
        _encrypt(provider),
        provider=provider,
        table_name=TABLE,
        partition_key_name="pk",
        attribute_actions=ACTIONS,
    )
    assert given == described


def test_a_wrong_key_is_reported_without_values() -> None:
    stored = _encrypt(StaticMaterialsProvider(encryption_key=AES, signing_key=HMAC))
    wrong = StaticMaterialsProvider(encryption_key=AES, signing_key=OTHER_HMAC)
    described = describe_item(stored, provider=wrong, table_name=TABLE, partition_key_name="pk")
    assert described.verified is False
    assert described.error is not None
    assert "secret value" not in repr(described)


def test_a_provider_needs_the_table_and_key_names() -> None:
    provider = StaticMaterialsProvider(encryption_key=AES, signing_key=HMAC)
    with pytest.raises(Exception, match="table_name and partition_key_name"):
        describe_item(_encrypt(provider), provider=provider)


def test_the_description_is_frozen() -> None:
    described = describe_item(ITEM)
    assert isinstance(described, ItemDescription)
    with pytest.raises(dataclasses.FrozenInstanceError):
        described.signed = True  # type: ignore[misc]


# A record written by the Java DB-ESDK: test "1" of decrypt_java_32.json from
# aws/aws-database-encryption-sdk-dynamodb (TestVectors/runtimes/java/, commit b69c6db7c),
# Apache-2.0. Actions: RecNum SIGN_ONLY, Stuff and Junk ENCRYPT_AND_SIGN; hierarchical keyring
# (branch key bd3842ff-..., whose version e9ce18a3-... is in the MPL's published keys.json).
JAVA_RECORD = {
    "aws_dbe_head": (
        "AQHnXPy8DTRadMT+bzRz/0QjzkNXzQ0dhQH8L9eoylwEeAADZWVzAAEAFWF3cy1jcnlwdG8tcHVibGlj"
        "LWtleQBEQThuNEl0ZFRCZ2l5VUlhQ0xLcmozd1VXeTk4ZmkwTnAwckVPWmkwWUV2NHlML2ZDdEttdWwz"
        "aWhxaVI2MFlTTzh3PT0BABFhd3Mta21zLWhpZXJhcmNoeQAkYmQzODQyZmYtMzA3Ni00MDkyLTk5MTgt"
        "NDM5NTczMDA1MGI4AIxU6ZcnFyzNIkjO6KWyA5nzQTWQEAL/bQuXB+QaLuy0RwL596nZliIzmQLYyrnt"
        "6CpNioBTt4NltZMcuAj02ZKwZb1PIKkVxddUNkAQ6c4Yo+21QnKfhhyst5l/9sF/A774lrtOJwndRr/B"
        "TOdOr+M7InOs277F3YD2dhar088MMKtowFNNR4ihKkr1lCIb/JSXNeJ4APNJvYPn5Y4eIcxN5FH0/eZg"
        "wSL+5twm"
    ),
    "aws_dbe_foot": (
        "VUDagKyfeuQFH1lolZWVPKDVaUKWn9nfFqgshwnIC9si0DMV1ZSASMnIElBgJyGKMGUCMQC1qAIGXxzU"
        "3fhgDpvO3vZmw4Ji26xH41cZaq3vNZM8UYZPptoV8+79YQ2z/tosG9ECMG9aCqaxd/stVutdPFWBbUuu"
        "Lv1My35AHlz2G+9t70GW2Z8XmRaEtoJ3ZcRWYXoy0A=="
    ),
    "Junk": "AAEFkPHsmxrH7v1q2inMpSmio5SVCWAmktk=",
    "Stuff": "AAFX3ZgfoiVAHVZcE59KyQDHLRUNUthfNoGJ",
}


def test_a_dbesdk_record_written_by_java() -> None:
    item: dict[str, Any] = {k: {"B": base64.b64decode(v)} for k, v in JAVA_RECORD.items()}
    item["RecNum"] = {"N": "1"}
    described = describe_item(item)
    assert described.format == "dbesdk"
    assert described.signed
    assert described.provider_kind == "aws-kms-hierarchy"
    assert described.material_name == "bd3842ff-3076-4092-9918-4395730050b8"
    assert described.branch_key_version == "e9ce18a3-edb5-4272-9f86-1cacb7997ff6"
    assert described.signing_algorithm == "ECDSA-P384-SHA384 + HMAC-SHA384"
    assert described.certain
    assert described.encrypted_attributes == {"Stuff", "Junk"}
    assert described.signed_attributes == {"RecNum", "Stuff", "Junk"}
    # An extra unsigned attribute: the legend no longer covers every attribute.
    partial = describe_item({**item, "note": {"S": "x"}})
    assert not partial.certain
    assert partial.signed_attributes is None
    # A truncated header is reported, not raised.
    broken = describe_item({**item, "aws_dbe_head": {"B": item["aws_dbe_head"]["B"][:40]}})
    assert broken.error == "the header is malformed"


def test_descriptions_are_hashable_values() -> None:
    stored = _encrypt(StaticMaterialsProvider(encryption_key=AES, signing_key=HMAC))
    assert describe_item(stored) == describe_item(dict(stored))
    assert len({describe_item(stored), describe_item(dict(stored))}) == 1
