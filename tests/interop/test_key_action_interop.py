"""``Meta.key_action = CryptoAction.DO_NOTHING``: models read and write the reference library's
layout where key attributes are unsigned (its ``DO_NOTHING`` default), both directions, and
the documented command (``examples/cli/sign-keys.sh``, quoted by docs/migration.md) moves such
a table to signed keys on a real server."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from pynamodb_encryption import (
    SIGNATURE_ATTRIBUTE,
    ConfigurationError,
    CryptoAction,
    SignatureVerificationError,
    StaticMaterialsProvider,
    SymmetricKey,
    provider_from_config,
)
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

pytest.importorskip("dynamodb_encryption_sdk")
from dynamodb_encryption_sdk.delegated_keys.jce import JceNameLocalDelegatedKey
from dynamodb_encryption_sdk.encrypted.table import EncryptedTable
from dynamodb_encryption_sdk.exceptions import SignatureVerificationError as RefSignatureError
from dynamodb_encryption_sdk.identifiers import CryptoAction as RefAction
from dynamodb_encryption_sdk.identifiers import EncryptionKeyType, KeyEncodingType
from dynamodb_encryption_sdk.material_providers.static import (
    StaticCryptographicMaterialsProvider,
)
from dynamodb_encryption_sdk.materials.raw import RawDecryptionMaterials, RawEncryptionMaterials
from dynamodb_encryption_sdk.structures import AttributeActions as RefActions

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "examples" / "cli" / "sign-keys.sh"
EXAMPLE = REPO_ROOT / "examples" / "unsigned_keys.py"
AES = bytes(range(32))
HMAC = bytes(range(32, 64))


def _jce(key: bytes, algorithm: str) -> Any:
    return JceNameLocalDelegatedKey(
        key=key,
        algorithm=algorithm,
        key_type=EncryptionKeyType.SYMMETRIC,
        key_encoding=KeyEncodingType.RAW,
    )


def ours() -> StaticMaterialsProvider:
    return StaticMaterialsProvider(
        encryption_key=SymmetricKey(AES, "AES"), signing_key=SymmetricKey(HMAC, "HmacSHA256")
    )


def theirs() -> StaticCryptographicMaterialsProvider:
    return StaticCryptographicMaterialsProvider(
        encryption_materials=RawEncryptionMaterials(
            signing_key=_jce(HMAC, "HmacSHA256"), encryption_key=_jce(AES, "AES")
        ),
        decryption_materials=RawDecryptionMaterials(
            verification_key=_jce(HMAC, "HmacSHA256"), decryption_key=_jce(AES, "AES")
        ),
    )


#: The reference's configuration: a DO_NOTHING default leaves the keys unsigned.
REFERENCE_ACTIONS = {"secret": RefAction.ENCRYPT_AND_SIGN, "amount": RefAction.SIGN_ONLY}


def build_model(table: str, host: str, key_action: CryptoAction | None) -> Any:
    meta: dict[str, Any] = {"table_name": table, "host": host, "materials_provider": ours}
    if key_action is not None:
        meta["key_action"] = key_action
    return type(
        "Order",
        (EncryptedModel,),
        {
            "Meta": type("Meta", (), meta),
            "pk": UnicodeAttribute(hash_key=True),
            "sk": NumberAttribute(range_key=True),
            "secret": EncryptedAttribute(UnicodeAttribute()),
            "amount": SignedAttribute(NumberAttribute()),
        },
    )


@pytest.fixture
def orders(ddb_endpoint: str, make_table: Any) -> tuple[str, Any, Any]:
    """(table name, the raw boto3 Table, the reference's EncryptedTable on it)."""
    import boto3

    name = make_table(range_key=True)
    resource = boto3.resource("dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1")
    table = resource.Table(name)
    encrypted = EncryptedTable(
        table=table,
        materials_provider=theirs(),
        attribute_actions=RefActions(
            default_action=RefAction.DO_NOTHING, attribute_actions=dict(REFERENCE_ACTIONS)
        ),
    )
    return name, table, encrypted


def _reference_put(encrypted: Any, n: int) -> None:
    encrypted.put_item(
        Item={"pk": f"o{n}", "sk": Decimal(n), "secret": f"secret {n}", "amount": Decimal(n)}
    )


def _example_order(table: str, host: str, folder: Path) -> Any:
    """The documented model (examples/unsigned_keys.py), pointed at ``table``."""
    spec = importlib.util.spec_from_file_location("example_unsigned_keys", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    order = module.Order
    order.Meta.table_name, order.Meta.host = table, host
    config = folder / "keys.json"
    order.Meta.materials_provider = lambda: provider_from_config(config)
    return order


def test_model_with_unsigned_keys_reads_what_the_reference_wrote(
    orders: tuple[str, Any, Any], ddb_endpoint: str, tmp_path: Path
) -> None:
    name, _, encrypted = orders
    _reference_put(encrypted, 1)
    _write_keys_config(tmp_path)
    unsigned_keys = _example_order(name, ddb_endpoint, tmp_path)
    loaded = unsigned_keys.get("o1", 1, consistent_read=True)
    assert (loaded.secret, loaded.amount) == ("secret 1", 1)
    assert unsigned_keys.get_attribute_actions().action("pk") is CryptoAction.DO_NOTHING
    assert (
        unsigned_keys.get_attribute_actions()
        == build_model(name, ddb_endpoint, CryptoAction.DO_NOTHING).get_attribute_actions()
    )
    # The default (keys signed) refuses the very same item, and says what to look at.
    with pytest.raises(SignatureVerificationError, match="attribute actions"):
        build_model(name, ddb_endpoint, None).get("o1", 1, consistent_read=True)


def test_reference_reads_what_a_model_with_unsigned_keys_wrote(
    orders: tuple[str, Any, Any], ddb_endpoint: str
) -> None:
    name, table, encrypted = orders
    unsigned_keys = build_model(name, ddb_endpoint, CryptoAction.DO_NOTHING)
    unsigned_keys("o2", 2, secret="from the model", amount=7).save()
    item = encrypted.get_item(Key={"pk": "o2", "sk": 2}, ConsistentRead=True)["Item"]
    assert (item["secret"], item["amount"]) == ("from the model", Decimal(7))
    # ...whereas a model item with signed keys does not verify under the reference's layout.
    build_model(name, ddb_endpoint, None)("o3", 3, secret="signed keys", amount=1).save()
    assert SIGNATURE_ATTRIBUTE in table.get_item(Key={"pk": "o3", "sk": 3})["Item"]
    with pytest.raises(RefSignatureError):
        encrypted.get_item(Key={"pk": "o3", "sk": 3}, ConsistentRead=True)


def test_unsigned_keys_let_an_item_move_to_another_key_undetected(
    orders: tuple[str, Any, Any], ddb_endpoint: str, dynamodb_client: Any
) -> None:
    """The weakness docs/migration.md warns about, shown rather than asserted in prose."""
    name, _, encrypted = orders
    _reference_put(encrypted, 4)
    raw = dynamodb_client.get_item(
        TableName=name, Key={"pk": {"S": "o4"}, "sk": {"N": "4"}}, ConsistentRead=True
    )["Item"]
    dynamodb_client.put_item(TableName=name, Item={**raw, "pk": {"S": "moved"}})
    moved = build_model(name, ddb_endpoint, CryptoAction.DO_NOTHING).get("moved", 4)
    assert moved.secret == "secret 4"  # accepted under another key
    # With signed keys (the default) the same copy is refused.
    signed = build_model(name, ddb_endpoint, None)
    signed("o5", 5, secret="s", amount=5).save()
    raw = dynamodb_client.get_item(
        TableName=name, Key={"pk": {"S": "o5"}, "sk": {"N": "5"}}, ConsistentRead=True
    )["Item"]
    dynamodb_client.put_item(TableName=name, Item={**raw, "pk": {"S": "moved5"}})
    with pytest.raises(SignatureVerificationError):
        signed.get("moved5", 5)


def test_key_action_is_checked_at_class_definition() -> None:
    for bad in (CryptoAction.ENCRYPT_AND_SIGN, 0, "DO_NOTHING"):
        with pytest.raises(ConfigurationError, match="key_action"):
            build_model("t", "http://127.0.0.1:9", bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# The documented move to signed keys, end to end


def _write_keys_config(folder: Path) -> None:
    (folder / "aes.key").write_bytes(AES)
    (folder / "hmac.key").write_bytes(HMAC)
    for key in ("aes.key", "hmac.key"):
        (folder / key).chmod(0o600)
    (folder / "keys.json").write_text(
        json.dumps(
            {
                "provider": "static",
                "encryption_key": {"file": "aes.key", "algorithm": "AES"},
                "signing_key": {"file": "hmac.key", "algorithm": "HmacSHA256"},
            }
        )
    )


def _run_script(script: Path, cwd: Path, endpoint: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ENDPOINT=endpoint)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        ["bash", str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_documented_command_moves_a_reference_table_to_signed_keys(
    orders: tuple[str, Any, Any], ddb_endpoint: str, tmp_path: Path
) -> None:
    name, _, encrypted = orders
    count = 20
    for n in range(count):
        _reference_put(encrypted, n)
    _write_keys_config(tmp_path)
    script = tmp_path / "sign-keys.sh"
    script.write_text(SCRIPT.read_text().replace("--table orders", f"--table {name}"))

    unsigned_keys = build_model(name, ddb_endpoint, CryptoAction.DO_NOTHING)
    signed_keys = build_model(name, ddb_endpoint, None)
    with pytest.raises(SignatureVerificationError):
        signed_keys.get("o0", 0, consistent_read=True)

    result = _run_script(script, tmp_path, ddb_endpoint)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "secret " not in result.stdout + result.stderr

    for n in range(count):
        # Signed keys now: the default model reads every item, and the model still on
        # key_action = DO_NOTHING keeps reading during the move (it accepts signed keys too).
        item = signed_keys.get(f"o{n}", n, consistent_read=True)
        assert (item.secret, item.amount) == (f"secret {n}", n)
        assert unsigned_keys.get(f"o{n}", n, consistent_read=True).secret == f"secret {n}"
    with pytest.raises(RefSignatureError):  # the reference needs pk, sk SIGN_ONLY from now on
        encrypted.get_item(Key={"pk": "o0", "sk": 0}, ConsistentRead=True)

    again = _run_script(script, tmp_path, ddb_endpoint)
    assert again.returncode == 0, again.stderr
    assert "already current" in again.stdout
