"""The DB-ESDK item encryptor: round trips, configuration rules, what decrypt refuses."""

from __future__ import annotations

import copy
import os
from decimal import Decimal
from typing import Any

import pytest

from pynamodb_encryption.dbesdk import (
    CryptoAction,
    DbeAlgorithmSuite,
    DbeHeaderError,
    DbeItemError,
    DbeNoDataKeyError,
    DbEsdkItemEncryptor,
    DbeSignatureError,
    RawAesKeyring,
)
from pynamodb_encryption.errors import (
    ConfigurationError,
    DecryptionError,
    EncryptionError,
    PlaintextItemError,
)

E = CryptoAction.ENCRYPT_AND_SIGN
S = CryptoAction.SIGN_ONLY
C = CryptoAction.SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT
N = CryptoAction.DO_NOTHING
SUITES = list(DbeAlgorithmSuite)
KEY = bytes(range(32))


def keyring(key: bytes = KEY, name: str = "key-1") -> RawAesKeyring:
    return RawAesKeyring(key_namespace="tests", key_name=name, wrapping_key=key)


def make(
    actions: dict[str, CryptoAction] | None = None,
    *,
    suite: DbeAlgorithmSuite = SUITES[1],
    **kwargs: Any,
) -> DbEsdkItemEncryptor:
    kwargs.setdefault("keyring", keyring())
    return DbEsdkItemEncryptor(
        table_name="Orders",
        partition_key_name="pk",
        sort_key_name="sk",
        attribute_actions=actions or {"pk": S, "sk": S, "secret": E, "note": S},
        algorithm_suite=suite,
        **kwargs,
    )


ITEM: dict[str, Any] = {
    "pk": {"S": "customer#1"},
    "sk": {"N": "7"},
    "secret": {"M": {"card": {"S": "4111"}, "n": {"NS": ["3", "1.50"]}}},
    "note": {"L": [{"NULL": True}, {"BOOL": True}, {"B": b"\x00\xff"}]},
}


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.name[-30:])
@pytest.mark.parametrize("version", [1, 2])
def test_round_trip(suite: DbeAlgorithmSuite, version: int) -> None:
    actions = {"pk": S, "sk": S, "secret": E, "note": S}
    if version == 2:
        actions = {"pk": C, "sk": C, "secret": E, "note": C}
    encryptor = make(actions, suite=suite)
    original = copy.deepcopy(ITEM)
    stored = encryptor.encrypt(ITEM)
    assert original == ITEM  # never mutates the input
    assert set(stored) == {*ITEM, "aws_dbe_head", "aws_dbe_foot"}
    assert stored["secret"]["B"][:2] == b"\x02\x00"  # a map, type id kept in the clear
    assert stored["pk"] == ITEM["pk"]
    header = encryptor.read_header(stored)
    assert header.version == version
    assert header.algorithm_suite is suite
    assert header.provider_ids == ("tests",)
    # The parsed header re-serializes to the stored bytes.
    raw = stored["aws_dbe_head"]["B"]
    assert header.header.partial_bytes() + header.header.commitment == raw
    footer = stored["aws_dbe_foot"]["B"]
    assert len(footer) == 48 + (103 if suite.signs_with_ecdsa else 0)
    decrypted = encryptor.decrypt(stored)
    expected = copy.deepcopy(ITEM)
    expected["secret"]["M"]["n"] = {"NS": ["1.5", "3"]}  # normalized and ordered
    assert decrypted == expected


def test_python_values_round_trip() -> None:
    encryptor = make()
    item = {"pk": "a", "sk": 1, "secret": {"x": Decimal("1.5"), "s": {"b", "a"}}, "note": None}
    stored = encryptor.encrypt_python(item)
    assert isinstance(stored["secret"], bytes)
    assert encryptor.decrypt_python(stored) == item
    # canonical order: shorter names first (pk, sk, note, secret)
    assert encryptor.read_header_python(stored).legend == "ssse"


def test_ecdsa_signature_is_always_103_bytes() -> None:
    encryptor = make()
    for _ in range(40):
        assert len(encryptor.encrypt(ITEM)["aws_dbe_foot"]["B"]) == 48 + 103


def test_unsigned_attributes_pass_through() -> None:
    encryptor = make(
        {"pk": S, "sk": S, "secret": E, "note": S, "counter": N},
        allowed_unsigned_attributes=["counter"],
        allowed_unsigned_attribute_prefix="tmp_",
    )
    item = {**ITEM, "counter": {"N": "1"}, "tmp_x": {"S": "free"}}
    stored = encryptor.encrypt(item)
    stored["counter"] = {"N": "2"}
    stored["tmp_x"] = {"S": "changed"}
    stored["tmp_new"] = {"S": "added"}
    out = encryptor.decrypt(stored)
    assert out["counter"] == {"N": "2"}
    assert out["tmp_new"] == {"S": "added"}


def test_decrypt_trusts_the_legend_not_the_configured_action() -> None:
    written = make({"pk": S, "sk": S, "secret": E, "note": S}).encrypt(ITEM)
    reader = make({"pk": S, "sk": S, "secret": S, "note": E})
    assert reader.decrypt(written) == make().decrypt(written)


