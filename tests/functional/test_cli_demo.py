"""``pynamodb-encryption demo`` as a newcomer runs it: a subprocess, no configuration."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SECRETS = ("078-05-1120", "seasonal allergic rhinitis")


def _command() -> list[str]:
    script = Path(sys.executable).with_name("pynamodb-encryption")
    if script.exists():
        return [str(script)]
    found = shutil.which("pynamodb-encryption")
    return [found] if found else [sys.executable, "-m", "pynamodb_encryption"]


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_command(), "demo", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )


def _section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end)]


def test_demo_text_shows_ciphertext_then_the_tamper_failure() -> None:
    result = _run()
    assert result.returncode == 0, result.stderr
    out = result.stdout
    stored = _section(out, "2. The raw item", "3. The item read back")
    for secret in SECRETS:
        assert secret in _section(out, "1. The item you save", "2. The raw item")
        assert secret not in stored
        assert secret in _section(out, "3. The item read back", "4. Tampering")
    assert "*amzn-ddb-map-sig*" in stored
    assert "*amzn-ddb-map-desc*" in stored
    assert "<48 bytes>" in stored  # the SSN: IV + one... two AES blocks
    tamper = out[out.index("4. Tampering") :]
    assert "DETECTED  SignatureVerificationError" in tamper
    assert "not detected" in tamper  # the plain attribute: the threat model, shown
    assert "embedded DynamoDB + KMS API" in out


def test_demo_json_is_machine_readable_and_hides_plaintext_in_storage() -> None:
    result = _run("--json")
    assert result.returncode == 0, result.stderr
    # The tamper step fails on purpose and is reported in the output, not as a log warning.
    assert "WARNING" not in result.stderr
    report = json.loads(result.stdout)
    assert report["embedded"] is True
    stored = report["stored"]
    raw_stored = json.dumps(stored)
    for secret in SECRETS:
        assert secret not in raw_stored
        for value in stored.values():
            if "B" in value:
                assert secret.encode() not in base64.b64decode(value["B"])
    assert set(stored["ssn"]) == {"B"}
    assert stored["plan"] == {"S": "basic"}  # signed, not encrypted: readable by design
    assert report["read_back"] == report["plaintext"]
    assert report["material_description"]["amzn-ddb-wrap-alg"] == "AESWrap"
    tampering = {t["attribute"]: t for t in report["tampering"]}
    assert tampering["plan"]["detected"] is True
    assert tampering["plan"]["error"] == "SignatureVerificationError"
    assert tampering["ward"]["detected"] is False


def test_demo_with_the_embedded_kms_provider() -> None:
    # A stale AWS profile on the newcomer's machine does not matter to the embedded demo.
    result = _run("--json", "--provider", "kms", AWS_PROFILE="no-such-profile")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["material_description"]["amzn-ddb-wrap-alg"] == "kms"
    assert report["read_back"] == report["plaintext"]
    assert any(t["detected"] for t in report["tampering"])


def test_python_dash_m_runs_the_same_demo_against_a_given_endpoint(ddb_endpoint: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pynamodb_encryption",
            "demo",
            "--json",
            "--endpoint-url",
            ddb_endpoint,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["embedded"] is False
    assert report["endpoint"] == ddb_endpoint
    assert report["read_back"] == report["plaintext"]
    # The demo cleans up the table it created on a server it does not own.
    import boto3

    client = boto3.client("dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1")
    assert report["table"] not in client.list_tables()["TableNames"]


def test_unreachable_endpoint_is_a_clean_error() -> None:
    result = _run("--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("pynamodb-encryption: error:")


@pytest.mark.parametrize("flag", ["--help"])
def test_demo_help(flag: str) -> None:
    result = _run(flag)
    assert result.returncode == 0
    assert "--endpoint-url" in result.stdout
