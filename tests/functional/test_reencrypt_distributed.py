"""The re-encryption job past one process: worker processes, and Apache Spark in local mode.

Each worker builds its client and job with a picklable factory (module-level function here).
Every successful write is logged (with the keys it wrote) to a file shared by all workers, so
the tests can prove that after a worker was killed mid-segment and the segment resumed from
its checkpoint, every item was written exactly once: none lost, none rewritten.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_reencrypt import assert_all_readable, encryptor, seed_table

from pynamodb_encryption import (
    AttributeActions,
    CryptoAction,
    StaticMaterialsProvider,
    SymmetricKey,
)
from pynamodb_encryption.maintenance import (
    CryptoConfig,
    ReencryptJob,
    ReencryptOptions,
    ReencryptProgress,
    WriteMode,
    reencrypt_table_processes,
    reencrypt_table_spark,
)

KEYS = {
    "old": (bytes(range(32)), bytes(range(32, 64))),
    "new": (bytes(range(64, 96)), bytes(range(96, 128))),
}


def provider(side: str) -> StaticMaterialsProvider:
    aes, mac = KEYS[side]
    return StaticMaterialsProvider(
        encryption_key=SymmetricKey(aes, "AES"), signing_key=SymmetricKey(mac, "HmacSHA256")
    )


class _WriteLog:
    """botocore hooks: log the keys of every successful write; optionally die after N."""

    def __init__(self, folder: str, kill_after: int | None, every_attempt_of: int | None) -> None:
        self.folder = folder
        self.kill_after = kill_after
        self.every_attempt_of = every_attempt_of
        self.pending: list[str] = []
        self.writes = 0

    def _marker(self) -> str | None:
        """The marker of the kill to make here, or None to make none."""
        if self.every_attempt_of is None:
            return "killed"  # only one worker dies, once, whichever gets there first
        from pyspark import TaskContext

        context = TaskContext.get()
        if context is None or context.partitionId() != self.every_attempt_of:
            return None
        return f"killed-attempt-{context.attemptNumber()}"  # every attempt of one task

    def before(self, params: dict[str, Any], **kwargs: Any) -> None:
        # The job's writes: UpdateItem of the changed attributes (PutItem past DynamoDB's
        # expression limit), or the same as Update/Put entries of a transaction.
        if "TransactItems" in params:
            items = [
                a["Put"]["Item"] if "Put" in a else a["Update"]["Key"]
                for a in params["TransactItems"]
            ]
        else:
            items = [params.get("Item") or params["Key"]]
        self.pending = [f"{i['pk']['S']}/{i['sk']['N']}" for i in items]
        if self.kill_after is not None and self.writes >= self.kill_after:
            marker = self._marker()
            if marker is None:
                return
            try:
                os.close(os.open(Path(self.folder) / marker, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                return
            os._exit(3)  # a kill: no cleanup, no exception handler, mid-page

    def after(self, http_response: Any, **kwargs: Any) -> None:
        if http_response.status_code == 200 and self.pending:
            with open(Path(self.folder) / "writes.log", "a", encoding="utf-8") as log:
                log.write("".join(f"{key}\n" for key in self.pending))
            self.writes += 1
        self.pending = []


def make_job(
    endpoint: str,
    table: str,
    folder: str,
    kill_after: int | None,
    every_attempt_of: int | None = None,
) -> tuple[Any, ReencryptJob]:
    """The job factory (runs in every worker)."""
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    log = _WriteLog(folder, kill_after, every_attempt_of)
    for operation in ("PutItem", "UpdateItem", "TransactWriteItems"):
        client.meta.events.register(f"before-parameter-build.dynamodb.{operation}", log.before)
        client.meta.events.register(f"after-call.dynamodb.{operation}", log.after)
    return client, ReencryptJob(
        table_name=table,
        old=CryptoConfig(materials_provider=provider("old")),
        new=CryptoConfig(materials_provider=provider("new")),
    )


#: ``extra`` is an attribute the application may write without re-signing.
UNSIGNED_EXTRA = AttributeActions(attribute_actions={"extra": CryptoAction.DO_NOTHING})


def make_job_with_app_write(
    endpoint: str, table: str, folder: str, target: tuple[str, str]
) -> tuple[Any, ReencryptJob]:
    """The job factory of a worker before whose transaction carrying ``target`` the
    application adds an unsigned attribute to that item (once across all workers)."""
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")

    def app_write(params: dict[str, Any], **kwargs: Any) -> None:
        keys = [
            (key["pk"]["S"], key["sk"]["N"])
            for key in (
                a["Put"]["Item"] if "Put" in a else a["Update"]["Key"]
                for a in params["TransactItems"]
            )
        ]
        if target not in keys:
            return
        try:
            os.close(os.open(Path(folder) / "app-wrote", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return
        client.update_item(
            TableName=table,
            Key={"pk": {"S": target[0]}, "sk": {"N": target[1]}},
            UpdateExpression="SET extra = :v",
            ExpressionAttributeValues={":v": {"S": "added by the app"}},
        )

    client.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", app_write)
    return client, ReencryptJob(
        table_name=table,
        old=CryptoConfig(materials_provider=provider("old"), attribute_actions=UNSIGNED_EXTRA),
        new=CryptoConfig(materials_provider=provider("new"), attribute_actions=UNSIGNED_EXTRA),
    )


def written(folder: Path) -> list[str]:
    log = folder / "writes.log"
    return log.read_text().split() if log.exists() else []


@pytest.fixture
def range_table(make_table: Any) -> str:
    return make_table(range_key=True)


@pytest.fixture
def ddblocal_only(ddb_backend: str) -> None:
    # Worker processes and Spark executors are slow to start: one backend is enough here,
    # the writes themselves are covered on both by the other re-encryption tests.
    if ddb_backend != "ddblocal":
        pytest.skip("run against DynamoDB Local only")


@pytest.mark.usefixtures("ddblocal_only")
def test_worker_killed_mid_segment_then_resumed_writes_every_item_once(
    dynamodb_client: Any, ddb_endpoint: str, range_table: str, tmp_path: Path
) -> None:
    from concurrent.futures.process import BrokenProcessPool

    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, provider("old")))
    checkpoints = tmp_path / "checkpoints"
    options = ReencryptOptions(segments=4, page_size=5)
    killing = functools.partial(make_job, ddb_endpoint, range_table, str(tmp_path), 7)

    # One worker: when a worker dies the pool terminates the others, possibly between a write
    # and its log line, which would blur the count (not the data) below.
    with pytest.raises(BrokenProcessPool):
        reencrypt_table_processes(killing, options, processes=1, checkpoint_location=checkpoints)
    assert (tmp_path / "killed").exists()
    before = written(tmp_path)
    assert 0 < len(before) < len(expected)
    assert list(checkpoints.glob("segment-*-of-00004.json"))

    report = reencrypt_table_processes(
        killing, options, processes=2, checkpoint_location=checkpoints
    )
    assert report.ok
    assert report.resumed
    assert report.scanned == len(expected)
    assert report.reencrypted + report.already_current == len(expected)
    writes = written(tmp_path)
    assert sorted(writes) == sorted(set(writes))  # no item written twice
    assert len(writes) == len(expected)  # and none left out
    assert not list(checkpoints.glob("segment-*"))  # removed once complete
    new_reader = encryptor(range_table, provider("new"))
    assert_all_readable(dynamodb_client, range_table, new_reader, expected)


@pytest.mark.usefixtures("ddblocal_only")
def test_processes_with_transactions(
    dynamodb_client: Any, ddb_endpoint: str, range_table: str, tmp_path: Path
) -> None:
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, provider("old")))
    factory = functools.partial(make_job, ddb_endpoint, range_table, str(tmp_path), None)
    report = reencrypt_table_processes(
        factory, ReencryptOptions(segments=3, write_mode=WriteMode.TRANSACT), processes=2
    )
    assert report.ok
    assert (report.scanned, report.reencrypted) == (len(expected), len(expected))
    assert sorted(written(tmp_path)) == sorted(f"{pk}/{sk}" for pk, sk in expected)
    new_reader = encryptor(range_table, provider("new"))
    assert_all_readable(dynamodb_client, range_table, new_reader, expected)


# ---------------------------------------------------------------------------------------------
# Apache Spark, local mode


@pytest.mark.usefixtures("ddblocal_only")
def test_processes_report_progress_while_the_workers_run(
    dynamodb_client: Any,
    ddb_endpoint: str,
    range_table: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The CLI's bar and status lines take these snapshots: with --processes they come from the
    # segments' checkpoints while the workers run, not only once at the end.
    from pynamodb_encryption.maintenance import _distributed

    monkeypatch.setattr(_distributed, "PROGRESS_POLL_SECONDS", 0.05)
    expected = seed_table(
        dynamodb_client, range_table, encryptor(range_table, provider("old")), count=120
    )
    snapshots: list[ReencryptProgress] = []
    factory = functools.partial(make_job, ddb_endpoint, range_table, str(tmp_path), None)
    report = reencrypt_table_processes(
        factory,
        ReencryptOptions(segments=2, page_size=5, progress=snapshots.append),
        processes=2,
    )
    assert report.ok
    scanned = [s.scanned for s in snapshots]
    assert scanned == sorted(scanned)  # never backwards
    assert any(0 < n < len(expected) for n in scanned[:-1])  # seen while running
    last = snapshots[-1]
    assert (last.scanned, last.reencrypted) == (report.scanned, report.reencrypted)


@pytest.mark.usefixtures("ddblocal_only")
def test_processes_keep_an_unsigned_write_slipped_in_before_a_transaction(
    dynamodb_client: Any, ddb_endpoint: str, range_table: str, tmp_path: Path
) -> None:
    # Worker processes run the same writes as one process: the transaction's Update entries
    # send only the changed attributes, so an attribute added meanwhile is not dropped.
    writer = encryptor(range_table, provider("old"), UNSIGNED_EXTRA)
    expected = seed_table(dynamodb_client, range_table, writer, count=40)
    target = next(iter(expected))
    factory = functools.partial(
        make_job_with_app_write, ddb_endpoint, range_table, str(tmp_path), target
    )
    report = reencrypt_table_processes(
        factory, ReencryptOptions(segments=2, write_mode=WriteMode.TRANSACT), processes=2
    )
    assert (tmp_path / "app-wrote").exists()
    assert report.ok
    assert (report.scanned, report.reencrypted) == (len(expected), len(expected))
    expected[target] = {**expected[target], "extra": {"S": "added by the app"}}
    new_reader = encryptor(range_table, provider("new"), UNSIGNED_EXTRA)
    assert_all_readable(dynamodb_client, range_table, new_reader, expected)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pyspark = pytest.importorskip("pyspark")
    from pyspark import cloudpickle
    from pyspark.sql import SparkSession

    # Executors unpickle the factory: ship this module's functions by value, as a job script's.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    saved = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        # local[2, 2]: two cores, and a failed task is retried once (plain local[2] never
        # retries), which is what a cluster does.
        SparkSession.builder.master("local[2,2]")
        .appName("pynamodb-encryption-reencrypt-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    assert pyspark.__version__
    yield session
    session.stop()
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    if saved is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = saved


@pytest.mark.usefixtures("ddblocal_only")
def test_spark_task_killed_mid_segment_is_retried_and_writes_every_item_once(
    spark: Any, dynamodb_client: Any, ddb_endpoint: str, range_table: str, tmp_path: Path
) -> None:
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, provider("old")))
    checkpoints = tmp_path / "checkpoints"
    factory = functools.partial(make_job, ddb_endpoint, range_table, str(tmp_path), 7)

    report = reencrypt_table_spark(
        spark, factory, ReencryptOptions(segments=4, page_size=5), checkpoint_location=checkpoints
    )

    assert (tmp_path / "killed").exists()  # one Python worker died mid-segment
    assert report.ok, report.to_dict()
    assert report.scanned == len(expected)
    assert report.reencrypted + report.already_current == len(expected)
    writes = written(tmp_path)
    assert sorted(writes) == sorted(set(writes))
    assert len(writes) == len(expected)
    new_reader = encryptor(range_table, provider("new"))
    assert_all_readable(dynamodb_client, range_table, new_reader, expected)

    # A restarted application over the finished table finds every item current.
    again = reencrypt_table_spark(
        spark,
        functools.partial(make_job, ddb_endpoint, range_table, str(tmp_path), None),
        ReencryptOptions(segments=4, write_mode=WriteMode.TRANSACT),
        checkpoint_location=checkpoints,
    )
    assert (again.reencrypted, again.already_current) == (0, len(expected))
    assert len(written(tmp_path)) == len(expected)
    assert json.dumps(again.to_dict())


@pytest.mark.usefixtures("ddblocal_only")
def test_cli_processes_and_transactions(
    dynamodb_client: Any, ddb_endpoint: str, range_table: str, tmp_path: Path
) -> None:
    from test_reencrypt_cli import run_cli, write_static_config

    old_config, old = write_static_config(tmp_path, "old")
    new_config, new = write_static_config(tmp_path, "new")
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=40)
    result = run_cli(
        "--table", range_table,
        "--old-provider-config", str(old_config),
        "--new-provider-config", str(new_config),
        "--endpoint-url", ddb_endpoint,
        "--processes", "2",
        "--segments", "3",
        "--write-mode", "transact",
        "--checkpoint", str(tmp_path / "checkpoints"),
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["scanned"], report["reencrypted"], report["complete"]) == (40, 40, True)
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, new), expected)


@pytest.mark.usefixtures("ddblocal_only")
def test_spark_submit_entry_point(
    spark: Any,
    dynamodb_client: Any,
    ddb_endpoint: str,
    range_table: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """examples/spark_reencrypt.py, as spark-submit runs it (with this module's session)."""
    import runpy

    from test_reencrypt_cli import REPO_ROOT, write_static_config

    old_config, old = write_static_config(tmp_path, "old")
    new_config, new = write_static_config(tmp_path, "new")
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=30)
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "spark_reencrypt.py",
            "--table", range_table,
            "--old-provider-config", str(old_config),
            "--new-provider-config", str(new_config),
            "--checkpoint-location", str(tmp_path / "checkpoints"),
            "--segments", "3",
            "--write-mode", "transact",
            "--endpoint-url", ddb_endpoint,
            "--region", "us-east-1",
        ],
    )  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(REPO_ROOT / "examples" / "spark_reencrypt.py"), run_name="__main__")
    assert exit_info.value.code == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["scanned"], report["reencrypted"], report["complete"]) == (30, 30, True)
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, new), expected)


