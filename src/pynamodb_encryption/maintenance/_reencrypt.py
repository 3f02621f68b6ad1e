"""Re-encrypt a live table: key rotation, provider change, action change, plaintext adoption.

The job scans the table (optionally in parallel segments), and for each item:

1. decides whether it is *already current*: its material description matches what the new
   provider writes (see `CurrentCheck`) **and** it verifies and decrypts with the new
   configuration. Current items are left alone, which makes the job idempotent;
2. otherwise verifies and decrypts it with the old configuration (or takes it as plaintext,
   following the `UnsignedItemPolicy`), encrypts it with the new configuration, and
3. writes back the attributes that change (an UpdateItem: attributes it leaves alone are never
   rewritten) with a condition that the stored item is still the one that was read: the
   old signature (plus every attribute the signature does not cover) for signed items, every
   attribute for plaintext ones. A concurrent application write therefore makes the condition
   fail instead of being overwritten; the item is then re-read and processed again.

Nothing is collected: pages are processed as they arrive and only counters (and a capped list
of failures) are kept, so memory stays flat with the size of the table.
"""

from __future__ import annotations

import base64
import binascii
import enum
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from os import PathLike
from typing import Any, Protocol

from .. import _telemetry
from ..core import (
    MATERIAL_DESCRIPTION_ATTRIBUTE,
    AttributeActions,
    DecryptionMaterials,
    EncryptionContext,
    EncryptionMaterials,
    ItemEncryptor,
    ItemEncryptorProtocol,
    MaterialsProvider,
)
from ..core._md import (
    MD_CONTENT_KEY_ALGORITHM,
    MD_ENCRYPTED_KEY,
    MD_KEY_WRAP_ALGORITHM,
    MD_SIGNING_KEY_ALGORITHM,
    MaterialDescriptionError,
    decode_material_description,
)
from ..errors import (
    ConfigurationError,
    PlaintextItemError,
    PynamoDBEncryptionError,
)
from ..structured import DbEsdkItemEncryptor, DynamoDbTableEncryptionConfig
from ._checkpoint import Checkpoint, SegmentState
from ._formats import (
    DbeCurrentCheck,
    dbesdk_side,
    format_encryptor,
    item_format,
    reader_for,
    rewrite_condition,
    takes_no_actions,
)
from ._ratelimit import TokenBucket

__all__ = [
    "job_for_model",
    "key_to_json",
    "VOLATILE_DESCRIPTION_KEYS",
    "CryptoConfig",
    "CurrentCheck",
    "ItemFailure",
    "KmsKeyCheck",
    "UnsignedItemPolicy",
    "ReencryptJob",
    "ReencryptOptions",
    "ReencryptProgress",
    "ReencryptReport",
    "SegmentFailure",
    "reencrypt_table",
    "same_material_description",
    "verify_only",
]

#: Material description entries that differ on every write (the wrapped per-item key) and so
#: say nothing about which configuration wrote an item.
VOLATILE_DESCRIPTION_KEYS = frozenset({MD_ENCRYPTED_KEY})

#: Error codes worth retrying after a pause (throttling and server-side faults).
_RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "LimitExceededException",
    }
)
_CONDITION_FAILED = "ConditionalCheckFailedException"
# DynamoDB refuses an expression longer than 4 KB.
_MAX_EXPRESSION_BYTES = 4000


class UnsignedItemPolicy(str, enum.Enum):
    """What to do with an item that carries no signature (written without encryption)."""

    #: Report it as failed (the default: a signed table should hold no such item).
    REJECT = "reject"
    #: Leave it as it is and count it as skipped.
    SKIP = "skip"
    #: Take it as plaintext and encrypt it with the new configuration (adopting a table).
    ADOPT = "adopt"


@dataclass(frozen=True, slots=True, kw_only=True)
class CryptoConfig:
    """One side of the job: how items are (old) or will be (new) protected.

    Attributes:
        materials_provider: where the keys come from; None for a side that takes no actions
            (a plaintext table), or an old side that only ever sees plaintext items.
        attribute_actions: what is done to each attribute (key attributes are lowered to
            SIGN_ONLY as the item encryptor always does).
        dbesdk: the DB-ESDK format instead (AWS's table configuration shape). On the new side
            it replaces the two fields above; on the old side, with a materials provider too,
            the side reads both formats (a table in the middle of a migration).
    """

    materials_provider: MaterialsProvider | None = None
    attribute_actions: AttributeActions = field(default_factory=AttributeActions)
    dbesdk: DynamoDbTableEncryptionConfig | None = None


