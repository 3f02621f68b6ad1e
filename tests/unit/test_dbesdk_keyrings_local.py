"""DB-ESDK raw RSA keyring and multi-keyring: round trips, refusals, configuration errors.

AWS's material providers checks the same EDKs in tests/interop/test_dbesdk_mpl_oracle.py.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption.errors import (
    ConfigurationError,
    EncryptionError,
    ProviderError,
    PynamoDBEncryptionError,
)
from pynamodb_encryption.keyrings import MultiKeyring, RawRsaKeyring, RsaPadding
from pynamodb_encryption.structured import (
    DbeAlgorithmSuite,
    DbeDecryptionMaterials,
    DbeEncryptionMaterials,
    EncryptedDataKey,
)

ECDSA = DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384
HMAC_ONLY = DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384
OAEP = [p for p in RsaPadding if p is not RsaPadding.PKCS1]


def _pem_pair(bits: int = 2048) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public, private


@pytest.fixture(scope="module")
def pair() -> tuple[bytes, bytes]:
    return _pem_pair()


@pytest.fixture(scope="module")
def other_pair() -> tuple[bytes, bytes]:
    return _pem_pair()


def context(suite: DbeAlgorithmSuite = ECDSA, **extra: str) -> dict[str, str]:
    ctx = {
        "aws-crypto-table-name": "orders",
        "aws-crypto-partition-name": "pk",
        "aws-crypto-attr.pk": "AAFvcmRlci0x",
        **extra,
    }
    if suite.signs_with_ecdsa:
        public = ec.generate_private_key(ec.SECP384R1()).public_key()
        point = public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )
        ctx["aws-crypto-public-key"] = base64.b64encode(point).decode()
    return ctx


def rsa_keyring(
    pair: tuple[bytes, bytes], padding: RsaPadding = RsaPadding.OAEP_SHA256, **kwargs: object
) -> RawRsaKeyring:
    options: dict[str, object] = {
        "key_namespace": "app-keys",
        "key_name": "rsa-1",
        "public_key": pair[0],
        "private_key": pair[1],
        "padding": padding,
    }
    options.update(kwargs)
    return RawRsaKeyring(**options)  # type: ignore[arg-type]


def encrypt(keyring: object, ctx: dict[str, str], suite: DbeAlgorithmSuite = ECDSA):
    return keyring.on_encrypt(  # type: ignore[attr-defined]
        DbeEncryptionMaterials(algorithm_suite=suite, encryption_context=ctx)
    )


def decrypt(
    keyring: object,
    ctx: dict[str, str],
    edks: Sequence[EncryptedDataKey],
    suite: DbeAlgorithmSuite = ECDSA,
) -> DbeDecryptionMaterials:
    materials = DbeDecryptionMaterials(algorithm_suite=suite, encryption_context=ctx)
    return keyring.on_decrypt(materials, edks)  # type: ignore[attr-defined,no-any-return]


# ------------------------------------------------------------------------------------ RSA


@pytest.mark.parametrize("suite", list(DbeAlgorithmSuite), ids=lambda s: s.name[-20:])
@pytest.mark.parametrize("padding", OAEP, ids=lambda p: p.name)
def test_rsa_round_trip_every_padding_and_suite(
    pair: tuple[bytes, bytes], padding: RsaPadding, suite: DbeAlgorithmSuite
) -> None:
    keyring = rsa_keyring(pair, padding)
    ctx = context(suite)
    enc = encrypt(keyring, ctx, suite)
    assert enc.plaintext_data_key is not None
    assert len(enc.plaintext_data_key) == 32
    (edk,) = enc.encrypted_data_keys
    assert edk.provider_id == b"app-keys"
    assert edk.provider_info == b"rsa-1"
    assert len(edk.ciphertext) == 48 + 256  # wrapped data key + RSA-2048 block
    assert len(enc.symmetric_signing_keys) == 1
    dec = decrypt(keyring, ctx, enc.encrypted_data_keys, suite)
    assert dec.plaintext_data_key == enc.plaintext_data_key
    assert dec.symmetric_signing_key == enc.symmetric_signing_keys[0]


def test_rsa_keeps_an_existing_data_key_and_adds_a_second_edk(pair: tuple[bytes, bytes]) -> None:
    keyring = rsa_keyring(pair)
    ctx = context()
    first = encrypt(keyring, ctx)
    second = keyring.on_encrypt(first)
    assert second.plaintext_data_key == first.plaintext_data_key
    assert len(second.encrypted_data_keys) == 2
    assert len(second.symmetric_signing_keys) == 2
    # Fresh intermediate key per EDK: distinct wraps and distinct footer keys.
    assert second.encrypted_data_keys[0].ciphertext != second.encrypted_data_keys[1].ciphertext
    assert second.symmetric_signing_keys[0] != second.symmetric_signing_keys[1]
    dec = decrypt(keyring, ctx, second.encrypted_data_keys[1:])
    assert dec.symmetric_signing_key == second.symmetric_signing_keys[1]


def test_rsa_encrypt_only_and_decrypt_only_halves(pair: tuple[bytes, bytes]) -> None:
    writer = RawRsaKeyring(key_namespace="app-keys", key_name="rsa-1", public_key=pair[0])
    reader = RawRsaKeyring(key_namespace="app-keys", key_name="rsa-1", private_key=pair[1])
    ctx = context()
    enc = encrypt(writer, ctx)
    assert decrypt(reader, ctx, enc.encrypted_data_keys).plaintext_data_key == (
        enc.plaintext_data_key
    )
    with pytest.raises(EncryptionError, match="no public_key"):
        encrypt(reader, ctx)
    # Without a private key nothing can be opened: the materials come back unchanged.
    unchanged = decrypt(writer, ctx, enc.encrypted_data_keys)
    assert unchanged.plaintext_data_key is None


def _cannot_open(keyring: RawRsaKeyring, ctx: dict[str, str], edks: list[EncryptedDataKey]):
    materials = DbeDecryptionMaterials(algorithm_suite=ECDSA, encryption_context=ctx)
    assert keyring.on_decrypt(materials, edks) is materials


def test_rsa_refusals_leave_materials_unchanged(
    pair: tuple[bytes, bytes], other_pair: tuple[bytes, bytes]
) -> None:
    keyring = rsa_keyring(pair)
    ctx = context()
    (edk,) = encrypt(keyring, ctx).encrypted_data_keys
    # Another key pair under the same names.
    _cannot_open(rsa_keyring(other_pair), ctx, [edk])
    # Another padding.
    _cannot_open(rsa_keyring(pair, RsaPadding.OAEP_SHA384), ctx, [edk])
    # Another item (encryption context is the AAD of the wrapped data key).
    _cannot_open(keyring, {**ctx, "aws-crypto-attr.pk": "AAFvcmRlci0y"}, [edk])
    _cannot_open(keyring, {k: v for k, v in ctx.items() if k != "aws-crypto-partition-name"}, [edk])
    # Another namespace or name: not even tried.
    _cannot_open(keyring, ctx, [replace(edk, provider_id=b"other")])
    _cannot_open(keyring, ctx, [replace(edk, provider_info=b"rsa-2")])
    # Truncated or tampered ciphertexts, anywhere.
    _cannot_open(keyring, ctx, [replace(edk, ciphertext=edk.ciphertext[:48])])
    _cannot_open(keyring, ctx, [replace(edk, ciphertext=edk.ciphertext[:-1])])
    for index in (0, 31, 47, 48, 100, len(edk.ciphertext) - 1):
        flipped = bytearray(edk.ciphertext)
        flipped[index] ^= 0x01
        _cannot_open(keyring, ctx, [replace(edk, ciphertext=bytes(flipped))])


def test_rsa_tries_edks_in_order_until_one_opens(
    pair: tuple[bytes, bytes], other_pair: tuple[bytes, bytes]
) -> None:
    keyring = rsa_keyring(pair)
    ctx = context()
    enc = encrypt(rsa_keyring(other_pair), ctx)
    enc = keyring.on_encrypt(enc)
    junk = replace(enc.encrypted_data_keys[1], ciphertext=b"\x00" * 304)
    dec = decrypt(keyring, ctx, [enc.encrypted_data_keys[0], junk, enc.encrypted_data_keys[1]])
    assert dec.plaintext_data_key == enc.plaintext_data_key
    assert dec.symmetric_signing_key == enc.symmetric_signing_keys[1]


def test_rsa_pkcs1_reads_but_never_writes(pair: tuple[bytes, bytes]) -> None:
    from cryptography.hazmat.primitives.asymmetric import padding

    from pynamodb_encryption.structured._wrapping import wrap_data_key

    keyring = rsa_keyring(pair, RsaPadding.PKCS1)
    with pytest.raises(EncryptionError, match="PKCS1"):
        encrypt(keyring, context())
    # An EDK as another implementation writes it with PKCS #1 v1.5 (the MPL oracle writes
    # one too, in tests/interop).
    ctx = context()
    data_key, intermediate = b"\x11" * 32, b"\x22" * 32
    wrapped, mac_key = wrap_data_key(data_key, ctx, intermediate)
    public = serialization.load_pem_public_key(pair[0])
    assert isinstance(public, rsa.RSAPublicKey)
    edk = EncryptedDataKey(
        provider_id=b"app-keys",
        provider_info=b"rsa-1",
        ciphertext=wrapped + public.encrypt(intermediate, padding.PKCS1v15()),
    )
    dec = decrypt(keyring, ctx, [edk])
    assert (dec.plaintext_data_key, dec.symmetric_signing_key) == (data_key, mac_key)


def test_rsa_decrypt_refuses_materials_that_already_hold_a_key(pair: tuple[bytes, bytes]) -> None:
    keyring = rsa_keyring(pair)
    materials = DbeDecryptionMaterials(algorithm_suite=ECDSA, encryption_context=context())
    with pytest.raises(ProviderError):
        keyring.on_decrypt(materials.with_data_key(b"\x01" * 32, b"\x02" * 32), [])


def test_rsa_configuration_errors(pair: tuple[bytes, bytes], other_pair: tuple[bytes, bytes]):
    with pytest.raises(ConfigurationError, match="public_key, a private_key"):
        RawRsaKeyring(key_namespace="n", key_name="k")
    with pytest.raises(ConfigurationError, match="key_namespace"):
        RawRsaKeyring(key_namespace="", key_name="k", public_key=pair[0])
    with pytest.raises(ConfigurationError, match="not one key pair"):
        RawRsaKeyring(
            key_namespace="n", key_name="k", public_key=pair[0], private_key=other_pair[1]
        )
    with pytest.raises(ConfigurationError, match="not a PEM public key") as info:
        RawRsaKeyring(key_namespace="n", key_name="k", public_key=b"-----BEGIN nonsense")
    assert "nonsense" not in str(info.value)
    with pytest.raises(ConfigurationError, match="private_key is not"):
        RawRsaKeyring(key_namespace="n", key_name="k", private_key=pair[0])
    with pytest.raises(ConfigurationError, match="padding"):
        RawRsaKeyring(key_namespace="n", key_name="k", public_key=pair[0], padding="OAEP")  # type: ignore[arg-type]
    ec_pem = (
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ConfigurationError, match="not an RSA key"):
        RawRsaKeyring(key_namespace="n", key_name="k", public_key=ec_pem)
    small = _pem_pair(1024)
    with pytest.raises(ConfigurationError, match="too small"):
        RawRsaKeyring(
            key_namespace="n", key_name="k", public_key=small[0], padding=RsaPadding.OAEP_SHA512
        )


def test_rsa_repr_names_no_key_material(pair: tuple[bytes, bytes]) -> None:
    text = repr(rsa_keyring(pair))
    assert "app-keys" in text
    assert "rsa-1" in text
    assert "BEGIN" not in text
    assert "MII" not in text


@settings(max_examples=25)
@given(
    extra=st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=20), max_size=4),
    suite=st.sampled_from(list(DbeAlgorithmSuite)),
)
def test_rsa_round_trips_any_context(
    pair: tuple[bytes, bytes], extra: dict[str, str], suite: DbeAlgorithmSuite
) -> None:
    keyring = rsa_keyring(pair)
    ctx = {**extra, "aws-crypto-table-name": "t"}
    enc = encrypt(keyring, ctx, suite)
    dec = decrypt(keyring, dict(reversed(list(ctx.items()))), enc.encrypted_data_keys, suite)
    assert dec.plaintext_data_key == enc.plaintext_data_key
    # Any change of the context makes the data key unreadable.
    changed = {**ctx, "aws-crypto-table-name": "u"}
    assert decrypt(keyring, changed, enc.encrypted_data_keys, suite).plaintext_data_key is None


# ------------------------------------------------------------------------------ multi-keyring


class FailingKeyring:
    def on_encrypt(self, materials: DbeEncryptionMaterials) -> DbeEncryptionMaterials:
        raise ProviderError("KMS is down")

    def on_decrypt(
        self, materials: DbeDecryptionMaterials, edks: Sequence[EncryptedDataKey]
    ) -> DbeDecryptionMaterials:
        raise ProviderError("KMS is down")


class RecordingKeyring:
    """Wraps a keyring and records the order of on_decrypt calls."""

    def __init__(self, inner: RawRsaKeyring, log: list[str], name: str) -> None:
        self.inner, self.log, self.name = inner, log, name

    def on_encrypt(self, materials: DbeEncryptionMaterials) -> DbeEncryptionMaterials:
        return self.inner.on_encrypt(materials)

    def on_decrypt(
        self, materials: DbeDecryptionMaterials, edks: Sequence[EncryptedDataKey]
    ) -> DbeDecryptionMaterials:
        self.log.append(self.name)
        return self.inner.on_decrypt(materials, edks)


def test_multi_generator_and_children_each_open_the_item(
    pair: tuple[bytes, bytes], other_pair: tuple[bytes, bytes]
) -> None:
    first = rsa_keyring(pair)
    second = rsa_keyring(other_pair, key_name="rsa-2")
    multi = MultiKeyring(generator=first, children=[second])
    ctx = context()
    enc = encrypt(multi, ctx)
    assert [e.provider_info for e in enc.encrypted_data_keys] == [b"rsa-1", b"rsa-2"]
    assert len(enc.symmetric_signing_keys) == 2
    for index, alone in enumerate((first, second)):
        dec = decrypt(alone, ctx, enc.encrypted_data_keys)
        assert dec.plaintext_data_key == enc.plaintext_data_key
        assert dec.symmetric_signing_key == enc.symmetric_signing_keys[index]
    assert decrypt(multi, ctx, enc.encrypted_data_keys).plaintext_data_key == (
        enc.plaintext_data_key
    )


def test_multi_decrypt_tries_generator_first_then_children_in_order(
    pair: tuple[bytes, bytes], other_pair: tuple[bytes, bytes]
) -> None:
    log: list[str] = []
    gen = RecordingKeyring(rsa_keyring(other_pair, key_name="x"), log, "gen")
    a = RecordingKeyring(rsa_keyring(other_pair, key_name="y"), log, "a")
    b = RecordingKeyring(rsa_keyring(pair), log, "b")
    c = RecordingKeyring(rsa_keyring(pair), log, "c")
    ctx = context()
    enc = encrypt(rsa_keyring(pair), ctx)
    dec = decrypt(MultiKeyring(generator=gen, children=[a, b, c]), ctx, enc.encrypted_data_keys)
    assert dec.plaintext_data_key == enc.plaintext_data_key
    assert log == ["gen", "a", "b"]


def test_multi_children_only_adds_copies_of_an_existing_key(pair: tuple[bytes, bytes]) -> None:
    ctx = context()
    multi = MultiKeyring(children=[rsa_keyring(pair)])
    with pytest.raises(EncryptionError, match="no generator"):
        encrypt(multi, ctx)
    start = DbeEncryptionMaterials(algorithm_suite=ECDSA, encryption_context=ctx).with_data_key(
        b"\x05" * 32
    )
    out = multi.on_encrypt(start)
    assert out.plaintext_data_key == b"\x05" * 32
    assert len(out.encrypted_data_keys) == 1
    with pytest.raises(EncryptionError, match="already hold"):
        MultiKeyring(generator=rsa_keyring(pair)).on_encrypt(start)


def test_multi_encrypt_fails_when_any_keyring_fails(pair: tuple[bytes, bytes]) -> None:
    with pytest.raises(ProviderError, match="KMS is down"):
        encrypt(MultiKeyring(generator=rsa_keyring(pair), children=[FailingKeyring()]), context())
    with pytest.raises(ProviderError, match="KMS is down"):
        encrypt(MultiKeyring(generator=FailingKeyring(), children=[rsa_keyring(pair)]), context())


def test_multi_decrypt_failures_and_misses(
    pair: tuple[bytes, bytes], other_pair: tuple[bytes, bytes]
) -> None:
    ctx = context()
    enc = encrypt(rsa_keyring(pair), ctx)
    # A failing keyring does not hide a later success.
    ok = MultiKeyring(generator=FailingKeyring(), children=[rsa_keyring(pair)])
    assert decrypt(ok, ctx, enc.encrypted_data_keys).plaintext_data_key is not None
    # Nobody opens it and nobody failed: unchanged.
    miss = MultiKeyring(children=[rsa_keyring(other_pair)])
    materials = DbeDecryptionMaterials(algorithm_suite=ECDSA, encryption_context=ctx)
    assert miss.on_decrypt(materials, enc.encrypted_data_keys) is materials
    # Nobody opens it and one failed: an error carrying every failure.
    failed = MultiKeyring(children=[rsa_keyring(other_pair), FailingKeyring()])
    with pytest.raises(ProviderError, match="KMS is down") as info:
        failed.on_decrypt(materials, enc.encrypted_data_keys)
    assert len(info.value.failures) == 1  # type: ignore[attr-defined]
    assert isinstance(info.value.__cause__, PynamoDBEncryptionError)
    # Materials that already hold a key come back as they are.
    held = materials.with_data_key(b"\x01" * 32, b"\x02" * 32)
    assert failed.on_decrypt(held, enc.encrypted_data_keys) is held


def test_multi_configuration_errors(pair: tuple[bytes, bytes]) -> None:
    with pytest.raises(ConfigurationError, match="generator, children or both"):
        MultiKeyring()
    with pytest.raises(ConfigurationError, match="generator must be a keyring"):
        MultiKeyring(generator=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="each child"):
        MultiKeyring(children=[rsa_keyring(pair), "nope"])  # type: ignore[list-item]
