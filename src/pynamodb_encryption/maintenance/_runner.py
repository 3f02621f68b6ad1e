"""The job's runner: scan segments page by page, hand items to the writer, checkpoint pages.

A segment's progress is recorded only after every item of a page is settled (rewritten,
current, skipped or reported), so a crash redoes at most the page in flight, which the
decisions (current items are left alone) and the write conditions make harmless.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from .. import _telemetry
from ..core import ItemEncryptor, ItemEncryptorProtocol
from ..errors import ConfigurationError, PynamoDBEncryptionError
from ._checkpoint import Checkpoint, SegmentState
from ._decide import Decider, NoProvider
from ._formats import dbesdk_side
from ._job import (
    CryptoConfig,
    ReencryptJob,
    ReencryptOptions,
    ReencryptProgress,
    ReencryptReport,
    SegmentFailure,
    UnsignedItemPolicy,
    WriteMode,
)
from ._ratelimit import TokenBucket
from ._retries import backoff, error_code, retryable
from ._writes import MAX_TRANSACTION_ITEMS, ItemWriter, Stats

__all__ = ["Runner", "SegmentProgressStore", "reencrypt_table"]


def reencrypt_table(
    dynamodb_client: Any,
    job: ReencryptJob,
    options: ReencryptOptions | None = None,
) -> ReencryptReport:
    """Run a re-encryption job to its end (or until interrupted) and report.

    Args:
        dynamodb_client: a low-level boto3 DynamoDB client (thread-safe, shared by segments).
        job: table and old/new configuration.
        options: how to run it (segments, checkpoint, caps, dry run, write mode...).

    Returns:
        The report. Failed items do not stop the job; they are counted and listed.

    Raises:
        ConfigurationError: the job cannot run (unknown table, bad options, checkpoint of
            another job).
        KeyboardInterrupt: re-raised after the workers stopped; the checkpoint (if any) is
            kept, and the page in flight is redone on resume.
    """
    return Runner(dynamodb_client, job, options or ReencryptOptions()).run()


class SegmentProgressStore(Protocol):
    """Where a runner reads and records the progress of the segments it scans."""

    def state(self, segment: int) -> SegmentState:
        """Where ``segment`` stands."""
        ...

    def record_page(self, segment: int, last_key: Mapping[str, Any] | None, *, items: int) -> None:
        """A page of ``segment`` is fully processed (``last_key`` None: segment done)."""
        ...


class _StopSegment(Exception):
    """Internal: the segment cannot go on (scan kept failing)."""

    def __init__(self, error: str, reason: str) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason


class Runner:
    """Runs one job in this process: its own threads, or given segments (workers, Spark)."""

    def __init__(self, client: Any, job: ReencryptJob, options: ReencryptOptions) -> None:
        if options.segments < 1:
            raise ConfigurationError("segments must be at least 1")
        if options.page_size is not None and options.page_size < 1:
            raise ConfigurationError("page_size must be at least 1")
        if job.plaintext_policy not in UnsignedItemPolicy:
            raise ConfigurationError("unknown plaintext policy")
        if options.write_mode not in WriteMode:
            raise ConfigurationError("unknown write mode")
        if not 1 <= options.transaction_size <= MAX_TRANSACTION_ITEMS:
            raise ConfigurationError(
                f"transaction_size must be between 1 and {MAX_TRANSACTION_ITEMS}"
            )
        self._client = client
        self._job = job
        self._options = options
        self._table = job.table_name
        self.stats = Stats(options.max_reported_failures)
        self._stop = threading.Event()
        self._progress_lock = threading.Lock()
        self.segment_failures: list[SegmentFailure] = []
        self._items_bucket = (
            TokenBucket(options.max_items_per_second)
            if options.max_items_per_second is not None
            else None
        )
        self._capacity_bucket = (
            TokenBucket(options.max_capacity_per_second)
            if options.max_capacity_per_second is not None
            else None
        )
        self._started = 0.0
        self._estimated_total: int | None = None
        self._writer: ItemWriter | None = None

    # -- setup ------------------------------------------------------------------------

    def prepare(self) -> None:
        """Read the table's key schema and build the encryptors (once, before any segment)."""
        self._started = time.monotonic()
        try:
            table = self._client.describe_table(TableName=self._table)["Table"]
        except Exception as exc:
            code = error_code(exc)
            if code == "ResourceNotFoundException":
                raise ConfigurationError("the table does not exist", table=self._table) from exc
            raise PynamoDBEncryptionError(
                f"cannot describe the table ({code or type(exc).__name__})", table=self._table
            ) from exc
        count = table.get("ItemCount")
        self._estimated_total = int(count) if isinstance(count, int) else None
        pk, sk = self._job.partition_key_name, self._job.sort_key_name
        if pk is None:
            for element in table.get("KeySchema", []):
                if element["KeyType"] == "HASH":
                    pk = element["AttributeName"]
                elif element["KeyType"] == "RANGE":
                    sk = element["AttributeName"]
        if pk is None:
            raise ConfigurationError("the table has no partition key", table=self._table)
        job = self._job
        new = self._side(job.new, "new", pk, sk, reads_legacy=False)
        old = None
        old_actions = job.old.attribute_actions
        if (
            job.old.materials_provider is not None
            or job.old.dbesdk is not None
            or old_actions.take_no_actions
        ):
            old = self._side(job.old, "old", pk, sk, reads_legacy=True)
        if (
            job.new.dbesdk is None
            and job.new.materials_provider is None
            and not job.new.attribute_actions.take_no_actions
        ):
            raise ConfigurationError(
                "the new configuration needs a materials provider or a DB-ESDK configuration "
                "(or actions that do nothing)",
                table=self._table,
            )
        decider = Decider(
            job,
            pk=pk,
            sk=sk,
            old=old,
            new=new,
            refresh_seconds=self._options.refresh_target_seconds,
        )
        self._writer = ItemWriter(self._client, decider, self.stats, self._options, self._charge)

    def _side(
        self, config: CryptoConfig, side: str, pk: str, sk: str | None, *, reads_legacy: bool
    ) -> ItemEncryptorProtocol:
        """A side's item encryptor: legacy, or DB-ESDK (which, on the old side with a
        materials provider too, also reads legacy items)."""
        if config.dbesdk is None:
            return self._encryptor(config, side, pk, sk)
        legacy = None
        if reads_legacy and config.materials_provider is not None:
            legacy = self._encryptor(config, side, pk, sk)
        try:
            return dbesdk_side(config.dbesdk, table=self._table, pk=pk, sk=sk, legacy=legacy)
        except PynamoDBEncryptionError as exc:
            raise ConfigurationError(
                f"the {side} configuration is invalid: {exc.message}",
                table=self._table,
                attribute=exc.attribute,
            ) from exc

    def _encryptor(self, config: CryptoConfig, side: str, pk: str, sk: str | None) -> ItemEncryptor:
        try:
            return ItemEncryptor(
                table_name=self._table,
                partition_key_name=pk,
                sort_key_name=sk,
                attribute_actions=config.attribute_actions,
                materials_provider=config.materials_provider or NoProvider(),
            )
        except PynamoDBEncryptionError as exc:
            raise ConfigurationError(
                f"the {side} configuration is invalid: {exc.message}",
                table=self._table,
                attribute=exc.attribute,
            ) from exc

    # -- run with threads -------------------------------------------------------------

    def run(self) -> ReencryptReport:
        """Every segment in this process, one thread each."""
        self.prepare()
        options = self._options
        checkpoint: Checkpoint | None = None
        if options.checkpoint_path is not None and not options.dry_run:
            checkpoint = Checkpoint.open(
                options.checkpoint_path, table_name=self._table, segments=options.segments
            )
            if not checkpoint.resumed:
                checkpoint.save()
        segments = range(options.segments)
        try:
            if options.segments == 1:
                self.run_segment(0, checkpoint)
            else:
                with ThreadPoolExecutor(
                    max_workers=options.segments, thread_name_prefix="reencrypt"
                ) as pool:
                    futures = [pool.submit(self.run_segment, s, checkpoint) for s in segments]
                    try:
                        for future in futures:
                            future.result()
                    except BaseException:
                        self._stop.set()
                        raise
        except KeyboardInterrupt:
            self._stop.set()
            raise
        complete = checkpoint.complete if checkpoint is not None else not self.segment_failures
        if self._stop.is_set():
            complete = False
        if checkpoint is not None and complete:
            checkpoint.remove()
        self._report_progress()
        report = self.report(complete=complete, resumed=bool(checkpoint and checkpoint.resumed))
        _telemetry.job_summary(report)
        return report

    def stop(self) -> None:
        """Ask the segments to stop after the item in progress."""
        self._stop.set()

    def report(self, *, complete: bool, resumed: bool) -> ReencryptReport:
        stats = self.stats
        with stats.lock:
            return ReencryptReport(
                table_name=self._table,
                dry_run=self._options.dry_run,
                scanned=stats.scanned,
                reencrypted=stats.reencrypted,
                already_current=stats.current,
                skipped=stats.skipped,
                failed=stats.failed,
                conflicts_retried=stats.conflicts,
                failures=tuple(stats.failures),
                segment_failures=tuple(self.segment_failures),
                elapsed_seconds=time.monotonic() - self._started,
                consumed_capacity=stats.capacity,
                complete=complete,
                resumed=resumed,
            )

    def _report_progress(self) -> None:
        callback = self._options.progress
        if callback is None:
            return
        stats = self.stats
        with stats.lock:
            snapshot = ReencryptProgress(
                scanned=stats.scanned,
                reencrypted=stats.reencrypted,
                already_current=stats.current,
                skipped=stats.skipped,
                failed=stats.failed,
                elapsed_seconds=time.monotonic() - self._started,
                estimated_total=self._estimated_total,
            )
        with self._progress_lock:
            callback(snapshot)

    # -- one segment ------------------------------------------------------------------

    def run_segment(
        self,
        segment: int,
        store: SegmentProgressStore | None,
    ) -> bool:
        """Scan ``segment`` (of ``options.segments``) from where ``store`` says, to its end.

        Returns True when the segment reached its end, False when it stopped (stop request
        or lasting scan failure).
        """
        writer = self._writer
        assert writer is not None, "prepare() first"
        state = store.state(segment) if store is not None else SegmentState()
        if state.done:
            return True
        transact = self._options.write_mode is WriteMode.TRANSACT
        stats = self.stats
        stop = self._stop
        bucket = self._items_bucket

        def admit() -> bool:
            if stop.is_set():
                return False
            if bucket is not None:
                bucket.acquire(1)
            stats.add("scanned")
            return True

        try:
            for items, last_key in self._pages(segment, state.last_key):
                if transact:
                    writer.process_page(items, admit)
                else:
                    for item in items:
                        if not admit():
                            return False
                        writer.process(item)
                if stop.is_set():
                    return False
                # Only now is every item of the page rewritten (or reported): a crash before
                # this line redoes the page, which idempotence and the conditions make safe.
                if store is not None:
                    store.record_page(segment, last_key, items=len(items))
                self._report_progress()
            _telemetry.segment_done(self._table, segment, self._options.segments, stats)
        except _StopSegment as exc:
            _telemetry.segment_stopped(self._table, segment, exc.error, exc.reason)
            with stats.lock:
                self.segment_failures.append(
                    SegmentFailure(segment=segment, error=exc.error, reason=exc.reason)
                )
            return False
        return True

    def _pages(
        self, segment: int, start_key: Mapping[str, Any] | None
    ) -> Iterator[tuple[list[dict[str, Any]], Mapping[str, Any] | None]]:
        options = self._options
        params: dict[str, Any] = {
            "TableName": self._table,
            "ConsistentRead": options.consistent_read,
        }
        if options.segments > 1:
            params["Segment"] = segment
            params["TotalSegments"] = options.segments
        if options.page_size is not None:
            params["Limit"] = options.page_size
        if self._capacity_bucket is not None:
            params["ReturnConsumedCapacity"] = "TOTAL"
        key = start_key
        while True:
            if key is not None:
                params["ExclusiveStartKey"] = key
            page = self._call("scan", params, segment=segment)
            items: list[dict[str, Any]] = page.get("Items", [])
            key = page.get("LastEvaluatedKey")
            yield items, key
            if key is None:
                return

    def _call(self, operation: str, params: Mapping[str, Any], *, segment: int) -> Any:
        """A read request with retries; a lasting failure stops the segment."""
        attempt = 0
        while True:
            try:
                response = getattr(self._client, operation)(**params)
            except Exception as exc:
                code = error_code(exc)
                if not retryable(exc, code) or attempt >= self._options.max_transient_retries:
                    raise _StopSegment(
                        code or type(exc).__name__,
                        f"{operation} failed after {attempt + 1} attempt(s)",
                    ) from exc
                attempt += 1
                backoff(self._options.backoff_seconds, attempt)
                continue
            self._charge(response)
            return response

    def _charge(self, response: Any) -> None:
        consumed = response.get("ConsumedCapacity") if isinstance(response, Mapping) else None
        # TransactWriteItems reports a list (one entry per table).
        entries = consumed if isinstance(consumed, list) else [consumed]
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            units = entry.get("CapacityUnits")
            if isinstance(units, (int, float)) and units > 0:
                self.stats.add("capacity", units)
                if self._capacity_bucket is not None:
                    self._capacity_bucket.acquire(float(units))
