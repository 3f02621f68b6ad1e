"""The documented CLI walkthrough (``examples/cli/walkthrough.sh``) runs as written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cli"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_cli_walkthrough(ddb_endpoint: str, tmp_path: Path) -> None:
    env = dict(os.environ)
    env["ENDPOINT"] = ddb_endpoint
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYNAMODB_ENCRYPTION_PROVIDER_CONFIG", None)
    # A fresh meta table name per run, so both backends and reruns do not collide.
    table = f"example-keys-{uuid.uuid4().hex[:8]}"
    script = (EXAMPLES / "walkthrough.sh").read_text().replace("example-keys", table)
    source, work = tmp_path / "examples", tmp_path / "work"
    source.mkdir()
    work.mkdir()
    (source / "walkthrough.sh").write_text(script)
    for name in ("provider-config.json", "most-recent-config.json"):
        text = (EXAMPLES / name).read_text().replace("example-keys", table)
        (source / name).write_text(text)
    # The script copies its configs from its own folder into the working folder.
    result = subprocess.run(
        ["bash", str(source / "walkthrough.sh")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    out = result.stdout
    assert "version 0 of material 'orders'" in out
    assert "created version 1 of material 'orders'" in out
    assert "| orders" in out
    assert "Signature: not checked (no keys given)" in out
    assert "signature verified, values decrypted" in out
    assert "Values: masked" in out  # without --show-values
    assert '"HmacSHA256"' in out  # a decrypted meta-item value, with --show-values
    assert "bytes, not shown" in out  # the decrypted keys themselves are not printed
    assert (work / "wrap.key").stat().st_mode & 0o777 == 0o600
