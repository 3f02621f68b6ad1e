"""Properties of the DB-ESDK engine: round trips over every type, non-ASCII names, both
suites, format v1 and v2, read back by our engine and by an independent decoder written from
the format notes (`_dbe_independent`); and a tamper matrix where every change is refused with
a typed `DecryptionError`.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from _dbe_independent import decrypt as independent_decrypt
from _dbe_vectors import comparable_item
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption.dbesdk import (
    CryptoAction,
    DbeAlgorithmSuite,
    DbeDecryptionMaterials,
    DbeEncryptionMaterials,
    DbEsdkItemEncryptor,
    EncryptedDataKey,
    RawAesKeyring,
)
from pynamodb_encryption.errors import DecryptionError

E = CryptoAction.ENCRYPT_AND_SIGN
S = CryptoAction.SIGN_ONLY
C = CryptoAction.SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT
N = CryptoAction.DO_NOTHING
KEY = bytes(range(1, 33))
KEYRING = RawAesKeyring(key_namespace="props", key_name="k", wrapping_key=KEY)

# -- strategies -----------------------------------------------------------------------------

_chars = st.sampled_from(["a", "Z", "_", "é", "ß", "\ue000", "\uff5e", "😀", "𐀁", "中"])
names = st.text(_chars, min_size=1, max_size=6).filter(lambda n: not n.startswith("aws_dbe_"))
texts = st.text(max_size=10)


@st.composite
def numbers(draw: Any) -> str:
    digits = draw(st.integers(1, 38))
    mantissa = str(draw(st.integers(10 ** (digits - 1), 10**digits - 1)))
    exponent = draw(st.integers(-129, 125 - digits + 1))
    sign = draw(st.sampled_from(["", "-"]))
    if draw(st.booleans()):
        return f"{sign}{mantissa}E{exponent}"
    return sign + format(Decimal(f"{mantissa}E{exponent}"), "f")


def _unique(strategy: st.SearchStrategy[Any], key: Any = None) -> st.SearchStrategy[list[Any]]:
    if key is None:
        return st.lists(strategy, min_size=1, max_size=4, unique=True)
    return st.lists(strategy, min_size=1, max_size=4, unique_by=key)


scalars = st.one_of(
    texts.map(lambda s: {"S": s}),
    numbers().map(lambda n: {"N": n}),
    st.sampled_from(["0", "-0", "0.00", "007", "1.50"]).map(lambda n: {"N": n}),
    st.binary(max_size=16).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    _unique(texts).map(lambda v: {"SS": v}),
    _unique(numbers(), key=Decimal).map(lambda v: {"NS": v}),
    _unique(st.binary(max_size=6)).map(lambda v: {"BS": v}),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(names, children, max_size=3).map(lambda v: {"M": v}),
    ),
    max_leaves=8,
)


@st.composite
def cases(draw: Any) -> tuple[DbeAlgorithmSuite, dict[str, CryptoAction], dict[str, Any]]:
    suite = draw(st.sampled_from(list(DbeAlgorithmSuite)))
    version = draw(st.sampled_from([1, 2]))
    key_action = C if version == 2 else S
    body = draw(st.dictionaries(names.filter(lambda n: n not in ("pk", "sk")), values, max_size=5))
    choices = [E, S, C] if version == 2 else [E, S]
    actions = {name: draw(st.sampled_from(choices)) for name in body}
    actions.update(pk=key_action, sk=key_action)
    item = {"pk": {"S": draw(texts)}, "sk": draw(numbers().map(lambda n: {"N": n})), **body}
    return suite, actions, item


def _encryptor(suite: DbeAlgorithmSuite, actions: dict[str, CryptoAction]) -> DbEsdkItemEncryptor:
    return DbEsdkItemEncryptor(
        table_name="Tåble-😀",
        partition_key_name="pk",
        sort_key_name="sk",
        attribute_actions=actions,
        keyring=KEYRING,
        algorithm_suite=suite,
    )


def _independent(item: dict[str, Any], unsigned: Sequence[str] = ()) -> dict[str, Any]:
    return independent_decrypt(
        item,
        table="Tåble-😀",
        partition_key="pk",
        sort_key="sk",
        unsigned=set(unsigned),
        namespace="props",
        key_name="k",
        wrapping_key=KEY,
    )


@settings(max_examples=150)
@given(cases())
def test_round_trip_by_us_and_by_an_independent_decoder(
    case: tuple[DbeAlgorithmSuite, dict[str, CryptoAction], dict[str, Any]],
) -> None:
    suite, actions, item = case
    encryptor = _encryptor(suite, actions)
    stored = encryptor.encrypt(item)
    header = encryptor.read_header(stored)
    assert header.version == (2 if C in actions.values() else 1)
    assert dict(header.attribute_actions) == actions
    expected = comparable_item(item)
    assert comparable_item(encryptor.decrypt(stored)) == expected
    assert comparable_item(_independent(stored)) == expected


# -- tamper matrix --------------------------------------------------------------------------


class _TwoKeyrings:
    """Two raw AES keyrings, both wrapping the same data key: an item with two EDKs."""

    def __init__(self) -> None:
        self.first = RawAesKeyring(key_namespace="a", key_name="k", wrapping_key=KEY)
        self.second = RawAesKeyring(key_namespace="b", key_name="k", wrapping_key=KEY[::-1])

    def on_encrypt(self, materials: DbeEncryptionMaterials) -> DbeEncryptionMaterials:
        return self.second.on_encrypt(self.first.on_encrypt(materials))

    def on_decrypt(
        self, materials: DbeDecryptionMaterials, edks: Sequence[EncryptedDataKey]
    ) -> DbeDecryptionMaterials:
        return self.second.on_decrypt(self.first.on_decrypt(materials, edks), edks)


TAMPER_ACTIONS = {"pk": C, "sk": C, "secret": E, "other": E, "plain": S, "ctx": C}
TAMPER_ITEM: dict[str, Any] = {
    "pk": {"S": "p"},
    "sk": {"N": "1"},
    "secret": {"M": {"a": {"SS": ["x", "y"]}}},
    "other": {"B": b"\x00" * 8},
    "plain": {"L": [{"N": "2"}, {"NULL": True}]},
    "ctx": {"BOOL": True},
}


@pytest.fixture(scope="module", params=list(DbeAlgorithmSuite), ids=["hmac", "ecdsa"])
def tamper_case(request: Any) -> tuple[DbEsdkItemEncryptor, dict[str, Any]]:
    encryptor = DbEsdkItemEncryptor(
        table_name="T",
        partition_key_name="pk",
        sort_key_name="sk",
        attribute_actions=TAMPER_ACTIONS,
        keyring=_TwoKeyrings(),
        algorithm_suite=request.param,
    )
    stored = encryptor.encrypt(TAMPER_ITEM)
    assert encryptor.decrypt(stored) == TAMPER_ITEM
    return encryptor, stored


def _refused(encryptor: DbEsdkItemEncryptor, item: dict[str, Any]) -> None:
    with pytest.raises(DecryptionError) as info:
        encryptor.decrypt(item)
    # No foreign exception leaks out as the error itself.
    assert type(info.value).__module__ == "pynamodb_encryption.errors"


def _with(stored: dict[str, Any], name: str, raw: bytes) -> dict[str, Any]:
    return {**stored, name: {"B": raw}}


@pytest.mark.parametrize("name", ["aws_dbe_head", "aws_dbe_foot"])
def test_every_byte_of_header_and_footer(
    tamper_case: tuple[DbEsdkItemEncryptor, dict[str, Any]], name: str
) -> None:
    encryptor, stored = tamper_case
    raw = stored[name]["B"]
    # The reader opens the first EDK, so it checks the first footer tag; the second tag is
    # for readers holding the second key (as in AWS's code, any one matching tag suffices).
    others = range(48, 96) if name == "aws_dbe_foot" else range(0)
    for index in range(len(raw)):
        for flip in (0x01, 0x80):
            changed = _with(
                stored, name, raw[:index] + bytes((raw[index] ^ flip,)) + raw[index + 1 :]
            )
            if index in others:
                assert encryptor.decrypt(changed) == TAMPER_ITEM
            else:
                _refused(encryptor, changed)
    _refused(encryptor, _with(stored, name, raw[:-1]))
    _refused(encryptor, _with(stored, name, raw + b"\x00"))


def test_every_signed_value(tamper_case: tuple[DbEsdkItemEncryptor, dict[str, Any]]) -> None:
    encryptor, stored = tamper_case
    replacements = {
        "pk": {"S": "q"},
        "sk": {"N": "2"},
        "plain": {"L": [{"N": "2"}]},
        "ctx": {"BOOL": False},
    }
    for name, value in replacements.items():
        _refused(encryptor, {**stored, name: value})
    for name in ("secret", "other"):
        blob = stored[name]["B"]
        for index in range(len(blob)):
            changed = bytearray(blob)
            changed[index] ^= 0x01
            _refused(encryptor, _with(stored, name, bytes(changed)))
    # Swapping two encrypted values, removing or adding a signed attribute.
    _refused(encryptor, {**stored, "secret": stored["other"], "other": stored["secret"]})
    for name in TAMPER_ACTIONS:
        _refused(encryptor, {k: v for k, v in stored.items() if k != name})
    _refused(encryptor, {**stored, "new": {"S": "x"}})


def _split_header(raw: bytes) -> tuple[bytes, bytes, list[bytes], bytes]:
    """(everything up to the EDK count, legend, [EDK bytes], commitment) of a header."""
    pos = 34
    (legend_length,) = struct.unpack_from(">H", raw, pos)
    legend_at = pos + 2
    pos = legend_at + legend_length
    (ec_count,) = struct.unpack_from(">H", raw, pos)
    pos += 2
    for _ in range(2 * ec_count):
        (length,) = struct.unpack_from(">H", raw, pos)
        pos += 2 + length
    head, count = raw[:pos], raw[pos]
    pos += 1
    edks = []
    for _ in range(count):
        start = pos
        for _ in range(3):
            (length,) = struct.unpack_from(">H", raw, pos)
            pos += 2 + length
        edks.append(raw[start:pos])
    return head, raw[legend_at : legend_at + legend_length], edks, raw[pos:]


def test_swapped_edks_and_reordered_legend(
    tamper_case: tuple[DbEsdkItemEncryptor, dict[str, Any]],
) -> None:
    encryptor, stored = tamper_case
    raw = stored["aws_dbe_head"]["B"]
    head, legend, edks, commitment = _split_header(raw)
    assert len(edks) == 2
    assert head + bytes((2,)) + b"".join(edks) + commitment == raw
    swapped = head + bytes((2,)) + edks[1] + edks[0] + commitment
    _refused(encryptor, _with(stored, "aws_dbe_head", swapped))
    one = head + bytes((1,)) + edks[0] + commitment
    _refused(encryptor, _with(stored, "aws_dbe_head", one))
    for i in range(len(legend) - 1):
        reordered = bytearray(legend)
        reordered[i], reordered[i + 1] = reordered[i + 1], reordered[i]
        if bytes(reordered) == legend:
            continue
        changed = raw.replace(legend, bytes(reordered), 1)
        _refused(encryptor, _with(stored, "aws_dbe_head", changed))
    # Footer tags in the other order still verify (any tag may match), as in AWS's code.
    foot = stored["aws_dbe_foot"]["B"]
    swapped_tags = foot[48:96] + foot[:48] + foot[96:]
    assert encryptor.decrypt(_with(stored, "aws_dbe_foot", swapped_tags)) == TAMPER_ITEM


def test_each_keyring_alone_opens_the_item(
    tamper_case: tuple[DbEsdkItemEncryptor, dict[str, Any]],
) -> None:
    _, stored = tamper_case
    suite = tamper_case[0].algorithm_suite
    two = _TwoKeyrings()
    for keyring in (two.first, two.second):
        reader = DbEsdkItemEncryptor(
            table_name="T",
            partition_key_name="pk",
            sort_key_name="sk",
            attribute_actions=TAMPER_ACTIONS,
            keyring=keyring,
            algorithm_suite=suite,
        )
        assert reader.decrypt(stored) == TAMPER_ITEM
        assert comparable_item(
            independent_decrypt(
                stored,
                table="T",
                partition_key="pk",
                sort_key="sk",
                unsigned=set(),
                namespace="a" if keyring is two.first else "b",
                key_name="k",
                wrapping_key=KEY if keyring is two.first else KEY[::-1],
            )
        ) == comparable_item(TAMPER_ITEM)


# -- garbage in: typed errors out -----------------------------------------------------------

_FUZZ_ENCRYPTOR = DbEsdkItemEncryptor(
    table_name="T",
    partition_key_name="pk",
    sort_key_name="sk",
    attribute_actions=TAMPER_ACTIONS,
    keyring=KEYRING,
)
_FUZZ_STORED = _FUZZ_ENCRYPTOR.encrypt(TAMPER_ITEM)


@settings(max_examples=200)
@given(
    st.sampled_from(["aws_dbe_head", "aws_dbe_foot", "secret", "other"]),
    st.integers(0, 10_000),
    st.integers(0, 64),
    st.binary(max_size=64),
)
def test_spliced_bytes_are_refused_with_typed_errors(
    name: str, at: int, cut: int, insert: bytes
) -> None:
    raw = _FUZZ_STORED[name]["B"]
    at %= len(raw) + 1
    changed = raw[:at] + insert + raw[at + cut :]
    if changed == raw:
        return
    _refused(_FUZZ_ENCRYPTOR, _with(_FUZZ_STORED, name, changed))


@settings(max_examples=100)
@given(st.binary(max_size=400), st.binary(max_size=200), values)
def test_random_items_are_refused_with_typed_errors(
    header: bytes, footer: bytes, value: dict[str, Any]
) -> None:
    item = {
        "pk": {"S": "p"},
        "sk": {"N": "1"},
        "secret": value,
        "aws_dbe_head": {"B": header},
        "aws_dbe_foot": {"B": footer},
    }
    _refused(_FUZZ_ENCRYPTOR, item)
    # Reading the header of garbage fails the same typed way (or succeeds, without keys).
    with contextlib.suppress(DecryptionError):
        _FUZZ_ENCRYPTOR.read_header(item)
