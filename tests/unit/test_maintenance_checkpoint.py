"""The checkpoint file: atomic writes, resume, and refusal to resume another job."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption import ConfigurationError
from pynamodb_encryption.maintenance import Checkpoint

keys = st.fixed_dictionaries(
    {
        "pk": st.one_of(
            st.builds(lambda s: {"S": s}, st.text(min_size=1)),
            st.builds(lambda b: {"B": b}, st.binary(min_size=1)),
        ),
        "sk": st.builds(lambda n: {"N": str(n)}, st.integers()),
    }
)


def test_new_checkpoint_starts_every_segment_at_the_beginning(tmp_path: Path) -> None:
    cp = Checkpoint.open(tmp_path / "c.json", table_name="t", segments=3)
    assert not cp.resumed
    assert not cp.complete
    assert [cp.state(i).last_key for i in range(3)] == [None, None, None]
    assert not (tmp_path / "c.json").exists()  # no I/O until asked
    cp.save()
    assert (tmp_path / "c.json").exists()


@settings(max_examples=25, deadline=None)
@given(first=keys, second=keys)
def test_pages_are_persisted_and_reloaded(tmp_path_factory: Any, first: Any, second: Any) -> None:
    path = tmp_path_factory.mktemp("cp") / "c.json"
    cp = Checkpoint.open(path, table_name="orders", segments=2)
    cp.record_page(0, first, items=10)
    cp.record_page(1, second, items=7)
    cp.record_page(1, None, items=3)

    again = Checkpoint.open(path, table_name="orders", segments=2)
    assert again.resumed
    assert again.state(0).last_key == first
    assert not again.state(0).done
    assert (again.state(0).pages, again.state(0).items) == (1, 10)
    assert again.state(1).done
    assert again.state(1).last_key is None
    assert (again.state(1).pages, again.state(1).items) == (2, 10)
    assert not again.complete
    again.record_page(0, None, items=1)
    assert again.complete


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    cp = Checkpoint.open(tmp_path / "c.json", table_name="t", segments=1)
    for i in range(20):
        cp.record_page(0, {"pk": {"S": str(i)}}, items=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json"]
    assert json.loads((tmp_path / "c.json").read_text())["segments"][0]["pages"] == 20


def test_a_failed_write_keeps_the_previous_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.json"
    cp = Checkpoint.open(path, table_name="t", segments=1)
    cp.record_page(0, {"pk": {"S": "a"}}, items=1)
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        cp.record_page(0, {"pk": {"S": "b"}}, items=1)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json"]


def test_remove(tmp_path: Path) -> None:
    cp = Checkpoint.open(tmp_path / "c.json", table_name="t", segments=1)
    cp.save()
    cp.remove()
    assert not (tmp_path / "c.json").exists()
    cp.remove()  # idempotent


@pytest.mark.parametrize(
    ("table", "segments", "message"),
    [("other", 2, "another table"), ("t", 3, "2 segment")],
)
def test_refuses_another_job(tmp_path: Path, table: str, segments: int, message: str) -> None:
    Checkpoint.open(tmp_path / "c.json", table_name="t", segments=2).save()
    with pytest.raises(ConfigurationError, match=message):
        Checkpoint.open(tmp_path / "c.json", table_name=table, segments=segments)


@pytest.mark.parametrize(
    "content",
    ["", "{", "[]", '{"format": "x"}', '{"format": "pynamodb-encryption/reencrypt-checkpoint"}'],
)
def test_unreadable_file_is_a_configuration_error(tmp_path: Path, content: str) -> None:
    (tmp_path / "c.json").write_text(content)
    with pytest.raises(ConfigurationError, match="cannot be read"):
        Checkpoint.open(tmp_path / "c.json", table_name="t", segments=1)
