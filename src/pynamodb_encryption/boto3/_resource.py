"""EncryptedResource: a boto3 DynamoDB service resource whose tables are encrypted."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..core import AttributeActions, MaterialsProvider
from ..errors import ConfigurationError
from ..structured import DynamoDbTablesEncryptionConfig
from ._client import refuse
from ._operations import RESOURCE, Engine, Operations
from ._table import EncryptedTable, _looks_like_item_operation
from ._table_info import TableInfo, TableInfoCache

__all__ = ["EncryptedResource", "EncryptedTablesCollection"]


class EncryptedTablesCollection:
    """``resource.tables`` whose tables are `EncryptedTable` objects."""

    __slots__ = ("_collection", "_resource")

    def __init__(self, collection: Any, resource: EncryptedResource) -> None:
        self._collection = collection
        self._resource = resource

    def _wrap(self, tables: Iterable[Any]) -> Iterator[EncryptedTable]:
        for table in tables:
            yield self._resource._wrap_table(table)

    def all(self) -> Iterator[EncryptedTable]:
        return self._wrap(self._collection.all())

    def filter(self, **kwargs: Any) -> Iterator[EncryptedTable]:
        return self._wrap(self._collection.filter(**kwargs))

    def limit(self, count: int) -> Iterator[EncryptedTable]:
        return self._wrap(self._collection.limit(count))

    def page_size(self, count: int) -> Iterator[EncryptedTable]:
        return self._wrap(self._collection.page_size(count))

    def __iter__(self) -> Iterator[EncryptedTable]:
        return self.all()


class EncryptedResource:
    """A boto3 DynamoDB service resource whose items are encrypted and signed client-side.

    ``batch_get_item`` and ``batch_write_item`` take and return plain Python values as the
    resource does; ``Table(name)``, ``create_table`` and ``tables`` give
    `EncryptedTable` objects sharing this resource's configuration and key cache. A
    drop-in for the reference's ``dynamodb_encryption_sdk.encrypted.resource
    .EncryptedResource``.

    Args:
        resource: the caller's ``boto3.resource("dynamodb")``.
        materials_provider: where keys come from.
        attribute_actions: what to do with each attribute (default: encrypt and sign all).
        auto_refresh_table_indexes: find each table's keys with one ``DescribeTable``
            (cached) when no `TableInfo` was given for it.
        table_info: `TableInfo` objects for tables that must not be described.
        encryption_config: instead of ``materials_provider``: a DB-ESDK
            `DynamoDbTablesEncryptionConfig` (AWS's shape); unconfigured tables are refused.
    """

    def __init__(
        self,
        resource: Any,
        materials_provider: MaterialsProvider | None = None,
        attribute_actions: AttributeActions | None = None,
        auto_refresh_table_indexes: bool = True,
        *,
        table_info: TableInfo | Iterable[TableInfo] | None = None,
        encryption_config: DynamoDbTablesEncryptionConfig | None = None,
    ) -> None:
        client = getattr(getattr(resource, "meta", None), "client", None)
        if not hasattr(resource, "Table") or not callable(getattr(client, "describe_table", None)):
            raise ConfigurationError("resource must be a boto3 DynamoDB service resource")
        if not isinstance(auto_refresh_table_indexes, bool):
            raise ConfigurationError("auto_refresh_table_indexes must be a bool")
        self._resource = resource
        infos = (table_info,) if isinstance(table_info, TableInfo) else (table_info or ())
        self._engine = Engine(
            materials_provider=materials_provider,
            attribute_actions=attribute_actions,
            encryption_config=encryption_config,
            table_infos=TableInfoCache(
                resource.meta.client.describe_table,
                infos,
                auto_refresh=auto_refresh_table_indexes,
            ),
        )
        self._auto_refresh = auto_refresh_table_indexes
        self._ops = Operations(self._engine, RESOURCE)

    def __repr__(self) -> str:
        if self._engine.encryption_config is not None:
            tables = sorted(self._engine.encryption_config.table_encryption_configs)
            return f"EncryptedResource(encryption_config=<DB-ESDK tables {tables}>)"
        return (
            "EncryptedResource(materials_provider="
            f"{type(self._engine.materials_provider).__name__})"
        )

    def _wrap_table(self, table: Any) -> EncryptedTable:
        return EncryptedTable._sharing(table, self._engine)

    def Table(self, name: str, **kwargs: Any) -> EncryptedTable:
        """An `EncryptedTable` for ``name``.

        ``materials_provider``, ``attribute_actions``, ``table_info`` and
        ``auto_refresh_table_indexes`` override this resource's settings for that table.
        """
        unknown = set(kwargs) - {
            "materials_provider",
            "attribute_actions",
            "table_info",
            "auto_refresh_table_indexes",
        }
        if unknown:
            raise ConfigurationError(f"unknown Table() arguments: {sorted(unknown)}", table=name)
        table = self._resource.Table(name)
        if not kwargs:
            return self._wrap_table(table)
        if self._engine.encryption_config is not None:
            raise ConfigurationError(
                "per-table overrides are legacy settings: with a DB-ESDK encryption_config "
                "configure the table there",
                table=name,
            )
        info = kwargs.get("table_info") or self._engine.table_infos.known(name)
        return EncryptedTable(
            table,
            kwargs.get("materials_provider", self._engine.materials_provider),
            table_info=info,
            attribute_actions=kwargs.get("attribute_actions", self._engine.attribute_actions),
            auto_refresh_table_indexes=kwargs.get("auto_refresh_table_indexes", self._auto_refresh),
        )

    def create_table(self, **kwargs: Any) -> EncryptedTable:
        """``create_table``, returning the new table as an `EncryptedTable`."""
        return self._wrap_table(self._resource.create_table(**kwargs))

    @property
    def tables(self) -> EncryptedTablesCollection:
        """``resource.tables``, yielding `EncryptedTable` objects."""
        return EncryptedTablesCollection(self._resource.tables, self)

    def batch_get_item(self, **kwargs: Any) -> Any:
        """``batch_get_item``, every item verified and decrypted."""
        return self._ops.batch_get_item(self._resource.batch_get_item, kwargs)

    def batch_write_item(self, **kwargs: Any) -> Any:
        """``batch_write_item``; ``UnprocessedItems`` come back as the caller's plaintext."""
        return self._ops.batch_write_item(self._resource.batch_write_item, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if _looks_like_item_operation(name):
            raise refuse(name, "EncryptedResource")
        return getattr(self._resource, name)
