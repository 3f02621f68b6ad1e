"""What the helpers need to know about a table: its name and the key attributes of its indexes.

Key attributes are never encrypted (DynamoDB must read them), so the helpers lower them to at
most SIGN_ONLY. They come either from the caller (`TableInfo`, no ``DescribeTable``
permission needed) or from one ``DescribeTable`` call per table, cached for the helper's life.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError

__all__ = ["TableIndex", "TableInfo", "TableInfoCache"]


@dataclass(frozen=True, slots=True)
class TableIndex:
    """The key attributes of one index (the primary key or a secondary index).

    Args:
        partition: name of the partition (HASH) key attribute.
        sort: name of the sort (RANGE) key attribute, if the index has one.
    """

    partition: str
    sort: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.partition, str) or not self.partition:
            raise ConfigurationError("an index needs a partition key attribute name")
        if self.sort is not None and (not isinstance(self.sort, str) or not self.sort):
            raise ConfigurationError("a sort key attribute name must be a non-empty str")

    @property
    def attributes(self) -> frozenset[str]:
        """The key attribute names of this index."""
        return frozenset(n for n in (self.partition, self.sort) if n is not None)

    @classmethod
    def from_key_schema(cls, key_schema: Iterable[Mapping[str, Any]]) -> TableIndex:
        """Build from a ``KeySchema`` list as ``DescribeTable`` returns it."""
        keys = {entry["KeyType"]: entry["AttributeName"] for entry in key_schema}
        if "HASH" not in keys:
            raise ConfigurationError("a key schema without a HASH key")
        return cls(partition=keys["HASH"], sort=keys.get("RANGE"))


@dataclass(frozen=True, slots=True)
class TableInfo:
    """A table's name and index keys: what ``DescribeTable`` would tell the helpers.

    Pass one to a helper to avoid the ``DescribeTable`` call (and the IAM permission).

    Args:
        name: the table name (bound into every item signature).
        primary_index: the table's primary key.
        secondary_indexes: the key attributes of every LSI and GSI. Leaving one out means its
            keys follow the attribute actions like any other attribute, and an encrypted
            index key makes the write fail on the server (or the index useless).
    """

    name: str
    primary_index: TableIndex
    secondary_indexes: tuple[TableIndex, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigurationError("a table name is required")
        if not isinstance(self.primary_index, TableIndex):
            raise ConfigurationError("primary_index must be a TableIndex", table=self.name)
        # Accept any iterable (the reference takes a list) but store a tuple: hashable, frozen.
        if isinstance(self.secondary_indexes, (str, bytes, Mapping)) or not isinstance(
            self.secondary_indexes, Iterable
        ):
            raise ConfigurationError(
                "secondary_indexes must be a sequence of TableIndex objects", table=self.name
            )
        indexes = tuple(self.secondary_indexes)
        if not all(isinstance(index, TableIndex) for index in indexes):
            raise ConfigurationError(
                "secondary_indexes must be TableIndex objects", table=self.name
            )
        object.__setattr__(self, "secondary_indexes", indexes)

    @property
    def partition_key_name(self) -> str:
        return self.primary_index.partition

    @property
    def sort_key_name(self) -> str | None:
        return self.primary_index.sort

    @property
    def index_key_names(self) -> frozenset[str]:
        """Every attribute that is a key of the table or of one of its indexes."""
        names = set(self.primary_index.attributes)
        for index in self.secondary_indexes:
            names.update(index.attributes)
        return frozenset(names)

    @classmethod
    def from_description(cls, description: Mapping[str, Any]) -> TableInfo:
        """Build from the ``Table`` member of a ``DescribeTable`` response."""
        secondary = [
            TableIndex.from_key_schema(index["KeySchema"])
            for group in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes")
            for index in description.get(group) or ()
        ]
        return cls(
            name=description["TableName"],
            primary_index=TableIndex.from_key_schema(description["KeySchema"]),
            secondary_indexes=tuple(secondary),
        )


class TableInfoCache:
    """TableInfo per table name: given ones first, else one ``DescribeTable`` each (cached).

    Thread-safe: concurrent first uses of a table may each call ``DescribeTable``, but the
    first result wins and every later call uses the cache.

    Args:
        describe_table: ``client.describe_table`` of the caller's client (called lazily).
        known: TableInfo objects given by the caller; these tables are never described.
        auto_refresh: when False, an unknown table is a configuration error instead of a
            ``DescribeTable`` call.
    """

    __slots__ = ("_auto_refresh", "_describe_table", "_infos", "_lock")

    def __init__(
        self,
        describe_table: Callable[..., Any] | None,
        known: Iterable[TableInfo] = (),
        *,
        auto_refresh: bool = True,
    ) -> None:
        self._describe_table = describe_table
        self._auto_refresh = auto_refresh
        self._infos: dict[str, TableInfo] = {}
        if not isinstance(known, Iterable):
            raise ConfigurationError(
                "table_info must be a pynamodb_encryption.boto3.TableInfo or a sequence of them"
            )
        for info in known:
            if not isinstance(info, TableInfo):
                raise ConfigurationError(
                    "table_info must be pynamodb_encryption.boto3.TableInfo objects"
                )
            self._infos[info.name] = info
        self._lock = threading.Lock()

    def get(self, table_name: str) -> TableInfo:
        """The TableInfo of ``table_name`` (may call ``DescribeTable`` the first time)."""
        info = self._infos.get(table_name)
        if info is not None:
            return info
        if not self._auto_refresh or self._describe_table is None:
            raise ConfigurationError(
                "the key attributes of this table are unknown: pass its TableInfo, or allow "
                "auto_refresh_table_indexes to call DescribeTable",
                table=table_name,
            )
        response = self._describe_table(TableName=table_name)
        described = TableInfo.from_description(response["Table"])
        with self._lock:
            return self._infos.setdefault(table_name, described)

    def known(self, table_name: str) -> TableInfo | None:
        """The cached TableInfo, without any call."""
        return self._infos.get(table_name)
