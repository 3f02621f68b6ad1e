"""The provider examples run against the local servers (both DynamoDB backends)."""

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


def test_provider_kms_example(ddb_endpoint: str, kms_endpoint: str) -> None:
    example = _load("provider_kms")
    calls = example.main(ddb_endpoint, kms_endpoint, table=f"customers-{uuid.uuid4().hex}")
    # 10 items read 5 times: one KMS Decrypt per read without the cache, per item with it.
    assert calls == {"without cache": 50, "with cache": 10}


def test_provider_most_recent_example(ddb_endpoint: str, kms_endpoint: str) -> None:
    example = _load("provider_most_recent")
    written = example.main(ddb_endpoint, kms_endpoint, meta_table=f"meta-{uuid.uuid4().hex}")
    assert written == ["orders#0", "orders#1"]
