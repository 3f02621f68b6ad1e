"""``pynamodb-encryption inspect`` on a DB-ESDK item: the header without keys, then verified and
decrypted with a keyring config file (issue 11)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pynamodb_encryption.cli import main
from pynamodb_encryption.dbesdk import CryptoAction, DbEsdkItemEncryptor, RawAesKeyring


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_inspect_dbesdk_item(
    dynamodb_client: Any,
    make_table: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PYNAMODB_ENCRYPTION_PROVIDER_CONFIG", raising=False)
    table = make_table()
    key = os.urandom(32)
    (tmp_path / "aes.key").write_bytes(key)
    (tmp_path / "aes.key").chmod(0o600)
    config = tmp_path / "keyring.json"
    config.write_text(
        json.dumps(
            {
                "keyring": "raw-aes",
                "key_namespace": "app",
                "key_name": "k1",
                "wrapping_key": {"file": "aes.key"},
                "allowed_unsigned_attributes": ["note"],
            }
        )
    )
    encryptor = DbEsdkItemEncryptor(
        table_name=table,
        partition_key_name="pk",
        attribute_actions={
            "pk": CryptoAction.SIGN_ONLY,
            "card": CryptoAction.ENCRYPT_AND_SIGN,
            "tier": CryptoAction.SIGN_ONLY,
            "note": CryptoAction.DO_NOTHING,
        },
        allowed_unsigned_attributes=["note"],
        keyring=RawAesKeyring(key_namespace="app", key_name="k1", wrapping_key=key),
    )
    item = {
        "pk": {"S": "o-1"},
        "card": {"S": "4111-1111-1111-1111"},
        "tier": {"S": "gold"},
        "note": {"S": "hi"},
    }
    dynamodb_client.put_item(TableName=table, Item=encryptor.encrypt(item))
    base = ["inspect", "--table", table, "--key", "pk=o-1"]
    base += ["--endpoint-url", dynamodb_client.meta.endpoint_url]

    code, out, err = _cli(capsys, *base)
    assert code == 0, err
    assert "Database Encryption SDK" in out
    assert "4111" not in out

    code, out, err = _cli(capsys, *base, "--provider-config", str(config), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["verification"].startswith("commitment, footer and signature verified")
    attributes = {a["name"]: a for a in report["attributes"]}
    assert attributes["card"]["protection"] == "encrypted + signed"
    assert attributes["tier"]["protection"] == "signed"
    assert attributes["note"]["protection"] == "plain (not signed)"
    assert "4111" not in out  # masked without --show-values

    # A signed attribute changed behind the library's back: exit 1.
    dynamodb_client.update_item(
        TableName=table,
        Key={"pk": {"S": "o-1"}},
        UpdateExpression="SET tier = :v",
        ExpressionAttributeValues={":v": {"S": "platinum"}},
    )
    code, out, err = _cli(capsys, *base, "--provider-config", str(config))
    assert code == 1
    assert "FAILED" in out


def test_reencrypt_cli_legacy_to_dbesdk(
    dynamodb_client: Any,
    make_table: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pynamodb_encryption.core import AttributeActions, ItemEncryptor
    from pynamodb_encryption.maintenance import provider_from_config

    monkeypatch.delenv("PYNAMODB_ENCRYPTION_PROVIDER_CONFIG", raising=False)
    table = make_table()
    assert main(["keygen", "aes", "--out", str(tmp_path / "wrap.key")]) == 0
    assert main(["keygen", "hmac", "--out", str(tmp_path / "sign.key")]) == 0
    capsys.readouterr()
    legacy = tmp_path / "legacy.json"
    legacy.write_text(
        json.dumps(
            {
                "provider": "wrapped",
                "wrapping_key": {"file": "wrap.key", "algorithm": "AES"},
                "signing_key": {"file": "sign.key", "algorithm": "HmacSHA256"},
            }
        )
    )
    (tmp_path / "kr.key").write_bytes(os.urandom(32))
    (tmp_path / "kr.key").chmod(0o600)
    keyring = tmp_path / "keyring.json"
    keyring.write_text(
        json.dumps(
            {
                "keyring": "raw-aes",
                "key_namespace": "app",
                "key_name": "k1",
                "wrapping_key": {"file": "kr.key"},
            }
        )
    )
    encryptor = ItemEncryptor(
        table_name=table,
        partition_key_name="pk",
        attribute_actions=AttributeActions(
            CryptoAction.DO_NOTHING,
            {"card": CryptoAction.ENCRYPT_AND_SIGN, "tier": CryptoAction.SIGN_ONLY},
        ),
        materials_provider=provider_from_config(str(legacy)),
    )
    for n in range(3):
        item = {"pk": {"S": f"o-{n}"}, "card": {"S": "4111"}, "tier": {"S": "gold"}}
        dynamodb_client.put_item(TableName=table, Item=encryptor.encrypt(item))
    argv = [
        "reencrypt",
        "--table",
        table,
        "--old-provider-config",
        str(legacy),
        "--old-encrypt",
        "card",
        "--old-sign",
        "tier",
        "--old-default-action",
        "nothing",
        "--new-provider-config",
        str(keyring),
        "--new-encrypt",
        "card",
        "--new-sign",
        "tier",
        "--endpoint-url",
        dynamodb_client.meta.endpoint_url,
        "--json",
    ]
    code, out, err = _cli(capsys, *argv)
    assert code == 0, err
    assert json.loads(out)["reencrypted"] == 3
    code, out, err = _cli(capsys, *argv)
    assert code == 0, err
    assert json.loads(out)["already_current"] == 3
    items = dynamodb_client.scan(TableName=table)["Items"]
    assert all("aws_dbe_head" in i and "*amzn-ddb-map-sig*" not in i for i in items)
    base = ["inspect", "--table", table, "--key", "pk=o-1"]
    base += ["--endpoint-url", dynamodb_client.meta.endpoint_url, "--provider-config", str(keyring)]
    code, out, err = _cli(capsys, *base, "--json")
    assert code == 0, err
    assert json.loads(out)["verification"].startswith("commitment")