class CurrentCheck(Protocol):
    """Decides from the material descriptions whether an item may already be current.

    ``stored`` is the item's material description; ``target`` is the description the new
    provider produces now (from one probe call, refreshed every few seconds); ``context``
    names the table and key attributes and holds the item's key values. Return False when
    the item was certainly written by another configuration (it is then re-encrypted). True
    is only a candidate: the job also checks that the item verifies and decrypts with the new
    configuration before it leaves the item alone.
    """

    def __call__(
        self, stored: Mapping[str, str], target: Mapping[str, str], context: EncryptionContext
    ) -> bool:
        """True when ``stored`` is compatible with ``target``."""
        ...


def same_material_description(
    stored: Mapping[str, str], target: Mapping[str, str], context: EncryptionContext
) -> bool:
    """The default check: every stable entry the new provider writes has the same value.

    This catches a new meta-store version (``amzn-ddb-meta-id``), a new wrapping algorithm
    or key kind (``amzn-ddb-wrap-alg``), a KMS/wrapped/static provider switch, and changed
    custom entries. What it cannot see (a static or same-kind wrapped key replacement, new
    attribute actions) is caught by the verification with the new keys. A KMS key change is
    invisible to both (KMS decrypts with whatever key the data key names): use
    `KmsKeyCheck` for it.
    """
    return all(
        stored.get(key) == value
        for key, value in target.items()
        if key not in VOLATILE_DESCRIPTION_KEYS
    )


def verify_only(
    stored: Mapping[str, str], target: Mapping[str, str], context: EncryptionContext
) -> bool:
    """Decide by verification with the new configuration alone (ignore the descriptions)."""
    return True


