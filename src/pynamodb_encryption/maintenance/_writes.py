"""The job's write modes: one conditional ``UpdateItem`` per item, or the same conditional
updates batched in ``TransactWriteItems``.

Both write an item only under the condition built by `Decider.condition` (the stored item is
still the one that was read), so a concurrent application write is never overwritten: its
condition fails, the item is re-read, decided again and written under a new condition. Both
send only the attributes whose stored form changes (`write_request`): an attribute the job
leaves as it is is never rewritten, so an application write to it between the job's read and
its write is kept, even one that adds a new attribute (which no condition can pin).

With transactions, DynamoDB cancels the whole request when one condition fails and returns a
cancellation reason per item, in request order. The items whose condition failed take the
single-item conflict path; the others are sent again in a new transaction. A request that
fails in transit is resent with the same ``ClientRequestToken``, so DynamoDB applies it at
most once (for ten minutes).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import PynamoDBEncryptionError
from ._decide import Decider, Outcome, Write
from ._job import ItemFailure, ReencryptOptions
from ._retries import CONDITION_FAILED, backoff, error_code, retryable

__all__ = ["ItemWriter", "Stats"]

_CANCELLED = "TransactionCanceledException"
# TransactWriteItems takes at most 100 actions and 4 MB of items; the estimate below is
# rough, so batches stop well short of the byte limit.
MAX_TRANSACTION_ITEMS = 100
_MAX_TRANSACTION_BYTES = 3_000_000
# DynamoDB refuses an expression longer than 4 KB.
_MAX_EXPRESSION_BYTES = 4000
# Cancellation reasons of the items that were fine, or whose condition failed.
_SETTLED_REASONS = frozenset({"None", "ConditionalCheckFailed"})
# Cancellation reasons that say "try again later" rather than "this item is wrong".
_TRANSIENT_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)


class Stats:
    """The job's counters (thread-safe); kept per process and added up by the driver."""

    __slots__ = (
        "capacity",
        "conflicts",
        "current",
        "failed",
        "failures",
        "lock",
        "max_failures",
        "reencrypted",
        "scanned",
        "skipped",
    )

    def __init__(self, max_failures: int) -> None:
        self.lock = threading.Lock()
        self.scanned = 0
        self.reencrypted = 0
        self.current = 0
        self.skipped = 0
        self.failed = 0
        self.conflicts = 0
        self.capacity = 0.0
        self.max_failures = max_failures
        self.failures: list[ItemFailure] = []

    def add(self, name: str, amount: float = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + amount)

    def fail(self, failure: ItemFailure) -> None:
        with self.lock:
            self.failed += 1
            if len(self.failures) < self.max_failures:
                self.failures.append(failure)


@dataclass(slots=True)
class _Pending:
    key: dict[str, Any]
    write: Write


