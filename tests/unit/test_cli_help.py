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
