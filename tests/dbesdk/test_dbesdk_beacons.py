"""Beacon engine: AWS's known answers, transforms and configuration rules.

Known answers come from AWS's ``DynamoDbEncryption/dafny/DynamoDbEncryption/test/Beacon.dfy``
(``TestBeacon``, ``TestBeaconValues``), ``BeaconTestFixtures.dfy`` and ``Virtual.dfy``
(aws/aws-database-encryption-sdk-dynamodb at b69c6db7c).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pynamodb_encryption.dbesdk import (
    BeaconVersion,
    CompoundBeacon,
    Constructor,
    ConstructorPart,
    CryptoAction,
    EncryptedPart,
    Insert,
    Lower,
    Prefix,
    Segment,
    Segments,
    SignedPart,
    StandardBeacon,
    Substring,
    Suffix,
    Upper,
    VirtualField,
    VirtualPart,
    beacon_length_bounds,
)
from pynamodb_encryption.errors import ConfigurationError, EncryptionError
from pynamodb_encryption.structured._beacons import beacon_hash, hmac_key
from pynamodb_encryption.structured._materials import BeaconKeyMaterials

E = CryptoAction.ENCRYPT_AND_SIGN
S = CryptoAction.SIGN_ONLY
KEY = bytes([1, 2, 3, 4, 5])


@dataclass
class _Literal:
    key_field_name: str | None = None

    def beacon_key(self, beacon_key_id: str | None) -> BeaconKeyMaterials:
        return BeaconKeyMaterials(beacon_key_id="k", beacon_key=KEY)


ACTIONS = {
    "std2": E,
    "std4": E,
    "std6": E,
    "Name": E,
    "Title": E,
    "TooBad": E,
    "Year": S,
    "Date": S,
    "TheKeyField": S,
    "JustSigned": S,
}
YEAR = SignedPart("Year", "Y_")
MONTH = SignedPart("Month", "M_", location="Date.Month")
NAME = EncryptedPart("Name", "N_")
TITLE = EncryptedPart("Title", "T_")
STANDARD = (
    StandardBeacon("std2", 24),
    StandardBeacon("std4", 24, location="std4"),
    StandardBeacon("std6", 26, location="std6[0]"),
    StandardBeacon("NameTitleField", 28),
    StandardBeacon("Name", 32),
    StandardBeacon("Title", 32),
)
MIXED = CompoundBeacon(
    "Mixed",
    ".",
    encrypted=(NAME, TITLE),
    signed=(YEAR, MONTH),
    constructors=(
        Constructor((ConstructorPart("Name"), ConstructorPart("Year"))),
        Constructor((ConstructorPart("Title"), ConstructorPart("Month", required=False))),
    ),
)
COMPOUND = (
    CompoundBeacon("NameTitle", ".", encrypted=(NAME, TITLE)),
    CompoundBeacon("YearName", ".", encrypted=(NAME,), signed=(YEAR,)),
    MIXED,
    CompoundBeacon("JustSigned", ".", signed=(YEAR, MONTH)),
)
VIRTUAL = (
    VirtualField(
        "NameTitleField",
        (VirtualPart("Name", (Insert("__"),)), VirtualPart("Title", (Lower(),))),
    ),
)
SIMPLE_ITEM = {
    "std2": {"N": "1.23"},
    "std4": {"S": "abc"},
    "std6": {"L": [{"S": "666"}]},
    "Date": {"M": {"Month": {"S": "May"}, "Year": {"N": "1984"}}},
    "Year": {"N": "1984"},
    "Name": {"S": "MyName"},
    "Title": {"S": "MyTitle"},
}


def _lotsa(**kw: object) -> BeaconVersion:
    args: dict[str, object] = {
        "standard_beacons": STANDARD,
        "compound_beacons": COMPOUND,
        "virtual_fields": VIRTUAL,
        "key_source": _Literal(),
    }
    args.update(kw)
    return BeaconVersion(**args)  # type: ignore[arg-type]


def test_basic_hash_known_answers() -> None:
    # TestBeacon: raw key [1,2], data [1,2,3], 8 bits, partitions 0/1/2; and the empty input.
    assert beacon_hash(b"\x01\x02", b"\x01\x02\x03", 8, 0) == "7e"
    assert beacon_hash(b"\x01\x02", b"\x01\x02\x03", 8, 1) == "1d"
    assert beacon_hash(b"\x01\x02", b"\x01\x02\x03", 8, 2) == "ef"
    assert beacon_hash(b"\x01\x02", b"", 8, 0) == "80"


@pytest.mark.parametrize(
    ("name", "value", "bits", "expected"),
    [
        ("std2", "1.23", 24, "ac6f5d"),
        ("Name", "MyName", 32, "7d9bfa40"),
        ("Title", "MyTitle", 32, "e4feb833"),
        ("std4", "abc", 24, "0e9064"),
        ("std6", "666", 26, "2d99222"),
        ("NameTitleField", "MyName__mytitle", 28, "4c577d7"),
        ("Name", "", 32, "e0e88994"),
        ("Title", "", 32, "af34f26f"),
    ],
)
def test_one_beacon_value(name: str, value: str, bits: int, expected: str) -> None:
    assert beacon_hash(hmac_key(KEY, name), value.encode(), bits) == expected


def test_beacon_values_of_an_item() -> None:
    info = _lotsa().bind(ACTIONS)
    assert info.signed_beacons(SIMPLE_ITEM) == {"JustSigned": {"S": "Y_1984.M_May"}}
    keys = info.hmac_keys(KEY)
    assert info.encrypted_beacons(SIMPLE_ITEM, keys) == {
        "aws_dbe_b_Mixed": {"S": "N_7d9bfa40.Y_1984"},
        "aws_dbe_b_Name": {"S": "7d9bfa40"},
        "aws_dbe_b_NameTitle": {"S": "N_7d9bfa40.T_e4feb833"},
        "aws_dbe_b_NameTitleField": {"S": "4c577d7"},
        "aws_dbe_b_std2": {"S": "ac6f5d"},
        "aws_dbe_b_Title": {"S": "e4feb833"},
        "aws_dbe_b_std6": {"S": "2d99222"},
        "aws_dbe_b_std4": {"S": "0e9064"},
        "aws_dbe_b_YearName": {"S": "Y_1984.N_7d9bfa40"},
    }


def test_numbers_are_normalized_before_hashing() -> None:
    info = _lotsa().bind(ACTIONS)
    keys = info.hmac_keys(KEY)
    item = {**SIMPLE_ITEM, "std2": {"N": "000001.23000000"}}
    assert info.encrypted_beacons(item, keys)["aws_dbe_b_std2"] == {"S": "ac6f5d"}


def test_split_character_in_a_part_value_is_refused() -> None:
    info = _lotsa().bind(ACTIONS)
    with pytest.raises(EncryptionError, match="split character"):
        info.encrypted_beacons({**SIMPLE_ITEM, "Name": {"S": "A.B"}}, info.hmac_keys(KEY))


def test_as_set_and_shared_and_part_only() -> None:
    actions = {**ACTIONS, "tags": E, "alias": E}
    v = _lotsa(
        standard_beacons=(
            *STANDARD,
            StandardBeacon("tags", 16, as_set=True),
            StandardBeacon("alias", 32, share="Name"),
        )
    )
    info = v.bind(actions)
    keys = info.hmac_keys(KEY)
    out = info.encrypted_beacons(
        {**SIMPLE_ITEM, "tags": {"SS": ["a", "b", "a"]}, "alias": {"S": "MyName"}}, keys
    )
    # Shared: hashed with Name's key, so equal plaintexts have equal beacons.
    assert out["aws_dbe_b_alias"] == out["aws_dbe_b_Name"]
    a = beacon_hash(hmac_key(KEY, "tags"), b"a", 16)
    b = beacon_hash(hmac_key(KEY, "tags"), b"b", 16)
    assert out["aws_dbe_b_tags"] == {"SS": [a, b]}
    with pytest.raises(EncryptionError, match="as_set"):
        info.encrypted_beacons({**SIMPLE_ITEM, "tags": {"S": "x"}}, keys)


def test_part_only_beacon_is_not_stored() -> None:
    actions = {**ACTIONS, "partOnly": E}
    part = CompoundBeacon("compoundPart", ".", encrypted=(EncryptedPart("partOnly", "S_"),))
    v = _lotsa(
        standard_beacons=(*STANDARD, StandardBeacon("partOnly", 23, part_only=True)),
        compound_beacons=(*COMPOUND, part),
    )
    info = v.bind(actions)
    out = info.encrypted_beacons({"partOnly": {"S": "foo"}}, info.hmac_keys(KEY))
    assert "aws_dbe_b_partOnly" not in out
    assert out["aws_dbe_b_compoundPart"]["S"].startswith("S_")


def test_partitions_change_the_beacon() -> None:
    v = _lotsa(
        standard_beacons=(
            StandardBeacon("std2", 24),
            StandardBeacon("std4", 24, number_of_partitions=2),
            *STANDARD[2:],
        ),
        maximum_number_of_partitions=5,
    )
    info = v.bind(ACTIONS)
    keys = info.hmac_keys(KEY)
    p0 = info.encrypted_beacons(SIMPLE_ITEM, keys, 0)
    p1 = info.encrypted_beacons(SIMPLE_ITEM, keys, 1)
    p3 = info.encrypted_beacons(SIMPLE_ITEM, keys, 3)
    assert p0["aws_dbe_b_std2"] != p1["aws_dbe_b_std2"]
    # std4 has 2 partitions: partition 3 is constrained to 3 % 2 == 1.
    assert p3["aws_dbe_b_std4"] == p1["aws_dbe_b_std4"]
    assert p0["aws_dbe_b_std4"]["S"] == beacon_hash(hmac_key(KEY, "std4"), b"abc", 24, 0)
    assert p1["aws_dbe_b_std4"]["S"] == beacon_hash(hmac_key(KEY, "std4"), b"abc", 24, 1)


@pytest.mark.parametrize(
    ("transform", "value", "expected"),
    [
        (Upper(), "aBcDñÑeF", "ABCDñÑEF"),
        (Lower(), "aBcDñÑeF", "abcdñÑef"),
        (Insert("_foo"), "", "_foo"),
        (Prefix(3), "aBcDñÑeF", "aBc"),
        (Prefix(-3), "aBcDñÑeF", "aBcDñ"),
        (Prefix(-3), "a", ""),
        (Suffix(3), "aBcDñÑeF", "ÑeF"),
        (Suffix(-3), "aBcDñÑeF", "DñÑeF"),
        (Substring(2, 4), "abcdef", "cd"),
        (Substring(4, 2), "abcdef", ""),
        (Substring(2, -2), "abcdef", "cd"),
        (Substring(-4, 4), "abcdef", "cd"),
        (Substring(-4, -2), "abcdef", "cd"),
        (Segment(".", 0), "1.23.456.7890", "1"),
        (Segment(".", 3), "1.23.456.7890", "7890"),
        (Segment(".", 4), "1.23.456.7890", ""),
        (Segment(".", -1), "1.23.456.7890", "7890"),
        (Segment(".", -4), "1.23.456.7890", "1"),
        (Segment(".", -5), "1.23.456.7890", ""),
        (Segments(".", 0, 0), "1.23.456.7890", ""),
        (Segments(".", 1, 3), "1.23.456.7890", "23.456"),
        (Segments(".", -3, 2), "1.23.456.7890", "23"),
        (Segments(".", 0, -1), "1.23.456.7890", "1.23.456"),
        # Positions are UTF-16 code units, as in AWS's Dafny strings.
        (Prefix(1), "\U0001f600x", "\ud83d"),
    ],
)
def test_virtual_transforms(transform: object, value: str, expected: str) -> None:
    assert transform.apply(value) == expected  # type: ignore[attr-defined]


NO_COMPOUND: dict[str, object] = {"compound_beacons": (), "virtual_fields": ()}


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"standard_beacons": (StandardBeacon("Year", 8),)}, "already an unencrypted"),
        ({"standard_beacons": (StandardBeacon("aws_dbe_x", 8),)}, "reserved prefix"),
        ({"standard_beacons": (StandardBeacon("Nope", 8),)}, "not defined on an encrypted"),
        (
            {"standard_beacons": (StandardBeacon("Name", 8), StandardBeacon("X", 8, "Name"))},
            "already defined on that location",
        ),
        ({"standard_beacons": (StandardBeacon("Name", 8, share="Gone"),)}, "not a standard"),
        (
            {
                "standard_beacons": (
                    StandardBeacon("Name", 8),
                    StandardBeacon("Title", 9, share="Name"),
                )
            },
            "has length",
        ),
        ({"standard_beacons": (StandardBeacon("Name", 8, part_only=True),)}, "must be used in"),
        (
            {
                "compound_beacons": (
                    CompoundBeacon(
                        "Bad", ".", encrypted=(NAME, TITLE, EncryptedPart("TooBad", "T"))
                    ),
                ),
                "standard_beacons": (*STANDARD, StandardBeacon("TooBad", 32)),
            },
            "no prefix may be a prefix",
        ),
        (
            {"compound_beacons": (CompoundBeacon("C", ".", signed=(SignedPart("Name", "N_"),)),)},
            "not SIGN_ONLY",
        ),
        (
            {
                "compound_beacons": (
                    CompoundBeacon("C", ".", encrypted=(EncryptedPart("Q", "Q_"),)),
                )
            },
            "not configured",
        ),
        ({"maximum_number_of_partitions": 5, "default_number_of_partitions": 5}, "less than"),
        ({"standard_beacons": (StandardBeacon("N" * 250, 8, location="Name"),)}, "255 bytes"),
    ],
)
def test_configuration_errors_say_what_to_change(kw: dict[str, object], message: str) -> None:
    if "compound_beacons" not in kw and "standard_beacons" in kw:
        kw = {**NO_COMPOUND, **kw}
    with pytest.raises(ConfigurationError, match=message):
        _lotsa(**kw).bind(ACTIONS)


@pytest.mark.parametrize(
    "build",
    [
        lambda: StandardBeacon("x", 0),
        lambda: StandardBeacon("x", 64),
        lambda: StandardBeacon(None, 8),  # type: ignore[arg-type]  # "" names a field beacon
        lambda: CompoundBeacon("c", "..", encrypted=(NAME,)),
        lambda: CompoundBeacon("c", "."),
        lambda: Constructor(()),
        lambda: Constructor((ConstructorPart("a", required=False),)),
        lambda: VirtualPart("a[x]"),
        lambda: BeaconVersion(standard_beacons=(), key_source=_Literal()),
        lambda: BeaconVersion(standard_beacons=STANDARD, key_source=object()),  # type: ignore[arg-type]
    ],
)
def test_declarations_are_checked_when_built(build: object) -> None:
    with pytest.raises(ConfigurationError):
        build()  # type: ignore[operator]


def test_signed_beacon_must_be_a_sign_only_attribute() -> None:
    actions = {k: v for k, v in ACTIONS.items() if k != "JustSigned"}
    with pytest.raises(ConfigurationError, match="signed_beacon_actions"):
        _lotsa().bind(actions)
    assert _lotsa().signed_beacon_actions() == {"JustSigned": S}


def test_length_bounds() -> None:
    # 5-digit ZIP codes: 9..16 bits (beacons.md#beacon-length).
    assert beacon_length_bounds(100_000) == (9, 15)
    low, high = beacon_length_bounds(10**9)
    assert 2**low >= (10**9) ** 0.5
    assert 2**high <= 10**9 / 2
    with pytest.raises(ConfigurationError):
        beacon_length_bounds(1)


# Beacon.dfy: TestPartOnly, TestShareSameBeacon, TestBeaconSetQuery, TestSetNotSet,
# TestSharedSet (beacon key [1,2,3,4,5]).
MY_ITEM = {"std2": {"S": "abc"}, "partOnly": {"S": "def"}}
PART_ACTIONS = {**ACTIONS, "partOnly": E, "setAttr": E}


def _with(*extra: StandardBeacon, compound: tuple[CompoundBeacon, ...] = ()) -> BeaconVersion:
    return _lotsa(standard_beacons=(*STANDARD, *extra), compound_beacons=(*COMPOUND, *compound))


def test_part_only_known_answers() -> None:
    compound_part = CompoundBeacon(
        "compoundPart", ".", encrypted=(EncryptedPart("partOnly", "S_"),)
    )
    info = _with(StandardBeacon("partOnly", 23), compound=(compound_part,)).bind(PART_ACTIONS)
    assert info.encrypted_beacons(MY_ITEM, info.hmac_keys(KEY)) == {
        "aws_dbe_b_std2": {"S": "51e1da"},
        "aws_dbe_b_partOnly": {"S": "405a51"},
        "aws_dbe_b_compoundPart": {"S": "S_405a51"},
    }
    info = _with(StandardBeacon("partOnly", 23, part_only=True), compound=(compound_part,)).bind(
        PART_ACTIONS
    )
    assert info.encrypted_beacons(MY_ITEM, info.hmac_keys(KEY)) == {
        "aws_dbe_b_std2": {"S": "51e1da"},
        "aws_dbe_b_compoundPart": {"S": "S_405a51"},
    }


def test_shared_beacon_known_answers() -> None:
    item = {"std2": {"S": "abc"}, "partOnly": {"S": "abc"}}
    info = _with(StandardBeacon("partOnly", 24)).bind(PART_ACTIONS)
    assert info.encrypted_beacons(item, info.hmac_keys(KEY)) == {
        "aws_dbe_b_std2": {"S": "51e1da"},
        "aws_dbe_b_partOnly": {"S": "928d9b"},
    }
    info = _with(StandardBeacon("partOnly", 24, share="std2")).bind(PART_ACTIONS)
    keys = info.hmac_keys(KEY)
    assert info.encrypted_beacons(item, keys) == {
        "aws_dbe_b_std2": {"S": "51e1da"},
        "aws_dbe_b_partOnly": {"S": "51e1da"},
    }
    for name in ("partOnly", "std2"):
        value = info.query_value(
            name, {"S": "foo"}, keys, for_equality=True, for_contains=False, partition=0
        )
        assert value == {"S": "4379a7"}


def test_set_beacon_known_answers() -> None:
    info = _with(StandardBeacon("setAttr", 24, as_set=True)).bind(PART_ACTIONS)
    keys = info.hmac_keys(KEY)
    query = info.query_value(
        "setAttr",
        {"SS": ["abc", "def", "ghi"]},
        keys,
        for_equality=True,
        for_contains=False,
        partition=0,
    )
    assert query == {"SS": ["43c4d8", "2f3278", "f1972e"]}
    with pytest.raises(EncryptionError, match="as_set"):
        info.query_value(
            "setAttr", {"L": []}, keys, for_equality=True, for_contains=False, partition=0
        )
    item = {"std2": {"S": "abc"}, "partOnly": {"SS": ["abc", "def", "ghi"]}}
    info = _with(StandardBeacon("partOnly", 24, as_set=True)).bind(PART_ACTIONS)
    assert info.encrypted_beacons(item, info.hmac_keys(KEY))["aws_dbe_b_partOnly"] == {
        "SS": ["928d9b", "405a51", "9c6c2e"]
    }
    info = _with(StandardBeacon("partOnly", 24, as_set=True, share="std2")).bind(PART_ACTIONS)
    assert info.encrypted_beacons(item, info.hmac_keys(KEY))["aws_dbe_b_partOnly"] == {
        "SS": ["51e1da", "39ef85", "3ff06a"]
    }


def test_a_part_that_is_not_a_string_is_an_encryption_error() -> None:
    info = _lotsa().bind(ACTIONS)
    keys = info.hmac_keys(KEY)
    only_virtual = _lotsa(compound_beacons=()).bind(ACTIONS)
    with pytest.raises(EncryptionError, match="virtual field NameTitleField"):
        only_virtual.encrypted_beacons({**SIMPLE_ITEM, "Title": {"L": []}}, keys)
    with pytest.raises(EncryptionError, match="not a string") as caught:
        info.encrypted_beacons({**SIMPLE_ITEM, "Year": {"B": b"\x01"}}, keys)
    assert caught.value.attribute == "Year"
