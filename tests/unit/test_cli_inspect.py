"""``inspect`` logic without a server: reading protection, finding actions, verifying."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption.cli._inspect import (
    analyze,
    candidate_actions,
    provider_info,
    verify_and_decrypt,
)
from pynamodb_encryption.core import (
    AttributeActions,
    CryptoAction,
    ItemEncryptor,
    SymmetricKey,
)
from pynamodb_encryption.providers import StaticMaterialsProvider, WrappedMaterialsProvider

TABLE = "inspect-unit"
E, S, N = CryptoAction.ENCRYPT_AND_SIGN, CryptoAction.SIGN_ONLY, CryptoAction.DO_NOTHING

AES = SymmetricKey(bytes(range(32)), "AES")
HMAC = SymmetricKey(bytes(range(32, 64)), "HmacSHA256")
OTHER_HMAC = SymmetricKey(bytes(range(64, 96)), "HmacSHA256")


def _encrypt(
    item: dict[str, Any], actions: dict[str, CryptoAction], provider: Any
) -> dict[str, Any]:
    return ItemEncryptor(
        table_name=TABLE,
        partition_key_name="pk",
        sort_key_name="sk",
        attribute_actions=AttributeActions(N, actions),
        materials_provider=provider,
    ).encrypt(item)


ITEM = {
    "pk": {"S": "user-1"},
    "sk": {"N": "7"},
    "secret": {"S": "top secret value"},
    "signed": {"S": "signed value"},
    "plain": {"S": "plain value"},
}
ACTIONS = {"pk": S, "sk": S, "secret": E, "signed": S}


def test_analyze_without_keys_reads_the_material_description() -> None:
    wrapped = WrappedMaterialsProvider(wrapping_key=AES, signing_key=HMAC)
    stored = _encrypt(ITEM, ACTIONS, wrapped)
    report = analyze(stored, table=TABLE, key_names=["pk", "sk"])
    assert report.signed
    assert report.provider is not None
    assert report.provider.kind.startswith("wrapped")
    assert report.provider.signing_algorithm == "HmacSHA256"
    assert report.provider.wrap_algorithm == "AESWrap"
    assert report.provider.wrapped_key_bytes == 40  # AESWrap of a 32-byte key
    by_name = {a.name: a for a in report.attributes}
    assert by_name["secret"].protection.startswith("encrypted")
    assert not by_name["secret"].certain
    assert by_name["plain"].protection.startswith("signed or plain")
    assert "not checked" in report.verification
    assert all(a.decrypted is None for a in report.attributes)


def test_provider_info_reads_most_recent_and_kms_descriptions() -> None:
    mrp = provider_info(
        {
            "amzn-ddb-meta-id": "my material name#5",
            "amzn-ddb-env-key": "AAAA",
            "amzn-ddb-wrap-alg": "AESWrap",
        }
    )
    assert mrp.kind.startswith("most-recent")
    assert (mrp.material_name, mrp.material_version) == ("my material name", 5)
    kms = provider_info({"amzn-ddb-wrap-alg": "kms", "aws-kms-ec-attr": "*keys*"})
    assert kms.kind.startswith("aws-kms")
    legacy = provider_info({"amzn-ddb-env-key": "AAAA", "amzn-ddb-map-signingAlg": "SHA256withRSA"})
    assert legacy.wrapped_key is not None
    assert "PKCS#1" in legacy.wrapped_key


def test_plaintext_item_is_reported_as_unprotected() -> None:
    report = analyze(ITEM, table=TABLE, key_names=["pk", "sk"])
    assert not report.signed
    assert report.provider is None
    assert all(a.protection.startswith("plain") for a in report.attributes)


@settings(max_examples=25, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.sampled_from([E, S, N]),
    )
)
def test_search_finds_the_exact_actions_and_decrypts(actions: dict[str, CryptoAction]) -> None:
    item = {"pk": {"S": "k"}, "sk": {"N": "1"}}
    item.update({name: {"S": f"value of {name}"} for name in actions})
    stored = _encrypt(
        item,
        {**actions, "pk": S, "sk": S},
        StaticMaterialsProvider(encryption_key=AES, signing_key=HMAC),
    )
    report = analyze(stored, table=TABLE, key_names=["pk", "sk"])
    done = verify_and_decrypt(
        stored,
        report,
        provider=StaticMaterialsProvider(encryption_key=AES, signing_key=HMAC),
        partition_key="pk",
        sort_key="sk",
        actions=None,
    )
    assert done.verification.startswith("signature verified"), done.error
    by_name = {a.name: a for a in done.attributes}
    for name, action in actions.items():
        expected = {E: "encrypted + signed", S: "signed", N: "plain (not signed)"}[action]
        assert by_name[name].protection == expected
        assert by_name[name].decrypted == {"S": f"value of {name}"}


def test_wrong_key_or_tampering_fails_verification() -> None:
    provider = StaticMaterialsProvider(encryption_key=AES, signing_key=HMAC)
    stored = _encrypt(ITEM, ACTIONS, provider)
    report = analyze(stored, table=TABLE, key_names=["pk", "sk"])
    wrong = StaticMaterialsProvider(encryption_key=AES, signing_key=OTHER_HMAC)
    failed = verify_and_decrypt(
        stored, report, provider=wrong, partition_key="pk", sort_key="sk", actions=None
    )
    assert failed.verification == "FAILED"
    assert failed.error is not None
    assert "top secret" not in failed.error
    tampered = dict(stored, signed={"S": "changed"})
    failed = verify_and_decrypt(
        tampered,
        analyze(tampered, table=TABLE, key_names=["pk", "sk"]),
        provider=provider,
        partition_key="pk",
        sort_key="sk",
        actions=AttributeActions(N, ACTIONS),
    )
    assert failed.verification == "FAILED"
    assert all(a.decrypted is None for a in failed.attributes)


def test_candidates_start_with_everything_signed() -> None:
    stored = _encrypt(ITEM, ACTIONS, StaticMaterialsProvider(encryption_key=AES, signing_key=HMAC))
    first = next(candidate_actions(stored, ["pk", "sk"], can_encrypt=True))
    assert first.action("secret") is E
    assert {first.action(n) for n in ("pk", "sk", "signed", "plain")} == {S}


def test_search_refuses_huge_items() -> None:
    item = {f"a{i}": {"S": "x"} for i in range(20)}
    with pytest.raises(Exception, match="too many attributes"):
        next(candidate_actions(item, [], can_encrypt=False))
