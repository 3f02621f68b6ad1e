"""The Django and Flask settings examples run against the local servers, with the real
frameworks."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "frameworks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_django_settings_example(ddb_endpoint: str) -> None:
    from django.conf import settings
    from django.test import override_settings

    example = _load("django_settings")
    table = f"orders-{uuid.uuid4().hex}"
    if settings.configured:  # by another test of this session: give it the example's setting
        with override_settings(PYNAMODB_ENCRYPTION_PROVIDERS=example.PYNAMODB_ENCRYPTION_PROVIDERS):
            result = example.main(ddb_endpoint, table=table)
    else:
        result = example.main(ddb_endpoint, table=table)
    assert result == {"card_number": "4111-1111-1111-1111", "status": "paid"}


def test_flask_config_example(ddb_endpoint: str) -> None:
    example = _load("flask_config")
    result = example.main(ddb_endpoint, table=f"notes-{uuid.uuid4().hex}")
    assert result == {"stored": {"stored": "n-1"}, "shown": {"body": "remember-the-milk"}}
