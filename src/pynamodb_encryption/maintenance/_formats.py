"""The re-encryption job's view of the two item formats, through the item-encryptor protocol:
which side reads an item, whether an item is already what a DB-ESDK configuration writes, and
the condition that a rewrite is made on.

The job itself (the decider and the writers) asks these functions and never branches on the
format.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from ..core import CryptoAction, ItemEncryptor, ItemEncryptorProtocol
from ..core._encryptor import RESERVED_ATTRIBUTES as LEGACY_RESERVED
from ..errors import ConfigurationError, DecryptionError, PynamoDBEncryptionError
from ..structured import (
    BeaconItemEncryptor,
    DbEsdkItemEncryptor,
    DynamoDbTableEncryptionConfig,
    MigratingItemEncryptor,
)
from ..structured._encryptor import RESERVED_ATTRIBUTES as DBE_RESERVED
from ..structured._encryptor import RESERVED_PREFIX
from ..structured._migrating import item_format

__all__ = [
    "ALL_RESERVED",
    "DbeCurrentCheck",
    "dbesdk_side",
    "format_encryptor",
    "beacon_writer",
    "item_format",
    "reader_for",
    "strip_reserved_prefix",
    "rewrite_condition",
    "takes_no_actions",
]

#: Both formats' reserved attributes: a plaintext item holds none of them.
ALL_RESERVED = LEGACY_RESERVED | DBE_RESERVED
_NOTHING = CryptoAction.DO_NOTHING


def dbesdk_side(
    config: DynamoDbTableEncryptionConfig,
    *,
    table: str,
    pk: str,
    sk: str | None,
    legacy: ItemEncryptor | None = None,
) -> MigratingItemEncryptor:
    """The item encryptor of a DB-ESDK side of the job; ``legacy`` (the side's materials
    provider, if it has one) also reads legacy items."""
    if not isinstance(config, DynamoDbTableEncryptionConfig):
        raise ConfigurationError("dbesdk must be a DynamoDbTableEncryptionConfig", table=table)
    if config.partition_key_name != pk or config.sort_key_name != sk:
        raise ConfigurationError(
            "the DB-ESDK configuration names other key attributes than the table's",
            table=table,
        )
    built = config.item_encryptor(table)
    if legacy is None or built.legacy is not None:
        return built
    return MigratingItemEncryptor(
        dbesdk=built.dbesdk,
        legacy=legacy,
        plaintext_override=built.plaintext_override,
    )


def beacon_writer(encryptor: ItemEncryptorProtocol | None) -> BeaconItemEncryptor | None:
    """The beacon-aware DB-ESDK writer of a side whose configuration has beacons."""
    if isinstance(encryptor, MigratingItemEncryptor):
        return encryptor.beacons
    return encryptor if isinstance(encryptor, BeaconItemEncryptor) else None


def strip_reserved_prefix(plaintext: dict[str, Any]) -> dict[str, Any]:
    """A decrypted DB-ESDK item without its ``aws_dbe_`` attributes (the unsigned beacons and
    the version tag, kept by a reader without beacons): never data, and the writer refuses
    them; a writer with beacons computes them afresh, one without drops them."""
    if not any(name.startswith(RESERVED_PREFIX) for name in plaintext):
        return plaintext
    return {k: v for k, v in plaintext.items() if not k.startswith(RESERVED_PREFIX)}


def takes_no_actions(encryptor: ItemEncryptorProtocol | None) -> bool:
    """A legacy encryptor whose actions are all DO_NOTHING (a plaintext side)."""
    return isinstance(encryptor, ItemEncryptor) and encryptor.attribute_actions.take_no_actions


def format_encryptor(
    encryptor: ItemEncryptorProtocol | None, kind: str
) -> ItemEncryptorProtocol | None:
    """The part of ``encryptor`` that reads items of format ``kind`` ("legacy", "dbesdk"),
    or None when it does not read them."""
    if encryptor is None or takes_no_actions(encryptor):
        return None
    if isinstance(encryptor, MigratingItemEncryptor):
        return encryptor.legacy if kind == "legacy" else encryptor.dbesdk
    if isinstance(encryptor, ItemEncryptor):
        return encryptor if kind == "legacy" else None
    if isinstance(encryptor, DbEsdkItemEncryptor):
        return encryptor if kind == "dbesdk" else None
    return None  # pragma: no cover - every encryptor is one of the three


def reader_for(
    item: Mapping[str, Any],
    old: ItemEncryptorProtocol | None,
    new: ItemEncryptorProtocol,
    *,
    table: str,
) -> ItemEncryptorProtocol:
    """Which configuration decrypts a signed item: the old side when it reads the item's
    format, else the new side (a DB-ESDK item written by stage-2 writers under the new
    configuration's keys but, say, other actions)."""
    kind = item_format(item)
    if kind == "mixed":
        raise DecryptionError(
            "the item holds both the legacy and the DB-ESDK attributes", table=table
        )
    reader = format_encryptor(old, kind) or format_encryptor(new, kind)
    if reader is None:
        raise ConfigurationError(
            f"the item is in the {'DB-ESDK' if kind == 'dbesdk' else 'legacy'} format, which "
            "neither configuration reads",
            table=table,
        )
    return reader


def rewrite_condition(
    item: Mapping[str, Any],
    reader: ItemEncryptorProtocol | None,
    *,
    pk: str,
    sk: str | None,
) -> dict[str, Any]:
    """A condition that holds only while the stored item is the one that was read.

    Signed items: the attribute that identifies their signed part (legacy signature, DB-ESDK
    footer), plus equality of every attribute outside the signature (which other writers may
    change freely). Plaintext items: every non-key attribute unchanged and still no format's
    attributes. Key attributes are implied by the write.
    """
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    clauses: list[str] = []
    signature = reader.signature_attribute(item) if reader is not None else None
    if reader is not None and signature is not None:
        names["#sig"] = signature
        values[":sig"] = item[signature]
        clauses.append("#sig = :sig")
        reserved = reader.reserved_attributes
        unsigned = [n for n in item if n not in reserved and reader.action(n) is _NOTHING]
    else:
        for index, name in enumerate(sorted(ALL_RESERVED)):
            names[f"#f{index}"] = name
            clauses.append(f"attribute_not_exists(#f{index})")
        unsigned = list(item)
    index = 0
    for name in unsigned:
        if name in (pk, sk):
            continue
        names[f"#a{index}"] = name
        values[f":a{index}"] = item[name]
        clauses.append(f"#a{index} = :a{index}")
        index += 1
    condition: dict[str, Any] = {
        "ConditionExpression": " AND ".join(clauses),
        "ExpressionAttributeNames": names,
    }
    if values:
        condition["ExpressionAttributeValues"] = values
    return condition


class DbeCurrentCheck:
    """Whether a DB-ESDK item is already what the new DB-ESDK configuration writes: same
    suite, the header's actions equal the configured ones for every attribute, the same kinds
    of encrypted data keys as a fresh write (one probe encryption, reused for a few seconds),
    it verifies and decrypts with the new keyring, and its unsigned beacons are those the new
    configuration writes (``beacons``; without beacons: the item holds none)."""

    __slots__ = ("_beacons", "_encryptor", "_lock", "_probe", "_refresh")

    def __init__(
        self,
        encryptor: DbEsdkItemEncryptor,
        refresh_seconds: float,
        beacons: BeaconItemEncryptor | None = None,
    ) -> None:
        self._encryptor = encryptor
        self._beacons = beacons
        self._refresh = refresh_seconds
        self._lock = threading.Lock()
        self._probe: tuple[float, tuple[str, ...]] | None = None

    def __call__(self, item: Mapping[str, Any], key: Mapping[str, Any]) -> bool:
        encryptor = self._encryptor
        try:
            header = encryptor.read_header(item)
        except PynamoDBEncryptionError:
            return False
        if header.algorithm_suite is not encryptor.algorithm_suite:
            return False
        written = header.attribute_actions
        if not written:
            return False
        for name in item:
            if name in DBE_RESERVED:
                continue
            if written.get(name, _NOTHING) is not encryptor.action(name):
                return False
        if tuple(sorted(header.provider_ids)) != self._provider_ids(key):
            return False
        try:
            plaintext = encryptor.decrypt(item)
        except PynamoDBEncryptionError:
            return False
        beacons = self._beacons
        if beacons is None:
            # Beacons of an old configuration: the rewrite removes them.
            return not any(
                name.startswith(RESERVED_PREFIX) and name not in DBE_RESERVED for name in item
            )
        return beacons.beacons_are_current(item, plaintext)

    def _provider_ids(self, key: Mapping[str, Any]) -> tuple[str, ...]:
        now = time.monotonic()
        with self._lock:
            probe = self._probe
            if probe is not None and now - probe[0] < self._refresh:
                return probe[1]
        encryptor = self._encryptor
        ids = tuple(sorted(encryptor.read_header(encryptor.encrypt(dict(key))).provider_ids))
        with self._lock:
            self._probe = (now, ids)
        return ids
