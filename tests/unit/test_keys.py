"""Keys named by JCE algorithm: validation, AES-CBC, HMAC, RSA signatures, key wrapping."""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

import pytest
from _strategies import rsa_key
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption import (
    ConfigurationError,
    RsaPrivateKey,
    RsaPublicKey,
    Signer,
    SymmetricKey,
    Verifier,
)
from pynamodb_encryption.core._keys import KeyUnwrapError

AES_KEY = bytes(range(16))
HMAC_KEY = bytes(range(8))


# -------------------------------------------------------------------------------------------
# Symmetric keys


@pytest.mark.parametrize("size", [16, 24, 32])
def test_aes_sizes(size: int) -> None:
    key = SymmetricKey(bytes(size), "AES")
    assert key.key_bits == size * 8
    assert key.algorithm == "AES"


@pytest.mark.parametrize(
    ("material", "algorithm"),
    [
        (bytes(15), "AES"),
        (bytes(33), "AES"),
        (b"", "AES"),
        (b"", "HmacSHA256"),
        (bytes(16), "DES"),
        (bytes(16), "aes"),
        ("0123456789abcdef", "AES"),
        (bytes(16), "SHA256withRSA"),
    ],
)
def test_invalid_symmetric_keys(material: object, algorithm: str) -> None:
    with pytest.raises(ConfigurationError):
        SymmetricKey(material, algorithm)  # type: ignore[arg-type]


def test_short_hmac_keys_are_accepted() -> None:
    # The vectors use an 8-byte HMAC key; the reference only warns.
    assert SymmetricKey(HMAC_KEY, "HmacSHA256").key_bits == 64


def test_repr_never_shows_material() -> None:
    material = bytes.fromhex("a1b2c3d4e5f60718293a4b5c6d7e8f90")
    key = SymmetricKey(material, "AES")
    assert material.hex() not in repr(key)
    assert repr(key) == "SymmetricKey(algorithm='AES', bits=128)"
    assert material.hex() not in str(key)


def test_keys_have_no_equality() -> None:
    # Comparing secrets with == would not be constant-time.
    assert SymmetricKey(AES_KEY, "AES") != SymmetricKey(AES_KEY, "AES")


def test_generate() -> None:
    key = SymmetricKey.generate("AES", 256)
    assert key.key_bits == 256
    assert key.export_material() != SymmetricKey.generate("AES", 256).export_material()
    with pytest.raises(ConfigurationError):
        SymmetricKey.generate("AES", 100)
    with pytest.raises(ConfigurationError):
        SymmetricKey.generate("AES", 0)


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        ("HmacSHA224", hashlib.sha224),
        ("HmacSHA256", hashlib.sha256),
        ("HmacSHA384", hashlib.sha384),
        ("HmacSHA512", hashlib.sha512),
    ],
)
def test_hmac_sign_and_verify(algorithm: str, digest: Any) -> None:
    key = SymmetricKey(HMAC_KEY, algorithm)
    mac = key.sign(b"data")
    assert mac == hmac.new(HMAC_KEY, b"data", digest).digest()
    assert key.verify(mac, b"data")
    assert not key.verify(mac, b"datA")
    assert not key.verify(mac[:-1], b"data")
    assert not key.verify(b"", b"data")
    assert isinstance(key, Signer)
    assert isinstance(key, Verifier)


def test_aes_key_cannot_sign_and_hmac_key_cannot_encrypt() -> None:
    with pytest.raises(ConfigurationError):
        SymmetricKey(AES_KEY, "AES").sign(b"x")
    with pytest.raises(ConfigurationError):
        SymmetricKey(AES_KEY, "AES").verify(b"x", b"x")
    with pytest.raises(ConfigurationError):
        SymmetricKey(HMAC_KEY, "HmacSHA256").encrypt_cbc(b"x", bytes(16))
    with pytest.raises(ConfigurationError):
        SymmetricKey(HMAC_KEY, "HmacSHA256").wrap(bytes(32), "AESWrap")


def test_cbc_matches_the_deterministic_vector() -> None:
    key = SymmetricKey(AES_KEY, "AES")
    iv = bytes(range(0xA0, 0xB0))
    blob = key.encrypt_cbc(bytes.fromhex("0073000000026869"), iv)
    assert blob == iv + bytes.fromhex("8747e261fafbc67da341dbe13f38db6f")


