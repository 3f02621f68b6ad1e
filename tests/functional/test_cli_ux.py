"""The CLI as an operator meets it: status lines in logs, dry-run exit codes, resumed counts,
helpful refusals (a config of another provider kind, a bad table name)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_reencrypt import encryptor, plaintext_item, put_all
from test_reencrypt_cli import write_static_config

from pynamodb_encryption.cli import main
from pynamodb_encryption.maintenance import Checkpoint

REPO_ROOT = Path(__file__).resolve().parents[2]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_MAX_ATTEMPTS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pynamodb_encryption", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO_ROOT,
        env=env,
    )


def test_reencrypt_off_a_terminal_logs_status_lines_and_dry_run_exits_3(
    dynamodb_client: Any,
    ddb_endpoint: str,
    make_table: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = make_table(range_key=True)
    old_config, old = write_static_config(tmp_path, "old")
    new_config, _ = write_static_config(tmp_path, "new")
    put_all(
        dynamodb_client,
        table,
        [encryptor(table, old).encrypt(plaintext_item(i)) for i in range(60)],
    )
    common = [
        "reencrypt", "--table", table, "--endpoint-url", ddb_endpoint,
        "--old-provider-config", str(old_config), "--new-provider-config", str(new_config),
    ]  # fmt: skip

    # Work pending: a dry run says so with exit code 3, and writes nothing.
    assert main([*common, "--dry-run", "--json", "--no-progress"]) == 3, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["reencrypted"] == 60

    # Slowed down to ~2 s (a burst of one second's worth, 20 items, then 20/s): a status line
    # every 0.1 s, each on its own line (stderr is a pipe).
    done = _run(
        *common, "--log-interval", "0.1", "--max-items-per-second", "20", "--page-size", "10"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "\r" not in done.stderr
    status = [line for line in lines if line.startswith(f"reencrypt {table}: ")]
    assert len(status) >= 4, done.stderr
    assert len(status) == len(lines), done.stderr  # nothing else on stderr
    assert all("items/s" in line and "elapsed" in line for line in status), done.stderr
    assert "ETA" in status[1], done.stderr
    assert "60 of ~60 items (100%)" in status[-1], done.stderr
    assert "| done |" in status[-1], done.stderr
    assert "re-encrypted 60" in status[-1], done.stderr

    # Nothing left: the dry run exits 0.
    assert main([*common, "--dry-run", "--no-progress"]) == 0
    assert capsys.readouterr().err == ""


def test_a_resumed_job_counts_what_the_checkpoint_holds(
    dynamodb_client: Any, ddb_endpoint: str, make_table: Any, tmp_path: Path
) -> None:
    table = make_table(range_key=True)
    new_config, new = write_static_config(tmp_path, "new")
    items = [encryptor(table, new).encrypt(plaintext_item(i)) for i in range(10)]
    put_all(dynamodb_client, table, items)
    # A checkpoint as an interrupted run leaves it: 40 items counted by earlier runs.
    checkpoint_path = tmp_path / "job.ckpt"
    checkpoint = Checkpoint.open(checkpoint_path, table_name=table, segments=1)
    checkpoint.record_page(0, {"pk": {"S": "p0"}, "sk": {"N": "0"}}, items=40)
    result = _run(
        "reencrypt", "--table", table, "--endpoint-url", ddb_endpoint,
        "--old-provider-config", str(new_config), "--new-provider-config", str(new_config),
        "--checkpoint", str(checkpoint_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    status = [line for line in result.stderr.splitlines() if line.startswith("reencrypt ")]
    # 40 from the checkpoint plus what this run scanned after its key; the rate is this run's.
    scanned = int(status[-1].split(": ", 1)[1].split(" ", 1)[0]) - 40
    assert 0 < scanned <= 10
    assert f"{40 + scanned} of ~{40 + scanned} items (100%), 40 before this run" in status[-1]


def test_inspect_with_a_config_of_another_kind_says_which_kind_wrote_the_item(
    dynamodb_client: Any,
    ddb_endpoint: str,
    make_table: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = make_table(range_key=True)
    config, static = write_static_config(tmp_path, "static")
    put_all(dynamodb_client, table, [encryptor(table, static).encrypt(plaintext_item(1))])
    kms = tmp_path / "kms.json"
    kms.write_text(
        json.dumps(
            {
                "provider": "aws-kms",
                "key_id": "alias/orders",
                "kms_endpoint_url": "http://127.0.0.1:9",
                "region": "us-east-1",
            }
        )
    )
    argv = ["inspect", "--table", table, "--key", "pk=p1", "--sort", "sk=1"]
    argv += ["--endpoint-url", ddb_endpoint]
    assert main([*argv, "--provider-config", str(kms)]) == 1
    out = capsys.readouterr().out
    assert "Signature: FAILED" in out
    assert "written by a 'static' provider" in out
    assert "'aws-kms' provider" in out
    # The right kind verifies; values stay masked.
    assert main([*argv, "--provider-config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "signature verified" in out
    assert "secret number 1" not in out
    assert main([*argv, "--provider-config", str(config), "--show-values"]) == 0
    assert "secret number 1" in capsys.readouterr().out


BAD_TABLES = [
    ["inspect", "--table", "bad table!", "--key", "pk=1"],
    ["inspect", "--table", "no-such-table", "--key", "pk=1"],
    ["metastore", "list", "--table", "x"],
    ["reencrypt", "--table", "bad table!", "--new-default-action", "nothing"],
]


@pytest.mark.parametrize("argv", BAD_TABLES)
def test_bad_table_names_are_one_line(
    argv: list[str], ddb_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--endpoint-url", ddb_endpoint]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("pynamodb-encryption: error: ")


def test_on_a_terminal_reencrypt_draws_a_live_bar(
    dynamodb_client: Any, ddb_endpoint: str, make_table: Any, tmp_path: Path
) -> None:
    """stderr on a pseudo-terminal: rich's bar, redrawn in place, with rate and ETA."""
    import pty
    import threading

    table = make_table(range_key=True)
    old_config, old = write_static_config(tmp_path, "old")
    new_config, _ = write_static_config(tmp_path, "new")
    put_all(
        dynamodb_client,
        table,
        [encryptor(table, old).encrypt(plaintext_item(i)) for i in range(40)],
    )
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the child closed its end
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    env = {**os.environ, "AWS_MAX_ATTEMPTS": "1", "TERM": "xterm-256color", "COLUMNS": "200"}
    env.pop("NO_COLOR", None)
    process = subprocess.run(
        [
            sys.executable, "-m", "pynamodb_encryption", "reencrypt", "--table", table,
            "--endpoint-url", ddb_endpoint, "--old-provider-config", str(old_config),
            "--new-provider-config", str(new_config), "--max-items-per-second", "20",
            "--page-size", "10", "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=slave,
        timeout=300,
        check=False,
        cwd=REPO_ROOT,
        env=env,
    )  # fmt: skip
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    assert process.returncode == 0
    assert json.loads(process.stdout)["reencrypted"] == 40  # stdout stays plain JSON
    drawn = b"".join(chunks).decode("utf-8", "replace")
    assert "━" in drawn  # rich's bar
    assert "\r" in drawn or "\x1b[" in drawn  # redrawn in place
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", drawn)
    assert "items/s" in text
    assert "ETA" in text
    assert "40/~40" in text
