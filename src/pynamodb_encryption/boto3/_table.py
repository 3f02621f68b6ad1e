"""EncryptedTable: a boto3 ``Table`` resource whose items are encrypted and signed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core import AttributeActions, MaterialsProvider
from ..errors import ConfigurationError
from ..structured import DynamoDbTablesEncryptionConfig
from ._client import refuse
from ._operations import RESOURCE, Engine, Operations
from ._table_info import TableInfo, TableInfoCache

__all__ = ["EncryptedTable"]


def _looks_like_item_operation(name: str) -> bool:
    # Any future Table method that reads or writes items is refused until it is wrapped.
    return name.endswith(("_item", "_items", "_statement")) or name in ("query", "scan")


def _check_table(table: Any) -> str:
    name = getattr(table, "name", None)
    if not isinstance(name, str) or not hasattr(table, "put_item"):
        raise ConfigurationError("table must be a boto3 DynamoDB Table resource")
    return name


class _BatchWriteClient:
    """What boto3's ``BatchWriter`` needs from a client: an encrypting ``batch_write_item``.

    Unprocessed items come back as plaintext, so the writer re-buffers and re-encrypts them.
    """

    __slots__ = ("_client", "_ops")

    def __init__(self, client: Any, ops: Operations) -> None:
        self._client = client
        self._ops = ops

    def batch_write_item(self, **kwargs: Any) -> Any:
        return self._ops.batch_write_item(self._client.batch_write_item, kwargs)


class EncryptedTable:
    """A boto3 DynamoDB ``Table`` whose items are encrypted and signed client-side.

    Same call shapes and values as ``Table`` (plain Python values: ``Decimal``, ``Binary``,
    ``set``; ``Attr``/``Key`` conditions); a drop-in for the reference's
    ``dynamodb_encryption_sdk.encrypted.table.EncryptedTable``. ``put_item``, ``get_item``,
    ``query``, ``scan``, ``delete_item`` and ``update_item`` also accept ``item_encryptor=``
    or ``attribute_actions=`` per call.

    No request is made when the object is built: the table's keys come from ``table_info``
    or from one ``DescribeTable`` at first use.

    Args:
        table: the caller's ``boto3.resource("dynamodb").Table(name)``.
        materials_provider: where keys come from.
        table_info: the table's keys (no ``DescribeTable`` needed).
        attribute_actions: what to do with each attribute (default: encrypt and sign all);
            index keys are lowered to SIGN_ONLY.
        auto_refresh_table_indexes: allow the ``DescribeTable`` call when ``table_info`` is
            not given.
        encryption_config: instead of ``materials_provider``: a DB-ESDK
            `DynamoDbTablesEncryptionConfig` (AWS's shape) that configures this table.
    """

    def __init__(
        self,
        table: Any,
        materials_provider: MaterialsProvider | None = None,
        table_info: TableInfo | None = None,
        attribute_actions: AttributeActions | None = None,
        auto_refresh_table_indexes: bool = True,
        *,
        encryption_config: DynamoDbTablesEncryptionConfig | None = None,
    ) -> None:
        name = _check_table(table)
        if table_info is not None:
            if not isinstance(table_info, TableInfo):
                raise ConfigurationError(
                    "table_info must be a pynamodb_encryption.boto3.TableInfo", table=name
                )
            if table_info.name != name:
                raise ConfigurationError("table_info describes another table", table=name)
        if not isinstance(auto_refresh_table_indexes, bool):
            raise ConfigurationError("auto_refresh_table_indexes must be a bool")
        if table_info is None and not auto_refresh_table_indexes and encryption_config is None:
            raise ConfigurationError(
                "without auto_refresh_table_indexes, pass table_info (the table's keys)",
                table=name,
            )
        self._table = table
        engine = Engine(
            materials_provider=materials_provider,
            attribute_actions=attribute_actions,
            encryption_config=encryption_config,
            table_infos=TableInfoCache(
                table.meta.client.describe_table,
                () if table_info is None else (table_info,),
                auto_refresh=auto_refresh_table_indexes,
            ),
        )
        self._ops = Operations(engine, RESOURCE)

    @classmethod
    def _sharing(cls, table: Any, engine: Engine) -> EncryptedTable:
        """A table using another helper's configuration and caches (EncryptedResource)."""
        _check_table(table)
        shared = cls.__new__(cls)
        shared._table = table
        shared._ops = Operations(engine, RESOURCE)
        return shared

    def __repr__(self) -> str:
        return f"EncryptedTable(name={self._table.name!r})"

    def _send(self, method: Callable[..., Any]) -> Callable[..., Any]:
        # The Table resource adds TableName itself.
        def send(**request: Any) -> Any:
            request.pop("TableName", None)
            return method(**request)

        return send

    def _request(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if "TableName" in kwargs:
            raise ConfigurationError("a Table method takes no TableName", table=self._table.name)
        return {**kwargs, "TableName": self._table.name}

    def put_item(self, **kwargs: Any) -> Any:
        """``put_item`` with the item encrypted and signed."""
        return self._ops.put_item(self._send(self._table.put_item), self._request(kwargs))

    def get_item(self, **kwargs: Any) -> Any:
        """``get_item``, the item verified and decrypted."""
        return self._ops.get_item(self._send(self._table.get_item), self._request(kwargs))

    def delete_item(self, **kwargs: Any) -> Any:
        """``delete_item``; conditions on encrypted attributes refused."""
        return self._ops.delete_item(self._send(self._table.delete_item), self._request(kwargs))

    def update_item(self, **kwargs: Any) -> Any:
        """``update_item`` of DO_NOTHING attributes only (anything else is refused)."""
        return self._ops.update_item(self._send(self._table.update_item), self._request(kwargs))

    def query(self, **kwargs: Any) -> Any:
        """``query``, every item verified and decrypted."""
        return self._ops.query(self._send(self._table.query), self._request(kwargs))

    def scan(self, **kwargs: Any) -> Any:
        """``scan``, every item verified and decrypted."""
        return self._ops.scan(self._send(self._table.scan), self._request(kwargs))

    def batch_writer(self, overwrite_by_pkeys: list[str] | None = None) -> Any:
        """boto3's ``BatchWriter``, encrypting each item when the buffer is sent."""
        from boto3.dynamodb.table import BatchWriter

        return BatchWriter(
            self._table.name,
            _BatchWriteClient(self._table.meta.client, self._ops),  # type: ignore[arg-type]
            overwrite_by_pkeys=overwrite_by_pkeys,
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if _looks_like_item_operation(name):
            raise refuse(name, "EncryptedTable")
        return getattr(self._table, name)
