"""Fixtures for the interop tests: the reference library's published test vectors.

``reference_vectors_dir`` downloads the ``dynamodb-encryption-sdk`` sdist from PyPI once (with
pip, into the git-ignored ``.cache/reference-sdist/``) and extracts its ``test/vectors``. The
sdist is never committed. When the download fails, the vector tests are skipped on a developer
machine but FAIL in CI (``CI=true``), so that a network problem cannot silently turn the
byte-compatibility checks off. ``PYNAMODB_ENCRYPTION_REFERENCE_VECTORS`` may point at an
already extracted ``test/vectors`` directory instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _vectors import VectorsUnavailableError, ensure_reference_vectors

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache" / "reference-sdist"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.fixture(scope="session")
def reference_vectors_dir() -> Path:
    """The ``test/vectors`` directory of ``dynamodb-encryption-sdk==3.3.0``."""
    try:
        return ensure_reference_vectors(CACHE_DIR)
    except VectorsUnavailableError as exc:
        message = (
            "the reference test vectors are unavailable (could not obtain the "
            f"dynamodb-encryption-sdk sdist from PyPI): {exc}"
        )
        if _in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.interop)