def test_segment_checkpoints_on_s3(kms_endpoint: str) -> None:
    """The s3:// location (moto's S3, the same server as the KMS tests)."""
    import boto3

    from pynamodb_encryption import ConfigurationError
    from pynamodb_encryption.maintenance import ItemFailure, SegmentCheckpoints, SegmentState

    s3 = boto3.client("s3", endpoint_url=kms_endpoint, region_name="us-east-1")
    bucket = f"checkpoints-{os.getpid()}"
    s3.create_bucket(Bucket=bucket)
    store = SegmentCheckpoints(
        f"s3://{bucket}/jobs/orders", table_name="orders", segments=2, s3_client=s3
    )
    assert store.load(1) == (SegmentState(), dict.fromkeys(store_counters(), 0), [])
    key = {"pk": {"S": "p1"}, "sk": {"B": b"\x00\xff"}}
    counters = dict.fromkeys(store_counters(), 0.0) | {"scanned": 5.0, "reencrypted": 4.0}
    failure = ItemFailure(key=key, error="DecryptionError", reason="no value in here")
    store.save(1, SegmentState(last_key=key, pages=1, items=5), counters, [failure])
    assert store.load(1) == (SegmentState(last_key=key, pages=1, items=5), counters, [failure])
    assert store.check_compatible()
    with pytest.raises(ConfigurationError, match="another segment count"):
        SegmentCheckpoints(
            f"s3://{bucket}/jobs/orders", table_name="orders", segments=3, s3_client=s3
        ).check_compatible()
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="jobs/orders/")["Contents"]
    assert [o["Key"] for o in listed] == ["jobs/orders/segment-00001-of-00002.json"]
    with pytest.raises(ConfigurationError, match="another job"):
        SegmentCheckpoints(
            f"s3://{bucket}/jobs/orders", table_name="other", segments=2, s3_client=s3
        ).load(1)
    store.remove()
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="jobs/orders/")


