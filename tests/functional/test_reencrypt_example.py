"""examples/reencrypt.py runs end to end against the local servers (both DynamoDB backends)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "reencrypt.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_reencrypt", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_recipe_rewrites_every_item_once(ddb_endpoint: str, kms_endpoint: str) -> None:
    example = _load()
    results = example.main(ddb_endpoint, kms_endpoint)
    items = example.ITEMS
    assert results == {
        name: (items, items)
        for name in (
            "static",
            "wrapped",
            "most-recent",
            "kms",
            "reference",
            "encrypt-attribute",
            "adopt",
            "options",
        )
    }
