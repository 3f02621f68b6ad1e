"""The model examples run against the local servers (both DynamoDB backends): the Django-style
app in ``examples/app`` and the static / wrapped provider examples."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import uuid
from collections.abc import Iterator
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


@pytest.fixture
def app_demo() -> Iterator[ModuleType]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield importlib.import_module("app.demo")
    finally:
        sys.path.remove(str(EXAMPLES))


def test_app_services(app_demo: ModuleType, ddb_endpoint: str) -> None:
    seen = app_demo.main(ddb_endpoint, table=f"clinic-{uuid.uuid4().hex}")
    assert seen["name"] == "Ada"
    assert seen["visits"] == 1
    assert seen["status"] == "discharged"
    assert seen["admitted"] == ["p2"]
    assert seen["east"] == ["Ada"]
    assert "078-05-1120" not in seen["repr"]
    assert "ssn=<encrypted>" in seen["repr"]


def test_app_refuses_unconfigured_keys(app_demo: ModuleType) -> None:
    from pynamodb_encryption import ConfigurationError

    keys = importlib.import_module("app.keys")
    models = importlib.import_module("app.models")
    saved = keys._provider
    keys._provider = None
    models.Patient.reset_materials_provider()
    try:
        with pytest.raises(ConfigurationError, match="not configured"):
            models.Patient("c", "p", name="n", ssn="s", ward="w").serialize()
    finally:
        keys._provider = saved
        models.Patient.reset_materials_provider()


def test_provider_static_example(ddb_endpoint: str) -> None:
    seen = _load("provider_static").main(ddb_endpoint, table=f"inv-{uuid.uuid4().hex}")
    assert seen == {
        "iban": "DE89 3704 0044 0532 0130 00",
        "amount": 120,
        "stored_iban_type": "B",
        "signed": True,
    }


def test_provider_wrapped_example(ddb_endpoint: str) -> None:
    seen = _load("provider_wrapped").main(ddb_endpoint, table=f"docs-{uuid.uuid4().hex}")
    assert seen == {
        "bodies": {"old": "written under KEK v1", "new": "written under KEK v2"},
        "keys_used_for_reads": ["1", "2"],
    }


def test_adoption_example(app_demo: ModuleType, ddb_endpoint: str) -> None:
    adoption = importlib.import_module("app.adoption")
    seen = adoption.main(ddb_endpoint, table=f"adopt-{uuid.uuid4().hex}")
    assert seen == {
        "step1_old_email": "user0@example.com",
        "rewritten": 5,
        "emails": sorted([f"user{i}@example.com" for i in range(5)] + ["new@example.com"]),
        "stray_plaintext_refused": True,
    }


def test_operations_example(app_demo: ModuleType, ddb_endpoint: str) -> None:
    demo = app_demo
    operations = importlib.import_module("app.operations")
    services = importlib.import_module("app.services")
    seen: dict[str, object] = {}

    def scenario() -> None:
        people = [(f"b{i}", f"Name {i}", f"000-00-000{i}") for i in range(3)]
        loaded = operations.admit_many("c2", people)
        seen["batch"] = sorted(p.name for p in loaded)
        first = services.find("c2", "b0")
        moved = operations.transfer(first, "icu")
        seen["ward"] = moved.ward
        old = operations.old_values_on_conflict(moved)
        seen["old_ssn"] = old.ssn if old is not None else None
        seen["refused"] = operations.refused_operations(moved)

    demo.main(ddb_endpoint, table=f"clinic-{uuid.uuid4().hex}", extra=scenario)
    assert seen == {
        "batch": ["Name 0", "Name 1", "Name 2"],
        "ward": "icu",
        "old_ssn": "000-00-0000",
        "refused": ["filter on encrypted", "projection", "transactional update"],
    }