def store_counters() -> tuple[str, ...]:
    from pynamodb_encryption.maintenance._distributed import _COUNTERS

    return _COUNTERS


@pytest.mark.usefixtures("ddblocal_only")
def test_spark_application_that_failed_is_restarted_and_resumes(
    spark: Any, dynamodb_client: Any, ddb_endpoint: str, range_table: str, tmp_path: Path
) -> None:
    """Every attempt of one task dies mid-segment: Spark aborts the job. Running the
    application again with the same checkpoint location finishes it, each item written once."""
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, provider("old")))
    checkpoints = tmp_path / "checkpoints"
    options = ReencryptOptions(segments=4, page_size=5)
    doomed = functools.partial(make_job, ddb_endpoint, range_table, str(tmp_path), 7, 2)

    with pytest.raises(Exception, match=r"(?i)abort|fail"):
        reencrypt_table_spark(spark, doomed, options, checkpoint_location=checkpoints)
    assert sorted(p.name for p in tmp_path.glob("killed-*")) == [
        "killed-attempt-0",
        "killed-attempt-1",
    ]
    saved = json.loads((checkpoints / "segment-00002-of-00004.json").read_text())
    assert not saved["done"]
    assert saved["pages"] >= 1

    restarted = functools.partial(make_job, ddb_endpoint, range_table, str(tmp_path), None)
    report = reencrypt_table_spark(spark, restarted, options, checkpoint_location=checkpoints)
    assert report.ok, report.to_dict()
    assert report.resumed
    assert report.scanned == len(expected)
    writes = written(tmp_path)
    assert sorted(writes) == sorted(set(writes))
    assert len(writes) == len(expected)
    new_reader = encryptor(range_table, provider("new"))
    assert_all_readable(dynamodb_client, range_table, new_reader, expected)
