"""Property tests in both directions against the reference library (dynamodb-encryption-sdk).

Items we encrypt, the reference decrypts to the same values; items the reference encrypts, we
decrypt. Four key set-ups (static AES+HMAC, static AES+RSA signature, wrapped AES, wrapped RSA),
arbitrary nested values, unicode names, sets, mixed actions; DynamoDB-JSON and Python-value
item functions. Then the places where the two disagree by design (-0, more than 28 digits).

The reference rounds numbers to 28 significant digits and keeps the sign of -0; the general
properties therefore draw numbers the reference represents exactly, and the disagreements have
their own tests. The reference's decrypt mutates its input: it is always given a copy.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

import pytest
from _vectors import comparable, comparable_item
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dynamodb_encryption_sdk.delegated_keys.jce import JceNameLocalDelegatedKey
from dynamodb_encryption_sdk.encrypted import CryptoConfig
from dynamodb_encryption_sdk.encrypted.item import (
    decrypt_dynamodb_item,
    decrypt_python_item,
    encrypt_dynamodb_item,
    encrypt_python_item,
)
from dynamodb_encryption_sdk.exceptions import SignatureVerificationError as RefSignatureError
from dynamodb_encryption_sdk.identifiers import CryptoAction as RefAction
from dynamodb_encryption_sdk.identifiers import EncryptionKeyType, KeyEncodingType
from dynamodb_encryption_sdk.material_providers.static import (
    StaticCryptographicMaterialsProvider,
)
from dynamodb_encryption_sdk.material_providers.wrapped import (
    WrappedCryptographicMaterialsProvider,
)
from dynamodb_encryption_sdk.materials.raw import RawDecryptionMaterials, RawEncryptionMaterials
from dynamodb_encryption_sdk.structures import AttributeActions as RefActions
from dynamodb_encryption_sdk.structures import EncryptionContext as RefContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pynamodb_encryption import (
    AttributeActions,
    CryptoAction,
    ItemEncryptor,
    RsaPrivateKey,
    SignatureVerificationError,
    StaticMaterialsProvider,
    SymmetricKey,
    WrappedMaterialsProvider,
)
from pynamodb_encryption.core._encryptor import string_to_sign

TABLE = "interop-table"
AES = bytes(range(100, 132))
HMAC = bytes(range(50, 82))
SETUPS = ["static-hmac", "static-rsa", "wrapped-aes", "wrapped-rsa"]
E, S, N = CryptoAction.ENCRYPT_AND_SIGN, CryptoAction.SIGN_ONLY, CryptoAction.DO_NOTHING
REF_ACTION = {E: RefAction.ENCRYPT_AND_SIGN, S: RefAction.SIGN_ONLY, N: RefAction.DO_NOTHING}


@lru_cache(maxsize=1)
def _rsa_der() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def _jce(material: bytes, algorithm: str, kind: EncryptionKeyType) -> JceNameLocalDelegatedKey:
    encoding = KeyEncodingType.RAW if kind is EncryptionKeyType.SYMMETRIC else KeyEncodingType.DER
    return JceNameLocalDelegatedKey(material, algorithm, kind, encoding)


@dataclass(frozen=True)
class Setup:
    ours: Any
    reference: Any


@cache
def setup(name: str) -> Setup:
    """The same keys on both sides."""
    private_der, public_der = _rsa_der()
    sym = EncryptionKeyType.SYMMETRIC
    if name == "static-hmac":
        ours: Any = StaticMaterialsProvider(
            encryption_key=SymmetricKey(AES, "AES"), signing_key=SymmetricKey(HMAC, "HmacSHA256")
        )
        aes, mac = _jce(AES, "AES", sym), _jce(HMAC, "HmacSHA256", sym)
        reference: Any = StaticCryptographicMaterialsProvider(
            encryption_materials=RawEncryptionMaterials(signing_key=mac, encryption_key=aes),
            decryption_materials=RawDecryptionMaterials(verification_key=mac, decryption_key=aes),
        )
    elif name == "static-rsa":
        ours = StaticMaterialsProvider(
            encryption_key=SymmetricKey(AES, "AES"),
            signing_key=RsaPrivateKey.from_der(private_der, "SHA256withRSA"),
        )
        aes = _jce(AES, "AES", sym)
        reference = StaticCryptographicMaterialsProvider(
            encryption_materials=RawEncryptionMaterials(
                signing_key=_jce(private_der, "SHA256withRSA", EncryptionKeyType.PRIVATE),
                encryption_key=aes,
            ),
            decryption_materials=RawDecryptionMaterials(
                verification_key=_jce(public_der, "SHA256withRSA", EncryptionKeyType.PUBLIC),
                decryption_key=aes,
            ),
        )
    elif name == "wrapped-aes":
        ours = WrappedMaterialsProvider(
            wrapping_key=SymmetricKey(AES, "AES"), signing_key=SymmetricKey(HMAC, "HmacSHA256")
        )
        aes = _jce(AES, "AES", sym)
        reference = WrappedCryptographicMaterialsProvider(
            signing_key=_jce(HMAC, "HmacSHA256", sym), wrapping_key=aes, unwrapping_key=aes
        )
    elif name == "wrapped-rsa":
        private = RsaPrivateKey.from_der(private_der, "RSA")
        ours = WrappedMaterialsProvider(
            wrapping_key=private.public_key(),
            unwrapping_key=private,
            signing_key=private.with_algorithm("SHA256withRSA"),
        )
        reference = WrappedCryptographicMaterialsProvider(
            signing_key=_jce(private_der, "SHA256withRSA", EncryptionKeyType.PRIVATE),
            wrapping_key=_jce(public_der, "RSA", EncryptionKeyType.PUBLIC),
            unwrapping_key=_jce(private_der, "RSA", EncryptionKeyType.PRIVATE),
        )
    else:  # pragma: no cover
        raise ValueError(name)
    return Setup(ours=ours, reference=reference)


def our_encryptor(name: str, actions: AttributeActions) -> ItemEncryptor:
    return ItemEncryptor(
        table_name=TABLE,
        partition_key_name="pk",
        sort_key_name="sk",
        attribute_actions=actions,
        materials_provider=setup(name).ours,
    )


def ref_config(name: str, effective: AttributeActions) -> CryptoConfig:
    """The reference's config for our *effective* actions (keys already lowered)."""
    actions = RefActions(
        default_action=REF_ACTION[effective.default_action],
        attribute_actions={k: REF_ACTION[v] for k, v in effective.attribute_actions.items()},
    )
    context = RefContext(table_name=TABLE, partition_key_name="pk", sort_key_name="sk")
    return CryptoConfig(
        materials_provider=setup(name).reference,
        encryption_context=context,
        attribute_actions=actions,
    )


