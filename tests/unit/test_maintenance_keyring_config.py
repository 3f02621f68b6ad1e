"""Keyring entries of provider config files: each kind builds, keys come from files or
environment variables, errors name the field and never a value."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pynamodb_encryption import ConfigurationError
from pynamodb_encryption.dbesdk import (
    AwsKmsKeyring,
    CryptoAction,
    DbeAlgorithmSuite,
    DbEsdkItemEncryptor,
    HierarchicalKeyring,
    RawAesKeyring,
    RawRsaKeyring,
)
from pynamodb_encryption.maintenance import is_keyring_config, keyring_from_config

AES = os.urandom(32)


def _roundtrip(keyring: Any) -> None:
    encryptor = DbEsdkItemEncryptor(
        table_name="t",
        partition_key_name="pk",
        attribute_actions={"pk": CryptoAction.SIGN_ONLY, "x": CryptoAction.ENCRYPT_AND_SIGN},
        keyring=keyring,
    )
    item = {"pk": {"S": "k"}, "x": {"S": "secret"}}
    assert encryptor.decrypt(encryptor.encrypt(item)) == item


def test_raw_aes_from_a_file_and_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "aes.key"
    key_file.write_bytes(AES)
    key_file.chmod(0o600)
    config = {
        "keyring": "raw-aes",
        "key_namespace": "ns",
        "key_name": "k1",
        "wrapping_key": {"file": "aes.key"},
        "allowed_unsigned_attribute_prefix": ":",
        "algorithm_suite": "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384",
    }
    assert is_keyring_config(config)
    built = keyring_from_config(config, base_dir=tmp_path)
    assert isinstance(built.keyring, RawAesKeyring)
    assert built.allowed_unsigned_attribute_prefix == ":"
    assert built.algorithm_suite is (
        DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384
    )
    monkeypatch.setenv("PE_TEST_AES", base64.b64encode(AES).decode())
    from_env = keyring_from_config({**config, "wrapping_key": {"env": "PE_TEST_AES"}})
    # Same key, either source: one opens what the other wrote.
    writer = DbEsdkItemEncryptor(
        table_name="t",
        partition_key_name="pk",
        attribute_actions={"pk": CryptoAction.SIGN_ONLY},
        keyring=built.keyring,
    )
    reader = DbEsdkItemEncryptor(
        table_name="t",
        partition_key_name="pk",
        attribute_actions={"pk": CryptoAction.SIGN_ONLY},
        keyring=from_env.keyring,
    )
    assert reader.decrypt(writer.encrypt({"pk": {"S": "a"}})) == {"pk": {"S": "a"}}


def test_raw_rsa_kms_and_hierarchical_build(tmp_path: Path) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (tmp_path / "rsa.pem").write_bytes(pem)
    (tmp_path / "rsa.pem").chmod(0o600)
    built = keyring_from_config(
        {
            "keyring": "raw-rsa",
            "key_namespace": "ns",
            "key_name": "rsa",
            "private_key": {"file": "rsa.pem"},
        },
        base_dir=tmp_path,
    )
    assert isinstance(built.keyring, RawRsaKeyring)
    _roundtrip(built.keyring)
    kms = keyring_from_config({"keyring": "aws-kms", "key_id": "alias/app", "region": "us-east-1"})
    assert isinstance(kms.keyring, AwsKmsKeyring)
    hierarchical = keyring_from_config(
        {
            "keyring": "hierarchical",
            "key_store_table": "keys",
            "logical_key_store_name": "keys",
            "kms_key_id": "arn:aws:kms:us-east-1:111122223333:key/abc",
            "branch_key_id": "tenant-1",
            "region": "us-east-1",
            "allowed_unsigned_attributes": ["hits"],
        }
    )
    assert isinstance(hierarchical.keyring, HierarchicalKeyring)
    assert hierarchical.allowed_unsigned_attributes == ("hits",)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"keyring": "raw-ase"}, "did you mean 'raw-aes'"),
        ({"keyring": "raw-aes", "key_namespace": "n", "key_name": "k"}, "'wrapping_key'"),
        (
            {"keyring": "raw-aes", "key_namespace": "n", "key_name": "k", "key_id": "x"},
            "'key_id'",
        ),
        (
            {
                "keyring": "raw-aes",
                "key_namespace": "n",
                "key_name": "k",
                "wrapping_key": {"env": "PE_TEST_UNSET_VARIABLE"},
            },
            "not set",
        ),
        ({"keyring": "aws-kms", "key_id": "k", "algorithm_suite": "X"}, "'algorithm_suite'"),
    ],
)
def test_errors_name_the_field(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        keyring_from_config(
            {"region": "us-east-1", **config} if "kms" in config["keyring"] else config
        )


def test_a_wrong_key_length_names_the_field_not_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PE_TEST_SHORT", base64.b64encode(b"short-secret").decode())
    with pytest.raises(ConfigurationError) as raised:
        keyring_from_config(
            {
                "keyring": "raw-aes",
                "key_namespace": "n",
                "key_name": "k",
                "wrapping_key": {"env": "PE_TEST_SHORT"},
            }
        )
    assert "short-secret" not in str(raised.value)
    assert "wrapping_key" in str(raised.value)


def test_the_schema_and_the_reader_agree() -> None:
    import jsonschema

    from pynamodb_encryption.dbesdk import RsaPadding
    from pynamodb_encryption.maintenance import provider_config_schema
    from pynamodb_encryption.maintenance._keyring_config import KEYRING_KINDS

    schema = provider_config_schema()
    defs = schema["$defs"]
    assert tuple(defs["keyring"]["properties"]["keyring"]["enum"]) == KEYRING_KINDS
    assert set(defs["keyring-raw-rsa"]["properties"]["padding"]["enum"]) == {
        p.value for p in RsaPadding
    }
    assert set(defs["keyring-aws-kms"]["properties"]["algorithm_suite"]["enum"]) == {
        s.name for s in DbeAlgorithmSuite
    }
    validator = jsonschema.Draft202012Validator(schema)
    for kind in KEYRING_KINDS:
        with pytest.raises(ConfigurationError) as refused:
            keyring_from_config({"keyring": kind, "not_a_field": 1})
        listed = refused.value.message.split("allowed: ", 1)[1].split(", ")
        assert set(listed) == set(defs[f"keyring-{kind}"]["properties"])
        assert not validator.is_valid({"keyring": kind, "not_a_field": 1})
