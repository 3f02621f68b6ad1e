"""Every CLI failure a user can cause is one line on stderr and exit code 1, never a traceback.

A matrix of bad inputs (malformed and truncated configs, unreadable and loose key files, wrong
key lengths, refused connections, bad options) runs through ``main()``; a few run as real
processes too, since a traceback printed by the interpreter only shows up there.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from pynamodb_encryption.cli import main
from pynamodb_encryption.maintenance import InsecureKeyFileWarning, provider_from_config

#: Nothing listens on port 9 of the loopback interface: connections are refused at once.
REFUSED = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def _one_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


def _secret(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def _config(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _static(aes: str = "aes.key", hmac: str = "hmac.key") -> dict[str, object]:
    return {
        "provider": "static",
        "encryption_key": {"file": aes, "algorithm": "AES"},
        "signing_key": {"file": hmac, "algorithm": "HmacSHA256"},
    }


Case = Callable[[Path], list[str]]


def _inspect_with(config: object, name: str = "c.json") -> Case:
    def build(folder: Path) -> list[str]:
        path = _config(folder, name, config)
        return ["inspect", "--table", "t", "--key", "pk=1", "--provider-config", str(path)]

    return build


def _write(path: Path, text: str) -> list[str]:
    path.write_text(text)
    return []


def _raw(*argv: str) -> Case:
    return lambda folder: [a.replace("{dir}", str(folder)) for a in argv]


CASES: dict[str, tuple[Case, str]] = {
    "truncated config": (
        _inspect_with('{"provider": "static", "encryption_key": {"file": "aes.key"'),
        "not valid JSON",
    ),
    "config is not an object": (_inspect_with("[1, 2]"), "JSON object"),
    "config is binary": (_inspect_with(b"\xff\xfe{"), "not UTF-8"),
    "empty config": (_inspect_with(""), "not valid JSON"),
    "config is a directory": (_raw("inspect", "--table", "t", "--key", "pk=1",
                                   "--provider-config", "{dir}"), "directory"),
    "missing config": (
        _raw("inspect", "--table", "t", "--key", "pk=1", "--provider-config", "{dir}/no.json"),
        "not found",
    ),
    "misspelt field": (
        _inspect_with({**_static(), "signing_kye": {"file": "hmac.key", "algorithm": "AES"}}),
        "did you mean 'signing_key'",
    ),
    "unknown provider kind": (_inspect_with({"provider": "statik"}), "did you mean 'static'"),
    "nested config not an object": (
        _inspect_with(
            {"provider": "most-recent", "meta_table": "m", "material_name": "x",
             "meta_provider": "oops"}
        ),
        "meta_provider",
    ),
    "missing key file": (_inspect_with(_static(aes="nothing.key")), "cannot read the key file"),
    "key file is a directory": (_inspect_with(_static(aes=".")), "cannot read the key file"),
    "wrong key length": (_inspect_with(_static(aes="short.key")), "16, 24 or 32 bytes"),
    "wrong key length in a variable": (
        _inspect_with({**_static(), "encryption_key": {"env": "SHORT_KEY", "algorithm": "AES"}}),
        "16, 24 or 32 bytes",
    ),
    "key variable not base64": (
        _inspect_with({**_static(), "encryption_key": {"env": "NOT_BASE64", "algorithm": "AES"}}),
        "not valid base64",
    ),
    "key variable not set": (
        _inspect_with({**_static(), "encryption_key": {"env": "NO_SUCH_VAR", "algorithm": "AES"}}),
        "not set",
    ),
    "key file readable by others": (_inspect_with(_static(aes="loose.key")), "chmod 600"),
    "RSA key file is garbage": (
        _inspect_with(
            {"provider": "wrapped", "wrapping_key": {"file": "aes.key", "algorithm": "RSA"}}
        ),
        "wrapping_key",
    ),
    "bad KMS endpoint in config": (
        _inspect_with({"provider": "aws-kms", "key_id": "k", "kms_endpoint_url": "not a url"}),
        "endpoint URL",
    ),
    "refused connection (inspect)": (
        _raw("inspect", "--table", "t", "--key", "pk=1", "--endpoint-url", REFUSED),
        "Could not connect",
    ),
    "refused connection (reencrypt)": (
        lambda folder: [
            "reencrypt", "--table", "t", "--endpoint-url", REFUSED,
            "--new-provider-config", str(_config(folder, "good.json", _static())),
        ],
        "cannot describe the table",
    ),
    "refused connection (metastore)": (
        _raw("metastore", "list", "--table", "t", "--endpoint-url", REFUSED),
        "Could not connect",
    ),
    "checkpoint is a directory": (
        lambda folder: [
            "reencrypt", "--table", "t", "--endpoint-url", REFUSED, "--checkpoint", str(folder),
            "--new-provider-config", str(_config(folder, "good.json", _static())),
        ],
        "",
    ),
    "model that does not import": (_raw("reencrypt", "--model", "no_such_module:X"), "import"),
    "model module with a syntax error": (
        lambda folder: [
            *_write(folder / "broken_models.py", "class Order(:\n"),
            "reencrypt", "--model", "broken_models:Order",
        ],
        "raised SyntaxError (line 1)",
    ),
    "model module that raises": (
        lambda folder: [
            *_write(folder / "raising_models.py", "raise RuntimeError('boom')\n"),
            "reencrypt", "--model", "raising_models:Order",
        ],
        "raised RuntimeError",
    ),
    "keygen into a missing folder": (
        _raw("keygen", "aes", "--out", "{dir}/missing/folder/k.key"), ""
    ),
}  # fmt: skip


if hasattr(os, "geteuid") and os.geteuid() != 0:  # root reads any file
    CASES["key file without read permission"] = (
        _inspect_with(_static(aes="locked.key")),
        "Permission denied",
    )


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHORT_KEY", base64.b64encode(os.urandom(7)).decode())
    monkeypatch.setenv("NOT_BASE64", "not base64!")
    monkeypatch.delenv("NO_SUCH_VAR", raising=False)
    _secret(tmp_path / "locked.key", os.urandom(32)).chmod(0o000)
    _secret(tmp_path / "aes.key", os.urandom(32))
    _secret(tmp_path / "hmac.key", os.urandom(32))
    _secret(tmp_path / "short.key", os.urandom(5))
    (tmp_path / "loose.key").write_bytes(os.urandom(32))
    (tmp_path / "loose.key").chmod(0o644)
    return tmp_path


def _assert_one_line(err: str, expected: str) -> None:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("pynamodb-encryption: error: "), err
    assert expected in lines[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_user_errors_are_one_line_and_exit_1(
    name: str, folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    build, expected = CASES[name]
    argv = build(folder)
    monkeypatch.chdir(folder)
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 1, err
    _assert_one_line(err, expected)


def test_a_real_process_prints_no_traceback(folder: Path) -> None:
    """Through the interpreter: what a user sees in a shell."""
    env = {**os.environ, "AWS_MAX_ATTEMPTS": "1"}
    for name in ("truncated config", "bad KMS endpoint in config", "refused connection (inspect)"):
        argv = CASES[name][0](folder)
        result = subprocess.run(
            [sys.executable, "-m", "pynamodb_encryption", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=folder,
            env=env,
        )
        assert result.returncode == 1, (name, result.stderr)
        _assert_one_line(result.stderr, CASES[name][1])


def test_an_unexpected_error_is_one_line_and_vv_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pynamodb_encryption.cli import _keygen

    def broken(args: object) -> int:
        raise TypeError("something nobody expected")

    # The parser is built afresh by main(), so the subcommand picks up the patched function.
    monkeypatch.setattr(_keygen, "run", broken)
    argv = ["keygen", "aes", "--stdout"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    _assert_one_line(err, "unexpected TypeError")
    assert "-vv" in err
    # A foreign exception's message may hold a value: it is not printed.
    assert "nobody expected" not in err
    assert main([*argv, "-vv"]) == 1
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize("segments", ["0", "-1", "1000001", "many", "1.5"])
def test_reencrypt_segments_out_of_dynamodb_bounds_are_refused_by_argparse(
    segments: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["reencrypt", "--table", "t", "--segments", segments])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--segments" in err
    assert "Traceback" not in err


def test_reencrypt_segments_bounds_are_inclusive() -> None:
    from pynamodb_encryption.cli._main import build_parser

    for value in ("1", "1000000"):
        args = build_parser().parse_args(["reencrypt", "--table", "t", "--segments", value])
        assert args.segments == int(value)


def test_a_bad_endpoint_url_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["inspect", "--table", "t", "--key", "pk=1", "--endpoint-url", "localhost:8000"])
    assert stopped.value.code == 2
    assert "not an http(s) URL" in capsys.readouterr().err


def test_insecure_key_file_is_allowed_with_the_flag_and_then_warned_about(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(folder, "loose.json", _static(aes="loose.key"))
    argv = ["inspect", "--table", "t", "--key", "pk=1", "--provider-config", str(config)]
    code = main([*argv, "--endpoint-url", REFUSED, "--allow-insecure-key-file"])
    err = capsys.readouterr().err
    assert code == 1  # it got as far as the (refused) connection
    lines = err.splitlines()
    assert lines[0].startswith("pynamodb-encryption: warning: ")
    assert "chmod 600" in lines[0]
    assert "Could not connect" in lines[1]
    assert "Traceback" not in err


def test_the_library_warns_about_a_readable_secret_key_file(folder: Path) -> None:
    config = _static(aes="loose.key")
    with pytest.warns(InsecureKeyFileWarning, match="chmod 600"):
        provider_from_config(config, base_dir=folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        provider_from_config(_static(), base_dir=folder)  # 0600: silent
        provider_from_config(config, base_dir=folder, insecure_key_files="ignore")


def test_a_public_key_file_may_be_readable_by_everyone(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "public.pem").write_bytes(pem)
    (tmp_path / "public.pem").chmod(0o644)
    _secret(tmp_path / "sign.key", os.urandom(32))
    config = {
        "provider": "wrapped",
        "wrapping_key": {"file": "public.pem", "algorithm": "RSA"},
        "signing_key": {"file": "sign.key", "algorithm": "HmacSHA256"},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        provider_from_config(config, base_dir=tmp_path, insecure_key_files="refuse")
