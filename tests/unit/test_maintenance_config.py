"""provider_from_config: JSON configuration -> materials provider (pure, no server)."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption import (
    AttributeActions,
    ConfigurationError,
    ItemEncryptor,
    MaterialsProvider,
    RsaPrivateKey,
    StaticMaterialsProvider,
    SymmetricKey,
    WrappedMaterialsProvider,
)
from pynamodb_encryption.maintenance import KeyRotationProvider, load_key, provider_from_config
from pynamodb_encryption.maintenance._config import PROVIDER_KINDS
from pynamodb_encryption.providers import AwsKmsMaterialsProvider, MostRecentProvider

ITEM = {"pk": {"S": "k"}, "secret": {"S": "hello"}, "n": {"N": "5"}}

# Key files written here have the default (umask) mode; the permission check has its own tests
# in test_cli_errors.py.
pytestmark = pytest.mark.filterwarnings(
    "ignore::pynamodb_encryption.maintenance.InsecureKeyFileWarning"
)


def encryptor(provider: MaterialsProvider) -> ItemEncryptor:
    return ItemEncryptor(
        table_name="table",
        partition_key_name="pk",
        attribute_actions=AttributeActions(),
        materials_provider=provider,
    )


def roundtrip(writer: MaterialsProvider, reader: MaterialsProvider) -> None:
    assert encryptor(reader).decrypt(encryptor(writer).encrypt(ITEM)) == ITEM


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, bytes]:
    material = {"aes": os.urandom(32), "hmac": os.urandom(32)}
    (tmp_path / "aes.key").write_bytes(material["aes"])
    (tmp_path / "hmac.key").write_bytes(material["hmac"])
    return material


def test_static_config_file_with_relative_key_paths(
    tmp_path: Path, keys: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "provider.json"
    config.write_text(
        json.dumps(
            {
                "provider": "static",
                "comment": "keys live next to this file",
                "encryption_key": {"file": "aes.key", "algorithm": "AES"},
                "signing_key": {"file": "hmac.key", "algorithm": "HmacSHA256"},
            }
        )
    )
    monkeypatch.chdir("/")  # relative paths resolve against the config file, not the cwd
    provider = provider_from_config(config)
    assert isinstance(provider, StaticMaterialsProvider)
    manual = StaticMaterialsProvider(
        encryption_key=SymmetricKey(keys["aes"], "AES"),
        signing_key=SymmetricKey(keys["hmac"], "HmacSHA256"),
    )
    roundtrip(provider, manual)
    roundtrip(manual, provider)
    assert provider_from_config(str(config)) is not provider  # str paths work too


def test_mapping_config_with_env_keys_and_base_dir(
    tmp_path: Path, keys: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_AES_B64", base64.b64encode(keys["aes"]).decode())
    provider = provider_from_config(
        {
            "provider": "static",
            "encryption_key": {"env": "TEST_AES_B64", "algorithm": "AES"},
            "signing_key": {"file": "hmac.key", "algorithm": "HmacSHA256"},
            "material_description": {"generation": "7"},
        },
        base_dir=tmp_path,
    )
    manual = StaticMaterialsProvider(
        encryption_key=SymmetricKey(keys["aes"], "AES"),
        signing_key=SymmetricKey(keys["hmac"], "HmacSHA256"),
    )
    roundtrip(provider, manual)


def test_wrapped_rsa_keys_from_pem_file_and_env(
    tmp_path: Path, keys: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapping = RsaPrivateKey.generate("RSA", 2048)
    signing = RsaPrivateKey.generate("SHA256withRSA", 2048)
    (tmp_path / "wrap.pem").write_bytes(wrapping.to_pem())
    monkeypatch.setenv("TEST_SIGNING_PEM", signing.to_pem().decode())
    config = {
        "provider": "wrapped",
        "wrapping_key": {"file": "wrap.pem", "algorithm": "RSA"},
        "signing_key": {"env": "TEST_SIGNING_PEM", "algorithm": "SHA256withRSA"},
    }
    provider = provider_from_config(config, base_dir=tmp_path)
    assert isinstance(provider, WrappedMaterialsProvider)
    manual = WrappedMaterialsProvider(wrapping_key=wrapping, signing_key=signing)
    roundtrip(provider, manual)
    roundtrip(manual, provider)


def test_verification_key_given_as_private_pem_uses_its_public_half(tmp_path: Path) -> None:
    signing = RsaPrivateKey.generate("SHA256withRSA", 2048)
    (tmp_path / "sign.pem").write_bytes(signing.to_pem())
    aes = os.urandom(32)
    (tmp_path / "aes.key").write_bytes(aes)
    reader = provider_from_config(
        {
            "provider": "static",
            "decryption_key": {"file": "aes.key", "algorithm": "AES"},
            "verification_key": {"file": "sign.pem", "algorithm": "SHA256withRSA"},
        },
        base_dir=tmp_path,
    )
    writer = StaticMaterialsProvider(encryption_key=SymmetricKey(aes, "AES"), signing_key=signing)
    roundtrip(writer, reader)


def test_aws_kms_and_most_recent_are_built_without_io(
    tmp_path: Path, keys: dict[str, bytes]
) -> None:
    kms = provider_from_config(
        {
            "provider": "aws-kms",
            "key_id": "alias/test",
            "kms_endpoint_url": "http://127.0.0.1:9",
            "region": "us-east-1",
        }
    )
    assert isinstance(kms, AwsKmsMaterialsProvider)
    mrp = provider_from_config(
        {
            "provider": "most-recent",
            "meta_table": "meta",
            "material_name": "orders",
            "ttl_seconds": 30,
            "dynamodb_endpoint_url": "http://127.0.0.1:9",
            "region": "us-east-1",
            "meta_provider": {
                "provider": "wrapped",
                "wrapping_key": {"file": "aes.key", "algorithm": "AES"},
                "signing_key": {"file": "hmac.key", "algorithm": "HmacSHA256"},
            },
        },
        base_dir=tmp_path,
    )
    assert isinstance(mrp, MostRecentProvider)


def test_key_rotation_config(tmp_path: Path, keys: dict[str, bytes]) -> None:
    (tmp_path / "new-aes.key").write_bytes(os.urandom(32))
    (tmp_path / "new-hmac.key").write_bytes(os.urandom(32))
    old = {
        "provider": "static",
        "encryption_key": {"file": "aes.key", "algorithm": "AES"},
        "signing_key": {"file": "hmac.key", "algorithm": "HmacSHA256"},
    }
    new = {
        "provider": "static",
        "encryption_key": {"file": "new-aes.key", "algorithm": "AES"},
        "signing_key": {"file": "new-hmac.key", "algorithm": "HmacSHA256"},
    }
    rotation = provider_from_config(
        {"provider": "key-rotation", "current_id": "2", "current": new, "untagged": old},
        base_dir=tmp_path,
    )
    assert isinstance(rotation, KeyRotationProvider)
    old_provider = provider_from_config(old, base_dir=tmp_path)
    roundtrip(old_provider, rotation)  # reads untagged items with the old keys
    roundtrip(rotation, rotation)
    later = provider_from_config(
        {"provider": "key-rotation", "current_id": "3", "current": old, "previous": {"2": new}},
        base_dir=tmp_path,
    )
    roundtrip(rotation, later)
    message = _error(
        {"provider": "key-rotation", "current_id": "2", "current": new, "previous": {"2": old}},
        tmp_path,
    )
    assert "previous key id" in message
    message = _error(
        {"provider": "key-rotation", "current_id": "2", "current": {"provider": "static"}},
        tmp_path,
    )
    assert "'current'" in message


def _error(config: Any, tmp_path: Path | None = None) -> str:
    with pytest.raises(ConfigurationError) as info:
        provider_from_config(config, base_dir=tmp_path)
    return str(info.value)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "provider"),
        ({"provider": "magic"}, "provider"),
        ({"provider": "static", "signing_key": {"file": "hmac.key", "algorithm": "HmacSHA256"},
          "wrapping_key": {"file": "aes.key", "algorithm": "AES"}}, "wrapping_key"),
        ({"provider": "static", "signing_key": {"file": "nope.key", "algorithm": "HmacSHA256"}},
         "signing_key.file"),
        ({"provider": "static", "signing_key": {"file": "hmac.key"}}, "signing_key.algorithm"),
        ({"provider": "static", "signing_key": {"file": "hmac.key", "algorithm": "Nope"}},
         "signing_key.algorithm"),
        ({"provider": "static", "signing_key": {"algorithm": "HmacSHA256"}}, "signing_key"),
        ({"provider": "static", "signing_key": {"file": "hmac.key", "env": "X",
          "algorithm": "HmacSHA256"}}, "signing_key"),
        ({"provider": "static", "signing_key": {"file": "hmac.key", "algorithm": "HmacSHA256",
          "inline": "x"}}, "signing_key"),
        ({"provider": "static", "signing_key": {"env": "TEST_UNSET_VAR_XYZ",
          "algorithm": "HmacSHA256"}}, "signing_key.env"),
        ({"provider": "static", "encryption_key": {"file": "hmac.key", "algorithm": "AES"},
          "signing_key": {"file": "aes.key", "algorithm": "AES"}}, "signing_key"),
        ({"provider": "static", "encryption_key": {"file": "short.key", "algorithm": "AES"},
          "signing_key": {"file": "hmac.key", "algorithm": "HmacSHA256"}}, "encryption_key"),
        ({"provider": "static", "signing_key": {"file": "hmac.key", "algorithm": "HmacSHA256"},
          "material_description": {"a": 1}}, "material_description"),
        ({"provider": "aws-kms"}, "key_id"),
        ({"provider": "aws-kms", "key_id": ""}, "key_id"),
        ({"provider": "most-recent", "material_name": "m", "meta_provider": {}}, "meta_table"),
        ({"provider": "most-recent", "meta_table": "t", "material_name": "m"}, "meta_provider"),
        ({"provider": "most-recent", "meta_table": "t", "material_name": "m",
          "ttl_seconds": -1, "meta_provider": {}}, "ttl_seconds"),
        ({"provider": "most-recent", "meta_table": "t", "material_name": "m",
          "meta_provider": {"provider": "static", "signing_key": {"file": "nope",
                                                                  "algorithm": "HmacSHA256"}}},
         "meta_provider.signing_key.file"),
    ],
)  # fmt: skip
def test_errors_name_the_field(
    tmp_path: Path, keys: dict[str, bytes], config: dict[str, Any], field: str
) -> None:
    (tmp_path / "short.key").write_bytes(b"0123456789")
    message = _error(config, tmp_path)
    assert field in message, message


def test_errors_never_contain_key_material_or_values(
    tmp_path: Path, keys: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_BAD_B64", "not base64 at all: SECRETVALUE!!")
    message = _error(
        {"provider": "static", "signing_key": {"env": "TEST_BAD_B64", "algorithm": "HmacSHA256"}}
    )
    assert "SECRETVALUE" not in message
    assert "signing_key.env" in message
    (tmp_path / "bad.json").write_text('{"provider": "static", "signing_key": SECRETVALUE}')
    message = _error(tmp_path / "bad.json")
    assert "SECRETVALUE" not in message
    assert "line 1" in message


@settings(max_examples=50, deadline=None)
@given(value=st.text().filter(lambda v: v not in PROVIDER_KINDS))
def test_a_bad_provider_value_is_never_echoed(value: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        provider_from_config({"provider": value, "key_id": value})
    with pytest.raises(ConfigurationError) as baseline:
        provider_from_config({"provider": None})
    # The only difference allowed is a suggestion, and it names a known kind, not the value.
    suggestion = re.search(r" \(did you mean '([^']*)'\?\)", str(info.value))
    if suggestion is not None:
        assert suggestion.group(1) in PROVIDER_KINDS
    assert re.sub(r" \(did you mean '[^']*'\?\)", "", str(info.value)) == str(baseline.value)


def test_missing_config_file(tmp_path: Path) -> None:
    message = _error(tmp_path / "absent.json")
    assert "cannot read" in message


def test_config_must_be_an_object(tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text("[1, 2]")
    assert "object" in _error(tmp_path / "list.json")


def test_load_key_is_public_and_checks_types(tmp_path: Path) -> None:
    (tmp_path / "k").write_bytes(bytes(32))
    key = load_key({"file": "k", "algorithm": "AES"}, "my_key", tmp_path)
    assert isinstance(key, SymmetricKey)
    assert "bits=256" in repr(key)
    with pytest.raises(ConfigurationError, match="my_key"):
        load_key("k", "my_key", tmp_path)