class KmsKeyCheck:
    """`same_material_description`, and for KMS items: is the data key under ``key_id``?

    KMS ``Decrypt`` finds the key from the ciphertext itself, so after a KMS key change the
    new provider still reads every old item. This check asks KMS to decrypt the item's data
    key *with* ``KeyId=key_id`` (one extra request per KMS item), which KMS refuses when the
    data key was made under another key.

    Args:
        kms_client: a boto3 KMS client.
        key_id: the new KMS key (id, ARN, alias name or alias ARN).
    """

    __slots__ = ("_client", "_key_id")

    def __init__(self, kms_client: Any, key_id: str) -> None:
        if not isinstance(key_id, str) or not key_id:
            raise ConfigurationError("key_id must be a non-empty KMS key id, ARN or alias")
        self._client = kms_client
        self._key_id = key_id

    def __repr__(self) -> str:
        return f"KmsKeyCheck(key_id={self._key_id!r})"

    def __call__(
        self, stored: Mapping[str, str], target: Mapping[str, str], context: EncryptionContext
    ) -> bool:
        if not same_material_description(stored, target, context):
            return False
        if stored.get(MD_KEY_WRAP_ALGORITHM) != "kms":
            return True
        from ..providers._aws_kms import kms_encryption_context

        content = stored.get(MD_CONTENT_KEY_ALGORITHM)
        signing = stored.get(MD_SIGNING_KEY_ALGORITHM)
        encoded = stored.get(MD_ENCRYPTED_KEY)
        if content is None or signing is None or encoded is None:
            return False
        try:
            blob = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return False
        ec = kms_encryption_context(context, content_algorithm=content, signing_algorithm=signing)
        try:
            with _telemetry.kms_call("decrypt", self._key_id, None):
                self._client.decrypt(CiphertextBlob=blob, EncryptionContext=ec, KeyId=self._key_id)
        except Exception as exc:
            if _error_code(exc) is None:
                raise  # not a refusal from KMS (network...): let the item fail and be reported
            return False
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class ReencryptJob:
    """What to re-encrypt: a table, the old configuration and the new one.

    Attributes:
        table_name: the table to rewrite (also bound into every signature).
        old: how items are protected now.
        new: how they should be protected.
        plaintext_policy: what to do with unsigned items.
        current_check: how to pre-select already-current items (see `CurrentCheck`).
        partition_key_name: the table's partition key; read with DescribeTable when None.
        sort_key_name: the table's sort key, if any; read with DescribeTable when
            ``partition_key_name`` is None.
    """

    table_name: str
    old: CryptoConfig
    new: CryptoConfig
    plaintext_policy: UnsignedItemPolicy = UnsignedItemPolicy.REJECT
    current_check: CurrentCheck = same_material_description
    partition_key_name: str | None = None
    sort_key_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReencryptProgress:
    """A snapshot of a running job, given to the progress callback after every page."""

    scanned: int
    reencrypted: int
    already_current: int
    skipped: int
    failed: int
    elapsed_seconds: float
    #: DynamoDB's (approximate, possibly stale) item count, when known.
    estimated_total: int | None

    @property
    def items_per_second(self) -> float:
        return self.scanned / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ReencryptOptions:
    """How to run the job.

    Attributes:
        segments: parallel scan segments (one thread each).
        checkpoint_path: file that records progress; an interrupted job given the same file
            resumes where it stopped. Removed when the job completes; not used in a dry run.
        max_items_per_second: cap on items processed per second (all segments together).
        max_capacity_per_second: cap on consumed capacity units per second (read and write,
            from ``ReturnConsumedCapacity``).
        dry_run: decrypt and re-encrypt in memory, write nothing, report what would change.
        page_size: ``Limit`` of each scan page (also the checkpoint granularity).
        consistent_read: strongly consistent scan pages.
        max_conflict_retries: how many times a conflicting item is re-read and retried.
        max_transient_retries: retries after throttling or a server error, per request.
        backoff_seconds: base of the exponential backoff between those retries.
        max_reported_failures: failed items listed in the report (all are counted).
        progress: called (serialized, from worker threads) after every page.
        refresh_target_seconds: how long the new provider's probed description is reused.
    """

    segments: int = 1
    checkpoint_path: str | PathLike[str] | None = None
    max_items_per_second: float | None = None
    max_capacity_per_second: float | None = None
    dry_run: bool = False
    page_size: int | None = 250
    consistent_read: bool = True
    max_conflict_retries: int = 5
    max_transient_retries: int = 5
    backoff_seconds: float = 0.05
    max_reported_failures: int = 1000
    progress: Callable[[ReencryptProgress], None] | None = None
    refresh_target_seconds: float = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemFailure:
    """One item the job could not rewrite.

    Attributes:
        key: the item's primary key (DynamoDB JSON).
        error: the error class or DynamoDB error code.
        reason: a message without any attribute value.
    """

    key: Mapping[str, Any]
    error: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentFailure:
    """A scan segment that stopped (its checkpoint is kept so a resume continues it)."""

    segment: int
    error: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReencryptReport:
    """What the job did. In a dry run, ``reencrypted`` counts what *would* be rewritten.

    Attributes:
        complete: every segment reached its end (False after an interruption or a segment
            failure; resume with the same checkpoint file).
        resumed: the job continued from a checkpoint file.
        failures: failed items, at most ``max_reported_failures`` of them.
        conflicts_retried: conditional writes that lost against a concurrent write and were
            retried after a re-read.
    """

    table_name: str
    dry_run: bool
    scanned: int
    reencrypted: int
    already_current: int
    skipped: int
    failed: int
    conflicts_retried: int
    failures: tuple[ItemFailure, ...]
    segment_failures: tuple[SegmentFailure, ...]
    elapsed_seconds: float
    consumed_capacity: float
    complete: bool
    resumed: bool

    @property
    def ok(self) -> bool:
        """No item failed and every segment completed."""
        return self.failed == 0 and not self.segment_failures and self.complete

    @property
    def items_per_second(self) -> float:
        return self.scanned / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (keys rendered with `key_to_json`)."""
        return {
            "table": self.table_name,
            "dry_run": self.dry_run,
            "complete": self.complete,
            "resumed": self.resumed,
            "scanned": self.scanned,
            "reencrypted": self.reencrypted,
            "already_current": self.already_current,
            "skipped": self.skipped,
            "failed": self.failed,
            "conflicts_retried": self.conflicts_retried,
            "consumed_capacity": self.consumed_capacity,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "items_per_second": round(self.items_per_second, 1),
            "failures": [
                {"key": key_to_json(f.key), "error": f.error, "reason": f.reason}
                for f in self.failures
            ],
            "segment_failures": [
                {"segment": s.segment, "error": s.error, "reason": s.reason}
                for s in self.segment_failures
            ],
        }


def key_to_json(key: Mapping[str, Any]) -> dict[str, Any]:
    """A primary key for printing: strings and numbers as text, binary as base64."""

    out: dict[str, Any] = {}
    for name, value in key.items():
        if "B" in value:
            out[name] = {"B": base64.b64encode(bytes(value["B"])).decode("ascii")}
        elif "N" in value:
            out[name] = {"N": value["N"]}
        else:
            out[name] = {"S": value.get("S")}
    return out


def job_for_model(
    model: type[Any],
    *,
    old: CryptoConfig,
    new_provider: MaterialsProvider | None = None,
    plaintext_policy: UnsignedItemPolicy = UnsignedItemPolicy.REJECT,
    current_check: CurrentCheck = same_material_description,
) -> ReencryptJob:
    """A job that brings a table in line with an ``EncryptedModel`` class.

    The table name, key names and new attribute actions come from the model; the new provider
    is ``new_provider`` or the model's ``Meta.materials_provider`` (a provider, or a
    zero-argument callable returning one). Typical uses: moving items written by the reference
    library (or by another configuration) to the model, and encrypting a field that the model
    now marks with ``EncryptedAttribute``.

    Raises:
        ConfigurationError: ``model`` is not an ``EncryptedModel`` subclass, or has no provider.
    """
    from ..orm import EncryptedModel

    if not (isinstance(model, type) and issubclass(model, EncryptedModel)):
        raise ConfigurationError("model must be an EncryptedModel subclass")
    meta = getattr(model, "Meta", None)
    table = getattr(meta, "table_name", None)
    if not isinstance(table, str) or not table:
        raise ConfigurationError(f"{model.__name__}.Meta.table_name is not set")
    dbesdk = _model_dbesdk_config(model, table) if new_provider is None else None
    provider = new_provider
    if provider is None and dbesdk is None:
        source = getattr(meta, "materials_provider", None)
        if source is not None and not isinstance(source, MaterialsProvider) and callable(source):
            source = source()
        if not isinstance(source, MaterialsProvider):
            raise ConfigurationError(
                f"{model.__name__}.Meta.materials_provider is not set", table=table
            )
        provider = source
    # PynamoDB's _hash_keyname is the Python field name; DynamoDB (and the signature) use the
    # attribute's attr_name, which may differ.
    key_names: dict[str, str | None] = {"hash": None, "range": None}
    for attribute in model.get_attributes().values():
        if attribute.is_hash_key:
            key_names["hash"] = attribute.attr_name
        if attribute.is_range_key:
            key_names["range"] = attribute.attr_name
    hash_key, range_key = key_names["hash"], key_names["range"]
    new = (
        CryptoConfig(dbesdk=dbesdk)
        if dbesdk is not None
        else CryptoConfig(
            materials_provider=provider, attribute_actions=model.get_attribute_actions()
        )
    )
    return ReencryptJob(
        table_name=table,
        old=old,
        new=new,
        plaintext_policy=plaintext_policy,
        current_check=current_check,
        partition_key_name=hash_key,
        sort_key_name=range_key,
    )


def _model_dbesdk_config(model: type[Any], table: str) -> DynamoDbTableEncryptionConfig | None:
    """A model with ``Meta.keyring``: its DB-ESDK configuration (what its writes produce)."""
    encryptor = model._pde_encryptor()
    dbe = getattr(encryptor, "dbesdk", None)
    if not isinstance(dbe, DbEsdkItemEncryptor):
        return None
    plan = model._pde_plan
    meta = model.Meta
    return DynamoDbTableEncryptionConfig(
        logical_table_name=dbe.table_name,
        partition_key_name=plan.hash_key_name,
        sort_key_name=plan.range_key_name,
        attribute_actions_on_encrypt=plan.dbe_actions,
        keyring=model._pde_keyring(),
        allowed_unsigned_attributes=sorted(plan.dbe_unsigned),
        allowed_unsigned_attribute_prefix=getattr(meta, "allowed_unsigned_attribute_prefix", None),
        algorithm_suite_id=dbe.algorithm_suite,
    )


def reencrypt_table(
    dynamodb_client: Any,
    job: ReencryptJob,
    options: ReencryptOptions | None = None,
) -> ReencryptReport:
    """Run a re-encryption job to its end (or until interrupted) and report.

    Args:
        dynamodb_client: a low-level boto3 DynamoDB client (thread-safe, shared by segments).
        job: table and old/new configuration.
        options: how to run it (segments, checkpoint, caps, dry run...).

    Returns:
        The report. Failed items do not stop the job; they are counted and listed.

    Raises:
        ConfigurationError: the job cannot run (unknown table, bad options, checkpoint of
            another job).
        KeyboardInterrupt: re-raised after the workers stopped; the checkpoint (if any) is
            kept, and the page in flight is redone on resume.
    """
    return _Runner(dynamodb_client, job, options or ReencryptOptions()).run()


# ----------------------------------------------------------------------------------------
# Implementation


class _NoProvider:
    """Stands in for a missing provider on a side that takes no actions."""

    def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
        raise ConfigurationError("no materials provider is configured", table=context.table_name)

    def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
        raise ConfigurationError("no materials provider is configured", table=context.table_name)


class _Outcome(enum.Enum):
    CURRENT = "current"
    SKIPPED = "skipped"


@dataclass(slots=True)
class _Write:
    item: dict[str, Any]
    condition: dict[str, Any]


class _Stats:
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


class _StopSegment(Exception):
    """Internal: the segment cannot go on (scan kept failing)."""

    def __init__(self, error: str, reason: str) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping):
            code = error.get("Code")
            return str(code) if code is not None else None
    return None


class _Runner:
    def __init__(self, client: Any, job: ReencryptJob, options: ReencryptOptions) -> None:
        if options.segments < 1:
            raise ConfigurationError("segments must be at least 1")
        if options.page_size is not None and options.page_size < 1:
            raise ConfigurationError("page_size must be at least 1")
        if job.plaintext_policy not in UnsignedItemPolicy:
            raise ConfigurationError("unknown plaintext policy")
        self._client = client
        self._job = job
        self._options = options
        self._table = job.table_name
        self._stats = _Stats(options.max_reported_failures)
        self._stop = threading.Event()
        self._progress_lock = threading.Lock()
        self._target_lock = threading.Lock()
        self._target: tuple[float, Mapping[str, str]] | None = None
        self._segment_failures: list[SegmentFailure] = []
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
        # Filled in by _prepare().
        self._pk: str | None = job.partition_key_name
        self._sk: str | None = job.sort_key_name
        self._old: ItemEncryptorProtocol | None = None
        self._new: ItemEncryptorProtocol | None = None
        self._dbe_current: DbeCurrentCheck | None = None

    # -- setup ------------------------------------------------------------------------

    def _prepare(self) -> None:
        try:
            table = self._client.describe_table(TableName=self._table)["Table"]
        except Exception as exc:
            code = _error_code(exc)
            if code == "ResourceNotFoundException":
                raise ConfigurationError("the table does not exist", table=self._table) from exc
            raise PynamoDBEncryptionError(
                f"cannot describe the table ({code or type(exc).__name__})", table=self._table
            ) from exc
        count = table.get("ItemCount")
        self._estimated_total = int(count) if isinstance(count, int) else None
        if self._pk is None:
            for element in table.get("KeySchema", []):
                if element["KeyType"] == "HASH":
                    self._pk = element["AttributeName"]
                elif element["KeyType"] == "RANGE":
                    self._sk = element["AttributeName"]
        if self._pk is None:
            raise ConfigurationError("the table has no partition key", table=self._table)
        job = self._job
        self._new = self._side(job.new, "new", reads_legacy=False)
        old_actions = job.old.attribute_actions
        if (
            job.old.materials_provider is not None
            or job.old.dbesdk is not None
            or old_actions.take_no_actions
        ):
            self._old = self._side(job.old, "old", reads_legacy=True)
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
        new_dbe = format_encryptor(self._new, "dbesdk")
        if isinstance(new_dbe, DbEsdkItemEncryptor):
            self._dbe_current = DbeCurrentCheck(new_dbe, self._options.refresh_target_seconds)

    def _side(
        self, config: CryptoConfig, side: str, *, reads_legacy: bool
    ) -> ItemEncryptorProtocol:
        if config.dbesdk is None:
            return self._encryptor(config, side)
        assert self._pk is not None
        legacy = None
        if reads_legacy and config.materials_provider is not None:
            legacy = self._encryptor(config, side)
        try:
            return dbesdk_side(
                config.dbesdk, table=self._table, pk=self._pk, sk=self._sk, legacy=legacy
            )
        except PynamoDBEncryptionError as exc:
            raise ConfigurationError(
                f"the {side} configuration is invalid: {exc.message}",
                table=self._table,
                attribute=exc.attribute,
            ) from exc

    def _encryptor(self, config: CryptoConfig, side: str) -> ItemEncryptor:
        try:
            return ItemEncryptor(
                table_name=self._table,
                partition_key_name=self._pk,
                sort_key_name=self._sk,
                attribute_actions=config.attribute_actions,
                materials_provider=config.materials_provider or _NoProvider(),
            )
        except PynamoDBEncryptionError as exc:
            raise ConfigurationError(
                f"the {side} configuration is invalid: {exc.message}",
                table=self._table,
                attribute=exc.attribute,
            ) from exc

    # -- run --------------------------------------------------------------------------

    def run(self) -> ReencryptReport:
        self._started = time.monotonic()
        self._prepare()
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
                self._run_segment(0, checkpoint)
            else:
                with ThreadPoolExecutor(
                    max_workers=options.segments, thread_name_prefix="reencrypt"
                ) as pool:
                    futures = [pool.submit(self._run_segment, s, checkpoint) for s in segments]
                    try:
                        for future in futures:
                            future.result()
                    except BaseException:
                        self._stop.set()
                        raise
        except KeyboardInterrupt:
            self._stop.set()
            raise
        complete = checkpoint.complete if checkpoint is not None else not self._segment_failures
        if self._stop.is_set():
            complete = False
        if checkpoint is not None and complete:
            checkpoint.remove()
        self._report_progress()
        report = self._report(complete=complete, resumed=bool(checkpoint and checkpoint.resumed))
        _telemetry.job_summary(report)
        return report

    def _report(self, *, complete: bool, resumed: bool) -> ReencryptReport:
        stats = self._stats
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
                segment_failures=tuple(self._segment_failures),
                elapsed_seconds=time.monotonic() - self._started,
                consumed_capacity=stats.capacity,
                complete=complete,
                resumed=resumed,
            )

    def _report_progress(self) -> None:
        callback = self._options.progress
        if callback is None:
            return
        stats = self._stats
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

    def _run_segment(self, segment: int, checkpoint: Checkpoint | None) -> None:
        state = checkpoint.state(segment) if checkpoint is not None else SegmentState()
        if state.done:
            return
        try:
            for items, last_key in self._pages(segment, state.last_key):
                for item in items:
                    if self._stop.is_set():
                        return
                    if self._items_bucket is not None:
                        self._items_bucket.acquire(1)
                    self._stats.add("scanned")
                    self._process(item)
                if self._stop.is_set():
                    return
                # Only now is every item of the page rewritten (or reported): a crash before
                # this line redoes the page, which idempotence and the conditions make safe.
                if checkpoint is not None:
                    checkpoint.record_page(segment, last_key, items=len(items))
                self._report_progress()
            _telemetry.segment_done(self._table, segment, self._options.segments, self._stats)
        except _StopSegment as exc:
            _telemetry.segment_stopped(self._table, segment, exc.error, exc.reason)
            with self._stats.lock:
                self._segment_failures.append(
                    SegmentFailure(segment=segment, error=exc.error, reason=exc.reason)
                )

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
                code = _error_code(exc)
                if not self._retryable(exc, code) or attempt >= self._options.max_transient_retries:
                    raise _StopSegment(
                        code or type(exc).__name__,
                        f"{operation} failed after {attempt + 1} attempt(s)",
                    ) from exc
                attempt += 1
                self._backoff(attempt)
                continue
            self._charge(response)
            return response

    @staticmethod
    def _retryable(exc: BaseException, code: str | None) -> bool:
        if code is not None:
            return code in _RETRYABLE_CODES
        # Connection-level failures (botocore's EndpointConnectionError, timeouts...).
        from botocore.exceptions import BotoCoreError

        return isinstance(exc, BotoCoreError)

    def _backoff(self, attempt: int) -> None:
        delay = min(2.0, self._options.backoff_seconds * (2 ** (attempt - 1)))
        time.sleep(delay * (0.5 + random.random() / 2))

    def _charge(self, response: Any) -> None:
        consumed = response.get("ConsumedCapacity") if isinstance(response, Mapping) else None
        if not isinstance(consumed, Mapping):
            return
        units = consumed.get("CapacityUnits")
        if isinstance(units, (int, float)) and units > 0:
            self._stats.add("capacity", units)
            if self._capacity_bucket is not None:
                self._capacity_bucket.acquire(float(units))

    # -- one item ---------------------------------------------------------------------

    def _key(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in (self._pk, self._sk) if name and name in item}

    def _process(self, item: Mapping[str, Any]) -> None:
        options = self._options
        stats = self._stats
        key = self._key(item)
        conflicts = 0
        transient = 0
        current: Mapping[str, Any] = item
        while True:
            try:
                decision = self._decide(current)
            except PynamoDBEncryptionError as exc:
                stats.fail(ItemFailure(key=key, error=type(exc).__name__, reason=str(exc)))
                return
            if decision is _Outcome.CURRENT:
                stats.add("current")
                return
            if decision is _Outcome.SKIPPED:
                stats.add("skipped")
                return
            if options.dry_run:
                stats.add("reencrypted")
                return
            params = self._write_params(current, decision)
            if self._capacity_bucket is not None:
                params["ReturnConsumedCapacity"] = "TOTAL"
            try:
                if "UpdateExpression" in params:
                    response = self._client.update_item(**params)
                else:
                    response = self._client.put_item(**params)
            except Exception as exc:
                code = _error_code(exc)
                if code == _CONDITION_FAILED:
                    stats.add("conflicts")
                    conflicts += 1
                    if conflicts > options.max_conflict_retries:
                        stats.fail(
                            ItemFailure(
                                key=key,
                                error="ConflictError",
                                reason=f"the item kept changing ({conflicts} conflicting writes)",
                            )
                        )
                        return
                    fresh = self._reread(key)
                    if isinstance(fresh, ItemFailure):
                        stats.fail(fresh)
                        return
                    if fresh is None:
                        # Deleted by the application meanwhile: nothing left to rewrite.
                        stats.add("skipped")
                        return
                    current = fresh
                    continue
                if self._retryable(exc, code) and transient < options.max_transient_retries:
                    transient += 1
                    self._backoff(transient)
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

    def _write_params(self, read: Mapping[str, Any], decision: _Write) -> dict[str, Any]:
        """The conditional write of one item: an UpdateItem that sets only the attributes whose
        stored form changes and removes those that go away.

        An attribute the job leaves as it is (DO_NOTHING before and after) is never rewritten,
        so an application write to it between the job's read and its write is kept, even one
        that adds a new attribute (which no condition can pin); a put of the whole item would
        undo it. The put remains only for items whose update expression would pass DynamoDB's
        4 KB expression limit (hundreds of changed attributes).
        """
        keys = {self._pk, self._sk}
        condition = decision.condition
        names = dict(condition["ExpressionAttributeNames"])
        values = dict(condition.get("ExpressionAttributeValues") or {})
        sets: list[str] = []
        for index, (name, value) in enumerate(decision.item.items()):
            if name in keys or read.get(name) == value:
                continue
            names[f"#w{index}"] = name
            values[f":w{index}"] = value
            sets.append(f"#w{index} = :w{index}")
        removes: list[str] = []
        for index, name in enumerate(read):
            if name not in keys and name not in decision.item:
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
            return {"TableName": self._table, "Item": decision.item, **condition}
        names["#wk"] = self._pk
        guard = f"attribute_exists(#wk) AND ({condition['ConditionExpression']})"
        params: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(decision.item),
            "UpdateExpression": expression,
            # An item deleted meanwhile must not come back.
            "ConditionExpression": guard,
            "ExpressionAttributeNames": names,
        }
        if values:
            params["ExpressionAttributeValues"] = values
        return params

    def _reread(self, key: Mapping[str, Any]) -> dict[str, Any] | ItemFailure | None:
        attempt = 0
        while True:
            try:
                response = self._client.get_item(
                    TableName=self._table, Key=dict(key), ConsistentRead=True
                )
            except Exception as exc:
                code = _error_code(exc)
                if self._retryable(exc, code) and attempt < self._options.max_transient_retries:
                    attempt += 1
                    self._backoff(attempt)
                    continue
                return ItemFailure(
                    key=key,
                    error=code or type(exc).__name__,
                    reason="the item could not be re-read after a conflicting write",
                )
            self._charge(response)
            found: dict[str, Any] | None = response.get("Item")
            return found

    def _decide(self, item: Mapping[str, Any]) -> _Outcome | _Write:
        job = self._job
        new = self._new
        assert new is not None
        new_plain = takes_no_actions(new)
        kind = item_format(item)
        if kind == "plaintext":
            if new_plain:
                return _Outcome.CURRENT
            old_plain = job.old.dbesdk is None and job.old.attribute_actions.take_no_actions
            if not old_plain and job.plaintext_policy is not UnsignedItemPolicy.ADOPT:
                if job.plaintext_policy is UnsignedItemPolicy.SKIP:
                    return _Outcome.SKIPPED
                raise PlaintextItemError(
                    "the item has no signature (use the 'adopt' plaintext policy to encrypt it)",
                    table=self._table,
                )
            plaintext = dict(item)
            condition = rewrite_condition(item, None, pk=self._pk or "", sk=self._sk)
        else:
            if not new_plain and self._is_current(item, kind):
                return _Outcome.CURRENT
            old = self._old
            if old is None and format_encryptor(new, kind) is None:
                raise ConfigurationError(
                    "the item is signed but no old materials provider is configured",
                    table=self._table,
                )
            if takes_no_actions(old) and format_encryptor(new, kind) is None:
                raise ConfigurationError(
                    "the item is signed but the old configuration takes no actions",
                    table=self._table,
                )
            reader = reader_for(item, old, new, table=self._table)
            plaintext = _telemetry.decrypt(reader, item)
            condition = rewrite_condition(item, reader, pk=self._pk or "", sk=self._sk)
        return _Write(item=_telemetry.encrypt(new, plaintext), condition=condition)

    def _is_current(self, item: Mapping[str, Any], kind: str) -> bool:
        new = self._new
        assert new is not None
        if kind == "dbesdk":
            check = self._dbe_current
            return check is not None and check(item, self._key(item))
        if not isinstance(new, ItemEncryptor):
            return False  # a DB-ESDK configuration never writes legacy items
        raw = item.get(MATERIAL_DESCRIPTION_ATTRIBUTE)
        stored: Mapping[str, str] = {}
        if raw is not None:
            blob = raw.get("B") if isinstance(raw, Mapping) else None
            if not isinstance(blob, (bytes, bytearray)):
                return False
            try:
                stored = decode_material_description(bytes(blob))
            except MaterialDescriptionError:
                return False
        context = EncryptionContext(
            table_name=self._table,
            partition_key_name=self._pk,
            sort_key_name=self._sk,
            attributes=self._key(item),
            material_description=stored,
        )
        try:
            if not self._job.current_check(stored, self._target_description(item), context):
                return False
        except PynamoDBEncryptionError:
            raise
        except Exception as exc:
            raise PynamoDBEncryptionError(
                f"the current-item check failed ({_error_code(exc) or type(exc).__name__})",
                table=self._table,
            ) from exc
        try:
            new.decrypt(item)
        except PynamoDBEncryptionError:
            return False
        return True

    def _target_description(self, item: Mapping[str, Any]) -> Mapping[str, str]:
        """What the new provider writes now, from one probe call reused for a few seconds.

        Reused because each call may cost a KMS request; refreshed so that a most-recent
        provider's new version is picked up during a long job.
        """
        now = time.monotonic()
        with self._target_lock:
            cached = self._target
            if cached is not None and now - cached[0] < self._options.refresh_target_seconds:
                return cached[1]
        provider = self._job.new.materials_provider
        assert provider is not None
        context = EncryptionContext(
            table_name=self._table,
            partition_key_name=self._pk,
            sort_key_name=self._sk,
            attributes=self._key(item),
        )
        description = dict(provider.encryption_materials(context).material_description)
        with self._target_lock:
            self._target = (now, description)
        return description
