"""The ``pynamodb-encryption`` command: argument parsing, dispatch, exit codes.

Each subcommand lives in its own module of this package and exposes
``register(subparsers) -> None``, which adds its parser and sets ``func`` (a callable taking
the parsed namespace and returning an exit code).

Exit codes: 0 success, 1 the operation failed (one line on stderr, never a traceback),
2 bad usage (argparse), 3 ``reencrypt --dry-run`` found work to do, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

from .. import __version__
from ..errors import PynamoDBEncryptionError

__all__ = ["SUBCOMMAND_MODULES", "build_parser", "main"]

PROG = "pynamodb-encryption"

#: Subcommand modules, in the order they appear in ``--help``.
SUBCOMMAND_MODULES = ("_demo", "_inspect", "_metastore", "_keygen", "_reencrypt")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130

#: The library's logger, which ``-v``/``-q`` tune.
LIBRARY_LOGGER = "pynamodb_encryption"


def add_verbosity_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``-v/--verbose`` (repeatable) and ``-q/--quiet``.

    On a subcommand the defaults are suppressed, so ``pynamodb-encryption -v inspect`` and
    ``pynamodb-encryption inspect -v`` both count.
    """
    default: Any = 0 if top else argparse.SUPPRESS
    group = parser.add_argument_group("output") if not top else parser
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default,
        help="log more: -v shows the library's INFO messages, -vv DEBUG messages and the "
        "traceback of an unexpected error",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="count",
        default=default,
        help="log only errors, and draw no progress",
    )


def verbosity(args: argparse.Namespace) -> int:
    """-1 quiet, 0 normal, 1 info, 2 debug."""
    level = int(getattr(args, "verbose", 0) or 0) - int(getattr(args, "quiet", 0) or 0)
    return max(-1, min(2, level))


def _log_level(level: int) -> int:
    return {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO, 2: logging.DEBUG}[level]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Client-side encryption and signing for DynamoDB items: run the demo, "
        "inspect protected items, manage most-recent provider keys, generate keys.",
        epilog="start with:\n  pynamodb-encryption demo\n\nevery command has --help, "
        "with examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_verbosity_options(parser, top=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMAND_MODULES:
        module = importlib.import_module(f"{__package__}.{name}")
        module.register(subparsers)
    for sub in _leaf_parsers(parser):
        add_verbosity_options(sub, top=False)
    return parser


def _leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser that runs a command (the subcommands, and their actions)."""
    leaves: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                nested = _leaf_parsers(sub)
                leaves.extend(nested or [sub])
    return leaves


def _fail(message: str) -> int:
    sys.stderr.write(f"{PROG}: error: {message}\n")
    return EXIT_FAILURE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = verbosity(args)
    logger = logging.getLogger(LIBRARY_LOGGER)
    previous_level = logger.level
    handler = _configure_logging(level)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return _run(args, level)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


def _run(args: argparse.Namespace, level: int) -> int:
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
    except Exception as exc:
        # The CLI boundary: whatever a user can cause is one line. An exception nobody
        # expected is a bug, and its traceback is what a report needs: -vv prints it.
        if level >= 2:
            traceback.print_exc(file=sys.stderr)
        message = _aws_error_message(exc) or _os_error_message(exc)
        if message is None:
            message = (
                f"unexpected {type(exc).__name__} (a bug: please report it; rerun with -vv to "
                "see the traceback)"
            )
        return _fail(message)
    return code


class _OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return " ".join(text.split("\n", 1)[0].split()) if record.exc_info is None else text


def _configure_logging(level: int) -> logging.Handler:
    """Send the library's log records to stderr, one line each, at the chosen level."""
    handler = logging.StreamHandler(_Stderr())
    handler.setFormatter(_OneLineFormatter(f"{PROG}: %(levelname)s: %(name)s: %(message)s"))
    logger = logging.getLogger(LIBRARY_LOGGER)
    logger.setLevel(_log_level(level))
    handler.setLevel(_log_level(level))
    logger.addHandler(handler)
    return handler


class _Stderr:
    """``sys.stderr`` looked up at each write (tests and progress displays replace it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Warnings as one line, like errors (Python's format adds a source line)."""
    sys.stderr.write(f"{PROG}: warning: {message}\n")


def _os_error_message(exc: Exception) -> str | None:
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return f"cannot access{where}: {exc.strerror or type(exc).__name__}"
    return None


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
