"""Every example in a ``--help`` text is a command line the parser accepts."""

from __future__ import annotations

import argparse
import shlex

import pytest

from pynamodb_encryption.cli._main import PROG, build_parser


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found.extend(_parsers(sub))
    return found


def help_examples() -> list[str]:
    """Command lines in the epilogs and descriptions (``\\`` continues a line)."""
    examples = []
    for parser in _parsers(build_parser()):
        text = "\n".join(t for t in (parser.description, parser.epilog) if t)
        pending = ""
        for raw in text.splitlines():
            line = raw.strip()
            if pending:
                pending += " " + line.rstrip("\\").strip()
                if not line.endswith("\\"):
                    examples.append(pending)
                    pending = ""
            elif f"{PROG} " in line:
                line = line[line.index(f"{PROG} ") :]
                if line.endswith("\\"):
                    pending = line.rstrip("\\").strip()
                else:
                    examples.append(line)
    return examples


def test_there_are_examples_to_check() -> None:
    commands = {shlex.split(e)[1] for e in help_examples()}
    assert {"reencrypt", "inspect"} <= commands


@pytest.mark.parametrize("example", help_examples())
def test_help_example_parses(example: str) -> None:
    argv = shlex.split(example)[1:]
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse reports a bad example by exiting
        pytest.fail(f"{example!r} does not parse (exit {exc.code})")
    assert callable(args.func)


@pytest.mark.parametrize(
    ("flags", "shown"),
    [
        ([], {"WARNING", "ERROR"}),
        (["-v"], {"INFO", "WARNING", "ERROR"}),
        (["-vv"], {"DEBUG", "INFO", "WARNING", "ERROR"}),
        (["-q"], {"ERROR"}),
    ],
)
def test_verbosity_flags_tune_the_library_logger(
    flags: list[str],
    shown: set[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import logging

    from pynamodb_encryption.cli import _keygen, main

    def logs(args: object) -> int:
        logger = logging.getLogger("pynamodb_encryption.providers.example")
        for level in ("DEBUG", "INFO", "WARNING", "ERROR"):
            logger.log(getattr(logging, level), "%s line\nsecond line", level)
        return 0

    monkeypatch.setattr(_keygen, "run", logs)
    before = logging.getLogger("pynamodb_encryption").level
    # The flags work before and after the subcommand.
    for argv in ([*flags, "keygen", "aes", "--stdout"], ["keygen", "aes", "--stdout", *flags]):
        assert main(argv) == 0
        err = capsys.readouterr().err
        printed = {line.split(": ")[1] for line in err.splitlines()}
        assert printed == shown, err
        assert "second line" not in err  # one line per record
    assert logging.getLogger("pynamodb_encryption").level == before
