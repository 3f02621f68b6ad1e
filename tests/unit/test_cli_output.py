"""Rendering helpers of the CLI and the top-level parser."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pynamodb_encryption.cli import main
from pynamodb_encryption.cli._main import SUBCOMMAND_MODULES, build_parser
from pynamodb_encryption.cli._metastore import _ranges
from pynamodb_encryption.cli._output import (
    Progress,
    describe_value,
    jsonable_item,
    render_table,
)


def test_table_columns_line_up() -> None:
    text = render_table(("a", "long header"), [["x", "y"], ["longer cell", ""]])
    lines = text.splitlines()
    assert len({len(line) for line in lines}) == 1
    assert lines[1].startswith("| a ")
    assert "| longer cell |" in text


@given(st.binary(min_size=0, max_size=200))
def test_binary_values_show_size_and_a_short_prefix_only(data: bytes) -> None:
    text = describe_value({"B": data})
    assert text.startswith(f"<{len(data)} bytes>")
    if len(data) > 12:
        assert data.hex() not in text


def test_describe_value_types() -> None:
    assert describe_value({"S": "x"}) == '"x"'
    assert describe_value({"N": "12.5"}) == "12.5"
    assert describe_value({"BOOL": True}) == "true"
    assert describe_value({"NULL": True}) == "null"
    assert describe_value({"L": [{"S": "a"}]}) == 'L [{"S": "a"}]'
    assert describe_value({"S": "y" * 500}).endswith("...")


def test_jsonable_item_base64_encodes_binary() -> None:
    item = {"b": {"B": b"\x00\x01"}, "m": {"M": {"bs": {"BS": [b"\xff"]}}}}
    assert json.loads(json.dumps(jsonable_item(item))) == {
        "b": {"B": "AAE="},
        "m": {"M": {"bs": {"BS": ["/w=="]}}},
    }


@given(st.sets(st.integers(min_value=0, max_value=60)))
def test_version_ranges_expand_back_to_the_versions(versions: set[int]) -> None:
    text = _ranges(sorted(versions))
    expanded: set[int] = set()
    for part in filter(None, text.split(", ")):
        low, _, high = part.partition("-")
        expanded.update(range(int(low), int(high or low) + 1))
    assert expanded == versions


def test_progress_draws_only_on_a_terminal() -> None:
    silent = io.StringIO()
    progress = Progress("items", 3, stream=silent)
    for _ in progress.track(range(3)):
        pass
    assert silent.getvalue() == ""
    assert progress.done == 3
    shown = io.StringIO()
    forced = Progress("items", 2, stream=shown, enabled=True)
    forced.advance(2)
    forced.close()
    assert "2/2 items" in shown.getvalue()


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"demo", "inspect", "metastore", "keygen"} <= set(commands)
    assert len(SUBCOMMAND_MODULES) >= 5
    for argv in (
        ["--help"],
        ["demo", "--help"],
        ["inspect", "--help"],
        ["metastore", "create", "--help"],
        ["metastore", "new-version", "--help"],
        ["metastore", "list", "--help"],
        ["keygen", "aes", "--help"],
        ["keygen", "rsa", "--help"],
        ["reencrypt", "--help"],
    ):
        with pytest.raises(SystemExit) as excinfo:
            main(argv)
        assert excinfo.value.code == 0
        assert "usage: pynamodb-encryption" in capsys.readouterr().out


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main([])
    assert excinfo.value.code == 2
    assert "required" in capsys.readouterr().err


def test_key_options_never_take_key_values_on_the_command_line() -> None:
    """Keys come from files or environment variables: no option accepts key material."""
    parser = build_parser()
    seen: list[str] = []

    def walk(p: object) -> None:
        for action in p._actions:  # type: ignore[attr-defined]
            seen.extend(action.option_strings)
            for sub in (
                (getattr(action, "choices", None) or {}).values()
                if isinstance(getattr(action, "choices", None), dict)
                else ()
            ):
                walk(sub)

    walk(parser)
    assert "--provider-config" in seen
    forbidden = [o for o in seen if any(w in o for w in ("secret", "-key=", "material-bytes"))]
    assert not forbidden
    assert not [o for o in seen if o.endswith("-key") and o != "--key"]


def test_client_kwargs_for_local_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    from pynamodb_encryption.cli._common import client_kwargs

    embedded = client_kwargs("http://127.0.0.1:1234", None, embedded=True)
    assert embedded["endpoint_url"] == "http://127.0.0.1:1234"
    assert embedded["region_name"] == "us-east-1"
    assert embedded["aws_access_key_id"] == "local"
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    loopback = client_kwargs("http://localhost:8000", "eu-west-1")
    assert loopback["region_name"] == "eu-west-1"
    assert "aws_access_key_id" in loopback  # dummy credentials for a local server only
    remote = client_kwargs("https://dynamodb.eu-west-1.amazonaws.com", "eu-west-1")
    assert "aws_access_key_id" not in remote  # never invented for a real endpoint
