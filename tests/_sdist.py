"""Fetch a source distribution from the package index at test time, once, into a cache.

Used for third-party files the test suite reads but this repository must not contain: the
reference library's test vectors (tests/interop) and PynamoDB's own unit tests
(tests/compat). ``pip download --no-binary :all:`` makes pip take the sdist, never a wheel.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

__all__ = ["SdistUnavailableError", "download_sdist", "extract_members"]


class SdistUnavailableError(RuntimeError):
    """pip could not download the sdist (offline?) or it lacks the expected files."""


def download_sdist(distribution: str, version: str, cache_dir: Path) -> Path:
    """The path of ``<distribution>-<version>.tar.gz`` in ``cache_dir``, downloaded if missing.

    Raises:
        SdistUnavailableError: pip failed or did not produce the archive.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    archive = cache_dir / f"{distribution}-{version}.tar.gz"
    if archive.is_file():
        return archive
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--disable-pip-version-check",
        f"{distribution}=={version}",
        "-d",
        str(cache_dir),
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SdistUnavailableError(f"could not run pip download: {exc}") from exc
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise SdistUnavailableError(f"pip download failed (exit {result.returncode}):\n{tail}")
    if not archive.is_file():
        raise SdistUnavailableError(f"pip reported success but {archive} is missing")
    return archive


def extract_members(archive: Path, prefix: str, destination: Path) -> None:
    """Extract the regular files under ``prefix`` (a folder inside the archive) into
    ``destination``, atomically: an interrupted run never leaves a half-extracted folder that
    a later run would trust.

    Raises:
        SdistUnavailableError: no file under ``prefix``, or an unsafe path.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent) as tmp:
        staging = Path(tmp) / "staging"
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(prefix) and m.isfile()]
            if not members:
                raise SdistUnavailableError(f"{archive.name} holds nothing under {prefix}")
            for member in members:
                relative = Path(member.name[len(prefix) :])
                if relative.is_absolute() or ".." in relative.parts:
                    raise SdistUnavailableError(f"unsafe path in archive: {member.name}")
                source = tar.extractfile(member)
                if source is None:
                    raise SdistUnavailableError(f"unreadable member: {member.name}")
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(source.read())
        if destination.exists():
            shutil.rmtree(destination)
        staging.rename(destination)
