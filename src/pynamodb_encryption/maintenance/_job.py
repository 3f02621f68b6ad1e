"""What a re-encryption job is given and what it reports (the public, typed surface)."""

from __future__ import annotations

import base64
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

from ..core import AttributeActions, MaterialsProvider
from ..errors import ConfigurationError
from ..structured import DbEsdkItemEncryptor, DynamoDbTableEncryptionConfig, SearchConfig
from ._current import CurrentCheck, same_material_description

__all__ = [
    "CryptoConfig",
    "ItemFailure",
    "ReencryptJob",
    "ReencryptOptions",
    "ReencryptProgress",
    "ReencryptReport",
    "SegmentFailure",
    "UnsignedItemPolicy",
    "WriteMode",
    "job_for_model",
    "key_to_json",
]


class UnsignedItemPolicy(str, enum.Enum):
    """What to do with an item that carries no signature (written without encryption)."""

    #: Report it as failed (the default: a signed table should hold no such item).
    REJECT = "reject"
    #: Leave it as it is and count it as skipped.
    SKIP = "skip"
    #: Take it as plaintext and encrypt it with the new configuration (adopting a table).
    ADOPT = "adopt"


class WriteMode(str, enum.Enum):
    """How the job writes re-encrypted items back. Both modes write every item under a
    condition that the stored item is still the one that was read, so neither can overwrite a
    concurrent application write.

    Both send only the attributes whose stored form changes (an update; attributes the job
    leaves alone are never rewritten), so a concurrent write to an unsigned attribute is kept.

    ``PUT`` sends one conditional ``UpdateItem`` per item (the name is historical): one
    request and 1 write capacity unit per KB of the item.

    ``TRANSACT`` sends up to `ReencryptOptions.transaction_size` of the same conditional
    updates in one ``TransactWriteItems`` request (at most 4 MB of items): ~100 times fewer
    write requests, but DynamoDB charges a transactional write **2 write capacity units per
    KB**, twice a single write. When a condition fails, DynamoDB cancels the whole
    transaction and says which items failed: those are re-read and written one by one; the
    others go back in a transaction. Choose it when requests (client CPU, latency, request
    rate) are the limit rather than write capacity.
    """

    PUT = "put"
    TRANSACT = "transact"


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
        write_mode: one conditional ``UpdateItem`` per item, or up to ``transaction_size``
            conditional updates per ``TransactWriteItems`` (see `WriteMode` for the costs).
        transaction_size: items per transaction in ``WriteMode.TRANSACT`` (1 to 100).
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
    write_mode: WriteMode = WriteMode.PUT
    transaction_size: int = 100


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
    dbesdk = _model_dbesdk_config(model) if new_provider is None else None
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


def _model_dbesdk_config(model: type[Any]) -> DynamoDbTableEncryptionConfig | None:
    """A model with ``Meta.keyring``: its DB-ESDK configuration (what its writes produce)."""
    encryptor = model._pde_encryptor()
    dbe = getattr(encryptor, "dbesdk", None)
    if not isinstance(dbe, DbEsdkItemEncryptor):
        return None
    plan = model._pde_plan
    # A model with beacons: the job writes them too (see the DB-ESDK migration guide).
    search = (
        SearchConfig(versions=[model._pde_beacons().beacon_version]) if plan.beacon_names else None
    )
    return DynamoDbTableEncryptionConfig(
        logical_table_name=dbe.table_name,
        partition_key_name=plan.hash_key_name,
        sort_key_name=plan.range_key_name,
        attribute_actions_on_encrypt=plan.dbe_actions,
        keyring=model._pde_keyring(),
        allowed_unsigned_attributes=sorted(plan.dbe_unsigned),
        allowed_unsigned_attribute_prefix=getattr(
            model.Meta, "allowed_unsigned_attribute_prefix", None
        ),
        algorithm_suite_id=dbe.algorithm_suite,
        search=search,
    )
