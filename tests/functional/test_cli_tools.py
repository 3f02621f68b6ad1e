"""``keygen`` -> ``metastore`` -> ``inspect`` against a real DynamoDB API, as an operator would."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from pynamodb_encryption.cli import main
from pynamodb_encryption.core import AttributeActions, CryptoAction, ItemEncryptor
from pynamodb_encryption.maintenance import provider_from_config

E, S, N = CryptoAction.ENCRYPT_AND_SIGN, CryptoAction.SIGN_ONLY, CryptoAction.DO_NOTHING


@pytest.fixture
def wrapped_config(tmp_path: Path) -> Path:
    """A wrapped-provider config whose keys were made by ``keygen``."""
    assert main(["keygen", "aes", "--out", str(tmp_path / "wrap.key")]) == 0
    assert main(["keygen", "hmac", "--out", str(tmp_path / "sign.key")]) == 0
    config = {
        "provider": "wrapped",
        "wrapping_key": {"file": "wrap.key", "algorithm": "AES"},
        "signing_key": {"file": "sign.key", "algorithm": "HmacSHA256"},
    }
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps(config))
    return path


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_metastore_create_rotate_list(
    ddb_endpoint: str, wrapped_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = f"meta-{uuid.uuid4().hex[:8]}"
    common = ["--table", table, "--endpoint-url", ddb_endpoint]
    code, out, err = _cli(
        capsys,
        "metastore",
        "create",
        *common,
        "--material",
        "orders",
        "--provider-config",
        str(wrapped_config),
    )
    assert code == 0, err
    assert "version 0 of material 'orders'" in out
    code, out, err = _cli(
        capsys,
        "metastore",
        "new-version",
        *common,
        "--material",
        "orders",
        "--provider-config",
        str(wrapped_config),
        "--json",
    )
    assert code == 0, err
    assert json.loads(out) == {"table": table, "material": "orders", "version": 1}
    code, out, _ = _cli(
        capsys,
        "metastore",
        "new-version",
        *common,
        "--material",
        "users",
        "--provider-config",
        str(wrapped_config),
    )
    assert code == 0
    code, out, _ = _cli(capsys, "metastore", "list", *common, "--json")
    assert code == 0
    assert json.loads(out)["materials"] == [
        {"material": "orders", "versions": [0, 1], "current": 1},
        {"material": "users", "versions": [0], "current": 0},
    ]
    code, out, _ = _cli(capsys, "metastore", "list", *common, "--material", "orders")
    assert code == 0
    assert "| orders" in out
    assert "0-1" in out
    # Creating the same table twice is an error with a message, not a traceback.
    code, _, err = _cli(capsys, "metastore", "create", *common)
    assert code == 1
    assert err.startswith("pynamodb-encryption: error:")


def test_metastore_new_version_requires_a_provider_config(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYNAMODB_ENCRYPTION_PROVIDER_CONFIG", raising=False)
    code, _, err = _cli(capsys, "metastore", "new-version", "--table", "t", "--material", "m")
    assert code == 1
    assert "provider" in err


def _put(
    client: Any, table: str, config: Path, item: dict[str, Any], actions: dict[str, CryptoAction]
) -> dict[str, Any]:
    encryptor = ItemEncryptor(
        table_name=table,
        partition_key_name="pk",
        sort_key_name="sk",
        attribute_actions=AttributeActions(N, actions),
        materials_provider=provider_from_config(str(config)),
    )
    stored = encryptor.encrypt(item)
    client.put_item(TableName=table, Item=stored)
    return stored


ITEM = {
    "pk": {"S": "customer-9"},
    "sk": {"N": "3"},
    "card": {"S": "4111 1111 1111 1111"},
    "tier": {"S": "gold"},
    "note": {"S": "free text"},
}
ACTIONS = {"pk": S, "sk": S, "card": E, "tier": S}


def test_inspect_without_and_with_keys(
    dynamodb_client: Any,
    make_table: Any,
    wrapped_config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = make_table(range_key=True)
    _put(dynamodb_client, table, wrapped_config, ITEM, ACTIONS)
    endpoint = dynamodb_client.meta.endpoint_url
    base = ["inspect", "--table", table, "--key", "pk=customer-9", "--sort", "sk=3"]
    base += ["--endpoint-url", endpoint]

    monkeypatch.delenv("PYNAMODB_ENCRYPTION_PROVIDER_CONFIG", raising=False)
    code, out, err = _cli(capsys, *base)
    assert code == 0, err
    assert "4111" not in out  # nothing is decrypted without keys
    assert "wrapped" in out
    assert "AESWrap" in out
    assert "HmacSHA256" in out
    assert "not checked" in out

    # Keys from the environment variable, actions found from the signature.
    monkeypatch.setenv("PYNAMODB_ENCRYPTION_PROVIDER_CONFIG", str(wrapped_config))
    code, out, err = _cli(capsys, *base, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["verification"].startswith("signature verified")
    attributes = {a["name"]: a for a in report["attributes"]}
    assert attributes["card"]["protection"] == "encrypted + signed"
    assert attributes["card"]["decrypted"] is None  # masked without --show-values
    assert attributes["card"]["decrypted_masked"] == "*** (S, 19 chars)"
    assert attributes["tier"]["protection"] == "signed"
    assert attributes["note"]["protection"] == "plain (not signed)"
    assert attributes["pk"]["protection"] == "signed"

    # Given actions that match.
    code, out, err = _cli(
        capsys, *base, "--encrypt", "card", "--sign", "tier,pk,sk", "--default-action", "nothing"
    )
    assert code == 0, err
    assert "actions as given" in out

    # A signed attribute changed behind the library's back: exit 1, the reason shown.
    dynamodb_client.update_item(
        TableName=table,
        Key={"pk": ITEM["pk"], "sk": ITEM["sk"]},
        UpdateExpression="SET tier = :t",
        ExpressionAttributeValues={":t": {"S": "platinum"}},
    )
    code, out, _ = _cli(capsys, *base)
    assert code == 1
    assert "Signature: FAILED" in out
    assert "4111" not in out


def test_inspect_most_recent_item_shows_material_and_version(
    dynamodb_client: Any,
    make_table: Any,
    wrapped_config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    endpoint = dynamodb_client.meta.endpoint_url
    meta_table = f"meta-{uuid.uuid4().hex[:8]}"
    mrp_config = tmp_path / "mrp.json"
    mrp_config.write_text(
        json.dumps(
            {
                "provider": "most-recent",
                "meta_table": meta_table,
                "material_name": "payments",
                "ttl_seconds": 0,
                "dynamodb_endpoint_url": endpoint,
                "region": "us-east-1",
                "meta_provider": json.loads(wrapped_config.read_text()),
            }
        )
    )
    # The most-recent config also drives metastore: table and material come from it.
    code, _, err = _cli(
        capsys,
        "metastore",
        "create",
        "--provider-config",
        str(mrp_config),
        "--endpoint-url",
        endpoint,
    )
    assert code == 0, err
    # create made version 0 (the config names the material); rotate once.
    for _ in range(1):
        code, _, err = _cli(
            capsys,
            "metastore",
            "new-version",
            "--provider-config",
            str(mrp_config),
            "--endpoint-url",
            endpoint,
        )
        assert code == 0, err
    table = make_table(range_key=True)
    _put(dynamodb_client, table, mrp_config, ITEM, ACTIONS)
    code, out, err = _cli(
        capsys,
        "inspect",
        "--table",
        table,
        "--key",
        "pk=customer-9",
        "--sort",
        "sk=3",
        "--endpoint-url",
        endpoint,
        "--provider-config",
        str(mrp_config),
        "--json",
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["provider"]["kind"].startswith("most-recent")
    assert report["provider"]["material_name"] == "payments"
    assert report["provider"]["material_version"] == 1
    assert report["verification"].startswith("signature verified")


def test_inspect_errors_are_one_line(
    dynamodb_client: Any, make_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    table = make_table(range_key=True)
    endpoint = dynamodb_client.meta.endpoint_url
    base = ["inspect", "--table", table, "--endpoint-url", endpoint]
    code, _, err = _cli(capsys, *base, "--key", "pk=missing", "--sort", "sk=1")
    assert (code, "no item") == (1, err[err.index("no item") :][:7])
    code, _, err = _cli(capsys, *base, "--key", "nope=1", "--sort", "sk=1")
    assert code == 1
    assert "not a key of the table" in err
    code, _, err = _cli(capsys, *base, "--key", "pk=x")
    assert code == 1
    assert "whole primary key" in err
    code, _, err = _cli(
        capsys, "inspect", "--table", "no-such-table", "--key", "pk=1", "--endpoint-url", endpoint
    )
    assert code == 1
    assert "ResourceNotFoundException" in err
