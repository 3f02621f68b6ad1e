"""benchmarks/bench_scale.py stays runnable: a tiny run prints its tables (no timing asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_bench_scale_prints_every_row(ddb_backend: str, ddb_endpoint: str) -> None:
    if ddb_backend != "ddblocal":
        pytest.skip("run against DynamoDB Local only")
    command = [
        sys.executable, str(ROOT / "benchmarks" / "bench_scale.py"),
        "--endpoint-url", ddb_endpoint,
        "--items", "30", "--repeat", "1", "--processes", "1", "--no-spark",
    ]  # fmt: skip
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for label in (
        "plain copy",
        "job, put",
        "job, transact",
        "job, transact, no botocore validation",
        "1 process(es)",
    ):
        row = next((line for line in result.stdout.splitlines() if f"| {label} |" in line), None)
        assert row is not None, label
        assert re.search(r"\d\.\d\dx", row), row
