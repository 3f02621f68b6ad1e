"""The ``pynamodb-encryption`` command: argument parsing, dispatch, exit codes.

Each subcommand lives in its own module of this package and exposes
``register(subparsers) -> None``, which adds its parser and sets ``func`` (a callable taking
the parsed namespace and returning an exit code).

Exit codes: 0 success, 1 the operation failed (message on stderr), 2 bad usage (argparse),
130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import PynamoDBEncryptionError

__all__ = ["SUBCOMMAND_MODULES", "build_parser", "main"]

PROG = "pynamodb-encryption"

#: Subcommand modules, in the order they appear in ``--help``.
SUBCOMMAND_MODULES = ("_demo", "_inspect", "_metastore", "_keygen", "_reencrypt")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Client-side encryption and signing for DynamoDB items: run the demo, "
        "inspect protected items, manage most-recent provider keys, generate keys.",
        epilog="Start with: pynamodb-encryption demo. Every command has --help.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMAND_MODULES:
        module = importlib.import_module(f"{__package__}.{name}")
        module.register(subparsers)
    return parser


def _fail(message: str) -> int:
    sys.stderr.write(f"{PROG}: error: {message}\n")
    return EXIT_FAILURE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): not an error worth a traceback.
        return EXIT_FAILURE
    except PynamoDBEncryptionError as exc:
        return _fail(f"{exc} [{type(exc).__name__}]")
    except Exception as exc:  # translate AWS errors to one line; anything else re-raises
        message = _aws_error_message(exc)
        if message is None:
            raise
        return _fail(message)
    return code


def _aws_error_message(exc: Exception) -> str | None:
    """A one-line message for boto errors (no traceback); None for anything else."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
    except ImportError:  # pragma: no cover - botocore is a dependency
        return None
    if isinstance(exc, NoCredentialsError):
        return (
            "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID, or use a local "
            "--endpoint-url)"
        )
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        text = error.get("Message", "")
        return f"AWS {exc.operation_name} failed: {code}: {text}".rstrip(": ")
    if isinstance(exc, BotoCoreError):
        return f"AWS request failed: {exc}"
    return None
