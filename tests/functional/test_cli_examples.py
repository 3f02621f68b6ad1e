"""The examples quoted by the concepts, how-to and CLI pages run as written."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_cli_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["attribute_actions", "java_interop"])
def test_offline_examples(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    _load(name).main()
    assert f"{name}: ok" in capsys.readouterr().out


def test_providers_example(kms_endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    _load("providers").main(kms_endpoint)
    assert "providers: ok" in capsys.readouterr().out


def test_demo_model_example(ddb_endpoint: str) -> None:
    """The README's model, against both DynamoDB backends (a subprocess: it sets Meta.host)."""
    env = dict(os.environ, DDB_ENDPOINT=ddb_endpoint)
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo_model.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "demo_model: ok" in result.stdout


def test_demo_model_example_runs_alone_on_the_embedded_server() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DDB_ENDPOINT"}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo_model.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
