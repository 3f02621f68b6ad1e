"""The DB-ESDK benchmark stays runnable: a tiny run prints every row with its ratio.

No timing is asserted (performance is measured by ``benchmarks/bench_dbesdk.py``, not
tested); this catches a benchmark that no longer runs or whose floor no longer decrypts the
real item (the script asserts that before timing).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_dbesdk.py"


def test_tiny_run_prints_every_row() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--number", "1", "--rounds", "1", "--warmup", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [
        line
        for line in result.stdout.splitlines()
        if line.startswith(("| representative item", "| 300 KiB item"))
    ]
    assert len(rows) == 16  # 2 items x 2 suites x 2 keyrings x encrypt/decrypt
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert re.fullmatch(r"\d+\.\d\dx", cells[3]), row
    # The legacy format runs beside the raw AES rows.
    assert sum(1 for row in rows if row.rstrip(" |").endswith(tuple("0123456789"))) == 8
