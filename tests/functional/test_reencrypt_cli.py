"""``pynamodb-encryption reencrypt`` as a process: report, exit codes, and ``kill -9`` resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_reencrypt import (
    canonical,
    encryptor,
    key_of,
    plaintext_item,
    put_all,
    scan_all,
)

from pynamodb_encryption import (
    PynamoDBEncryptionError,
    StaticMaterialsProvider,
    SymmetricKey,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def write_static_config(folder: Path, name: str) -> tuple[Path, StaticMaterialsProvider]:
    """Key files plus a provider config referencing them; returns the config and provider."""
    aes, hmac = os.urandom(32), os.urandom(32)
    for suffix, key in (("aes", aes), ("hmac", hmac)):
        (folder / f"{name}-{suffix}.key").write_bytes(key)
        (folder / f"{name}-{suffix}.key").chmod(0o600)  # the CLI refuses looser key files
    config = folder / f"{name}.json"
    config.write_text(
        json.dumps(
            {
                "provider": "static",
                "encryption_key": {"file": f"{name}-aes.key", "algorithm": "AES"},
                "signing_key": {"file": f"{name}-hmac.key", "algorithm": "HmacSHA256"},
            }
        )
    )
    provider = StaticMaterialsProvider(
        encryption_key=SymmetricKey(aes, "AES"), signing_key=SymmetricKey(hmac, "HmacSHA256")
    )
    return config, provider


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pynamodb_encryption", "reencrypt", *args]


def run_cli(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli(*args), capture_output=True, text=True, timeout=300, check=False, cwd=cwd
    )


def readable_with(reader: Any, item: dict[str, Any]) -> bool:
    try:
        reader.decrypt(item)
    except PynamoDBEncryptionError:
        return False
    return True


def test_kill_9_in_the_middle_then_resume_loses_nothing(
    dynamodb_client: Any, ddb_endpoint: str, make_table: Any, tmp_path: Path
) -> None:
    table = make_table(range_key=True)
    old_config, old = write_static_config(tmp_path, "old")
    new_config, new = write_static_config(tmp_path, "new")
    count = 300
    plain = {key_of(i): i for i in (plaintext_item(n) for n in range(count))}
    put_all(dynamodb_client, table, [encryptor(table, old).encrypt(i) for i in plain.values()])
    checkpoint = tmp_path / "job.ckpt"
    common = [
        "--table", table,
        "--old-provider-config", str(old_config),
        "--new-provider-config", str(new_config),
        "--checkpoint", str(checkpoint),
        "--page-size", "20",
        "--segments", "2",
        "--endpoint-url", ddb_endpoint,
        "--json",
        "--no-progress",
    ]  # fmt: skip

    # Slow enough (rate cap) that the kill lands mid-run, after a few pages are recorded.
    process = subprocess.Popen(
        cli(*common, "--max-items-per-second", "60"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO_ROOT,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if checkpoint.exists():
                state = json.loads(checkpoint.read_text())
                if sum(s["pages"] for s in state["segments"]) >= 3:
                    break
            assert process.poll() is None, "the job ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("no checkpoint progress within 120 s")
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    state = json.loads(checkpoint.read_text())
    recorded = sum(s["items"] for s in state["segments"])
    stored = scan_all(dynamodb_client, table)
    new_reader, old_reader = encryptor(table, new), encryptor(table, old)
    already_new = sum(readable_with(new_reader, item) for item in stored)
    # Killed mid-run: part of the table is rewritten, the rest still under the old keys, and
    # every item reads with exactly one of them (nothing half-written).
    assert 0 < already_new < count
    assert all(readable_with(new_reader, i) != readable_with(old_reader, i) for i in stored)
    assert recorded <= already_new

    resumed = run_cli(*common)
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["resumed"] is True
    assert report["failed"] == 0
    assert report["scanned"] == count - recorded
    # Nothing done twice: items rewritten before the kill but not yet recorded are seen as
    # current; every other item is rewritten exactly once.
    assert report["reencrypted"] == count - already_new
    assert report["already_current"] == already_new - recorded
    assert not checkpoint.exists()
    final = scan_all(dynamodb_client, table)
    assert len(final) == count
    for item in final:
        assert canonical(new_reader.decrypt(item)) == canonical(plain[key_of(item)])


def test_text_report_dry_run_and_exit_codes(
    dynamodb_client: Any, ddb_endpoint: str, make_table: Any, tmp_path: Path
) -> None:
    table = make_table(range_key=True)
    old_config, old = write_static_config(tmp_path, "old")
    new_config, _ = write_static_config(tmp_path, "new")
    items = [plaintext_item(n) for n in range(12)]
    put_all(dynamodb_client, table, [encryptor(table, old).encrypt(i) for i in items[:10]])
    put_all(dynamodb_client, table, items[10:])  # two plaintext items: rejected by default
    common = [
        "--table", table,
        "--old-provider-config", str(old_config),
        "--new-provider-config", str(new_config),
        "--endpoint-url", ddb_endpoint,
    ]  # fmt: skip

    before = sorted(map(repr, scan_all(dynamodb_client, table)))
    dry = run_cli(*common, "--dry-run")
    assert dry.returncode == 1  # two items would fail
    assert "would re-encrypt" in dry.stdout
    assert "PlaintextItemError" in dry.stdout
    assert "pk=p3 sk=10" in dry.stdout
    assert sorted(map(repr, scan_all(dynamodb_client, table))) == before

    real = run_cli(*common, "--plaintext", "adopt", "--json")
    assert real.returncode == 0, real.stderr
    report = json.loads(real.stdout)
    assert (report["reencrypted"], report["failed"]) == (12, 0)
    assert "secret number" not in real.stdout + real.stderr

    again = run_cli(*common, "--plaintext", "adopt")
    assert again.returncode == 0
    assert "already current" in again.stdout

    bad = run_cli("--table", table, "--new-provider-config", str(tmp_path / "missing.json"),
                  "--endpoint-url", ddb_endpoint)  # fmt: skip
    assert bad.returncode == 1
    assert "--new-provider-config" in bad.stderr


def test_static_rotation_through_a_key_rotation_config(
    dynamodb_client: Any, ddb_endpoint: str, make_table: Any, tmp_path: Path
) -> None:
    """The CLI recipe of docs/how-to/rotate-keys.md: one key-rotation config as old and new."""
    from pynamodb_encryption.core import MATERIAL_DESCRIPTION_ATTRIBUTE
    from pynamodb_encryption.core._md import decode_material_description
    from pynamodb_encryption.maintenance import provider_from_config

    table = make_table(range_key=True)
    old_config, old = write_static_config(tmp_path, "old")
    new_config, new = write_static_config(tmp_path, "new")
    rotation = tmp_path / "rotation.json"
    rotation.write_text(
        json.dumps(
            {
                "provider": "key-rotation",
                "current_id": "2",
                "current": json.loads(new_config.read_text()),
                "untagged": json.loads(old_config.read_text()),
            }
        )
    )
    items = {key_of(i): i for i in (plaintext_item(n) for n in range(25))}
    put_all(dynamodb_client, table, [encryptor(table, old).encrypt(i) for i in items.values()])
    # The application, already on the rotation provider, writes one item during the change.
    app = encryptor(table, provider_from_config(rotation))
    extra = plaintext_item(99)
    dynamodb_client.put_item(TableName=table, Item=app.encrypt(extra))
    items[key_of(extra)] = extra

    result = run_cli(
        "--table", table,
        "--old-provider-config", str(rotation),
        "--new-provider-config", str(rotation),
        "--endpoint-url", ddb_endpoint,
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["reencrypted"], report["already_current"]) == (25, 1)
    for item in scan_all(dynamodb_client, table):
        description = decode_material_description(item[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"])
        assert description["key-id"] == "2"
        # Readable with the new keys alone: the old key can now be retired.
        assert canonical(encryptor(table, new).decrypt(item)) == canonical(items[key_of(item)])


MODEL_MODULE = """
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute


