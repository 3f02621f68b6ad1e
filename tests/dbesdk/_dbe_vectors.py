"""Loading AWS's DB-ESDK vector files (tests/vectors/dbesdk) into our types."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pynamodb_encryption.dbesdk import (
    CryptoAction,
    DbeAlgorithmSuite,
    DbEsdkItemEncryptor,
    HierarchicalKeyring,
    StaticKeyStore,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "dbesdk"
TABLE = "GazelleVectorTable"
PARTITION_KEY = "RecNum"


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def static_key_store() -> StaticKeyStore:
    key = load("keys.json")["keys"]["static-branch-key-1"]
    return StaticKeyStore(
        branch_key_id=key["key-id"],
        branch_key_version=key["branchKeyVersion"],
        branch_key=base64.b64decode(key["branchKey"]),
        beacon_key=base64.b64decode(key["beaconKey"]),
    )


def branch_key_id() -> str:
    return str(load("keys.json")["keys"]["static-branch-key-1"]["key-id"])


def encryptor(config: dict[str, Any]) -> DbEsdkItemEncryptor:
    """The encryptor a vector's ``config`` describes (hierarchical keyring, static key)."""
    suite_name = config.get("algorithmSuiteId")
    return DbEsdkItemEncryptor(
        table_name=TABLE,
        partition_key_name=PARTITION_KEY,
        attribute_actions={
            name: CryptoAction[action]
            for name, action in config["attributeActionsOnEncrypt"].items()
        },
        keyring=HierarchicalKeyring(key_store=static_key_store(), branch_key_id=branch_key_id()),
        allowed_unsigned_attributes=config.get("allowedUnsignedAttributes", ()),
        allowed_unsigned_attribute_prefix=config.get("allowedUnsignedAttributePrefix"),
        **({"algorithm_suite": DbeAlgorithmSuite[suite_name]} if suite_name else {}),
    )


def stored_value(value: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB-JSON value of the vectors (binary as base64) with bytes for binary."""
    ((tag, inner),) = value.items()
    if tag == "B":
        return {"B": base64.b64decode(inner)}
    if tag == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if tag == "L":
        return {"L": [stored_value(v) for v in inner]}
    if tag == "M":
        return {"M": {k: stored_value(v) for k, v in inner.items()}}
    return dict(value)


def stored_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: stored_value(value) for name, value in item.items()}


def short_value(value: Any) -> dict[str, Any]:
    """The vectors' short plaintext form: JSON strings and numbers stand for S and N."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):  # pragma: no cover - the vectors spell BOOL out
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": str(value)}
    ((tag, inner),) = value.items()
    if tag == "L":
        return {"L": [short_value(v) for v in inner]}
    if tag == "M":
        return {"M": {k: short_value(v) for k, v in inner.items()}}
    if tag == "NS":
        return {"NS": [str(v) for v in inner]}
    return stored_value(value)


def comparable(value: dict[str, Any]) -> Any:
    """A value with numbers normalized and sets unordered, for comparing decrypted items."""
    ((tag, inner),) = value.items()
    if tag == "N":
        return ("N", Decimal(inner))
    if tag in ("SS", "BS"):
        return (tag, frozenset(inner))
    if tag == "NS":
        return (tag, frozenset(Decimal(v) for v in inner))
    if tag == "L":
        return ("L", tuple(comparable(v) for v in inner))
    if tag == "M":
        return ("M", frozenset((k, comparable(v)) for k, v in inner.items()))
    return (tag, inner)


def comparable_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: comparable(value) for name, value in item.items()}
