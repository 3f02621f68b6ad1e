"""The tamper matrix: every change to a signed item fails with the right typed error, and no
error ever carries a plaintext value or key material. DO_NOTHING attributes change freely."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from _strategies import rsa_key

from pynamodb_encryption import (
    MATERIAL_DESCRIPTION_ATTRIBUTE,
    SIGNATURE_ATTRIBUTE,
    AttributeActions,
    CryptoAction,
    DecryptionError,
    InvalidMaterialDescriptionError,
    ItemEncryptor,
    PlaintextItemError,
    PynamoDBEncryptionError,
    SignatureVerificationError,
    StaticMaterialsProvider,
    SymmetricKey,
    WrappedMaterialsProvider,
)
from pynamodb_encryption.core._encryptor import string_to_sign
from pynamodb_encryption.core._md import decode_material_description, encode_material_description

E, S, N = CryptoAction.ENCRYPT_AND_SIGN, CryptoAction.SIGN_ONLY, CryptoAction.DO_NOTHING
TABLE = "orders"
AES = bytes.fromhex("5ec2e7a35ec2e7a35ec2e7a35ec2e7a3")
AES_OTHER = bytes.fromhex("0badc0de0badc0de0badc0de0badc0de")
HMAC = bytes.fromhex("c0ffee11c0ffee11c0ffee11c0ffee11")
HMAC_OTHER = bytes.fromhex("deadbeefdeadbeefdeadbeefdeadbeef")
ACTIONS = AttributeActions(E, {"signed": S, "skip": N})
SECRETS = ("top secret text", "424242424242.4242", "very private map value")
PLAINTEXT_ITEM = {
    "pk": {"S": "customer-1"},
    "sk": {"N": "7"},
    "card": {"S": SECRETS[0]},
    "balance": {"N": SECRETS[1]},
    "notes": {"M": {"k": {"S": SECRETS[2]}}},
    "signed": {"S": "visible but signed"},
    "skip": {"S": "free"},
}


def _hmac_signer(material: bytes = HMAC) -> SymmetricKey:
    return SymmetricKey(material, "HmacSHA256")


def static_provider(aes: bytes = AES, hmac: bytes = HMAC) -> StaticMaterialsProvider:
    return StaticMaterialsProvider(
        encryption_key=SymmetricKey(aes, "AES"), signing_key=_hmac_signer(hmac)
    )


def wrapped_aes_provider(aes: bytes = AES, hmac: bytes = HMAC) -> WrappedMaterialsProvider:
    return WrappedMaterialsProvider(
        wrapping_key=SymmetricKey(aes, "AES"), signing_key=_hmac_signer(hmac)
    )


def wrapped_rsa_provider(aes: bytes = AES, hmac: bytes = HMAC) -> WrappedMaterialsProvider:
    # For RSA, "other" keys mean another key pair for wrapping or for signing.
    wrapping = rsa_key("RSA", 2048) if aes == AES else _other_rsa("RSA")
    signing = rsa_key("SHA256withRSA", 2048) if hmac == HMAC else _other_rsa("SHA256withRSA")
    return WrappedMaterialsProvider(
        wrapping_key=wrapping.public_key(), unwrapping_key=wrapping, signing_key=signing
    )


_OTHER_RSA: dict[str, Any] = {}


def _other_rsa(algorithm: str) -> Any:
    from pynamodb_encryption import RsaPrivateKey

    if "key" not in _OTHER_RSA:
        _OTHER_RSA["key"] = RsaPrivateKey.generate("RSA", 2048)
    return _OTHER_RSA["key"].with_algorithm(algorithm)


PROVIDERS: dict[str, Callable[..., Any]] = {
    "static": static_provider,
    "wrapped-aes": wrapped_aes_provider,
    "wrapped-rsa": wrapped_rsa_provider,
}


def make(provider: Any, table: str = TABLE, actions: AttributeActions = ACTIONS) -> ItemEncryptor:
    return ItemEncryptor(
        table_name=table,
        partition_key_name="pk",
        sort_key_name="sk",
        attribute_actions=actions,
        materials_provider=provider,
    )


@dataclass
class Ctx:
    kind: str
    stored: dict[str, Any]
    other: dict[str, Any]  # a second item, same keys
    encryptor: ItemEncryptor

    def resign(self, item: dict[str, Any]) -> dict[str, Any]:
        """Sign a changed item again with the right key: models a writer that holds the
        signing key but not the content key, to reach the checks behind the signature."""
        body = {k: v for k, v in item.items() if k not in (SIGNATURE_ATTRIBUTE,)}
        sts = string_to_sign(body, TABLE, self.encryptor.attribute_actions)
        signer: Any = (
            rsa_key("SHA256withRSA", 2048) if self.kind == "wrapped-rsa" else _hmac_signer()
        )
        return {**item, SIGNATURE_ATTRIBUTE: {"B": signer.sign(sts)}}


def _md(item: dict[str, Any]) -> dict[str, str]:
    return decode_material_description(item[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"])


def _with_md(item: dict[str, Any], **changes: str | None) -> dict[str, Any]:
    md = _md(item)
    for key, value in changes.items():
        real = key.replace("_", "-")
        if value is None:
            md.pop(real, None)
        else:
            md[real] = value
    return {**item, MATERIAL_DESCRIPTION_ATTRIBUTE: {"B": encode_material_description(md)}}


def _set(item: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    return {**item, name: value}


def _drop(item: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != name}


def _flip_last_padding(blob: bytes) -> bytes:
    # XOR 0x80 into the byte that CBC turns into the last padding byte: always > 16 after.
    return blob[:-17] + bytes((blob[-17] ^ 0x80,)) + blob[-16:]


# Each case: (id, tamper(ctx) -> (item, encryptor or None), expected error, kinds or None)
Tamper = Callable[[Ctx], tuple[dict[str, Any], ItemEncryptor | None]]
CASES: list[tuple[str, Tamper, type[PynamoDBEncryptionError], tuple[str, ...] | None]] = [
    (
        "change-signed",
        lambda c: (_set(c.stored, "signed", {"S": "other"}), None),
        SignatureVerificationError,
        None,
    ),
    (
        "change-signed-type",
        lambda c: (_set(c.stored, "signed", {"B": b"visible but signed"}), None),
        SignatureVerificationError,
        None,
    ),
    (
        "change-partition-key",
        lambda c: (_set(c.stored, "pk", {"S": "customer-2"}), None),
        SignatureVerificationError,
        None,
    ),
    (
        "change-sort-key",
        lambda c: (_set(c.stored, "sk", {"N": "8"}), None),
        SignatureVerificationError,
        None,
    ),
    (
        "remove-signed",
        lambda c: (_drop(c.stored, "signed"), None),
        SignatureVerificationError,
        None,
    ),
    (
        "remove-encrypted",
        lambda c: (_drop(c.stored, "card"), None),
        SignatureVerificationError,
        None,
    ),
    ("remove-key", lambda c: (_drop(c.stored, "sk"), None), SignatureVerificationError, None),
    (
        "add-attribute-default-encrypt",
        lambda c: (_set(c.stored, "new", {"B": b"\x00" * 32}), None),
        SignatureVerificationError,
        None,
    ),
    (
        "add-attribute-sign-only",
        lambda c: (
            _set(c.stored, "extra", {"S": "x"}),
            make(PROVIDERS[c.kind](), actions=ACTIONS.with_overrides({"extra": S})),
        ),
        SignatureVerificationError,
        None,
    ),
    (
        "swap-encrypted-values",
        lambda c: ({**c.stored, "card": c.stored["balance"], "balance": c.stored["card"]}, None),
        SignatureVerificationError,
        None,
    ),
    (
        "encrypted-value-from-other-item",
        lambda c: (_set(c.stored, "card", c.other["card"]), None),
        SignatureVerificationError,
        None,
    ),
    (
        "signature-from-other-item",
        lambda c: (_set(c.stored, SIGNATURE_ATTRIBUTE, c.other[SIGNATURE_ATTRIBUTE]), None),
        SignatureVerificationError,
        None,
    ),
    (
        "flip-ciphertext-byte",
        lambda c: (_set(c.stored, "card", {"B": _flip_last_padding(c.stored["card"]["B"])}), None),
        SignatureVerificationError,
        None,
    ),
    (
        "truncate-ciphertext",
        lambda c: (_set(c.stored, "card", {"B": c.stored["card"]["B"][:-16]}), None),
        SignatureVerificationError,
        None,
    ),
    (
        "other-table",
        lambda c: (c.stored, make(PROVIDERS[c.kind](), table="orders-copy")),
        SignatureVerificationError,
        None,
    ),
    (
        "wrong-signing-key",
        lambda c: (c.stored, make(PROVIDERS[c.kind](hmac=HMAC_OTHER))),
        SignatureVerificationError,
        None,
    ),
    (
        "wrong-content-key",
        lambda c: (c.stored, make(PROVIDERS[c.kind](aes=AES_OTHER))),
        DecryptionError,
        None,
    ),
    (
        "missing-signature",
        lambda c: (_drop(c.stored, SIGNATURE_ATTRIBUTE), None),
        PlaintextItemError,
        None,
    ),
    ("plaintext-item", lambda c: (copy.deepcopy(PLAINTEXT_ITEM), None), PlaintextItemError, None),
    (
        "signature-wrong-type",
        lambda c: (_set(c.stored, SIGNATURE_ATTRIBUTE, {"S": "c2lnbmF0dXJl"}), None),
        SignatureVerificationError,
        None,
    ),
    (
        "signature-as-bytes",
        lambda c: (_set(c.stored, SIGNATURE_ATTRIBUTE, c.stored[SIGNATURE_ATTRIBUTE]["B"]), None),
        SignatureVerificationError,
        None,
    ),
    (
        "signature-truncated",
        lambda c: (
            _set(c.stored, SIGNATURE_ATTRIBUTE, {"B": c.stored[SIGNATURE_ATTRIBUTE]["B"][:-1]}),
            None,
        ),
        SignatureVerificationError,
        None,
    ),
    (
        "signature-empty",
        lambda c: (_set(c.stored, SIGNATURE_ATTRIBUTE, {"B": b""}), None),
        SignatureVerificationError,
        None,
    ),
    (
        "md-wrong-version",
        lambda c: (
            _set(
                c.stored,
                MATERIAL_DESCRIPTION_ATTRIBUTE,
                {"B": b"\x00\x00\x00\x01" + c.stored[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"][4:]},
            ),
            None,
        ),
        InvalidMaterialDescriptionError,
        None,
    ),
    (
        "md-truncated",
        lambda c: (
            _set(
                c.stored,
                MATERIAL_DESCRIPTION_ATTRIBUTE,
                {"B": c.stored[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"][:-3]},
            ),
            None,
        ),
        InvalidMaterialDescriptionError,
        None,
    ),
    (
        "md-too-short",
        lambda c: (_set(c.stored, MATERIAL_DESCRIPTION_ATTRIBUTE, {"B": b"\x00\x00"}), None),
        InvalidMaterialDescriptionError,
        None,
    ),
    (
        "md-garbage",
        lambda c: (
            _set(c.stored, MATERIAL_DESCRIPTION_ATTRIBUTE, {"B": b"\x00\x00\x00\x00\xff"}),
            None,
        ),
        InvalidMaterialDescriptionError,
        None,
    ),
    (
        "md-wrong-type",
        lambda c: (_set(c.stored, MATERIAL_DESCRIPTION_ATTRIBUTE, {"S": "AAAAAA=="}), None),
        InvalidMaterialDescriptionError,
        None,
    ),
    (
        "md-missing",
        lambda c: (_drop(c.stored, MATERIAL_DESCRIPTION_ATTRIBUTE), None),
        InvalidMaterialDescriptionError,
        None,
    ),
    (
        "md-unknown-sym-mode",
        lambda c: (_with_md(c.stored, amzn_ddb_map_sym_mode="/ECB/NoPadding"), None),
        InvalidMaterialDescriptionError,
        None,
    ),
    (
        "md-no-sym-mode",
        lambda c: (_with_md(c.stored, amzn_ddb_map_sym_mode=None), None),
        InvalidMaterialDescriptionError,
        None,
    ),
    (
        "md-wrapped-key-changed",
        lambda c: (
            _with_md(c.stored, amzn_ddb_env_key=_md(c.other)["amzn-ddb-env-key"][:-8] + "AAAAAAA="),
            None,
        ),
        DecryptionError,
        ("wrapped-aes", "wrapped-rsa"),
    ),
    (
        "md-wrapped-key-from-other-item",
        lambda c: (_with_md(c.stored, amzn_ddb_env_key=_md(c.other)["amzn-ddb-env-key"]), None),
        DecryptionError,
        ("wrapped-aes", "wrapped-rsa"),
    ),
    (
        "md-wrapped-key-not-base64",
        lambda c: (_with_md(c.stored, amzn_ddb_env_key="%%%"), None),
        InvalidMaterialDescriptionError,
        ("wrapped-aes", "wrapped-rsa"),
    ),
    (
        "md-wrapped-key-missing",
        lambda c: (_with_md(c.stored, amzn_ddb_env_key=None), None),
        InvalidMaterialDescriptionError,
        ("wrapped-aes", "wrapped-rsa"),
    ),
    (
        "md-wrap-alg-unknown",
        lambda c: (_with_md(c.stored, amzn_ddb_wrap_alg="ROT13"), None),
        DecryptionError,
        ("wrapped-aes", "wrapped-rsa"),
    ),
    (
        "md-content-alg-unknown",
        lambda c: (_with_md(c.stored, amzn_ddb_env_alg="DES/56"), None),
        InvalidMaterialDescriptionError,
        ("wrapped-aes", "wrapped-rsa"),
    ),
    # Behind a valid signature (the writer holds the signing key): the content checks.
    (
        "resigned-truncated-ciphertext",
        lambda c: (c.resign(_set(c.stored, "card", {"B": c.stored["card"]["B"][:-16]})), None),
        DecryptionError,
        None,
    ),
    (
        "resigned-short-ciphertext",
        lambda c: (c.resign(_set(c.stored, "card", {"B": c.stored["card"]["B"][:20]})), None),
        DecryptionError,
        None,
    ),
    (
        "resigned-flipped-padding",
        lambda c: (
            c.resign(_set(c.stored, "card", {"B": _flip_last_padding(c.stored["card"]["B"])})),
            None,
        ),
        DecryptionError,
        None,
    ),
    (
        "resigned-encrypted-not-binary",
        lambda c: (c.resign(_set(c.stored, "card", {"S": "plain"})), None),
        DecryptionError,
        None,
    ),
    (
        "resigned-encrypted-value-from-other-item",
        lambda c: (c.resign(_set(c.stored, "card", c.other["card"])), None),
        DecryptionError,
        ("wrapped-aes", "wrapped-rsa"),
    ),
]


@cache
def _context(kind: str) -> Ctx:
    enc = make(PROVIDERS[kind]())
    stored = enc.encrypt(PLAINTEXT_ITEM)
    other_item = {**PLAINTEXT_ITEM, "card": {"S": "another secret"}}
    other = enc.encrypt(other_item)
    return Ctx(kind=kind, stored=stored, other=other, encryptor=enc)


@pytest.fixture(params=list(PROVIDERS))
def ctx(request: pytest.FixtureRequest) -> Ctx:
    return _context(request.param)


MATRIX = [
    pytest.param(kind, case_id, tamper, expected, id=f"{kind}-{case_id}")
    for kind in PROVIDERS
    for case_id, tamper, expected, kinds in CASES
    if kinds is None or kind in kinds
]


def _assert_no_leak(exc: BaseException) -> None:
    text = " ".join([str(exc), repr(exc), repr(exc.args), repr(getattr(exc, "message", ""))])
    for secret in SECRETS:
        assert secret not in text
    for key in (AES, AES_OTHER, HMAC, HMAC_OTHER):
        assert key.hex() not in text
        assert key.hex().upper() not in text
        assert repr(key) not in text


@pytest.mark.parametrize(("kind", "case_id", "tamper", "expected"), MATRIX)
def test_tampering_fails_with_a_typed_error(
    kind: str, case_id: str, tamper: Tamper, expected: type[PynamoDBEncryptionError]
) -> None:
    ctx = _context(kind)
    before = copy.deepcopy(ctx.stored)
    item, other_encryptor = tamper(ctx)
    enc = other_encryptor or ctx.encryptor
    with pytest.raises(DecryptionError) as info:
        enc.decrypt(item)
    assert type(info.value) is expected, (case_id, type(info.value), str(info.value))
    assert info.value.table is not None
    _assert_no_leak(info.value)
    cause: BaseException | None = info.value.__cause__
    while cause is not None:
        # The chained cause ends up in tracebacks too.
        for secret in SECRETS:
            assert secret not in str(cause)
        cause = cause.__cause__
    assert ctx.stored == before  # the fixture item was never mutated


def test_the_untampered_item_decrypts(ctx: Ctx) -> None:
    assert ctx.encryptor.decrypt(ctx.stored) == PLAINTEXT_ITEM


def test_do_nothing_attributes_change_freely(ctx: Ctx) -> None:
    expected = {k: v for k, v in PLAINTEXT_ITEM.items() if k != "skip"}
    changed = _set(ctx.stored, "skip", {"N": "123"})
    assert ctx.encryptor.decrypt(changed) == {**expected, "skip": {"N": "123"}}
    assert ctx.encryptor.decrypt(_drop(ctx.stored, "skip")) == expected
    adds = make(PROVIDERS[ctx.kind](), actions=ACTIONS.with_overrides({"later": N}))
    added = _set(ctx.stored, "later", {"S": "added later"})
    assert adds.decrypt(added) == {**PLAINTEXT_ITEM, "later": {"S": "added later"}}


def test_material_description_is_not_signed(ctx: Ctx) -> None:
    """The format does not sign the description: an extra entry does not break the item (its
    integrity rests on the unwrap/decrypt steps, as in both reference implementations)."""
    extended = _with_md(ctx.stored, unrelated_entry="x")
    assert ctx.encryptor.decrypt(extended) == PLAINTEXT_ITEM


def test_encrypt_error_paths_do_not_leak() -> None:
    enc = make(static_provider())
    bad = {**PLAINTEXT_ITEM, "card": {"N": SECRETS[0]}}
    with pytest.raises(PynamoDBEncryptionError) as info:
        enc.encrypt(bad)
    _assert_no_leak(info.value)
    assert info.value.attribute == "card"
