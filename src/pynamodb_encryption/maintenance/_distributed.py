"""Past one process: scan segments in worker processes, or as Apache Spark tasks.

The unit of work is a scan segment. Each one is run by `run_segment_task`, anywhere (a worker
process, a Spark executor), with its own checkpoint under a shared location: a folder, or an
``s3://bucket/prefix``. A checkpoint holds where the segment stands and its counters as of its
last fully processed page, so:

* a task that dies (killed, retried by Spark, or a restarted application) resumes its segment
  after the last recorded page; the page in flight is read again, and its items that were
  already rewritten are found current and left alone (nothing is written twice);
* the driver builds the report from the checkpoints, not from the tasks' return values, so a
  failed attempt's work is counted once.

Workers cannot share the driver's objects: they get a *job factory*, a picklable zero-argument
callable that returns ``(dynamodb_client, ReencryptJob)``. It runs in every worker, so it
should load keys from where they live (KMS, a key file, a secret store) rather than carry key
bytes in its closure.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from .. import _telemetry
from ..errors import ConfigurationError
from ._checkpoint import SegmentState, _decode_key, _encode_key
from ._job import (
    ItemFailure,
    ReencryptJob,
    ReencryptOptions,
    ReencryptProgress,
    ReencryptReport,
    SegmentFailure,
)
from ._runner import Runner

__all__ = [
    "JobFactory",
    "SegmentCheckpoints",
    "reencrypt_table_processes",
    "reencrypt_table_spark",
    "run_segment_task",
]

JobFactory = Callable[[], tuple[Any, ReencryptJob]]

_FORMAT = "pynamodb-encryption/reencrypt-segment"
_VERSION = 1
_COUNTERS = ("scanned", "reencrypted", "current", "skipped", "failed", "conflicts", "capacity")


class SegmentCheckpoints:
    """One checkpoint object per scan segment under ``location`` (a folder or ``s3://``).

    Each write replaces one whole object (an atomic rename on a filesystem, a single
    ``PutObject`` on S3), so a reader sees the previous or the new state, never a torn one.

    Args:
        location: folder path, or ``s3://bucket/prefix``.
        table_name: the job's table (a checkpoint of another table is refused).
        segments: total scan segments (a checkpoint of another split is refused).
        s3_client: boto3 S3 client for an ``s3://`` location (default: ``boto3.client("s3")``).
    """

    def __init__(
        self,
        location: str | os.PathLike[str],
        *,
        table_name: str,
        segments: int,
        s3_client: Any = None,
    ) -> None:
        text = os.fspath(location)
        self._table = table_name
        self._segments = segments
        self._s3: Any = None
        self._bucket = ""
        self._prefix = ""
        self._folder: Path | None = None
        if text.startswith("s3://"):
            bucket, _, prefix = text[len("s3://") :].partition("/")
            if not bucket:
                raise ConfigurationError("an s3:// checkpoint location needs a bucket")
            self._bucket = bucket
            self._prefix = prefix.rstrip("/") + "/" if prefix else ""
            if s3_client is None:
                import boto3

                s3_client = boto3.client("s3")
            self._s3 = s3_client
        else:
            self._folder = Path(text)
        self.location = text

    def _name(self, segment: int) -> str:
        return f"segment-{segment:05d}-of-{self._segments:05d}.json"

    # -- storage ----------------------------------------------------------------------------

    def _read(self, segment: int) -> bytes | None:
        name = self._name(segment)
        if self._folder is not None:
            try:
                return (self._folder / name).read_bytes()
            except FileNotFoundError:
                return None
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=self._prefix + name)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404"):
                return None
            raise
        data: bytes = response["Body"].read()
        return data

    def _write(self, segment: int, data: bytes) -> None:
        name = self._name(segment)
        if self._folder is None:
            self._s3.put_object(Bucket=self._bucket, Key=self._prefix + name, Body=data)
            return
        self._folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self._folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._folder / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _names(self) -> list[str]:
        if self._folder is not None:
            if not self._folder.is_dir():
                return []
            return [p.name for p in self._folder.glob("segment-*-of-*.json")]
        names: list[str] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix + "segment-"):
            names.extend(o["Key"][len(self._prefix) :] for o in page.get("Contents", []))
        return names

    def check_compatible(self) -> bool:
        """True when checkpoints of this job exist (a resume); raises if the location holds
        checkpoints of another segment count, which a resume would silently ignore."""
        names = self._names()
        suffix = f"-of-{self._segments:05d}.json"
        if any(not name.endswith(suffix) for name in names):
            raise ConfigurationError(
                f"{self.location} holds checkpoints written with another segment count: "
                "resume with the same segments, or use another location",
                table=self._table,
            )
        return any(self.load(int(name.split("-")[1]))[0].pages for name in names)

    def remove(self) -> None:
        """Delete every segment's checkpoint (the job finished)."""
        for segment in range(self._segments):
            name = self._name(segment)
            if self._folder is not None:
                (self._folder / name).unlink(missing_ok=True)
            else:
                self._s3.delete_object(Bucket=self._bucket, Key=self._prefix + name)

    # -- state ------------------------------------------------------------------------------

    def load(self, segment: int) -> tuple[SegmentState, dict[str, float], list[ItemFailure]]:
        """Where ``segment`` stands, its counters and its reported failures."""
        raw = self._read(segment)
        if raw is None:
            return SegmentState(), dict.fromkeys(_COUNTERS, 0), []
        try:
            data = json.loads(raw)
            if data.get("format") != _FORMAT or data.get("version") != _VERSION:
                raise ValueError("not a segment checkpoint of this version")
            table, total = data["table"], data["segments"]
            state = SegmentState(
                done=bool(data["done"]),
                last_key=None if data["last_key"] is None else _decode_key(data["last_key"]),
                pages=int(data["pages"]),
                items=int(data["items"]),
            )
            counters = {name: float(data["counters"][name]) for name in _COUNTERS}
            failures = [
                ItemFailure(
                    key=_decode_key(f["key"]), error=str(f["error"]), reason=str(f["reason"])
                )
                for f in data.get("failures", [])
            ]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigurationError(
                f"the checkpoint of segment {segment} cannot be read ({type(exc).__name__}); "
                f"delete {self.location} to start over"
            ) from exc
        if table != self._table or total != self._segments:
            raise ConfigurationError(
                f"{self.location} holds checkpoints of another job (table or segment count): "
                "resume with the same --segments, or use another location",
                table=self._table,
            )
        return state, counters, failures

    def save(
        self,
        segment: int,
        state: SegmentState,
        counters: Mapping[str, float],
        failures: list[ItemFailure],
    ) -> None:
        payload = {
            "format": _FORMAT,
            "version": _VERSION,
            "table": self._table,
            "segments": self._segments,
            "segment": segment,
            "done": state.done,
            "last_key": None if state.last_key is None else _encode_key(state.last_key),
            "pages": state.pages,
            "items": state.items,
            "counters": {name: counters[name] for name in _COUNTERS},
            "failures": [
                {"key": _encode_key(f.key), "error": f.error, "reason": f.reason} for f in failures
            ],
        }
        self._write(segment, json.dumps(payload).encode())


class _SegmentStore:
    """Adapts `SegmentCheckpoints` to the runner: each page record carries the counters."""

    def __init__(
        self,
        checkpoints: SegmentCheckpoints,
        segment: int,
        runner: Runner,
        max_failures: int,
    ) -> None:
        self._checkpoints = checkpoints
        self._segment = segment
        self._runner = runner
        self._max_failures = max_failures
        self.base_state, self.base_counters, self.base_failures = checkpoints.load(segment)

    def state(self, segment: int) -> SegmentState:
        return self.base_state

    def counters(self) -> tuple[dict[str, float], list[ItemFailure]]:
        stats = self._runner.stats
        with stats.lock:
            now = {
                "scanned": stats.scanned,
                "reencrypted": stats.reencrypted,
                "current": stats.current,
                "skipped": stats.skipped,
                "failed": stats.failed,
                "conflicts": stats.conflicts,
                "capacity": stats.capacity,
            }
            failures = (self.base_failures + stats.failures)[: self._max_failures]
        return {k: self.base_counters[k] + now[k] for k in _COUNTERS}, failures

    def record_page(self, segment: int, last_key: Mapping[str, Any] | None, *, items: int) -> None:
        old = self.base_state
        self.base_state = SegmentState(
            done=last_key is None,
            last_key=None if last_key is None else dict(last_key),
            pages=old.pages + 1,
            items=old.items + items,
        )
        counters, failures = self.counters()
        self._checkpoints.save(segment, self.base_state, counters, failures)


def run_segment_task(
    factory: JobFactory,
    segment: int,
    options: ReencryptOptions,
    location: str,
    *,
    s3_client: Any = None,
) -> dict[str, Any]:
    """Run one scan segment of ``options.segments`` to its end, checkpointing each page.

    What a worker process or a Spark task runs. Returns ``{"segment", "done", "error"}``;
    the counters are in the checkpoint.
    """
    client, job = factory()
    runner = Runner(client, job, options)
    runner.prepare()
    checkpoints = SegmentCheckpoints(
        location, table_name=job.table_name, segments=options.segments, s3_client=s3_client
    )
    store = _SegmentStore(checkpoints, segment, runner, options.max_reported_failures)
    done = runner.run_segment(segment, store)
    error = runner.segment_failures[0] if runner.segment_failures else None
    return {
        "segment": segment,
        "done": done,
        "error": None if error is None else [error.error, error.reason],
    }


def _check_options(options: ReencryptOptions) -> None:
    if options.dry_run:
        raise ConfigurationError("a dry run has no checkpoints: run it in one process")


def _task_options(options: ReencryptOptions, workers: int) -> ReencryptOptions:
    per_worker = max(1, workers)
    return dataclasses.replace(
        options,
        progress=None,
        checkpoint_path=None,
        max_items_per_second=(
            None
            if options.max_items_per_second is None
            else options.max_items_per_second / per_worker
        ),
        max_capacity_per_second=(
            None
            if options.max_capacity_per_second is None
            else options.max_capacity_per_second / per_worker
        ),
    )


def _aggregate(
    checkpoints: SegmentCheckpoints,
    job_table: str,
    options: ReencryptOptions,
    results: list[dict[str, Any]],
    *,
    started: float,
    resumed: bool,
) -> ReencryptReport:
    totals = dict.fromkeys(_COUNTERS, 0.0)
    failures: list[ItemFailure] = []
    complete = True
    for segment in range(options.segments):
        state, counters, segment_failures = checkpoints.load(segment)
        complete = complete and state.done
        for name in _COUNTERS:
            totals[name] += counters[name]
        failures.extend(segment_failures)
    segment_failures_out = tuple(
        SegmentFailure(segment=r["segment"], error=r["error"][0], reason=r["error"][1])
        for r in results
        if r.get("error")
    )
    report = ReencryptReport(
        table_name=job_table,
        dry_run=False,
        scanned=int(totals["scanned"]),
        reencrypted=int(totals["reencrypted"]),
        already_current=int(totals["current"]),
        skipped=int(totals["skipped"]),
        failed=int(totals["failed"]),
        conflicts_retried=int(totals["conflicts"]),
        failures=tuple(failures[: options.max_reported_failures]),
        segment_failures=segment_failures_out,
        elapsed_seconds=time.monotonic() - started,
        consumed_capacity=totals["capacity"],
        complete=complete,
        resumed=resumed,
    )
    if complete:
        checkpoints.remove()
    _telemetry.job_summary(report)
    return report


def reencrypt_table_processes(
    factory: JobFactory,
    options: ReencryptOptions | None = None,
    *,
    processes: int,
    checkpoint_location: str | os.PathLike[str] | None = None,
) -> ReencryptReport:
    """`reencrypt_table` with the scan segments spread over ``processes`` worker processes.

    The job is CPU-bound in the client once the table's capacity allows: one process runs
    about one core's worth of items. Use ``options.segments`` >= ``processes`` (a few per
    process balances uneven segments). Each worker calls ``factory()`` once per segment.

    Args:
        factory: picklable zero-argument callable returning ``(dynamodb_client, job)``
            (a module-level function or a ``functools.partial`` of one).
        options: as for `reencrypt_table`; rate caps are split evenly between processes.
        processes: worker processes.
        checkpoint_location: folder for the per-segment checkpoints; a resumed run needs
            the same location and ``options.segments``. Default: a temporary folder (no
            resume after a crash).
    """
    options = options or ReencryptOptions()
    if processes < 1:
        raise ConfigurationError("processes must be at least 1")
    _check_options(options)
    if options.segments < processes:
        options = dataclasses.replace(options, segments=processes)
    started = time.monotonic()
    client, job = factory()
    Runner(client, job, options).prepare()  # fail fast on a bad job, before any worker
    with tempfile.TemporaryDirectory(prefix="reencrypt-") as scratch:
        location = os.fspath(checkpoint_location) if checkpoint_location is not None else scratch
        checkpoints = SegmentCheckpoints(
            location, table_name=job.table_name, segments=options.segments
        )
        resumed = checkpoints.check_compatible()
        task_options = _task_options(options, processes)
        with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn")) as pool:
            futures = [
                pool.submit(run_segment_task, factory, segment, task_options, location)
                for segment in range(options.segments)
            ]
            if options.progress is not None:
                _watch(futures, checkpoints, options, started)
            results = [future.result() for future in futures]
        report = _aggregate(
            checkpoints, job.table_name, options, results, started=started, resumed=resumed
        )
    if options.progress is not None:
        options.progress(
            ReencryptProgress(
                scanned=report.scanned,
                reencrypted=report.reencrypted,
                already_current=report.already_current,
                skipped=report.skipped,
                failed=report.failed,
                elapsed_seconds=report.elapsed_seconds,
                estimated_total=None,
            )
        )
    return report


#: How often the driver of worker processes adds up the segments' checkpoints for the
#: progress callback (each worker checkpoints after every page).
PROGRESS_POLL_SECONDS = 2.0


def _watch(
    futures: list[Future[dict[str, Any]]],
    checkpoints: SegmentCheckpoints,
    options: ReencryptOptions,
    started: float,
) -> None:
    """Until the workers are done, give the progress callback the counters their
    checkpoints hold (what the CLI's bar and status lines show)."""
    progress = options.progress
    assert progress is not None
    while True:
        _, pending = wait(futures, timeout=PROGRESS_POLL_SECONDS, return_when=FIRST_EXCEPTION)
        if not pending or any(f.done() and f.exception() is not None for f in futures):
            return
        totals = dict.fromkeys(_COUNTERS, 0.0)
        try:
            for segment in range(options.segments):
                _, counters, _ = checkpoints.load(segment)
                for name in _COUNTERS:
                    totals[name] += counters[name]
        except ConfigurationError:
            continue  # a checkpoint being replaced: the next poll reads it
        progress(
            ReencryptProgress(
                scanned=int(totals["scanned"]),
                reencrypted=int(totals["reencrypted"]),
                already_current=int(totals["current"]),
                skipped=int(totals["skipped"]),
                failed=int(totals["failed"]),
                elapsed_seconds=time.monotonic() - started,
                estimated_total=None,
            )
        )


def reencrypt_table_spark(
    spark: Any,
    factory: JobFactory,
    options: ReencryptOptions | None = None,
    *,
    checkpoint_location: str | os.PathLike[str],
    s3_client_factory: Callable[[], Any] | None = None,
) -> ReencryptReport:
    """`reencrypt_table` on Apache Spark: one task per scan segment.

    Every task runs `run_segment_task` on an executor and checkpoints its segment under
    ``checkpoint_location`` (a folder every executor and the driver see, or ``s3://``).
    Spark retries a failed task; the retry, or a restarted application given the same
    location and ``options.segments``, resumes each segment from its checkpoint. The driver
    reads the checkpoints to build the report, and removes them once every segment is done.

    Args:
        spark: a ``pyspark.sql.SparkSession``.
        factory: zero-argument callable returning ``(dynamodb_client, job)``, shipped to the
            executors (pickled by Spark's cloudpickle).
        options: as for `reencrypt_table`; ``segments`` is the number of Spark tasks
            (default: twice Spark's default parallelism). Rate caps are split evenly between
            the default parallelism's concurrent tasks.
        checkpoint_location: shared folder path or ``s3://bucket/prefix``.
        s3_client_factory: builds the S3 client for an ``s3://`` location, on the driver
            and on every executor (default: ``boto3.client("s3")``).
    """
    options = options or ReencryptOptions()
    context = spark.sparkContext
    if str(context.getConf().get("spark.speculation", "false")).lower() == "true":
        # Two live attempts of one segment would both write its checkpoint (the data stays
        # safe, every write being conditional, but the counts would not).
        raise ConfigurationError("turn spark.speculation off for the re-encryption job")
    _check_options(options)
    parallelism = max(1, int(context.defaultParallelism))
    if options.segments == 1:
        options = dataclasses.replace(options, segments=2 * parallelism)
    started = time.monotonic()
    client, job = factory()
    Runner(client, job, options).prepare()
    location = os.fspath(checkpoint_location)
    s3_client = s3_client_factory() if s3_client_factory is not None else None
    checkpoints = SegmentCheckpoints(
        location, table_name=job.table_name, segments=options.segments, s3_client=s3_client
    )
    resumed = checkpoints.check_compatible()
    task_options = _task_options(options, parallelism)

    def task(segment: int) -> dict[str, Any]:
        s3 = s3_client_factory() if s3_client_factory is not None else None
        return run_segment_task(factory, segment, task_options, location, s3_client=s3)

    segments = list(range(options.segments))
    results = context.parallelize(segments, len(segments)).map(task).collect()
    return _aggregate(
        checkpoints, job.table_name, options, results, started=started, resumed=resumed
    )
