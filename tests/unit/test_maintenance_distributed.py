"""Checks of the distributed runners that need no server (the rest is functional)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pynamodb_encryption import ConfigurationError
from pynamodb_encryption.maintenance import (
    ReencryptOptions,
    SegmentCheckpoints,
    reencrypt_table_processes,
    reencrypt_table_spark,
)


def never_called() -> tuple[Any, Any]:
    raise AssertionError("the factory must not run")


def test_spark_speculation_is_refused_before_anything_runs() -> None:
    conf = {"spark.speculation": "true"}
    spark = SimpleNamespace(sparkContext=SimpleNamespace(getConf=lambda: conf))
    with pytest.raises(ConfigurationError, match="speculation"):
        reencrypt_table_spark(spark, never_called, checkpoint_location="/tmp/unused")


def test_bad_process_counts_and_dry_runs_are_refused(tmp_path: Any) -> None:
    with pytest.raises(ConfigurationError, match="processes"):
        reencrypt_table_processes(never_called, processes=0)
    with pytest.raises(ConfigurationError, match="dry run"):
        reencrypt_table_processes(never_called, ReencryptOptions(dry_run=True), processes=2)
    spark = SimpleNamespace(sparkContext=SimpleNamespace(getConf=dict))
    with pytest.raises(ConfigurationError, match="dry run"):
        reencrypt_table_spark(
            spark, never_called, ReencryptOptions(dry_run=True), checkpoint_location="/tmp/x"
        )
    with pytest.raises(ConfigurationError, match="bucket"):
        SegmentCheckpoints("s3:///prefix", table_name="t", segments=1, s3_client=object())


def test_local_checkpoints_round_trip_and_refuse_another_job(tmp_path: Any) -> None:
    from pynamodb_encryption.maintenance import SegmentState

    store = SegmentCheckpoints(tmp_path / "c", table_name="t", segments=3)
    state, counters, failures = store.load(2)
    assert (state, failures) == (SegmentState(), [])
    counters["scanned"] = 7
    store.save(2, SegmentState(done=True, pages=2, items=7), counters, [])
    assert store.load(2) == (SegmentState(done=True, pages=2, items=7), counters, [])
    assert store.check_compatible()
    with pytest.raises(ConfigurationError, match="another segment count"):
        SegmentCheckpoints(tmp_path / "c", table_name="t", segments=4).check_compatible()
    with pytest.raises(ConfigurationError, match="another job"):
        SegmentCheckpoints(tmp_path / "c", table_name="other", segments=3).load(2)
    (tmp_path / "c" / "segment-00001-of-00003.json").write_text("{not json")
    with pytest.raises(ConfigurationError, match="segment 1"):
        store.load(1)
    store.remove()
    assert not list((tmp_path / "c").glob("segment-*"))
