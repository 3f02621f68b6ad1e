"""The pure parts of the Direct KMS provider: encryption context, HKDF, checks before I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption import (
    AwsKmsMaterialsProvider,
    ConfigurationError,
    DecryptionError,
    EncryptionContext,
    InvalidMaterialDescriptionError,
    KmsDecryptCache,
    ProviderError,
)
from pynamodb_encryption.providers._aws_kms import (
    _region_from_key_id,
    derive_keys,
    kms_encryption_context,
)

KEY_ARN = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _context(
    attributes: dict[str, Any], *, sort: str | None = "sk", **kw: Any
) -> EncryptionContext:
    return EncryptionContext(
        table_name="Orders",
        partition_key_name="pk",
        sort_key_name=sort,
        attributes=attributes,
        **kw,
    )


# --------------------------------------------------------------------------------------------
# Encryption context


def test_encryption_context_documented_keys() -> None:
    ec = kms_encryption_context(
        _context({"pk": {"S": "p"}, "sk": {"N": "1.50"}, "other": {"S": "not in EC"}}),
        content_algorithm="AES/256",
        signing_algorithm="HmacSHA256/256",
    )
    assert ec == {
        "*amzn-ddb-env-alg*": "AES/256",
        "*amzn-ddb-sig-alg*": "HmacSHA256/256",
        "pk": "p",
        "sk": "1.50",  # the raw string, not normalized
        "*aws-kms-table*": "Orders",
    }


def test_encryption_context_binary_key_is_base64() -> None:
    ec = kms_encryption_context(
        _context({"pk": {"B": b"\x00\xff\x10"}}, sort=None),
        content_algorithm="AES/256",
        signing_algorithm="HmacSHA256/256",
    )
    assert ec["pk"] == base64.b64encode(b"\x00\xff\x10").decode() == "AP8Q"
    assert set(ec) == {"*amzn-ddb-env-alg*", "*amzn-ddb-sig-alg*", "pk", "*aws-kms-table*"}


def test_missing_key_attribute_is_left_out() -> None:
    ec = kms_encryption_context(
        _context({"pk": {"S": "p"}}), content_algorithm="AES", signing_algorithm="HmacSHA256"
    )
    assert "sk" not in ec
    assert ec["*amzn-ddb-env-alg*"] == "AES"  # descriptions are passed through as given


@pytest.mark.parametrize(
    "value", [{"SS": ["a"]}, {"BOOL": True}, {"NULL": True}, {"S": 5}, {"S": "a", "N": "1"}, "raw"]
)
def test_key_attribute_of_another_type_is_rejected(value: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        kms_encryption_context(
            _context({"pk": value}), content_algorithm="AES/256", signing_algorithm="HmacSHA256/256"
        )
    assert info.value.attribute == "pk"


@settings(max_examples=50)
@given(
    pk=st.one_of(
        st.builds(lambda s: {"S": s}, st.text(min_size=1)),
        st.builds(
            lambda s: {"N": s}, st.from_regex(r"-?[0-9]{1,10}(\.[0-9]{1,5})?", fullmatch=True)
        ),
        st.builds(lambda b: {"B": b}, st.binary(min_size=1)),
    )
)
def test_encryption_context_values_are_strings(pk: dict[str, Any]) -> None:
    ec = kms_encryption_context(
        _context({"pk": pk}, sort=None), content_algorithm="AES/256", signing_algorithm="x"
    )
    ((tag, inner),) = pk.items()
    assert ec["pk"] == (base64.b64encode(inner).decode() if tag == "B" else inner)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in ec.items())


# --------------------------------------------------------------------------------------------
# HKDF


def _rfc5869(ikm: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA256 with no salt (= 32 zero bytes), written out from RFC 5869."""
    prk = hmac.new(b"\x00" * 32, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def test_derive_keys_default_algorithms() -> None:
    ikm = bytes(range(32))
    keys = derive_keys(ikm)
    assert keys.encryption_key.algorithm == "AES"
    assert keys.encryption_key.key_bits == 256
    assert keys.mac_key.algorithm == "HmacSHA256"
    assert keys.encryption_key.export_material() == _rfc5869(ikm, b"Encryption", 32)
    assert keys.mac_key.export_material() == _rfc5869(ikm, b"Signing", 32)
    # A fixed value, so a change in the derivation cannot go unnoticed.
    assert (
        keys.mac_key.sign(b"")
        == hmac.new(_rfc5869(ikm, b"Signing", 32), b"", hashlib.sha256).digest()
    )


@pytest.mark.parametrize(
    ("content", "signing", "enc_len", "mac_len", "mac_name"),
    [
        ("AES/128", "HmacSHA256/256", 16, 32, "HmacSHA256"),
        ("AES/192", "HmacSHA384/384", 24, 48, "HmacSHA384"),
        ("AES", "HmacSHA512", 32, 32, "HmacSHA512"),  # Java form: size defaults to 256
    ],
)
def test_derive_keys_sizes(
    content: str, signing: str, enc_len: int, mac_len: int, mac_name: str
) -> None:
    ikm = b"\x42" * 32
    keys = derive_keys(ikm, content_algorithm=content, signing_algorithm=signing)
    assert keys.encryption_key.export_material() == _rfc5869(ikm, b"Encryption", enc_len)
    assert keys.mac_key.export_material() == _rfc5869(ikm, b"Signing", mac_len)
    assert keys.mac_key.algorithm == mac_name


@pytest.mark.parametrize(
    ("content", "signing"),
    [("DES/56", "HmacSHA256/256"), ("AES/100", "HmacSHA256/256"), ("AES/256", "RSA/2048"),
     ("AES/x", "HmacSHA256/256"), ("AES/256", "HmacSHA256/7")],
)  # fmt: skip
def test_derive_keys_rejects_unknown_algorithms(content: str, signing: str) -> None:
    with pytest.raises(InvalidMaterialDescriptionError):
        derive_keys(b"\x00" * 32, content_algorithm=content, signing_algorithm=signing)


@settings(max_examples=30)
@given(ikm=st.binary(min_size=1, max_size=64))
def test_derive_keys_matches_rfc5869(ikm: bytes) -> None:
    keys = derive_keys(ikm)
    assert keys.encryption_key.export_material() == _rfc5869(ikm, b"Encryption", 32)
    assert keys.mac_key.export_material() == _rfc5869(ikm, b"Signing", 32)


# --------------------------------------------------------------------------------------------
# Construction and checks that happen before any KMS call


class ExplodingClient:
    """A KMS client that must not be called."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"KMS must not be called ({name})")


class FailingClient:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def generate_data_key(self, **_: Any) -> Any:
        raise self.exc

    def decrypt(self, **_: Any) -> Any:
        raise self.exc


def test_region_from_key_id() -> None:
    assert _region_from_key_id(KEY_ARN) == "eu-central-1"
    assert _region_from_key_id("arn:aws:kms:us-west-2:111122223333:alias/app") == "us-west-2"
    assert _region_from_key_id("1234abcd-12ab-34cd-56ef-1234567890ab") is None
    assert _region_from_key_id("alias/app") is None


def test_no_client_and_no_io_in_constructor(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("no client in __init__")

    monkeypatch.setattr(boto3, "client", refuse)
    provider = AwsKmsMaterialsProvider(key_id=KEY_ARN)
    assert provider.key_id == KEY_ARN
    assert provider.decrypt_cache is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key_id": ""},
        {"key_id": KEY_ARN, "grant_tokens": "one-token"},
        {"key_id": KEY_ARN, "grant_tokens": [1]},
        {"key_id": KEY_ARN, "decrypt_cache": {}},
        {"key_id": KEY_ARN, "material_description": {"amzn-ddb-sig-alg": "SHA256withRSA"}},
    ],
)
def test_constructor_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        AwsKmsMaterialsProvider(**kwargs)


@pytest.mark.parametrize(
    "description",
    [
        {},
        {"amzn-ddb-env-alg": "AES/256", "amzn-ddb-sig-alg": "HmacSHA256/256"},  # no env-key
        {"amzn-ddb-env-key": "AAAA", "amzn-ddb-sig-alg": "HmacSHA256/256"},
        {"amzn-ddb-env-key": "AAAA", "amzn-ddb-env-alg": "RC4/128", "amzn-ddb-sig-alg": "x/1"},
        {
            "amzn-ddb-env-key": "!!",
            "amzn-ddb-env-alg": "AES/256",
            "amzn-ddb-sig-alg": "HmacSHA256/256",
        },
    ],
)
def test_bad_description_fails_before_kms(description: dict[str, str]) -> None:
    provider = AwsKmsMaterialsProvider(
        key_id=KEY_ARN,
        kms_client=ExplodingClient(),  # type: ignore[arg-type]
        decrypt_cache=KmsDecryptCache(),
    )
    with pytest.raises(InvalidMaterialDescriptionError) as info:
        provider.decryption_materials(
            _context({"pk": {"S": "p"}}, material_description=description)
        )
    assert info.value.table == "Orders"


GOOD_MD = {
    "amzn-ddb-env-key": base64.b64encode(b"blob").decode(),
    "amzn-ddb-env-alg": "AES/256",
    "amzn-ddb-sig-alg": "HmacSHA256/256",
}


def test_client_errors_are_wrapped_without_secrets() -> None:
    denied = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "User arn:x is not authorized"}},
        "GenerateDataKey",
    )
    provider = AwsKmsMaterialsProvider(key_id=KEY_ARN, kms_client=FailingClient(denied))  # type: ignore[arg-type]
    with pytest.raises(ProviderError) as info:
        provider.encryption_materials(_context({"pk": {"S": "secret-partition"}}))
    assert info.value.__cause__ is denied
    assert "AccessDeniedException" in str(info.value)
    assert "secret-partition" not in str(info.value)
    with pytest.raises(ProviderError):
        provider.decryption_materials(_context({"pk": {"S": "p"}}, material_description=GOOD_MD))


def test_invalid_ciphertext_is_a_decryption_error() -> None:
    invalid = ClientError({"Error": {"Code": "InvalidCiphertextException"}}, "Decrypt")
    provider = AwsKmsMaterialsProvider(key_id=KEY_ARN, kms_client=FailingClient(invalid))  # type: ignore[arg-type]
    with pytest.raises(DecryptionError) as info:
        provider.decryption_materials(_context({"pk": {"S": "p"}}, material_description=GOOD_MD))
    assert not isinstance(info.value, ProviderError)
    assert info.value.__cause__ is invalid


def test_connection_errors_are_provider_errors() -> None:
    down = EndpointConnectionError(endpoint_url="https://kms.example")
    provider = AwsKmsMaterialsProvider(key_id=KEY_ARN, kms_client=FailingClient(down))  # type: ignore[arg-type]
    with pytest.raises(ProviderError) as info:
        provider.encryption_materials(_context({"pk": {"S": "p"}}))
    assert info.value.__cause__ is down
    assert "EndpointConnectionError" in str(info.value)


def test_repr_is_safe() -> None:
    provider = AwsKmsMaterialsProvider(
        key_id=KEY_ARN, grant_tokens=["secret-grant-token"], decrypt_cache=KmsDecryptCache()
    )
    text = repr(provider)
    assert KEY_ARN in text
    assert "secret-grant-token" not in text
