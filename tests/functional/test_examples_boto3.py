"""The boto3 migration example runs against the local servers (both DynamoDB backends)."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_boto3_migration_example(ddb_endpoint: str) -> None:
    pytest.importorskip("dynamodb_encryption_sdk")
    example = _load("boto3_migration")
    result = example.main(ddb_endpoint, table_name=f"orders-{uuid.uuid4().hex}")
    cards = {"4111-1111", "5500-0000"}
    # Both libraries read both items: the one written before the move and the one after.
    assert {item["card"] for item in result["read_by_new"]} == cards
    assert {item["card"] for item in result["read_by_old"]} == cards
    assert result["stored_card_type"] == "Binary"
    assert [line.split(":")[0] for line in result["refused"]] == ["scan", "update_item"]
