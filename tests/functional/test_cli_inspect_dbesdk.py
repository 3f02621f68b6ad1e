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