class Order(EncryptedModel):
    class Meta:
        table_name = {table!r}

    pk = UnicodeAttribute(hash_key=True)
    sk = NumberAttribute(range_key=True)
    secret = EncryptedAttribute(UnicodeAttribute())
    amount = SignedAttribute(NumberAttribute())
"""


def test_model_mode_takes_table_keys_and_actions_from_the_model(
    dynamodb_client: Any, ddb_endpoint: str, make_table: Any, tmp_path: Path
) -> None:
    from pynamodb_encryption import AttributeActions, CryptoAction

    table = make_table(range_key=True)
    (tmp_path / "shop_models.py").write_text(MODEL_MODULE.format(table=table))
    old_config, old = write_static_config(tmp_path, "old")
    new_config, new = write_static_config(tmp_path, "new")
    items = [
        {"pk": {"S": f"p{n}"}, "sk": {"N": str(n)}, "secret": {"S": f"s{n}"},
         "amount": {"N": str(n)}, "notes": {"S": "free text"}}
        for n in range(8)
    ]  # fmt: skip
    put_all(dynamodb_client, table, [encryptor(table, old).encrypt(i) for i in items])

    result = run_cli(
        "--model", "shop_models:Order",
        "--old-provider-config", str(old_config),
        "--old-default-action", "encrypt",
        "--new-provider-config", str(new_config),
        "--endpoint-url", ddb_endpoint,
        "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reencrypted"] == 8
    model_actions = AttributeActions(
        CryptoAction.DO_NOTHING,
        {
            "secret": CryptoAction.ENCRYPT_AND_SIGN,
            "amount": CryptoAction.SIGN_ONLY,
            "pk": CryptoAction.SIGN_ONLY,  # a model always signs its keys
            "sk": CryptoAction.SIGN_ONLY,
        },
    )
    reader = encryptor(table, new, model_actions)
    by_key = {key_of(i): i for i in items}
    for stored in scan_all(dynamodb_client, table):
        assert "B" in stored["secret"]
        assert stored["notes"] == {"S": "free text"}  # unmodelled: left in the clear
        assert canonical(reader.decrypt(stored)) == canonical(by_key[key_of(stored)])

    bad = run_cli("--model", "shop_models:Nope", "--endpoint-url", ddb_endpoint, cwd=tmp_path)
    assert bad.returncode == 1
    assert "no class" in bad.stderr
