"""The item encryptor: the deterministic vector, round trips with every provider kind, the
stored shape, immutability of the caller's item, dialect fallbacks and error cases."""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from _strategies import (
    canonical,
    collect_strings,
    ddb_items,
    ddb_values,
    names,
    rsa_key,
    tricky_names,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pynamodb_encryption import (
    MATERIAL_DESCRIPTION_ATTRIBUTE,
    SIGNATURE_ATTRIBUTE,
    AttributeActions,
    ConfigurationError,
    CryptoAction,
    DecryptionError,
    DecryptionMaterials,
    EncryptionContext,
    EncryptionError,
    EncryptionMaterials,
    ItemEncryptor,
    PynamoDBEncryptionError,
    SignatureVerificationError,
    StaticMaterialsProvider,
    SymmetricKey,
    WrappedMaterialsProvider,
    decrypt_item,
    decrypt_python_item,
    encrypt_item,
    encrypt_python_item,
)
from pynamodb_encryption.core import _encryptor
from pynamodb_encryption.core._codec import CodecError, Dialect, serialize
from pynamodb_encryption.core._encryptor import string_to_sign
from pynamodb_encryption.core._md import decode_material_description, encode_material_description

# The actions of the legacy format (SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT is DB-ESDK only).
_LEGACY_ACTIONS = [CryptoAction.DO_NOTHING, CryptoAction.SIGN_ONLY, CryptoAction.ENCRYPT_AND_SIGN]

E, S, N = CryptoAction.ENCRYPT_AND_SIGN, CryptoAction.SIGN_ONLY, CryptoAction.DO_NOTHING
AES_KEY = bytes(range(16))
HMAC_KEY = bytes(range(8))
TABLE = "T"


def static_hmac() -> StaticMaterialsProvider:
    return StaticMaterialsProvider(
        encryption_key=SymmetricKey(AES_KEY, "AES"),
        signing_key=SymmetricKey(HMAC_KEY, "HmacSHA256"),
    )


def static_rsa() -> StaticMaterialsProvider:
    return StaticMaterialsProvider(
        encryption_key=SymmetricKey(bytes(range(32)), "AES"),
        signing_key=rsa_key("SHA256withRSA"),
    )


def wrapped_aes() -> WrappedMaterialsProvider:
    return WrappedMaterialsProvider(
        wrapping_key=SymmetricKey(bytes(range(32)), "AES"),
        signing_key=SymmetricKey(bytes(range(32)), "HmacSHA256"),
    )


def wrapped_rsa() -> WrappedMaterialsProvider:
    return WrappedMaterialsProvider(
        wrapping_key=rsa_key("RSA").public_key(),
        unwrapping_key=rsa_key("RSA"),
        signing_key=rsa_key("SHA256withRSA"),
    )


PROVIDERS: dict[str, Callable[[], Any]] = {
    "static-hmac": static_hmac,
    "static-rsa": static_rsa,
    "wrapped-aes": wrapped_aes,
    "wrapped-rsa": wrapped_rsa,
}


def encryptor(
    provider: Any = None, actions: AttributeActions | None = None, **kwargs: Any
) -> ItemEncryptor:
    return ItemEncryptor(
        table_name=kwargs.pop("table_name", TABLE),
        partition_key_name=kwargs.pop("partition_key_name", "pk"),
        sort_key_name=kwargs.pop("sort_key_name", None),
        attribute_actions=actions or AttributeActions(),
        materials_provider=provider or static_hmac(),
    )


@pytest.fixture
def fixed_iv(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every IV ``a0a1..af`` (the deterministic vector of the wire-format notes)."""
    real = os.urandom

    def fake(n: int) -> bytes:
        if n % 16 == 0:
            return bytes(range(0xA0, 0xB0)) * (n // 16)
        return real(n)

    monkeypatch.setattr(os, "urandom", fake)
    if hasattr(_encryptor, "urandom"):
        monkeypatch.setattr(_encryptor, "urandom", fake)


# -------------------------------------------------------------------------------------------
# The deterministic vector


def test_deterministic_end_to_end_vector(fixed_iv: None) -> None:
    item = {"pk": {"S": "k1"}, "secret": {"S": "hi"}, "skip": {"N": "7"}}
    actions = AttributeActions(N, {"pk": S, "secret": E})
    out = encryptor(static_hmac(), actions).encrypt(item)
    blob = bytes.fromhex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf8747e261fafbc67da341dbe13f38db6f")
    assert out["secret"] == {"B": blob}
    assert out["pk"] == {"S": "k1"}
    assert out["skip"] == {"N": "7"}
    sts = string_to_sign(out, TABLE, actions.with_index_keys(["pk"]))
    assert len(sts) == 224
    assert sts[:32] == hashlib.sha256(b"TABLE>T<TABLE").digest()
    assert sts[-32:].hex() == "ac42df8a59f665a965a141df95ac2c475965fcb9bcb61e4106dcedf56f6f6ffa"
    assert out[SIGNATURE_ATTRIBUTE]["B"].hex() == (
        "d7801f6b5ee41356593dbb94c8344d09777a0be1fe1955eaa85a5a32098747ee"
    )
    assert out[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"] == bytes.fromhex(
        "00000000"
        "00000017"
        + b"amzn-ddb-map-signingAlg".hex()
        + "0000000a"
        + b"HmacSHA256".hex()
        + "00000015"
        + b"amzn-ddb-map-sym-mode".hex()
        + "00000011"
        + b"/CBC/PKCS5Padding".hex()
    )
    assert encryptor(static_hmac(), actions).decrypt(out) == item


# -------------------------------------------------------------------------------------------
# Round trips


@st.composite
def items_and_actions(draw: Any) -> tuple[dict[str, Any], AttributeActions]:
    item = draw(ddb_items())
    item["pk"] = draw(st.sampled_from([{"S": "key"}, {"N": "12"}, {"B": b"\x01"}]))
    default = draw(st.sampled_from(_LEGACY_ACTIONS))
    overrides = {
        name: draw(st.sampled_from(_LEGACY_ACTIONS))
        for name in item
        if name != "pk" and draw(st.booleans())
    }
    # An override for an attribute the item does not have must not matter.
    overrides["absent"] = draw(st.sampled_from(_LEGACY_ACTIONS))
    return item, AttributeActions(default, overrides)


def expected_plaintext(item: Mapping[str, Any], actions: AttributeActions) -> dict[str, Any]:
    """Encrypted values come back canonical (numbers normalized, sets sorted); others as given."""
    return {k: canonical(v) if actions.action(k) is E else v for k, v in item.items()}


@pytest.mark.parametrize("provider_name", list(PROVIDERS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=items_and_actions())
def test_encrypt_decrypt_round_trip(
    provider_name: str, case: tuple[dict[str, Any], AttributeActions]
) -> None:
    item, actions = case
    enc = encryptor(PROVIDERS[provider_name](), actions)
    effective = enc.attribute_actions
    before = copy.deepcopy(item)
    stored = enc.encrypt(item)
    assert item == before  # never mutated
    stored_before = copy.deepcopy(stored)
    decrypted = enc.decrypt(stored)
    assert stored == stored_before
    assert decrypted == expected_plaintext(item, effective)

    if effective.take_no_actions:
        assert stored == item
        assert stored is not item
        return
    # The stored shape.
    assert set(stored) == set(item) | {SIGNATURE_ATTRIBUTE, MATERIAL_DESCRIPTION_ATTRIBUTE}
    description = decode_material_description(stored[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"])
    assert description["amzn-ddb-map-sym-mode"] == "/CBC/PKCS5Padding"
    assert description["amzn-ddb-map-signingAlg"] in ("HmacSHA256", "SHA256withRSA")
    for name, value in item.items():
        if effective.action(name) is E:
            blob = stored[name]["B"]
            assert len(blob) == 16 + 16 * (len(serialize(value)) // 16 + 1)
        else:
            assert stored[name] == value
    assert stored["pk"] == item["pk"]  # key attributes are never encrypted


@pytest.mark.parametrize("provider_name", list(PROVIDERS))
def test_a_fresh_iv_per_attribute_and_per_write(provider_name: str) -> None:
    enc = encryptor(PROVIDERS[provider_name]())
    item = {"pk": {"S": "k"}, "a": {"S": "same"}, "b": {"S": "same"}}
    first = enc.encrypt(item)
    second = enc.encrypt(item)
    assert first["a"] != first["b"]
    assert first["a"] != second["a"]
    assert first["a"]["B"][:16] != first["b"]["B"][:16]


def test_wrapped_provider_stores_a_wrapped_key_per_item() -> None:
    enc = encryptor(wrapped_aes())
    item = {"pk": {"S": "k"}, "a": {"S": "x"}}
    md1 = decode_material_description(enc.encrypt(item)[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"])
    md2 = decode_material_description(enc.encrypt(item)[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"])
    assert md1["amzn-ddb-wrap-alg"] == "AESWrap"
    assert md1["amzn-ddb-env-alg"] == "AES/256"
    assert md1["amzn-ddb-env-key"] != md2["amzn-ddb-env-key"]
    rsa_md = decode_material_description(
        encryptor(wrapped_rsa()).encrypt(item)[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"]
    )
    assert rsa_md["amzn-ddb-wrap-alg"] == "RSA/ECB/OAEPWithSHA-256AndMGF1Padding"
    assert rsa_md["amzn-ddb-map-signingAlg"] == "SHA256withRSA"


def test_sign_only_without_an_encryption_key() -> None:
    provider = StaticMaterialsProvider(signing_key=SymmetricKey(HMAC_KEY, "HmacSHA256"))
    enc = encryptor(provider, AttributeActions(S))
    item = {"pk": {"S": "k"}, "n": {"N": "1.50"}}
    stored = enc.encrypt(item)
    md = decode_material_description(stored[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"])
    assert md == {"amzn-ddb-map-signingAlg": "HmacSHA256"}
    assert enc.decrypt(stored) == item
    with pytest.raises(EncryptionError, match="no encryption key"):
        encryptor(provider, AttributeActions(E)).encrypt(item)


def test_decrypt_without_a_decryption_key() -> None:
    stored = encryptor(static_hmac()).encrypt({"pk": {"S": "k"}, "a": {"S": "x"}})
    verify_only = StaticMaterialsProvider(verification_key=SymmetricKey(HMAC_KEY, "HmacSHA256"))
    with pytest.raises(DecryptionError, match="no decryption key"):
        encryptor(verify_only).decrypt(stored)
    # Sign-only attributes still verify with a verify-only provider.
    signed = encryptor(static_hmac(), AttributeActions(S)).encrypt({"pk": {"S": "k"}})
    assert encryptor(verify_only, AttributeActions(S)).decrypt(signed) == {"pk": {"S": "k"}}


def test_encryption_key_without_encrypted_attributes_still_writes_sym_mode() -> None:
    stored = encryptor(static_hmac(), AttributeActions(S)).encrypt({"pk": {"S": "k"}})
    md = decode_material_description(stored[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"])
    assert md["amzn-ddb-map-sym-mode"] == "/CBC/PKCS5Padding"


def test_take_no_actions_returns_copies() -> None:
    item = {"pk": {"S": "k"}, "a": {"S": "x"}}
    enc = encryptor(static_hmac(), AttributeActions(N))
    out = enc.encrypt(item)
    assert out == item
    assert out is not item
    back = enc.decrypt(out)
    assert back == item
    assert back is not out


def test_key_attributes_are_lowered_and_explicit_encryption_rejected() -> None:
    enc = encryptor(static_hmac(), AttributeActions(E), sort_key_name="sk")
    assert enc.attribute_actions.action("pk") is S
    assert enc.attribute_actions.action("sk") is S
    stored = enc.encrypt({"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "y"}})
    assert stored["pk"] == {"S": "a"}
    assert stored["sk"] == {"N": "1"}
    with pytest.raises(ConfigurationError):
        encryptor(static_hmac(), AttributeActions(S, {"pk": E}))


# -------------------------------------------------------------------------------------------
# Python values


@pytest.mark.parametrize("provider_name", list(PROVIDERS))
def test_python_item_functions(provider_name: str) -> None:
    from decimal import Decimal

    provider = PROVIDERS[provider_name]()
    item = {
        "pk": "key",
        "n": Decimal("12345678901234567890123456789012345678"),
        "neg": Decimal("-0.000000000000000000000000000000000001"),
        "s": {"a", "b"},
        "m": {"x": [1, b"\x00", None, True]},
    }
    kwargs: dict[str, Any] = {
        "table_name": TABLE,
        "partition_key_name": "pk",
        "attribute_actions": AttributeActions(E, {"s": S}),
        "materials_provider": provider,
    }
    before = copy.deepcopy(item)
    stored = encrypt_python_item(item, **kwargs)
    assert item == before
    assert isinstance(stored["n"], bytes)
    assert stored["pk"] == "key"
    assert decrypt_python_item(stored, **kwargs) == item
    with pytest.raises(EncryptionError):
        encrypt_python_item({"pk": "k", "f": 1.5}, **kwargs)
    with pytest.raises(DecryptionError):
        decrypt_python_item({"pk": "k", "f": 1.5}, **kwargs)


def test_function_forms_match_the_class() -> None:
    kwargs: dict[str, Any] = {
        "table_name": TABLE,
        "partition_key_name": "pk",
        "sort_key_name": "sk",
        "attribute_actions": AttributeActions(),
        "materials_provider": static_hmac(),
    }
    item = {"pk": {"S": "k"}, "sk": {"N": "2"}, "v": {"NS": ["1", "2.50"]}}
    stored = encrypt_item(item, **kwargs)
    assert decrypt_item(stored, **kwargs) == {
        "pk": {"S": "k"},
        "sk": {"N": "2"},
        "v": {"NS": ["1", "2.5"]},
    }
    assert ItemEncryptor(**kwargs).decrypt(stored) == decrypt_item(stored, **kwargs)


# -------------------------------------------------------------------------------------------
# Items signed by the other implementations' dialects


def _sign_with_dialect(
    item: dict[str, Any], actions: AttributeActions, dialect: Dialect
) -> dict[str, Any]:
    """Sign a sign-only item the way another implementation would (HMAC over its STS)."""
    key = SymmetricKey(HMAC_KEY, "HmacSHA256")
    sts = string_to_sign(item, TABLE, actions.with_index_keys(["pk"]), dialect)
    return {
        **item,
        SIGNATURE_ATTRIBUTE: {"B": key.sign(sts)},
        MATERIAL_DESCRIPTION_ATTRIBUTE: {
            "B": encode_material_description({"amzn-ddb-map-signingAlg": "HmacSHA256"})
        },
    }


SENSITIVE_ITEMS: dict[str, dict[str, Any]] = {
    "binary-set-high-bytes": {"pk": {"S": "k"}, "bs": {"BS": [b"\x01", b"\x80", b"\xff\x00"]}},
    "supplementary-vs-private-use": {"pk": {"S": "k"}, "ss": {"SS": ["\U0001f600", "\uff5e"]}},
    "map-keys": {"pk": {"S": "k"}, "m": {"M": {"\U0001f600": {"N": "1"}, "\ue000": {"N": "2"}}}},
    "attribute-names": {"pk": {"S": "k"}, "\U0001f600": {"N": "1"}, "\uff5e": {"N": "2"}},
    "nested": {"pk": {"S": "k"}, "l": {"L": [{"M": {"x": {"BS": [b"\x7f", b"\x80"]}}}]}},
}
LEGACY_ITEMS: dict[str, dict[str, Any]] = {
    "negative-zero": {"pk": {"S": "k"}, "z": {"N": "-0"}},
    "negative-zero-set": {"pk": {"S": "k"}, "z": {"NS": ["-0.0", "1"]}},
}
# Numbers the Python reference rounds before signing: the fallback refuses them (fail closed).
ROUNDED_ITEMS: dict[str, dict[str, Any]] = {
    "38-digits": {"pk": {"S": "k"}, "n": {"N": "12345678901234567890123456789012345678"}},
    "29-digits-in-a-map": {"pk": {"S": "k"}, "m": {"M": {"n": {"N": "1." + "1" * 28}}}},
}


@pytest.mark.parametrize("name", list(SENSITIVE_ITEMS))
def test_java_signed_items_verify(name: str) -> None:
    item = SENSITIVE_ITEMS[name]
    actions = AttributeActions(S)
    stored = _sign_with_dialect(item, actions, Dialect.JAVA)
    # The Java bytes really differ, so this exercises the fallback.
    assert string_to_sign(item, TABLE, actions, Dialect.JAVA) != string_to_sign(
        item, TABLE, actions
    )
    assert encryptor(static_hmac(), actions).decrypt(stored) == item
    # ...and the fallback still rejects a changed value.
    tampered = copy.deepcopy(stored)
    tampered["pk"] = {"S": "other"}
    with pytest.raises(SignatureVerificationError):
        encryptor(static_hmac(), actions).decrypt(tampered)


@pytest.mark.parametrize("name", list(LEGACY_ITEMS))
def test_python_legacy_signed_items_verify(name: str) -> None:
    item = LEGACY_ITEMS[name]
    actions = AttributeActions(S)
    stored = _sign_with_dialect(item, actions, Dialect.PYTHON_LEGACY)
    assert string_to_sign(item, TABLE, actions, Dialect.PYTHON_LEGACY) != string_to_sign(
        item, TABLE, actions
    )
    assert encryptor(static_hmac(), actions).decrypt(stored) == item


@pytest.mark.parametrize("name", list(ROUNDED_ITEMS))
def test_python_reference_rounded_numbers_fail_closed(name: str) -> None:
    item = ROUNDED_ITEMS[name]
    actions = AttributeActions(S)
    with pytest.raises(CodecError):
        string_to_sign(item, TABLE, actions, Dialect.PYTHON_LEGACY)


def test_we_write_the_canonical_dialect() -> None:
    for item in [*SENSITIVE_ITEMS.values(), *LEGACY_ITEMS.values(), *ROUNDED_ITEMS.values()]:
        actions = AttributeActions(S)
        ours = encryptor(static_hmac(), actions).encrypt(item)
        assert (
            ours[SIGNATURE_ATTRIBUTE]
            == _sign_with_dialect(item, actions, Dialect.CANONICAL)[SIGNATURE_ATTRIBUTE]
        )


def test_negative_zero_is_the_same_number_as_zero() -> None:
    """We sign -0 as 0: if DynamoDB hands back "0" for a stored "-0" (or the reverse), the
    signature still holds, because both are the same DynamoDB number."""
    actions = AttributeActions(S)
    stored = encryptor(static_hmac(), actions).encrypt({"pk": {"S": "k"}, "z": {"N": "-0"}})
    stored["z"] = {"N": "0"}
    assert encryptor(static_hmac(), actions).decrypt(stored)["z"] == {"N": "0"}
    stored["z"] = {"N": "-0.00"}
    assert encryptor(static_hmac(), actions).decrypt(stored)["z"] == {"N": "-0.00"}


def test_legacy_fallback_never_rounds_signed_numbers() -> None:
    """The Python reference signs a SIGN_ONLY number rounded to 28 significant digits. Accepting
    such signatures would leave digits past the 28th unprotected, so the fallback refuses to
    round: a signed "1" turned into a longer number that rounds to it must fail, and so does a
    reference-signed number of more than 28 digits (fail closed)."""
    actions = AttributeActions(S)
    enc = encryptor(static_hmac(), actions)
    ours = enc.encrypt({"pk": {"S": "k"}, "n": {"N": "1"}})
    for forged in ("1.00000000000000000000000000001", "1.000000000000000000000000001"):
        tampered = dict(ours, n={"N": forged})
        with pytest.raises(SignatureVerificationError):
            enc.decrypt(tampered)
    # What the Python reference writes for a long number: stored as given, signed rounded.
    rounded = "12345678901234567890123456790000000000"
    stored = _sign_with_dialect({"pk": {"S": "k"}, "n": {"N": rounded}}, actions, Dialect.CANONICAL)
    stored["n"] = {"N": "12345678901234567890123456789012345678"}
    with pytest.raises(SignatureVerificationError):
        enc.decrypt(stored)
    stored["n"] = {"N": "12345678901234567890123456790000000001"}  # same first 28 digits
    with pytest.raises(SignatureVerificationError):
        enc.decrypt(stored)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        tricky_names,
        ddb_values(st.sampled_from(["-0", "0", "1" * 30, "7", "1.5"])),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from([Dialect.JAVA, Dialect.PYTHON_LEGACY, Dialect.CANONICAL]),
)
def test_any_dialect_signature_verifies(body: dict[str, Any], dialect: Dialect) -> None:
    item = {"pk": {"S": "k"}, **body}
    actions = AttributeActions(S)
    try:
        stored = _sign_with_dialect(item, actions, dialect)
    except CodecError:
        # The reference rounds numbers of more than 28 digits; we refuse those signatures.
        assume(False)
    assert encryptor(static_hmac(), actions).decrypt(stored) == item


# -------------------------------------------------------------------------------------------
# Errors


def test_reserved_attributes_are_rejected() -> None:
    for reserved in (SIGNATURE_ATTRIBUTE, MATERIAL_DESCRIPTION_ATTRIBUTE):
        with pytest.raises(EncryptionError) as info:
            encryptor().encrypt({"pk": {"S": "k"}, reserved: {"B": b"x"}})
        assert info.value.attribute == reserved
        # A configuration mistake, not a failure of one item.
        with pytest.raises(ConfigurationError):
            encryptor(actions=AttributeActions(E, {reserved: S}))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"table_name": ""},
        {"table_name": None},
        {"attribute_actions": {"a": E}},
        {"materials_provider": object()},
    ],
)
def test_bad_configuration(kwargs: dict[str, Any]) -> None:
    full: dict[str, Any] = {
        "table_name": TABLE,
        "partition_key_name": "pk",
        "attribute_actions": AttributeActions(),
        "materials_provider": static_hmac(),
        **kwargs,
    }
    with pytest.raises(ConfigurationError):
        ItemEncryptor(**full)


@pytest.mark.parametrize("action", [E, S])
@pytest.mark.parametrize(
    "value",
    [{"N": "not a number"}, {"S": 12}, {"X": "y"}, {"N": "1" * 39}, {"S": "\udc00 secret"}, "raw"],
)
def test_invalid_values_name_the_attribute_not_the_value(action: CryptoAction, value: Any) -> None:
    with pytest.raises(EncryptionError) as info:
        encryptor(actions=AttributeActions(action)).encrypt({"pk": {"S": "k"}, "bad": value})
    assert info.value.attribute == "bad"
    text = f"{info.value} {info.value!r} {info.value.args}"
    for leaked in ("not a number", "secret", "1" * 39):
        assert leaked not in text


def test_non_mapping_items() -> None:
    with pytest.raises(EncryptionError):
        encryptor().encrypt([("pk", {"S": "k"})])  # type: ignore[arg-type]
    with pytest.raises(DecryptionError):
        encryptor().decrypt([("pk", {"S": "k"})])  # type: ignore[arg-type]


class _FailingProvider:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
        raise self.exc

    def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
        raise self.exc


def test_provider_failures_are_wrapped() -> None:
    stored = encryptor().encrypt({"pk": {"S": "k"}})
    enc = encryptor(_FailingProvider(RuntimeError("boom secret")))
    with pytest.raises(EncryptionError) as info:
        enc.encrypt({"pk": {"S": "k"}})
    assert isinstance(info.value.__cause__, RuntimeError)
    assert "boom" not in str(info.value)
    with pytest.raises(DecryptionError) as dinfo:
        enc.decrypt(stored)
    assert isinstance(dinfo.value.__cause__, RuntimeError)
    own = ConfigurationError("provider says no")
    with pytest.raises(ConfigurationError):
        encryptor(_FailingProvider(own)).encrypt({"pk": {"S": "k"}})


def test_provider_receives_the_context() -> None:
    seen: list[EncryptionContext] = []
    inner = static_hmac()

    class Recording:
        def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
            seen.append(context)
            return inner.encryption_materials(context)

        def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
            seen.append(context)
            return inner.decryption_materials(context)

    enc = encryptor(Recording(), sort_key_name="sk")
    item = {"pk": {"S": "k"}, "sk": {"N": "1"}, "a": {"S": "secret value"}}
    enc.decrypt(enc.encrypt(item))
    assert seen[0].table_name == TABLE
    assert seen[0].partition_key_name == "pk"
    assert seen[0].sort_key_name == "sk"
    assert dict(seen[0].attributes) == item
    assert "secret value" not in repr(seen[0])
    assert dict(seen[1].material_description)["amzn-ddb-map-signingAlg"] == "HmacSHA256"
    assert SIGNATURE_ATTRIBUTE not in seen[1].attributes


def test_reprs_hold_no_key_material() -> None:
    for provider in (static_hmac(), wrapped_aes(), wrapped_rsa(), static_rsa()):
        text = repr(encryptor(provider)) + repr(provider)
        assert AES_KEY.hex() not in text
        assert bytes(range(32)).hex() not in text
        assert "BEGIN" not in text


@given(ddb_items(min_size=1))
@settings(max_examples=25, deadline=None)
def test_error_messages_never_hold_values(item: dict[str, Any]) -> None:
    """Whatever goes wrong on decrypt, no plaintext shows up in the exception."""
    item = {"pk": {"S": "key!"}, **{k: _mark(v) for k, v in item.items() if k != "pk"}}
    stored = encryptor().encrypt(item)
    wrong = StaticMaterialsProvider(
        encryption_key=SymmetricKey(bytes(16), "AES"),
        signing_key=SymmetricKey(HMAC_KEY, "HmacSHA256"),
    )
    with pytest.raises(DecryptionError) as info:
        encryptor(wrong).decrypt(stored)
    text = f"{info.value} {info.value!r} {info.value.args}"
    assert MARK not in text
    for leaked in collect_strings({k: v for k, v in item.items() if k != "pk"}):
        # Short hex strings or digits ("00", "12") occur in any message by chance.
        if len(leaked) >= 12:
            assert leaked not in text


# Every string value gets this prefix, which no error message can contain by chance.
MARK = "ⓢⓤ"


def _mark(value: dict[str, Any]) -> dict[str, Any]:
    ((tag, inner),) = value.items()
    if tag == "S":
        return {"S": MARK + inner}
    if tag == "SS":
        return {"SS": [MARK + v for v in inner]}
    if tag == "L":
        return {"L": [_mark(v) for v in inner]}
    if tag == "M":
        return {"M": {k: _mark(v) for k, v in inner.items()}}
    return value


def test_names_are_unicode_safe() -> None:
    item = {"pk": {"S": "k"}, "名前": {"S": "値"}, "\U0001f600": {"N": "1"}, "": {"S": "empty"}}
    enc = encryptor()
    assert enc.decrypt(enc.encrypt(item)) == item


@given(names)
def test_any_name_round_trips(name: str) -> None:
    enc = encryptor()
    item = {"pk": {"S": "k"}, name: {"S": "v"}}
    assert enc.decrypt(enc.encrypt(item)) == item


def test_sign_only_item_without_a_description() -> None:
    """Java writes no description when it would be empty (sign-only, HMAC, no content key)."""
    provider = StaticMaterialsProvider(signing_key=SymmetricKey(HMAC_KEY, "HmacSHA256"))
    enc = encryptor(provider, AttributeActions(S))
    item = {"pk": {"S": "k"}, "v": {"SS": ["b", "a"]}}
    stored = enc.encrypt(item)
    del stored[MATERIAL_DESCRIPTION_ATTRIBUTE]
    assert enc.decrypt(stored) == item


@pytest.mark.parametrize("provider_name", ["static-hmac", "static-rsa", "wrapped-rsa"])
@pytest.mark.parametrize("dialect", [Dialect.JAVA, Dialect.PYTHON_LEGACY])
def test_mixed_items_signed_in_another_dialect(provider_name: str, dialect: Dialect) -> None:
    """Encrypted attributes next to dialect-sensitive signed ones, the whole item signed the
    other implementation's way (HMAC or RSA): it verifies and decrypts."""
    actions = AttributeActions(E, {"bs": S, "ss": S, "z": S, "\U0001f600": S, "\uff5e": S})
    enc = encryptor(PROVIDERS[provider_name](), actions)
    item: dict[str, Any] = {
        "pk": {"S": "k"},
        "secret": {"M": {"\U0001f600": {"N": "-0"}, "\ue000": {"BS": [b"\x80", b"\x01"]}}},
        "bs": {"BS": [b"\x01", b"\x80"]},
        "ss": {"SS": ["\U0001f600", "\uff5e"]},
        "z": {"N": "-0"},
        "\U0001f600": {"N": "1" * 28},
        "\uff5e": {"S": "x"},
    }
    stored = enc.encrypt(item)
    body = {k: v for k, v in stored.items() if k not in (SIGNATURE_ATTRIBUTE,)}
    sts = string_to_sign(body, TABLE, enc.attribute_actions, dialect)
    assert sts != string_to_sign(body, TABLE, enc.attribute_actions)
    signer: Any = (
        SymmetricKey(HMAC_KEY, "HmacSHA256")
        if provider_name == "static-hmac"
        else rsa_key("SHA256withRSA")
    )
    resigned = {**stored, SIGNATURE_ATTRIBUTE: {"B": signer.sign(sts)}}
    decrypted = enc.decrypt(resigned)
    assert decrypted["secret"] == canonical(item["secret"])
    assert {k: v for k, v in decrypted.items() if k != "secret"} == {
        k: v for k, v in item.items() if k != "secret"
    }


@pytest.mark.parametrize(("table", "name"), [("T", 5), ("T", "bad\udc00name"), ("T\udc00", "ok")])
def test_invalid_names_are_typed_errors(table: str, name: Any) -> None:
    with pytest.raises(PynamoDBEncryptionError):
        encryptor(table_name=table).encrypt({"pk": {"S": "k"}, name: {"S": "v"}})