def test_reader_that_makes_a_signed_attribute_unsigned_is_refused() -> None:
    written = make().encrypt(ITEM)
    reader = make({"pk": S, "sk": S, "secret": E, "note": N}, allowed_unsigned_attributes=["note"])
    with pytest.raises(DbeItemError):
        reader.decrypt(written)


@pytest.mark.parametrize(
    ("actions", "kwargs"),
    [
        ({"pk": S, "sk": S, "x": N}, {}),  # DO_NOTHING inside the signature scope
        ({"pk": S, "sk": S, "x": E}, {"allowed_unsigned_attributes": ["x"]}),
        ({"pk": S, "sk": S, "tmp_x": S}, {"allowed_unsigned_attribute_prefix": "tmp_"}),
        ({"pk": E, "sk": S}, {}),  # keys must carry the key action
        ({"pk": S}, {}),  # the sort key has no action
        ({"pk": S, "sk": S, "x": C}, {}),  # v2: keys must be SIGN_AND_INCLUDE too
        ({"pk": C, "sk": C, "aws_dbe_x": S}, {}),  # reserved prefix
        ({"pk": S, "sk": S, "x": "ENCRYPT_AND_SIGN"}, {}),
        ({"pk": S, "sk": S}, {"allowed_unsigned_attributes": "x"}),
        ({"pk": S, "sk": S}, {"allowed_unsigned_attribute_prefix": ""}),
        ({"pk": S, "sk": S}, {"keyring": object()}),
    ],
)
def test_configuration_errors(actions: dict[str, Any], kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        make(actions, **kwargs)


def test_encrypt_refuses_unconfigured_and_reserved_attributes() -> None:
    encryptor = make()
    with pytest.raises(EncryptionError) as info:
        encryptor.encrypt({**ITEM, "surprise": {"S": "x"}})
    assert info.value.attribute == "surprise"
    with pytest.raises(EncryptionError):
        encryptor.encrypt({**ITEM, "aws_dbe_head": {"B": b"x"}})
    with pytest.raises(EncryptionError):
        encryptor.encrypt({"pk": {"S": "a"}, "secret": {"S": "b"}})  # no sort key
    with pytest.raises(EncryptionError) as info:
        encryptor.encrypt({**ITEM, "secret": {"N": "not a number"}})
    assert "not a number" not in str(info.value)


def test_wrong_key_and_plaintext_items() -> None:
    stored = make().encrypt(ITEM)
    with pytest.raises(DbeNoDataKeyError):
        make(keyring=keyring(os.urandom(32))).decrypt(stored)
    with pytest.raises(DbeNoDataKeyError):
        make(keyring=keyring(name="other")).decrypt(stored)
    with pytest.raises(PlaintextItemError):
        make().decrypt(ITEM)
    with pytest.raises(DbeHeaderError):
        make().decrypt({**stored, "aws_dbe_head": {"S": "x"}})


def test_moved_item_is_refused() -> None:
    stored = make().encrypt(ITEM)
    other_table = DbEsdkItemEncryptor(
        table_name="Other",
        partition_key_name="pk",
        sort_key_name="sk",
        attribute_actions={"pk": S, "sk": S, "secret": E, "note": S},
        keyring=keyring(),
    )
    with pytest.raises(DecryptionError):
        other_table.decrypt(stored)
    with pytest.raises(DecryptionError):
        make().decrypt({**stored, "pk": {"S": "customer#2"}})


def test_errors_are_typed_and_name_no_value() -> None:
    stored = make().encrypt(ITEM)
    stored["note"] = {"L": [{"S": "4111-secret"}]}
    with pytest.raises(DbeSignatureError) as info:
        make().decrypt(stored)
    assert "4111" not in str(info.value)
    assert "4111" not in repr(make())


def test_strings_and_map_keys_are_ordered_by_utf16_code_units() -> None:
    from pynamodb_encryption.structured._serialize import serialize

    # U+10000 is D800 DC00 in UTF-16, before U+E000: the reverse of code-point order.
    astral, private = "\U00010000", "\ue000"
    _, body = serialize({"SS": [private, astral, "a"]})
    assert body.index(b"a") < body.index(astral.encode()) < body.index(private.encode())
    _, body = serialize({"M": {private: {"NULL": True}, astral: {"NULL": True}}})
    assert body.index(astral.encode()) < body.index(private.encode())
    _, ascii_body = serialize({"SS": ["b", "a", "B"]})
    assert ascii_body.index(b"B") < ascii_body.index(b"a") < ascii_body.index(b"b")


def test_canonical_path_counts_utf16_code_units() -> None:
    from pynamodb_encryption.structured._encryptor import canonical_path

    one = (1).to_bytes(8, "big")
    assert canonical_path(b"T", "ab") == b"T" + one + b"$" + (2).to_bytes(8, "big") + b"ab"
    # U+10001 is one code point, four UTF-8 bytes, two UTF-16 code units (Java's length).
    name = "\U00010001"
    assert canonical_path(b"T", name) == b"T" + one + b"$" + (2).to_bytes(8, "big") + name.encode()
    # Shorter names sort first, whatever their letters.
    assert canonical_path(b"T", "Zz") < canonical_path(b"T", "aaa")
