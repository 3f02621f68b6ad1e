"""The job's decisions, one item at a time: leave it, skip it, or rewrite it under a condition.

Pure decisions over the item that was read (plus one cached probe of the new provider): no
write happens here, so every write mode (single puts, transactions) shares them.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import _telemetry
from ..core import (
    MATERIAL_DESCRIPTION_ATTRIBUTE,
    DecryptionMaterials,
    EncryptionContext,
    EncryptionMaterials,
    ItemEncryptor,
    ItemEncryptorProtocol,
)
from ..core._md import MaterialDescriptionError, decode_material_description
from ..errors import ConfigurationError, PlaintextItemError, PynamoDBEncryptionError
from ..structured import DbEsdkItemEncryptor
from ._formats import (
    DbeCurrentCheck,
    beacon_writer,
    format_encryptor,
    item_format,
    reader_for,
    rewrite_condition,
    strip_reserved_prefix,
    takes_no_actions,
)
from ._job import ReencryptJob, UnsignedItemPolicy
from ._retries import error_code

__all__ = ["Decider", "NoProvider", "Outcome", "Write"]


class NoProvider:
    """Stands in for a missing provider on a side that takes no actions."""

    def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
        raise ConfigurationError("no materials provider is configured", table=context.table_name)

    def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
        raise ConfigurationError("no materials provider is configured", table=context.table_name)


class Outcome(enum.Enum):
    CURRENT = "current"
    SKIPPED = "skipped"


@dataclass(slots=True)
class Write:
    #: The item as the new configuration writes it.
    item: dict[str, Any]
    #: The condition that the stored item is still the one that was read.
    condition: dict[str, Any]
    #: The item as it was read (the write sends only the attributes that differ from it).
    read: Mapping[str, Any]


class Decider:
    """Decides what to do with each item read from one table (thread-safe).

    Args:
        job: the table and the old and new configurations.
        pk, sk: the table's key attribute names.
        old: the encryptor of the old configuration, if it has one.
        new: the encryptor of the new configuration.
        refresh_seconds: how long the new provider's probed description is reused.
    """

    def __init__(
        self,
        job: ReencryptJob,
        *,
        pk: str,
        sk: str | None,
        old: ItemEncryptorProtocol | None,
        new: ItemEncryptorProtocol,
        refresh_seconds: float,
    ) -> None:
        self.job = job
        self.table = job.table_name
        self.pk = pk
        self.sk = sk
        self.old = old
        self.new = new
        self.refresh_seconds = refresh_seconds
        self._target_lock = threading.Lock()
        self._target: tuple[float, Mapping[str, str]] | None = None
        new_dbe = format_encryptor(new, "dbesdk")
        self._dbe_current = (
            DbeCurrentCheck(new_dbe, refresh_seconds, beacon_writer(new))
            if isinstance(new_dbe, DbEsdkItemEncryptor)
            else None
        )

    def key(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """The item's primary key."""
        return {name: item[name] for name in (self.pk, self.sk) if name and name in item}

    def decide(self, item: Mapping[str, Any]) -> Outcome | Write:
        job = self.job
        new = self.new
        new_plain = takes_no_actions(new)
        kind = item_format(item)
        if kind == "plaintext":
            if new_plain:
                return Outcome.CURRENT
            old_plain = job.old.dbesdk is None and job.old.attribute_actions.take_no_actions
            if not old_plain and job.plaintext_policy is not UnsignedItemPolicy.ADOPT:
                if job.plaintext_policy is UnsignedItemPolicy.SKIP:
                    return Outcome.SKIPPED
                raise PlaintextItemError(
                    "the item has no signature (use the 'adopt' plaintext policy to encrypt it)",
                    table=self.table,
                )
            plaintext = dict(item)
            condition = rewrite_condition(item, None, pk=self.pk, sk=self.sk)
        else:
            if not new_plain and self.is_current(item, kind):
                return Outcome.CURRENT
            old = self.old
            new_reads = format_encryptor(new, kind) is not None
            if old is None and not new_reads:
                raise ConfigurationError(
                    "the item is signed but no old materials provider is configured",
                    table=self.table,
                )
            if takes_no_actions(old) and not new_reads:
                raise ConfigurationError(
                    "the item is signed but the old configuration takes no actions",
                    table=self.table,
                )
            # The side that reads the item's format (the old one first): its decryption,
            # and its signature attribute and unsigned attributes for the condition.
            reader = reader_for(item, old, new, table=self.table)
            plaintext = _telemetry.decrypt(reader, item)
            if kind == "dbesdk":
                plaintext = strip_reserved_prefix(plaintext)
            condition = rewrite_condition(item, reader, pk=self.pk, sk=self.sk)
        return Write(item=_telemetry.encrypt(new, plaintext), condition=condition, read=item)

    def is_current(self, item: Mapping[str, Any], kind: str = "legacy") -> bool:
        new = self.new
        if kind == "dbesdk":
            check = self._dbe_current
            return check is not None and check(item, self.key(item))
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
            table_name=self.table,
            partition_key_name=self.pk,
            sort_key_name=self.sk,
            attributes=self.key(item),
            material_description=stored,
        )
        try:
            if not self.job.current_check(stored, self._target_description(item), context):
                return False
        except PynamoDBEncryptionError:
            raise
        except Exception as exc:
            raise PynamoDBEncryptionError(
                f"the current-item check failed ({error_code(exc) or type(exc).__name__})",
                table=self.table,
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
            if cached is not None and now - cached[0] < self.refresh_seconds:
                return cached[1]
        provider = self.job.new.materials_provider
        assert provider is not None
        context = EncryptionContext(
            table_name=self.table,
            partition_key_name=self.pk,
            sort_key_name=self.sk,
            attributes=self.key(item),
        )
        description = dict(provider.encryption_materials(context).material_description)
        with self._target_lock:
            self._target = (now, description)
        return description

    def condition(self, item: Mapping[str, Any], *, signed: bool) -> dict[str, Any]:
        """A condition that holds only while the stored item is the one that was read (see
        `rewrite_condition`): the signature attribute of the item's format and every
        unsigned attribute, or, for a plaintext item, every attribute and no format."""
        reader = reader_for(item, self.old, self.new, table=self.table) if signed else None
        return rewrite_condition(item, reader, pk=self.pk, sk=self.sk)
