"""An in-process moto server: the DynamoDB and KMS APIs on one loopback URL.

It backs the demo's "fresh machine, no AWS account" default, and the functional tests' "moto"
backend (run as ``python -m pynamodb_encryption._embedded_moto --port 0 --port-file F``).

moto's own threaded server checks a condition and then writes without a lock, so concurrent
conditional writes can both succeed (lost optimistic-lock updates). This wrapper serves one
request at a time: a lock is held around the whole WSGI call, body included. moto is bound by
the GIL anyway, so throughput does not suffer.

moto is *not* a runtime dependency of the library. It is imported lazily in
`EmbeddedMoto.start`, and its absence is reported as a `ConfigurationError`. The
wrapper uses a moto-internal module (``moto.moto_server.werkzeug_app``), which is why the
``demo`` extra pins moto's version.

State lives in memory only: every KMS key, and so everything wrapped by one, is gone when the
server stops.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from pynamodb_encryption.errors import ConfigurationError

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

__all__ = ["EmbeddedMoto"]

_INSTALL_HINT = (
    "The embedded DynamoDB/KMS server needs moto, which is not installed. "
    "Install it with: pip install 'pynamodb-encryption[demo]'"
)

_StartResponse = Callable[..., Any]
_WSGIApp = Callable[[dict[str, Any], _StartResponse], Iterable[bytes]]


class _SerializedApp:
    """Run the wrapped WSGI app for one request at a time, response body included."""

    def __init__(self, app: _WSGIApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: _StartResponse) -> list[bytes]:
        with self._lock:
            result = self._app(environ, start_response)
            try:
                # Drain the body under the lock: a lazy iterable could still read moto's state.
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


def _no_request_log(self: object, code: int | str = "-", size: int | str = "-") -> None:
    """Replacement for ``WSGIRequestHandler.log_request``: no line per request."""


class EmbeddedMoto:
    """A moto server (DynamoDB + KMS + any other moto service) on ``http://127.0.0.1:<port>``.

    Example::

        with EmbeddedMoto() as endpoint_url:
            client = boto3.client("dynamodb", endpoint_url=endpoint_url)

    Args:
        host: loopback address to bind (the default keeps it off the network).
        port: TCP port; ``0`` (the default) lets the OS choose a free one.
        log_requests: log one line per request to stderr, as werkzeug does by default.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, log_requests: bool = False):
        self._host = host
        self._port = port
        self._log_requests = log_requests
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        """The URL to pass as ``endpoint_url`` / ``Meta.host``; only valid once started."""
        if self._server is None:
            raise RuntimeError("EmbeddedMoto is not running; call start() first")
        return f"http://{self._host}:{self._server.port}"

    @property
    def port(self) -> int:
        """The TCP port actually bound; only valid once started."""
        if self._server is None:
            raise RuntimeError("EmbeddedMoto is not running; call start() first")
        return int(self._server.port)

    def _bind(self) -> BaseWSGIServer:
        """Bind the socket and build the server, without serving yet."""
        if self._server is not None:
            raise RuntimeError("EmbeddedMoto is already running")
        try:
            from moto.moto_server.werkzeug_app import (
                DomainDispatcherApplication,
                MotoRequestHandler,
                create_backend_app,
            )
            from werkzeug.serving import make_server
        except ImportError as exc:
            raise ConfigurationError(_INSTALL_HINT) from exc

        handler: type[Any] = MotoRequestHandler
        if not self._log_requests:
            # A subclass, so that werkzeug's global logger and moto's class stay untouched.
            handler = type("_QuietMotoRequestHandler", (handler,), {"log_request": _no_request_log})
        app = _SerializedApp(DomainDispatcherApplication(create_backend_app))
        try:
            server = make_server(
                self._host, self._port, app, threaded=True, request_handler=handler
            )
        except SystemExit:
            # werkzeug prints the OSError and calls sys.exit(1) when it cannot listen.
            raise OSError(f"cannot listen on {self._host}:{self._port}") from None
        self._server = server
        return server

    def start(self) -> str:
        """Bind, serve in a daemon thread, and return the endpoint URL.

        Raises:
            ConfigurationError: moto (the ``demo`` extra) is not installed.
        """
        server = self._bind()
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"embedded-moto-{server.port}",
            daemon=True,
        )
        thread.start()
        self._thread = thread
        return self.endpoint_url

    def stop(self) -> None:
        """Stop serving and release the port. Safe to call more than once."""
        server, thread = self._server, self._thread
        self._server = None
        self._thread = None
        if server is None:
            return
        if thread is not None:
            server.shutdown()
            thread.join(timeout=10)
        server.server_close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _write_port_file(path: str, port: int) -> None:
    """Write ``port`` to ``path`` atomically, so that a poller never reads half a number."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".port-", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    """Serve forever in this process (``python -m pynamodb_encryption._embedded_moto``)."""
    parser = argparse.ArgumentParser(
        prog="python -m pynamodb_encryption._embedded_moto",
        description="Serve moto's DynamoDB and KMS APIs on loopback, one request at a time.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 lets the OS choose")
    parser.add_argument("--port-file", help="write the bound port to this file once listening")
    parser.add_argument("--log-requests", action="store_true", help="log one line per request")
    args = parser.parse_args(argv)

    moto = EmbeddedMoto(args.host, args.port, log_requests=args.log_requests)
    try:
        server = moto._bind()
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def _terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    # The socket is already listening (make_server binds and listens), so clients that read
    # the port file can connect right away; their requests queue until serve_forever runs.
    if args.port_file:
        _write_port_file(args.port_file, server.port)
    print(f"moto (serialized) listening on http://{args.host}:{server.port}", flush=True)
    server.serve_forever(poll_interval=0.1)  # returns on KeyboardInterrupt, closes the socket
    return 0


if __name__ == "__main__":
    sys.exit(main())
