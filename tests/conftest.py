"""Session-wide test setup: dummy AWS credentials, and real servers for functional tests.

Fixtures (servers start only when a test asks for one, and stop at the end of the session):

- ``ddb_backend`` (str): ``"ddblocal"`` or ``"moto"``. Every test that uses ``ddb_endpoint``
  (directly or through another fixture) runs once per selected backend.
- ``ddb_endpoint`` (str): ``http://127.0.0.1:PORT`` of the DynamoDB API for this backend.
- ``kms_endpoint`` (str): ``http://127.0.0.1:PORT`` of moto's KMS API (always moto).
- ``dynamodb_client`` / ``kms_client``: boto3 clients for those endpoints.
- ``kms_key_id`` (str): the KeyId of a fresh symmetric CMK; ``kms_key_arn`` (str): its ARN.
- ``table_name`` (str): a unique, not yet created table name.
- ``make_table``: ``make_table(name=None, *, range_key=False) -> str`` creates a table (hash
  key ``pk`` S, optional range key ``sk`` N, PAY_PER_REQUEST), waits until ACTIVE, returns
  its name and deletes it after the test.

Tests that use any of these are marked ``functional`` automatically.

``PYNAMODB_ENCRYPTION_BACKENDS`` (comma list of ``ddblocal``, ``moto``) selects backends. By
default both run when ``java`` and the npm jar (``npm ci``) are available; otherwise the
``ddblocal`` variants are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, settings

from _servers import (
    BACKENDS_ENV,
    MOTO,
    BackendSelection,
    ServerPool,
    ServerProcess,
    create_test_table,
    isolate_aws_environment,
    select_backends,
)

# CI machines are shared 2-core boxes: a per-example deadline would turn load into failures
# (performance is measured in benchmarks/, never asserted). Examples stay random.
settings.register_profile(
    "pynamodb-encryption",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("pynamodb-encryption")

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient

# Dummy credentials and region for everything in this process and its children, set before
# any test module creates a boto3 client. Nothing can reach a real AWS account.
isolate_aws_environment()

#: Fixtures that need a running server; a test using any of them is ``functional``.
SERVER_FIXTURES = frozenset(
    {
        "ddb_backend",
        "ddb_endpoint",
        "kms_endpoint",
        "dynamodb_client",
        "kms_client",
        "kms_key_id",
        "kms_key_arn",
        "make_table",
        "_server_pool",
    }
)

_selection: BackendSelection | None = None


def _backend_selection() -> BackendSelection:
    """Computed once, and only when a collected test needs a DynamoDB backend."""
    global _selection
    if _selection is None:
        try:
            _selection = select_backends()
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
    return _selection


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "ddb_backend" not in metafunc.fixturenames:
        return
    selection = _backend_selection()
    params = [pytest.param(name, id=name) for name in selection.enabled]
    params += [
        pytest.param(
            name,
            id=name,
            marks=pytest.mark.skip(reason=f"{name} backend not available: {reason}"),
        )
        for name, reason in selection.unavailable.items()
    ]
    # Session scope: one server per backend, and pytest groups the tests by backend.
    metafunc.parametrize("ddb_backend", params, indirect=True, scope="session")


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    functional_dir = Path(__file__).parent / "functional"
    for item in items:
        if SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())) or (
            functional_dir in item.path.parents
        ):
            item.add_marker(pytest.mark.functional)


_expected_servers: set[str] = set()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Note which servers the selected tests need, so they can boot in parallel."""
    for item in session.items:
        names = getattr(item, "fixturenames", ())
        if "kms_endpoint" in names:
            _expected_servers.add(MOTO)
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("ddb_backend") if callspec is not None else None
        if backend is not None and item.get_closest_marker("skip") is None:
            _expected_servers.add(backend)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _selection is not None:
        how = f"from {BACKENDS_ENV}" if _selection.explicit else "auto-detected"
        terminalreporter.write_sep("-", "functional test backends")
        terminalreporter.write_line(f"DynamoDB backends ({how}): {', '.join(_selection.enabled)}")
        for name, reason in _selection.unavailable.items():
            terminalreporter.write_line(f"NOT USED: {name}: {reason}", yellow=True, bold=True)
    if _started:
        for server in _started.values():
            terminalreporter.write_line(
                f"{server.name}: ready within {server.start_seconds:.2f} s of launch "
                f"(attempt {server.attempts}), pid {server.pid}, log {server.log_path}"
            )