def approximate_size(value: Any) -> int:
    """An upper-bound-ish estimate of an item's or value's size in DynamoDB (bytes)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    if isinstance(value, str):
        return len(value) * 4 if not value.isascii() else len(value)
    if isinstance(value, Mapping):
        return sum(approximate_size(k) + approximate_size(v) + 1 for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return sum(approximate_size(v) + 1 for v in value)
    return 8


def write_request(table: str, pk: str, sk: str | None, write: Write) -> tuple[str, dict[str, Any]]:
    """The conditional write of one item: ``("Update", params)`` for an UpdateItem that sets
    only the attributes whose stored form changes and removes those that go away, or
    ``("Put", params)`` for a put of the whole item.

    The same parameters serve ``UpdateItem``/``PutItem`` and a ``TransactWriteItems`` entry,
    so every write mode (and every runner: threads, processes, Spark) makes the same write.
    The put remains only for items whose update expression would pass DynamoDB's 4 KB
    expression limit (hundreds of changed attributes), or that change nothing at all.
    """
    keys = {pk, sk}
    read = write.read
    condition = write.condition
    names = dict(condition["ExpressionAttributeNames"])
    values = dict(condition.get("ExpressionAttributeValues") or {})
    sets: list[str] = []
    for index, (name, value) in enumerate(write.item.items()):
        if name in keys or read.get(name) == value:
            continue
        names[f"#w{index}"] = name
        values[f":w{index}"] = value
        sets.append(f"#w{index} = :w{index}")
    removes: list[str] = []
    for index, name in enumerate(read):
        if name not in keys and name not in write.item:
            names[f"#r{index}"] = name
            removes.append(f"#r{index}")
    expression = " ".join(
        part
        for part in (
            f"SET {', '.join(sets)}" if sets else "",
            f"REMOVE {', '.join(removes)}" if removes else "",
        )
        if part
    )
    if not expression or len(expression) > _MAX_EXPRESSION_BYTES:
        return "Put", {"TableName": table, "Item": write.item, **condition}
    names["#wk"] = pk
    params: dict[str, Any] = {
        "TableName": table,
        "Key": {name: write.item[name] for name in (pk, sk) if name and name in write.item},
        "UpdateExpression": expression,
        # An item deleted meanwhile must not come back.
        "ConditionExpression": f"attribute_exists(#wk) AND ({condition['ConditionExpression']})",
        "ExpressionAttributeNames": names,
    }
    if values:
        params["ExpressionAttributeValues"] = values
    return "Update", params


class ItemWriter:
    """Decides and writes items of one table in the configured write mode."""

    def __init__(
        self,
        client: Any,
        decider: Decider,
        stats: Stats,
        options: ReencryptOptions,
        charge: Callable[[Any], None],
    ) -> None:
        self._client = client
        self._decider = decider
        self._stats = stats
        self._options = options
        self._charge = charge
        self._table = decider.table
        self._capacity = options.max_capacity_per_second is not None

    # -- deciding ---------------------------------------------------------------------------

    def _decide(self, key: dict[str, Any], item: Mapping[str, Any]) -> Write | None:
        """The write to make, or None when the item is settled (counted here)."""
        stats = self._stats
        try:
            decision = self._decider.decide(item)
        except PynamoDBEncryptionError as exc:
            stats.fail(ItemFailure(key=key, error=type(exc).__name__, reason=str(exc)))
            return None
        if decision is Outcome.CURRENT:
            stats.add("current")
            return None
        if decision is Outcome.SKIPPED:
            stats.add("skipped")
            return None
        if self._options.dry_run:
            stats.add("reencrypted")
            return None
        assert isinstance(decision, Write)
        return decision

    # -- one item, one UpdateItem ----------------------------------------------------------

    def process(self, item: Mapping[str, Any]) -> None:
        """Decide and write one item (``WriteMode.PUT``)."""
        key = self._decider.key(item)
        write = self._decide(key, item)
        if write is not None:
            self._put(key, write, conflicts=0)

    def _request(self, write: Write) -> tuple[str, dict[str, Any]]:
        decider = self._decider
        return write_request(self._table, decider.pk, decider.sk, write)

    def _put(self, key: dict[str, Any], write: Write, *, conflicts: int) -> None:
        """Write one item with retries; on a failed condition re-read and decide again."""
        options = self._options
        stats = self._stats
        transient = 0
        while True:
            kind, params = self._request(write)
            if self._capacity:
                params["ReturnConsumedCapacity"] = "TOTAL"
            try:
                if kind == "Update":
                    response = self._client.update_item(**params)
                else:
                    response = self._client.put_item(**params)
            except Exception as exc:
                code = error_code(exc)
                if code == CONDITION_FAILED:
                    next_write = self._after_conflict(key, conflicts + 1)
                    if next_write is None:
                        return
                    conflicts += 1
                    write = next_write
                    continue
                if retryable(exc, code) and transient < options.max_transient_retries:
                    transient += 1
                    backoff(options.backoff_seconds, transient)
                    continue
                stats.fail(
                    ItemFailure(
                        key=key,
                        error=code or type(exc).__name__,
                        reason=f"the write failed after {transient + 1} attempt(s)",
                    )
                )
                return
            self._charge(response)
            stats.add("reencrypted")
            return

    def _after_conflict(self, key: dict[str, Any], conflicts: int) -> Write | None:
        """A condition failed (the ``conflicts``-th time): re-read the item and decide again."""
        stats = self._stats
        stats.add("conflicts")
        if conflicts > self._options.max_conflict_retries:
            stats.fail(
                ItemFailure(
                    key=key,
                    error="ConflictError",
                    reason=f"the item kept changing ({conflicts} conflicting writes)",
                )
            )
            return None
        fresh = self._reread(key)
        if isinstance(fresh, ItemFailure):
            stats.fail(fresh)
            return None
        if fresh is None:
            # Deleted by the application meanwhile: nothing left to rewrite.
            stats.add("skipped")
            return None
        return self._decide(key, fresh)

    def _reread(self, key: Mapping[str, Any]) -> dict[str, Any] | ItemFailure | None:
        attempt = 0
        options = self._options
        while True:
            try:
                response = self._client.get_item(
                    TableName=self._table, Key=dict(key), ConsistentRead=True
                )
            except Exception as exc:
                code = error_code(exc)
                if retryable(exc, code) and attempt < options.max_transient_retries:
                    attempt += 1
                    backoff(options.backoff_seconds, attempt)
                    continue
                return ItemFailure(
                    key=key,
                    error=code or type(exc).__name__,
                    reason="the item could not be re-read after a conflicting write",
                )
            self._charge(response)
            found: dict[str, Any] | None = response.get("Item")
            return found

    # -- many items, TransactWriteItems -----------------------------------------------------

    def process_page(self, items: Sequence[Mapping[str, Any]], admit: Callable[[], bool]) -> None:
        """Decide and write a page of items in transactions (``WriteMode.TRANSACT``).

        ``admit()`` is called before each item (rate limit, stop request); False stops the
        page (what was decided so far is still written).
        """
        size_limit = min(self._options.transaction_size, MAX_TRANSACTION_ITEMS)
        batch: list[_Pending] = []
        batch_bytes = 0
        for item in items:
            if not admit():
                break
            key = self._decider.key(item)
            write = self._decide(key, item)
            if write is None:
                continue
            size = approximate_size(write.item) + approximate_size(write.condition)
            if batch and batch_bytes + size > _MAX_TRANSACTION_BYTES:
                self._transact(batch)
                batch, batch_bytes = [], 0
            batch.append(_Pending(key, write))
            batch_bytes += size
            if len(batch) >= size_limit:
                self._transact(batch)
                batch, batch_bytes = [], 0
        if batch:
            self._transact(batch)

    def _transact(self, batch: list[_Pending]) -> None:
        options = self._options
        stats = self._stats
        token = str(uuid.uuid4())
        transient = 0
        while batch:
            if len(batch) == 1:
                # A transaction of one costs twice a single write for the same guarantee.
                self._put(batch[0].key, batch[0].write, conflicts=0)
                return
            entries = []
            for pending in batch:
                kind, request = self._request(pending.write)
                entries.append({kind: request})
            params: dict[str, Any] = {"TransactItems": entries, "ClientRequestToken": token}
            if self._capacity:
                params["ReturnConsumedCapacity"] = "TOTAL"
            try:
                response = self._client.transact_write_items(**params)
            except Exception as exc:
                code = error_code(exc)
                reasons = _cancellation_codes(exc) if code == _CANCELLED else None
                if reasons is not None and len(reasons) == len(batch):
                    failed = [
                        p
                        for p, r in zip(batch, reasons, strict=True)
                        if r == "ConditionalCheckFailed"
                    ]
                    rest = [
                        p
                        for p, r in zip(batch, reasons, strict=True)
                        if r != "ConditionalCheckFailed"
                    ]
                    for pending in failed:
                        # Someone wrote the item since it was read: the single-item path
                        # re-reads it and writes its new content under a new condition.
                        write = self._after_conflict(pending.key, 1)
                        if write is not None:
                            self._put(pending.key, write, conflicts=1)
                    if any(
                        r not in _SETTLED_REASONS and r not in _TRANSIENT_REASONS for r in reasons
                    ):
                        # An item DynamoDB refuses (too large...): on its own, it is reported.
                        self._one_by_one(rest)
                        return
                    if not failed or any(r in _TRANSIENT_REASONS for r in reasons):
                        # Nothing wrong with the items themselves: wait, then send again.
                        if transient >= options.max_transient_retries:
                            self._one_by_one(rest)
                            return
                        transient += 1
                        backoff(options.backoff_seconds, transient)
                    batch = rest
                    token = str(uuid.uuid4())  # other items: a new request
                    continue
                if retryable(exc, code) and transient < options.max_transient_retries:
                    transient += 1
                    backoff(options.backoff_seconds, transient)
                    continue  # same items, same token: applied at most once
                # Anything else (a batch over the request size limit, a validation error...):
                # each item on its own, where a failure is reported for that item only.
                self._one_by_one(batch)
                return
            self._charge(response)
            stats.add("reencrypted", len(batch))
            return

    def _one_by_one(self, batch: Sequence[_Pending]) -> None:
        for pending in batch:
            self._put(pending.key, pending.write, conflicts=0)


def _cancellation_codes(exc: BaseException) -> list[str] | None:
    response = getattr(exc, "response", None)
    reasons = response.get("CancellationReasons") if isinstance(response, Mapping) else None
    if not isinstance(reasons, list):
        return None
    return [str(r.get("Code", "None")) if isinstance(r, Mapping) else "None" for r in reasons]
