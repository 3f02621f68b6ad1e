"""examples/dbesdk_model.py and examples/dbesdk_branch_key_model.py run against the local
servers."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_dbesdk_model_example(ddb_endpoint: str) -> None:
    results = _load("dbesdk_model").main(ddb_endpoint, table=f"patients-{uuid.uuid4().hex}")
    assert results == {
        "status": "discharged",
        "visits": 1,
        "version": 3,
        "format": ["aws_dbe_foot", "aws_dbe_head"],
        "ssn stored encrypted": True,
    }


def test_dbesdk_branch_key_model_example(ddb_endpoint: str, kms_endpoint: str) -> None:
    suffix = uuid.uuid4().hex
    results = _load("dbesdk_branch_key_model").main(
        ddb_endpoint, kms_endpoint, table=f"orders-{suffix}", store_table=f"keys-{suffix}"
    )
    assert results["cards"] == [f"4111-{n}" for n in range(5)]
    assert results["state"] == "shipped"
    # Two KMS Decrypts for five writes, five reads and an update: the active branch key
    # (cached for writes) and the same version looked up by reads (cached per version).
    assert results["kms calls"] == 2


def test_dbesdk_boto3_example(ddb_endpoint: str) -> None:
    results = _load("dbesdk_boto3").main(ddb_endpoint, table=f"app-items-{uuid.uuid4().hex}")
    assert results == {"round trip": True, "attribute1 stored as": ["B"], "header": True}


def test_dbesdk_migration_example(ddb_endpoint: str) -> None:
    results = _load("dbesdk_migration").main(ddb_endpoint, table=f"accounts-{uuid.uuid4().hex}")
    assert results == {
        "after stage 1": {"legacy": 7},
        "after stage 2 writes": {"legacy": 6, "dbesdk": 2},
        "job": {"reencrypted": 6, "already_current": 2, "failed": 0},
        "after the job": {"dbesdk": 8},
        "second run rewrites": 0,
        "stage 3 reads": [f"DE00 {n}" for n in range(8)],
    }
