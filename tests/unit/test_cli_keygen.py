"""``pynamodb-encryption keygen``: file formats, permissions, no key on the terminal."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from pynamodb_encryption.cli import main
from pynamodb_encryption.core import RsaPrivateKey, SymmetricKey
from pynamodb_encryption.maintenance import load_key


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("kind", "bits"), [("aes", 256), ("aes", 128), ("hmac", 256), ("hmac", 512)]
)
def test_symmetric_key_file_is_raw_bytes_mode_0600_and_not_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, bits: int
) -> None:
    out = tmp_path / f"{kind}.key"
    assert main(["keygen", kind, "--out", str(out), "--bits", str(bits)]) == 0
    material = out.read_bytes()
    assert len(material) == bits // 8
    assert _mode(out) == 0o600
    printed = capsys.readouterr()
    # Neither the bytes nor any usual text form of them reach the terminal.
    for form in (material.hex(), base64.b64encode(material).decode()):
        assert form not in printed.out
        assert form not in printed.err
    # The printed config entry points at the file, with the right algorithm.
    entries = json.loads(printed.out[printed.out.index("{") :])
    algorithm = "AES" if kind == "aes" else "HmacSHA256"
    assert {"file": str(out), "algorithm": algorithm} in entries.values()


def test_symmetric_key_file_loads_through_the_provider_config_reader(tmp_path: Path) -> None:
    out = tmp_path / "hmac.key"
    assert main(["keygen", "hmac", "--out", str(out)]) == 0
    key = load_key({"file": str(out), "algorithm": "HmacSHA256"}, "signing_key")
    assert isinstance(key, SymmetricKey)
    assert key.export_material() == out.read_bytes()


def test_rsa_key_is_pkcs8_pem_with_public_half(tmp_path: Path) -> None:
    private, public = tmp_path / "rsa.pem", tmp_path / "rsa.pub.pem"
    assert (
        main(
            ["keygen", "rsa", "--out", str(private), "--public-out", str(public), "--bits", "2048"]
        )
        == 0
    )
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert _mode(private) == 0o600
    loaded = RsaPrivateKey.from_pem(private.read_bytes(), "SHA256withRSA")
    assert loaded.key_bits == 2048
    signature = loaded.sign(b"data")
    verifier = load_key({"file": str(public), "algorithm": "SHA256withRSA"}, "verification_key")
    assert verifier.verify(signature, b"data")  # type: ignore[union-attr]


def test_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "aes.key"
    out.write_bytes(b"keep me")
    assert main(["keygen", "aes", "--out", str(out)]) == 1
    assert out.read_bytes() == b"keep me"
    assert "already exists" in capsys.readouterr().err
    assert main(["keygen", "aes", "--out", str(out), "--force"]) == 0
    assert len(out.read_bytes()) == 32
    assert _mode(out) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["aes.key"]  # no temporary file left


def test_stdout_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen", "aes", "--stdout"]) == 0
    printed = capsys.readouterr().out.strip()
    assert len(base64.b64decode(printed, validate=True)) == 32


def test_out_or_stdout_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["keygen", "aes"])
    assert excinfo.value.code == 2
    assert "--out" in capsys.readouterr().err


def test_missing_folder_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keygen", "aes", "--out", str(tmp_path / "nope" / "aes.key")]) == 1
    assert "folder does not exist" in capsys.readouterr().err
