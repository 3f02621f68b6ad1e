"""The beacons example that the documentation quotes runs and holds its assertions."""

from __future__ import annotations

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dbesdk_beacons.py"


def test_beacons_example_runs() -> None:
    spec = importlib.util.spec_from_file_location("dbesdk_beacons_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()
