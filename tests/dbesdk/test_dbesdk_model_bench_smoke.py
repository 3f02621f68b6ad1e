"""The DB-ESDK model benchmark stays runnable: a tiny run against the test session's server
prints every row with its ratio (no timing asserted: performance is a benchmark, not a test)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_dbesdk_model.py"


def test_tiny_run_prints_every_row(ddb_endpoint: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--endpoint-url",
            ddb_endpoint,
            "--number",
            "1",
            "--rounds",
            "1",
            "--warmup",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "PynamoDB" in line or "DB-ESDK" in line]
    assert len(rows) == 12  # (plain + 2 suites) x (save, get, serialize, from_raw_data)
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert re.fullmatch(r"\d+\.\d\dx", cells[3]), row
