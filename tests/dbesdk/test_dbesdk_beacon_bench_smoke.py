"""The beacon benchmark stays runnable: a small run on the session's DynamoDB Local checks
that every query returns exactly the matching items (the script raises otherwise)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_beacons.py"


def test_small_run(ddb_endpoint: str, ddb_backend: str, capsys: Any) -> None:
    if ddb_backend != "ddblocal":
        pytest.skip("measured on DynamoDB Local")
    spec = importlib.util.spec_from_file_location("bench_beacons", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    argv = ["--items", "300", "--zips", "30", "--queries", "5", "--endpoint-url", ddb_endpoint]
    argv.append("--model")
    assert module.main(argv) == 0
    out = capsys.readouterr().out
    assert "| ssn | 300 |" in out
    assert "| zip | 30 |" in out
    assert "| model ssn | 300 |" in out
    assert "| model zip | 30 |" in out
    assert "Every query returned exactly the matching items." in out