# -------------------------------------------------------------------------------------------
# Values both sides represent exactly: at most 28 significant digits, no -0.


@st.composite
def exact_numbers(draw: Any, max_exponent: int = 100) -> str:
    digits = draw(st.integers(1, 28))
    mantissa = str(draw(st.integers(10 ** (digits - 1), 10**digits - 1)))
    exponent = draw(st.integers(-120, max_exponent - digits + 1))
    sign = draw(st.sampled_from(["", "-"]))
    spellings = [f"{sign}{mantissa}E{exponent}", "0", "0.00"]
    if digits + exponent <= 38:
        # The reference rejects (decimal.Rounded) a plain spelling of more than 38 digits,
        # such as 1 followed by 38 zeros, even though it is a valid DynamoDB number.
        spellings.append(format(Decimal(f"{sign}{mantissa}E{exponent}"), "f"))
    chosen: str = draw(st.sampled_from(spellings))
    return chosen


names = st.text(min_size=1, max_size=8).filter(lambda n: n not in ("pk", "sk") and "*" not in n)
texts = st.text(max_size=10)
scalars = st.one_of(
    texts.map(lambda s: {"S": s}),
    exact_numbers().map(lambda n: {"N": n}),
    st.binary(max_size=20).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(texts, min_size=1, max_size=4, unique=True).map(lambda v: {"SS": v}),
    st.lists(exact_numbers(), min_size=1, max_size=4, unique_by=Decimal).map(lambda v: {"NS": v}),
    st.lists(st.binary(max_size=6), min_size=1, max_size=4, unique=True).map(lambda v: {"BS": v}),
)
values = st.recursive(
    scalars,
    lambda c: st.one_of(
        st.lists(c, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(texts, c, max_size=3).map(lambda v: {"M": v}),
    ),
    max_leaves=8,
)


@st.composite
def cases(draw: Any) -> tuple[dict[str, Any], AttributeActions]:
    item = draw(st.dictionaries(names, values, max_size=5))
    item["pk"] = {"S": draw(texts)}
    item["sk"] = {"N": draw(exact_numbers())}
    default = draw(st.sampled_from([E, S, N]))
    overrides = {n: draw(st.sampled_from([E, S, N])) for n in item if n not in ("pk", "sk")}
    return item, AttributeActions(default, overrides)


SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", SETUPS)
@SETTINGS
@given(case=cases())
def test_reference_decrypts_what_we_encrypt(
    name: str, case: tuple[dict[str, Any], AttributeActions]
) -> None:
    item, actions = case
    ours = our_encryptor(name, actions)
    stored = ours.encrypt(item)
    decrypted = decrypt_dynamodb_item(
        copy.deepcopy(stored), ref_config(name, ours.attribute_actions)
    )
    assert comparable_item(decrypted) == comparable_item(item)


@pytest.mark.parametrize("name", SETUPS)
@SETTINGS
@given(case=cases())
def test_we_decrypt_what_the_reference_encrypts(
    name: str, case: tuple[dict[str, Any], AttributeActions]
) -> None:
    item, actions = case
    ours = our_encryptor(name, actions)
    config = ref_config(name, ours.attribute_actions)
    stored = encrypt_dynamodb_item(copy.deepcopy(item), config)
    before = copy.deepcopy(stored)
    decrypted = ours.decrypt(stored)
    assert stored == before
    assert comparable_item(decrypted) == comparable_item(item)
    # Signed and untouched attributes come back exactly as stored; encrypted ones canonical.
    for attr, value in item.items():
        if ours.attribute_actions.action(attr) is not E:
            assert decrypted[attr] == value


@pytest.mark.parametrize("name", ["static-hmac", "wrapped-rsa"])
@SETTINGS
@given(case=cases())
def test_signatures_are_identical_for_the_same_stored_item(
    name: str, case: tuple[dict[str, Any], AttributeActions]
) -> None:
    """Deterministic signers (HMAC, RSA PKCS#1 v1.5) give the same signature bytes: we re-sign
    the reference's stored item and compare."""
    item, actions = case
    ours = our_encryptor(name, actions)
    stored = encrypt_dynamodb_item(copy.deepcopy(item), ref_config(name, ours.attribute_actions))
    if ours.attribute_actions.take_no_actions:
        assert "*amzn-ddb-map-sig*" not in stored
        assert ours.encrypt(item) == item
        return
    body = {k: v for k, v in stored.items() if not k.startswith("*amzn-ddb-map-")}
    sts = string_to_sign(body, TABLE, ours.attribute_actions)
    signer: Any = (
        SymmetricKey(HMAC, "HmacSHA256")
        if name == "static-hmac"
        else RsaPrivateKey.from_der(_rsa_der()[0], "SHA256withRSA")
    )
    assert signer.sign(sts) == stored["*amzn-ddb-map-sig*"]["B"]


# -------------------------------------------------------------------------------------------
# Python-value item functions


python_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        texts,
        # Below 1E+38: the reference's Python-value path (boto3's TypeDeserializer) raises
        # decimal.Rounded on larger numbers, even the ones it encrypted itself.
        exact_numbers(max_exponent=37).map(Decimal),
        st.integers(-(10**20), 10**20),
        st.binary(max_size=10),
        st.frozensets(texts, min_size=1, max_size=3),
        st.frozensets(st.integers(-1000, 1000), min_size=1, max_size=3),
        st.frozensets(st.binary(max_size=4), min_size=1, max_size=3),
    ),
    lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(texts, c, max_size=3)),
    max_leaves=8,
)