@settings(max_examples=60)
@given(st.binary(max_size=70), st.binary(min_size=16, max_size=16), st.sampled_from([16, 24, 32]))
def test_cbc_round_trip_and_length(plaintext: bytes, iv: bytes, size: int) -> None:
    key = SymmetricKey(bytes(range(size)), "AES")
    blob = key.encrypt_cbc(plaintext, iv)
    assert blob[:16] == iv
    assert len(blob) == 16 + 16 * (len(plaintext) // 16 + 1)
    assert key.decrypt_cbc(blob) == plaintext
    # Independent check with the primitive: PKCS#7 padding, IV prepended.
    decryptor = Cipher(algorithms.AES(bytes(range(size))), modes.CBC(iv)).decryptor()
    padded = decryptor.update(blob[16:]) + decryptor.finalize()
    assert padded[: len(plaintext)] == plaintext
    assert set(padded[len(plaintext) :]) == {len(padded) - len(plaintext)}


@pytest.mark.parametrize("length", [0, 15, 16, 17, 31, 33, 47])
def test_cbc_rejects_bad_lengths(length: int) -> None:
    with pytest.raises(ValueError):
        SymmetricKey(AES_KEY, "AES").decrypt_cbc(bytes(length))


def test_cbc_rejects_bad_padding() -> None:
    key = SymmetricKey(AES_KEY, "AES")
    blob = key.encrypt_cbc(b"sixteen bytes!!!", bytes(16))
    # The last block is pure padding; changing the previous block changes it.
    tampered = blob[:-17] + bytes((blob[-17] ^ 0x01,)) + blob[-16:]
    with pytest.raises(ValueError):
        key.decrypt_cbc(tampered)
    # A wrong key almost always fails the padding check; when it does not, it cannot give
    # the plaintext back.
    try:
        result = SymmetricKey(bytes(16), "AES").decrypt_cbc(blob)
    except ValueError:
        return
    assert result != b"sixteen bytes!!!"


# -------------------------------------------------------------------------------------------
# AESWrap (RFC 3394)


def test_aes_wrap_rfc3394_vector() -> None:
    kek = SymmetricKey(bytes.fromhex("000102030405060708090A0B0C0D0E0F"), "AES")
    key = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    wrapped = bytes.fromhex("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5")
    assert kek.wrap(key, "AESWrap") == wrapped
    assert kek.unwrap(wrapped, "AESWrap") == key
    assert kek.default_wrap_algorithm == "AESWrap"


def test_aes_unwrap_failures() -> None:
    kek = SymmetricKey(AES_KEY, "AES")
    wrapped = kek.wrap(bytes(32), "AESWrap")
    with pytest.raises(KeyUnwrapError):
        SymmetricKey(bytes(16), "AES").unwrap(wrapped, "AESWrap")
    with pytest.raises(KeyUnwrapError):
        kek.unwrap(wrapped[:-1], "AESWrap")
    with pytest.raises(KeyUnwrapError):
        kek.unwrap(wrapped, "RSA/ECB/OAEPWithSHA-256AndMGF1Padding")
    with pytest.raises(ConfigurationError):
        kek.wrap(bytes(32), "RSA")


# -------------------------------------------------------------------------------------------
# RSA


@pytest.mark.parametrize(
    "algorithm", ["SHA224withRSA", "SHA256withRSA", "SHA384withRSA", "SHA512withRSA"]
)
def test_rsa_signatures(algorithm: str) -> None:
    private = rsa_key(algorithm)
    public = private.public_key()
    signature = private.sign(b"string to sign")
    assert len(signature) == 256
    assert public.verify(signature, b"string to sign")
    assert private.verify(signature, b"string to sign")
    assert not public.verify(signature, b"string to sigN")
    assert not public.verify(signature[:-1] + bytes((signature[-1] ^ 1,)), b"string to sign")
    # PKCS#1 v1.5 with the named hash, checked with the primitive itself.
    hash_types: dict[str, type[hashes.HashAlgorithm]] = {
        "SHA224withRSA": hashes.SHA224,
        "SHA256withRSA": hashes.SHA256,
        "SHA384withRSA": hashes.SHA384,
        "SHA512withRSA": hashes.SHA512,
    }
    raw = serialization.load_der_public_key(public.to_der())
    assert isinstance(raw, rsa.RSAPublicKey)
    raw.verify(signature, b"string to sign", padding.PKCS1v15(), hash_types[algorithm]())


def test_rsa_key_for_wrapping_cannot_sign() -> None:
    private = rsa_key("RSA")
    with pytest.raises(ConfigurationError):
        private.sign(b"x")
    with pytest.raises(ConfigurationError):
        private.public_key().verify(b"x", b"x")


@pytest.mark.parametrize(
    "algorithm",
    [
        "RSA/ECB/OAEPWithSHA-256AndMGF1Padding",
        "RSA/ECB/OAEPWithSHA-1AndMGF1Padding",
        "RSA/ECB/OAEPWithSHA-384AndMGF1Padding",
        "RSA/ECB/OAEPWithSHA-512AndMGF1Padding",
        "RSA",
        "RSA/ECB/PKCS1Padding",
    ],
)
def test_rsa_wrap_round_trip(algorithm: str) -> None:
    private = rsa_key("RSA")
    public = private.public_key()
    content_key = bytes(range(32))
    wrapped = public.wrap(content_key, algorithm)
    assert len(wrapped) == 256
    assert private.unwrap(wrapped, algorithm) == content_key


def test_oaep_uses_mgf1_sha1_whatever_the_hash() -> None:
    # Java's OAEPWith<H>AndMGF1Padding uses MGF1 with SHA-1: decrypt with the primitive.
    private = rsa_key("RSA")
    wrapped = private.public_key().wrap(b"k" * 32, "RSA/ECB/OAEPWithSHA-256AndMGF1Padding")
    raw = serialization.load_pem_private_key(private.to_pem(), password=None)
    scheme = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA256(), label=None)
    assert raw.decrypt(wrapped, scheme) == b"k" * 32  # type: ignore[union-attr]


