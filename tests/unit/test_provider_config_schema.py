"""The published JSON Schema of provider config files agrees with the reader and the examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pynamodb_encryption.cli import main
from pynamodb_encryption.errors import ConfigurationError
from pynamodb_encryption.maintenance import provider_config_schema, provider_from_config

ROOT = Path(__file__).resolve().parents[2]
PACKAGED = ROOT / "src" / "pynamodb_encryption" / "maintenance" / "provider-config.schema.json"
PUBLISHED = ROOT / "docs" / "schemas" / "provider-config.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = provider_config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_site_publishes_the_packaged_schema() -> None:
    assert PUBLISHED.read_text() == PACKAGED.read_text()
    assert json.loads(PACKAGED.read_text()) == provider_config_schema()


@pytest.mark.parametrize("path", sorted((ROOT / "examples").rglob("*config*.json")), ids=str)
def test_every_example_config_is_valid(
    path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    errors = [e.message for e in validator.iter_errors(json.loads(path.read_text()))]
    assert errors == []


def test_keygen_prints_valid_key_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_entry = jsonschema.Draft202012Validator({**provider_config_schema(), "$ref": "#/$defs/key"})
    for argv in (["aes"], ["hmac"], ["rsa", "--bits", "2048"]):
        assert main(["keygen", *argv, "--out", str(tmp_path / f"{argv[0]}.key")]) == 0
        out = capsys.readouterr().out
        printed = json.loads(out[out.index("{") :])
        assert printed
        for name, entry in printed.items():
            assert list(key_entry.iter_errors(entry)) == [], name


KEY = {"file": "k.key", "algorithm": "AES"}
MAC = {"file": "m.key", "algorithm": "HmacSHA256"}

#: Configs the reader refuses for their shape alone: the schema refuses them too.
INVALID: list[dict[str, Any]] = [
    {},
    {"provider": "statik"},
    {"provider": "static", "encryption_kye": KEY},
    {"provider": "static", "signing_key": {"file": "m.key"}},
    {"provider": "static", "signing_key": {"file": "m.key", "env": "M", "algorithm": "AES"}},
    {"provider": "static", "signing_key": {"path": "m.key", "algorithm": "AES"}},
    {"provider": "static", "signing_key": {"file": "m.key", "algorithm": "Blowfish"}},
    {"provider": "aws-kms"},
    {"provider": "aws-kms", "key_id": ""},
    {"provider": "aws-kms", "key_id": "k", "meta_table": "t"},
    {"provider": "most-recent", "meta_table": "t", "material_name": "m"},
    {"provider": "most-recent", "meta_table": "t", "material_name": "m", "ttl_seconds": -1,
     "meta_provider": {"provider": "static", "signing_key": MAC}},
    {"provider": "most-recent", "meta_table": "t", "material_name": "m",
     "meta_provider": {"provider": "nope"}},
    {"provider": "key-rotation", "current_id": "1"},
    {"provider": "static", "material_description": {"k": 1}},
]  # fmt: skip


@pytest.mark.parametrize("config", INVALID, ids=lambda c: json.dumps(c)[:60])
def test_schema_and_reader_refuse_the_same_shapes(
    config: dict[str, Any], tmp_path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    assert not validator.is_valid(config)
    with pytest.raises(ConfigurationError):
        provider_from_config(config, base_dir=tmp_path)


def test_the_reader_takes_its_fields_from_the_schema() -> None:
    schema = provider_config_schema()
    for kind in ("static", "wrapped", "aws-kms", "most-recent", "key-rotation"):
        fields = set(schema["$defs"][kind]["properties"])
        bogus = {"provider": kind, "not_a_field": 1}
        with pytest.raises(ConfigurationError) as refused:
            provider_from_config(bogus)
        listed = refused.value.message.split("allowed: ", 1)[1].split(", ")
        assert set(listed) == fields


def test_kinds_and_algorithms_match_the_reader() -> None:
    from pynamodb_encryption.maintenance import _config

    schema = provider_config_schema()
    kinds = schema["$defs"]["provider"]["properties"]["provider"]["enum"]
    assert tuple(kinds) == _config.PROVIDER_KINDS
    algorithms = set(schema["$defs"]["key"]["properties"]["algorithm"]["enum"])
    assert algorithms == _config._SYMMETRIC_ALGORITHMS | _config._RSA_ALGORITHMS