_started: dict[str, ServerProcess] = {}


@pytest.fixture(scope="session")
def _server_pool() -> Iterator[ServerPool]:
    pool = ServerPool(expected=_expected_servers)
    try:
        yield pool
    finally:
        _started.update(pool.started)
        pool.stop_all()


@pytest.fixture(scope="session")
def ddb_backend(request: pytest.FixtureRequest) -> str:
    """The DynamoDB backend of this test variant: ``"ddblocal"`` or ``"moto"``."""
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def ddb_endpoint(ddb_backend: str, _server_pool: ServerPool) -> str:
    """URL of the DynamoDB API of the current backend (for ``endpoint_url`` / ``Meta.host``)."""
    return _server_pool.get(ddb_backend).url


@pytest.fixture(scope="session")
def kms_endpoint(_server_pool: ServerPool) -> str:
    """URL of moto's KMS API (the same moto server as the ``moto`` DynamoDB backend)."""
    return _server_pool.get(MOTO).url


def _client_config() -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 2, "mode": "standard"},
    )


@pytest.fixture(scope="session")
def dynamodb_client(ddb_endpoint: str) -> DynamoDBClient:
    """A boto3 DynamoDB client for the current backend."""
    import boto3

    return boto3.client(
        "dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1", config=_client_config()
    )


@pytest.fixture(scope="session")
def kms_client(kms_endpoint: str) -> KMSClient:
    """A boto3 KMS client for moto's KMS."""
    import boto3

    return boto3.client(
        "kms", endpoint_url=kms_endpoint, region_name="us-east-1", config=_client_config()
    )


@pytest.fixture
def kms_key_id(kms_client: KMSClient) -> str:
    """KeyId of a fresh symmetric encryption CMK in moto KMS (us-east-1)."""
    metadata = kms_client.create_key(
        Description="pynamodb-encryption test key",
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
    )["KeyMetadata"]
    return metadata["KeyId"]


@pytest.fixture
def kms_key_arn(kms_client: KMSClient, kms_key_id: str) -> str:
    """ARN of the ``kms_key_id`` CMK."""
    arn = kms_client.describe_key(KeyId=kms_key_id)["KeyMetadata"].get("Arn")
    assert arn is not None
    return arn


@pytest.fixture
def table_name(request: pytest.FixtureRequest) -> str:
    """A unique table name for this test (not created): ``pe_<test name>_<uuid hex>``."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:60]
    return f"pe_{stem}_{uuid.uuid4().hex}"


@pytest.fixture
def make_table(dynamodb_client: DynamoDBClient, table_name: str) -> Iterator[Callable[..., str]]:
    """``make_table(name=None, *, range_key=False) -> str``: create a table, wait until ACTIVE.

    Without ``name`` it creates ``table_name``. Hash key ``pk`` (S), range key ``sk`` (N) if
    ``range_key``. Tables made here are deleted after the test (best effort).
    """
    created: list[str] = []

    def make(name: str | None = None, *, range_key: bool = False) -> str:
        name = name or table_name
        create_test_table(dynamodb_client, name, range_key=range_key)
        created.append(name)
        return name

    yield make
    for name in created:
        # Cleanup only, best effort: the servers keep everything in memory anyway.
        with contextlib.suppress(Exception):
            dynamodb_client.delete_table(TableName=name)