def test_rsa_unwrap_failures() -> None:
    private = rsa_key("RSA")
    wrapped = private.public_key().wrap(bytes(32), "RSA/ECB/OAEPWithSHA-256AndMGF1Padding")
    with pytest.raises(KeyUnwrapError):
        private.unwrap(wrapped, "RSA/ECB/OAEPWithSHA-1AndMGF1Padding")
    with pytest.raises(KeyUnwrapError):
        private.unwrap(
            wrapped[:-1] + bytes((wrapped[-1] ^ 1,)), "RSA/ECB/OAEPWithSHA-256AndMGF1Padding"
        )
    with pytest.raises(KeyUnwrapError):
        private.unwrap(wrapped, "AESWrap")
    with pytest.raises(ConfigurationError):
        private.public_key().wrap(bytes(32), "AESWrap")


def test_rsa_serialization_round_trips() -> None:
    private = rsa_key("SHA256withRSA")
    pem = private.to_pem()
    again = RsaPrivateKey.from_pem(pem, "SHA256withRSA")
    assert again.public_key().to_der() == private.public_key().to_der()
    encrypted_pem = private.to_pem(password=b"secret")
    assert b"ENCRYPTED" in encrypted_pem
    assert RsaPrivateKey.from_pem(encrypted_pem, "RSA", password=b"secret").key_bits == 2048
    der = private.public_key().to_der()
    assert RsaPublicKey.from_der(der, "RSA").to_der() == der
    public_pem = serialization.load_der_public_key(der).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert RsaPublicKey.from_pem(public_pem, "SHA256withRSA").to_der() == der
    raw = serialization.load_pem_private_key(pem, password=None)
    private_der = raw.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert RsaPrivateKey.from_der(private_der, "RSA").key_bits == 2048


def test_rsa_load_errors_do_not_echo_input() -> None:
    secret = b"-----BEGIN PRIVATE KEY-----\nnotakey\n-----END PRIVATE KEY-----\n"
    for call in (
        lambda: RsaPrivateKey.from_pem(secret, "RSA"),
        lambda: RsaPrivateKey.from_der(b"\x30\x03abc", "RSA"),
        lambda: RsaPublicKey.from_pem(secret, "RSA"),
        lambda: RsaPublicKey.from_der(b"\x30\x03abc", "RSA"),
        lambda: RsaPrivateKey.from_pem(rsa_key().to_pem(b"pw"), "RSA", password=b"wrong"),
    ):
        with pytest.raises(ConfigurationError) as info:
            call()
        assert "notakey" not in str(info.value)


def test_rsa_algorithm_names_and_repr() -> None:
    private = rsa_key("RSA")
    with pytest.raises(ConfigurationError):
        private.with_algorithm("AES")
    with pytest.raises(ConfigurationError):
        RsaPrivateKey.generate("RSA", 1024)
    assert repr(private) == "RsaPrivateKey(algorithm='RSA', bits=2048)"
    assert repr(private.public_key()) == "RsaPublicKey(algorithm='RSA', bits=2048)"
    assert private.public_key().default_wrap_algorithm == "RSA/ECB/OAEPWithSHA-256AndMGF1Padding"
    signer = private.with_algorithm("SHA256withRSA")
    assert signer.algorithm == "SHA256withRSA"
    assert signer.public_key().algorithm == "SHA256withRSA"
    with pytest.raises(ConfigurationError):
        RsaPublicKey("not a key", "RSA")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        RsaPrivateKey("not a key", "RSA")  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([16, 24, 32]),
    st.lists(st.binary(max_size=200), min_size=1, max_size=6),
)
def test_one_context_cbc_equals_textbook_cbc(key_size: int, plaintexts: list[bytes]) -> None:
    """The engine chains several values through one cipher context; the bytes must equal one
    independent AES-CBC/PKCS#7 operation per value, and decrypt back."""
    from cryptography.hazmat.primitives import padding as sym_padding

    material = os.urandom(key_size)
    key = SymmetricKey(material, "AES")
    ivs = os.urandom(16 * len(plaintexts))
    blobs = key.cbc_encryptor().encrypt_all(plaintexts, ivs)
    for i, (plaintext, blob) in enumerate(zip(plaintexts, blobs, strict=True)):
        iv = ivs[16 * i : 16 * i + 16]
        padder = sym_padding.PKCS7(128).padder()
        padded = padder.update(plaintext) + padder.finalize()
        encryptor = Cipher(algorithms.AES(material), modes.CBC(iv)).encryptor()
        assert blob == iv + encryptor.update(padded) + encryptor.finalize()
    assert key.cbc_decryptor().decrypt_all(blobs) == plaintexts
