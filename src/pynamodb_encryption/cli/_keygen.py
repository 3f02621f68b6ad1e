"""``pynamodb-encryption keygen aes|hmac|rsa``: generate key material into files.

File formats match what a provider config file reads (``{"file": PATH, "algorithm": ALG}``):
raw key bytes for AES and HMAC keys, PKCS#8 PEM for RSA private keys (and SubjectPublicKeyInfo
PEM for the optional public half). With ``--stdout`` the key goes to standard output instead,
in the format of an ``{"env": VAR}`` entry: base64 for symmetric keys, PEM for RSA.

Key files are created with mode 0600, and an existing file is never replaced without
``--force``. Key bytes are never printed unless ``--stdout`` is given.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..core import RsaPrivateKey, SymmetricKey
from ..errors import ConfigurationError

__all__ = ["register", "write_secret_file"]

_SYMMETRIC_BITS = {"aes": (128, 192, 256), "hmac": (128, 192, 256, 384, 512)}
_DEFAULT_ALGORITHM = {"aes": "AES", "hmac": "HmacSHA256", "rsa": "RSA"}
_HMAC_ALGORITHMS = ("HmacSHA224", "HmacSHA256", "HmacSHA384", "HmacSHA512")
_RSA_ALGORITHMS = ("RSA", "SHA224withRSA", "SHA256withRSA", "SHA384withRSA", "SHA512withRSA")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``keygen`` command."""
    parser = subparsers.add_parser(
        "keygen",
        help="generate key material into files (AES, HMAC, RSA)",
        description="Generate a key into a file created with mode 0600. The key is never "
        "printed unless --stdout is given. The command prints the provider-config entry "
        "that refers to the file.",
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    for kind, text in (
        ("aes", "AES key: content encryption or AESWrap key wrapping (raw bytes)"),
        ("hmac", "HMAC key: item signing (raw bytes)"),
        ("rsa", "RSA private key: key wrapping or SHA*withRSA signing (PKCS#8 PEM)"),
    ):
        sub = kinds.add_parser(kind, help=text, description=text)
        target = sub.add_mutually_exclusive_group(required=True)
        target.add_argument("--out", type=Path, metavar="FILE", help="write the key to FILE")
        target.add_argument(
            "--stdout",
            action="store_true",
            help="print the key to standard output instead (base64 for AES/HMAC, PEM for RSA)",
        )
        sub.add_argument("--force", action="store_true", help="replace FILE if it already exists")
        if kind == "rsa":
            sub.add_argument(
                "--bits", type=int, default=3072, help="modulus size (default 3072, min 2048)"
            )
            sub.add_argument(
                "--public-out",
                type=Path,
                metavar="FILE",
                help="also write the public key (PEM) to FILE, for wrapping or verifying",
            )
            sub.add_argument(
                "--algorithm",
                choices=_RSA_ALGORITHMS,
                default="RSA",
                help="algorithm to name in the printed config entry (default RSA, for key "
                "wrapping; SHA256withRSA for signing)",
            )
        else:
            sub.add_argument(
                "--bits",
                type=int,
                default=256,
                choices=_SYMMETRIC_BITS[kind],
                help="key size in bits (default 256)",
            )
            if kind == "hmac":
                sub.add_argument(
                    "--algorithm",
                    choices=_HMAC_ALGORITHMS,
                    default="HmacSHA256",
                    help="algorithm to name in the printed config entry (default HmacSHA256)",
                )
        sub.set_defaults(func=run)


def write_secret_file(path: Path, data: bytes, *, force: bool) -> None:
    """Write ``data`` to ``path`` with mode 0600.

    Without ``force`` the file is created exclusively (``O_EXCL``), so an existing key is
    never overwritten, even by a race. With ``force`` the data goes to a private temporary
    file in the same folder that then replaces ``path`` atomically: a reader never sees a
    half-written key, and the old file's permissions are not inherited.

    Raises:
        ConfigurationError: the file exists (without ``force``) or cannot be written.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ConfigurationError(f"folder does not exist: {directory}")
    if not force:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise ConfigurationError(f"{path} already exists; use --force to replace it") from None
        except OSError as exc:
            raise ConfigurationError(f"cannot create {path}: {exc.strerror}") from exc
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return
    tmp = directory / f".{path.name}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp.exists():
            tmp.unlink()
        raise ConfigurationError(f"cannot write {path}: {exc.strerror}") from exc


def _config_entry(path: Path, algorithm: str) -> dict[str, Any]:
    return {"file": str(path), "algorithm": algorithm}


def run(args: argparse.Namespace) -> int:
    """Generate the key and write it where asked."""
    kind: str = args.kind
    algorithm: str = getattr(args, "algorithm", None) or _DEFAULT_ALGORITHM[kind]
    public_pem: bytes | None = None
    if kind == "rsa":
        private = RsaPrivateKey.generate("RSA", bits=args.bits)
        secret = private.to_pem()
        public_pem = _public_pem(private)
        printable = secret.decode("ascii")
    else:
        key = SymmetricKey.generate("AES" if kind == "aes" else algorithm, bits=args.bits)
        secret = key.export_material()
        printable = base64.b64encode(secret).decode("ascii") + "\n"

    if args.stdout:
        sys.stdout.write(printable)
        return 0

    out: Path = args.out
    write_secret_file(out, secret, force=args.force)
    entries: dict[str, Any] = {}
    if kind == "aes":
        entries["encryption_key"] = _config_entry(out, "AES")
        entries["wrapping_key"] = _config_entry(out, "AES")
    elif kind == "hmac":
        entries["signing_key"] = _config_entry(out, algorithm)
    else:
        entries["unwrapping_key" if algorithm == "RSA" else "signing_key"] = _config_entry(
            out, algorithm
        )
    public_out: Path | None = getattr(args, "public_out", None)
    if public_out is not None and public_pem is not None:
        write_secret_file(public_out, public_pem, force=args.force)
        entries["wrapping_key" if algorithm == "RSA" else "verification_key"] = _config_entry(
            public_out, algorithm
        )
    bits = args.bits
    print(f"wrote a {bits}-bit {kind.upper()} key to {out} (mode 0600)")
    if public_out is not None:
        print(f"wrote its public key to {public_out}")
    print("refer to it from a provider config file, for example:")
    print(json.dumps(entries, indent=2))
    return 0


def _public_pem(private: RsaPrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    der = private.public_key().to_der()
    public = serialization.load_der_public_key(der)
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