def _plain(value: Any) -> Any:
    """Reference output (boto3 Binary, sets) to comparable plain values."""
    if hasattr(value, "value") and type(value).__name__ == "Binary":
        return bytes(value.value)
    if isinstance(value, (set, frozenset)):
        return frozenset(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name", ["static-hmac", "wrapped-aes"])
@SETTINGS
@given(
    item=st.dictionaries(names, python_values, max_size=4),
    default=st.sampled_from([E, S]),
)
def test_python_items_both_ways(name: str, item: dict[str, Any], default: CryptoAction) -> None:
    from pynamodb_encryption import decrypt_python_item as our_decrypt_python
    from pynamodb_encryption import encrypt_python_item as our_encrypt_python

    item = {**item, "pk": "key", "sk": Decimal(1)}
    actions = AttributeActions(default)
    ours = our_encryptor(name, actions)
    kwargs: dict[str, Any] = {
        "table_name": TABLE,
        "partition_key_name": "pk",
        "sort_key_name": "sk",
        "attribute_actions": actions,
        "materials_provider": setup(name).ours,
    }
    config = ref_config(name, ours.attribute_actions)
    ours_stored = our_encrypt_python(item, **kwargs)
    assert _plain(decrypt_python_item(copy.deepcopy(ours_stored), config)) == _plain(item)
    ref_stored = encrypt_python_item(copy.deepcopy(item), config)
    # The reference hands binary values back as boto3 Binary, as the resource API does.
    assert _plain(our_decrypt_python(ref_stored, **kwargs)) == _plain(item)


# -------------------------------------------------------------------------------------------
# Where the two disagree by design


LONG = "12345678901234567890123456789012345678"
ROUNDED = "12345678901234567890123456790000000000"


@pytest.mark.parametrize("name", SETUPS)
def test_more_than_28_digits_encrypted(name: str) -> None:
    """We never lose a digit; the reference reading our item rounds to 28 digits (its
    deserializer normalizes in the default decimal context), and its own writes round too."""
    actions = AttributeActions(E)
    ours = our_encryptor(name, actions)
    item = {"pk": {"S": "k"}, "sk": {"N": "1"}, "n": {"N": LONG}, "ns": {"NS": [LONG, "1"]}}
    stored = ours.encrypt(item)
    assert ours.decrypt(stored)["n"] == {"N": LONG}
    seen = decrypt_dynamodb_item(copy.deepcopy(stored), ref_config(name, ours.attribute_actions))
    assert seen["n"] == {"N": ROUNDED}
    assert comparable(seen["ns"]) == ("NS", frozenset({Decimal(ROUNDED), Decimal(1)}))
    ref_stored = encrypt_dynamodb_item(
        copy.deepcopy(item), ref_config(name, ours.attribute_actions)
    )
    assert ours.decrypt(ref_stored)["n"] == {"N": ROUNDED}


@pytest.mark.parametrize("name", ["static-hmac", "static-rsa"])
def test_more_than_28_digits_sign_only(name: str) -> None:
    """A SIGN_ONLY number of more than 28 digits: the reference signs the rounded value, which
    leaves the digits past the 28th unprotected. We refuse such items (fail closed); it cannot
    verify ours, which sign every digit."""
    actions = AttributeActions(S)
    ours = our_encryptor(name, actions)
    item = {"pk": {"S": "k"}, "sk": {"N": "1"}, "n": {"N": LONG}}
    config = ref_config(name, ours.attribute_actions)
    ref_stored = encrypt_dynamodb_item(copy.deepcopy(item), config)
    assert ref_stored["n"] == {"N": LONG}  # stored unchanged, signed rounded
    with pytest.raises(SignatureVerificationError):
        ours.decrypt(ref_stored)
    with pytest.raises(RefSignatureError):
        decrypt_dynamodb_item(copy.deepcopy(ours.encrypt(item)), config)


@pytest.mark.parametrize("name", ["static-hmac", "wrapped-rsa"])
def test_negative_zero(name: str) -> None:
    """-0: we write 0 (encrypted) and sign 0 (sign-only); the reference keeps the sign.

    * encrypted: both sides read the other's item; the reference then sees 0 (we never write
      -0), we see 0 for its -0 (normalized on read).
    * sign-only, in memory: we verify the reference's item (legacy fallback); the reference
      does not verify ours while the stored value is still the text "-0". Through DynamoDB, a
      stored -0 is expected to come back as 0 (DynamoDB keeps numbers normalized), and then the
      reference signs 0 like us: see docs/wire-format.md.
    """
    encrypt_all = our_encryptor(name, AttributeActions(E))
    item = {"pk": {"S": "k"}, "sk": {"N": "1"}, "z": {"N": "-0"}}
    config = ref_config(name, encrypt_all.attribute_actions)
    seen = decrypt_dynamodb_item(copy.deepcopy(encrypt_all.encrypt(item)), config)
    assert seen["z"] == {"N": "0"}
    assert encrypt_all.decrypt(encrypt_dynamodb_item(copy.deepcopy(item), config))["z"] == {
        "N": "0"
    }

    sign_only = our_encryptor(name, AttributeActions(S))
    config = ref_config(name, sign_only.attribute_actions)
    ref_stored = encrypt_dynamodb_item(copy.deepcopy(item), config)
    assert sign_only.decrypt(ref_stored) == item
    ours_stored = sign_only.encrypt(item)
    with pytest.raises(RefSignatureError):
        decrypt_dynamodb_item(copy.deepcopy(ours_stored), config)
    normalized_by_dynamodb = {**ours_stored, "z": {"N": "0"}}
    assert decrypt_dynamodb_item(copy.deepcopy(normalized_by_dynamodb), config)["z"] == {"N": "0"}


# Numbers of 29 to 38 digits are left out: the reference signs them rounded, and we refuse
# those signatures (see test_more_than_28_digits_sign_only).
legacy_numbers = st.one_of(
    st.sampled_from(["-0", "-0.00", "0"]),
    exact_numbers(),
)
legacy_values = st.recursive(
    st.one_of(
        legacy_numbers.map(lambda n: {"N": n}),
        st.lists(legacy_numbers, min_size=1, max_size=3, unique_by=Decimal).map(
            lambda v: {"NS": v}
        ),
        texts.map(lambda t: {"S": t}),
    ),
    lambda c: st.one_of(
        st.lists(c, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(texts, c, max_size=3).map(lambda v: {"M": v}),
    ),
    max_leaves=6,
)


@pytest.mark.parametrize("name", ["static-hmac", "static-rsa"])
@SETTINGS
@given(body=st.dictionaries(names, legacy_values, min_size=1, max_size=4))
def test_we_verify_the_reference_legacy_signatures(name: str, body: dict[str, Any]) -> None:
    """Sign-only items holding -0, signed by the reference itself (it keeps -0 in what it
    signs): they verify here, values untouched."""
    item = {"pk": {"S": "k"}, "sk": {"N": "1"}, **body}
    ours = our_encryptor(name, AttributeActions(S))
    stored = encrypt_dynamodb_item(copy.deepcopy(item), ref_config(name, ours.attribute_actions))
    assert ours.decrypt(stored) == item


@pytest.mark.parametrize(
    "value",
    [
        {"BS": [b"\x01", b"\x80", b"\xff\x00"]},
        {"SS": ["\U0001f600", "\uff5e", "a"]},
        {"M": {"\U0001f600": {"N": "1"}, "\ue000": {"BS": [b"\x7f", b"\x80"]}}},
    ],
)
def test_python_reference_ordering_is_ours(value: dict[str, Any]) -> None:
    """For the values where Java orders differently, the Python reference and we agree (both
    sign-only directions verify without any fallback)."""
    actions = AttributeActions(S)
    ours = our_encryptor("static-hmac", actions)
    item = {"pk": {"S": "k"}, "sk": {"N": "1"}, "v": value, "\U0001f600": {"S": "x"}}
    config = ref_config("static-hmac", ours.attribute_actions)
    assert (
        ours.encrypt(item)["*amzn-ddb-map-sig*"]
        == encrypt_dynamodb_item(copy.deepcopy(item), config)["*amzn-ddb-map-sig*"]
    )
    assert decrypt_dynamodb_item(copy.deepcopy(ours.encrypt(item)), config) == item


def test_a_reference_item_moved_to_another_table_fails_for_us() -> None:
    ours = our_encryptor("static-hmac", AttributeActions(E))
    stored = encrypt_dynamodb_item(
        {"pk": {"S": "k"}, "sk": {"N": "1"}, "a": {"S": "x"}},
        ref_config("static-hmac", ours.attribute_actions),
    )
    other = ItemEncryptor(
        table_name="another-table",
        partition_key_name="pk",
        sort_key_name="sk",
        attribute_actions=AttributeActions(E),
        materials_provider=setup("static-hmac").ours,
    )
    with pytest.raises(SignatureVerificationError):
        other.decrypt(stored)
