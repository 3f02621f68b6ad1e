"""The core benchmark stays runnable: a tiny run prints its table of ratios.

No timing is asserted (performance is measured by ``benchmarks/bench_core.py``, not tested);
this only catches a benchmark that no longer runs, whose cross-checks fail, or whose output
lost its ratios.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_core.py"

EXPECTED_ROWS = (
    "Wrapped (AESWrap + HMAC-SHA256): encrypt",
    "Wrapped (AESWrap + HMAC-SHA256): decrypt",
    "Wrapped (AESWrap + HMAC-SHA256): decrypt items written by the reference",
    "Wrapped (AESWrap + HMAC-SHA256): encrypt_item (function API)",
    "Wrapped (AESWrap + HMAC-SHA256): decrypt_item (function API)",
    "Wrapped (AESWrap + HMAC-SHA256): encrypt ~300 KiB item",
    "Wrapped (AESWrap + HMAC-SHA256): decrypt ~300 KiB item",
    "Static (AES-256 + HMAC-SHA256): encrypt",
    "Static (AES-256 + HMAC-SHA256): decrypt",
    "Static (AES-256 + SHA256withRSA 2048): encrypt",
    "Static (AES-256 + SHA256withRSA 2048): decrypt",
)
RATIO = r"\d+\.\d\dx"


@pytest.fixture(scope="module")
def output() -> str:
    pytest.importorskip("dynamodb_encryption_sdk")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--number", "2", "--rounds", "2", "--warmup", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_scenario_has_a_row_with_three_ratios(output: str) -> None:
    for label in EXPECTED_ROWS:
        row = next((line for line in output.splitlines() if f"| {label} " in line), None)
        assert row is not None, f"missing row {label!r}"
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        # operation, ours, reference, floor, ours/reference, speed-up, ours/floor
        assert len(cells) == 7, row
        for cell in cells[4:]:
            assert re.fullmatch(RATIO, cell), cell


def test_header_names_the_ratios_and_the_clock(output: str) -> None:
    assert "ours/reference" in output
    assert "ours/raw floor" in output
    assert "wall clock" in output


def test_cpu_clock_and_no_rsa_options(tmp_path: Path) -> None:
    pytest.importorskip("dynamodb_encryption_sdk")
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--number",
            "1",
            "--rounds",
            "1",
            "--warmup",
            "0",
            "--clock",
            "cpu",
            "--no-rsa",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,  # runs from anywhere, not only the repository root
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "cpu clock" in result.stdout
    assert "SHA256withRSA" not in result.stdout
    assert "Wrapped (AESWrap + HMAC-SHA256): encrypt" in result.stdout
