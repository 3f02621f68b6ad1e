"""examples/dbesdk_keyrings.py runs against the local servers (both DynamoDB backends)."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dbesdk_keyrings.py"


def test_dbesdk_keyrings_example(ddb_endpoint: str, kms_endpoint: str) -> None:
    spec = importlib.util.spec_from_file_location("example_dbesdk_keyrings", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    suffix = uuid.uuid4().hex
    results = module.main(
        ddb_endpoint, kms_endpoint, table=f"orders-{suffix}", store_table=f"keys-{suffix}"
    )
    assert results == {
        # Two KMS Decrypts serve all ten writes and the read: the active branch key (cached
        # for writes) and the same version looked up by the read (cached per version).
        "kms calls for 10 items": 2,
        "rotated to the new version": True,
        "items readable after rotation": 11,
        "multi-keyring readers": ["kms", "rsa"],
        "mpl keyring": True,
    }
