"""EncryptedClient: a boto3 DynamoDB client that encrypts and signs items on the way out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..core import AttributeActions, ItemEncryptorProtocol, MaterialsProvider
from ..errors import ConfigurationError, UnsupportedOperationError
from ..structured import DynamoDbTablesEncryptionConfig
from ._operations import DDB_JSON, RESOURCE, Engine, Operations
from ._table_info import TableInfo, TableInfoCache

__all__ = ["EncryptedClient", "EncryptedPageIterator", "EncryptedPaginator"]

# Operations that cannot read or write item values: passed to the wrapped client as they are.
_CLIENT_PASSTHROUGH = frozenset(
    {
        "meta",
        "exceptions",
        "waiter_names",
        "can_paginate",
        "get_waiter",
        "close",
        "create_table",
        "delete_table",
        "update_table",
        "tag_resource",
        "untag_resource",
        "update_time_to_live",
        "create_backup",
        "delete_backup",
        "create_global_table",
        "update_global_table",
        "update_global_table_settings",
        "update_continuous_backups",
        "update_contributor_insights",
        "update_table_replica_auto_scaling",
        "update_kinesis_streaming_destination",
        "enable_kinesis_streaming_destination",
        "disable_kinesis_streaming_destination",
        # Copies of stored items, still encrypted and signed.
        "restore_table_from_backup",
        "restore_table_to_point_in_time",
        "export_table_to_point_in_time",
        "get_resource_policy",
        "put_resource_policy",
        "delete_resource_policy",
    }
)
# Metadata only: no DynamoDB Describe*/List* operation returns item values.
_CLIENT_PASSTHROUGH_PREFIXES = ("describe_", "list_")
_REFUSED = {
    "execute_statement": "PartiQL statements cannot be encrypted or checked",
    "batch_execute_statement": "PartiQL statements cannot be encrypted or checked",
    "execute_transaction": "PartiQL statements cannot be encrypted or checked",
    "import_table": "imported items would be stored unencrypted and unsigned",
}
_PROTECTED_PAGINATORS = frozenset({"query", "scan"})


def refuse(name: str, helper: str) -> UnsupportedOperationError:
    """The error for an operation a helper does not protect."""
    reason = _REFUSED.get(name, "it is not one the helper can protect")
    return UnsupportedOperationError(
        f"{helper} refuses {name}: {reason}. Use the wrapped boto3 object directly if you "
        "really mean to bypass encryption."
    )


class EncryptedPageIterator:
    """botocore's ``PageIterator`` with every page's ``Items`` verified and decrypted.

    ``build_full_result()`` and ``search()`` work on the decrypted items; other attributes
    (``resume_token``, ``result_keys``...) come from the wrapped iterator: they hold only
    keys and counts, never item values.
    """

    __slots__ = ("_encryptor", "_operations", "_pages", "_table")

    def __init__(
        self, pages: Any, operations: Operations, encryptor: ItemEncryptorProtocol, table: str
    ) -> None:
        self._pages = pages
        self._operations = operations
        self._encryptor = encryptor
        self._table = table

    def __iter__(self) -> Iterator[Any]:
        for page in self._pages:
            yield self._operations.decrypt_page(page, self._encryptor, self._table)

    def build_full_result(self) -> Any:
        """All pages merged (botocore's rules), then the merged ``Items`` decrypted."""
        return self._operations.decrypt_page(
            self._pages.build_full_result(), self._encryptor, self._table
        )

    def search(self, expression: str) -> Iterator[Any]:
        """A JMESPath expression applied to each decrypted page."""
        import jmespath  # type: ignore[import-untyped]  # botocore dependency, no stubs

        compiled = jmespath.compile(expression)
        for page in self:
            found = compiled.search(page)
            if isinstance(found, list):
                yield from found
            else:
                yield found

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._pages, name)


class EncryptedPaginator:
    """A query or scan paginator whose pages hold verified, decrypted items.

    The request is checked when `paginate` is called, before the first page is read.
    """

    __slots__ = ("_operation", "_operations", "_paginator")

    def __init__(self, paginator: Any, operations: Operations, operation: str) -> None:
        self._paginator = paginator
        self._operations = operations
        self._operation = operation

    def paginate(self, **kwargs: Any) -> EncryptedPageIterator:
        """Like botocore's ``paginate``: response pages with ``Items`` decrypted.

        The request is checked here, before the first page is read.
        """
        request, encryptor, table = self._operations.prepare_read(kwargs, self._operation)
        return EncryptedPageIterator(
            self._paginator.paginate(**request), self._operations, encryptor, table
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._paginator, name)


class EncryptedClient:
    """A boto3 DynamoDB client whose items are encrypted and signed client-side.

    Same call shapes as the client (DynamoDB JSON in and out); a drop-in for the reference's
    ``dynamodb_encryption_sdk.encrypted.client.EncryptedClient``. Operations it cannot protect
    (PartiQL, updates of signed attributes, projections, conditions on encrypted attributes)
    raise `UnsupportedOperationError` before any request.

    Per call, ``put_item``, ``get_item``, ``query``, ``scan``, ``delete_item``,
    ``update_item``, the batch and transaction operations accept ``item_encryptor=`` (a
    complete `ItemEncryptor`, the reference's ``crypto_config``)
    or ``attribute_actions=``.

    Args:
        client: the caller's ``boto3.client("dynamodb")``.
        materials_provider: where keys come from.
        attribute_actions: what to do with each attribute (default: encrypt and sign all);
            index keys are lowered to SIGN_ONLY.
        auto_refresh_table_indexes: find each table's keys with one ``DescribeTable`` (cached)
            when no `TableInfo` was given for it.
        expect_standard_dictionaries: items are plain Python values, as with
            ``table.meta.client`` from a boto3 resource.
        table_info: `TableInfo` objects for tables that must not be described.
        encryption_config: instead of ``materials_provider``: a DB-ESDK
            `DynamoDbTablesEncryptionConfig` (AWS's shape), one configuration per table;
            other tables are refused.
    """

    def __init__(
        self,
        client: Any,
        materials_provider: MaterialsProvider | None = None,
        attribute_actions: AttributeActions | None = None,
        auto_refresh_table_indexes: bool = True,
        expect_standard_dictionaries: bool = False,
        *,
        table_info: TableInfo | Iterable[TableInfo] | None = None,
        encryption_config: DynamoDbTablesEncryptionConfig | None = None,
    ) -> None:
        if client is None or not hasattr(client, "put_item"):
            raise ConfigurationError("client must be a boto3 DynamoDB client")
        if not isinstance(auto_refresh_table_indexes, bool):
            raise ConfigurationError("auto_refresh_table_indexes must be a bool")
        self._client = client
        infos = (table_info,) if isinstance(table_info, TableInfo) else (table_info or ())
        engine = Engine(
            materials_provider=materials_provider,
            attribute_actions=attribute_actions,
            encryption_config=encryption_config,
            table_infos=TableInfoCache(
                client.describe_table, infos, auto_refresh=auto_refresh_table_indexes
            ),
        )
        self._ops = Operations(engine, RESOURCE if expect_standard_dictionaries else DDB_JSON)

    def __repr__(self) -> str:
        engine = self._ops.engine
        if engine.encryption_config is not None:
            tables = sorted(engine.encryption_config.table_encryption_configs)
            return f"EncryptedClient(encryption_config=<DB-ESDK tables {tables}>)"
        provider = type(engine.materials_provider).__name__
        return f"EncryptedClient(materials_provider={provider})"

    def put_item(self, **kwargs: Any) -> Any:
        """``PutItem`` with the item encrypted and signed; ``ReturnValues=ALL_OLD`` decrypted."""
        return self._ops.put_item(self._client.put_item, kwargs)

    def get_item(self, **kwargs: Any) -> Any:
        """``GetItem``, the item verified and decrypted."""
        return self._ops.get_item(self._client.get_item, kwargs)

    def delete_item(self, **kwargs: Any) -> Any:
        """``DeleteItem``; conditions on encrypted attributes refused, old item decrypted."""
        return self._ops.delete_item(self._client.delete_item, kwargs)

    def update_item(self, **kwargs: Any) -> Any:
        """``UpdateItem`` of DO_NOTHING attributes only (anything else is refused)."""
        return self._ops.update_item(self._client.update_item, kwargs)

    def create_table(self, **kwargs: Any) -> Any:
        """``CreateTable``; with beacons, key schemas naming a beacon use its stored name."""
        return self._ops.create_table(self._client.create_table, kwargs)

    def query(self, **kwargs: Any) -> Any:
        """``Query``, every item verified and decrypted."""
        return self._ops.query(self._client.query, kwargs)

    def scan(self, **kwargs: Any) -> Any:
        """``Scan``, every item verified and decrypted."""
        return self._ops.scan(self._client.scan, kwargs)

    def batch_get_item(self, **kwargs: Any) -> Any:
        """``BatchGetItem``, every item verified and decrypted."""
        return self._ops.batch_get_item(self._client.batch_get_item, kwargs)

    def batch_write_item(self, **kwargs: Any) -> Any:
        """``BatchWriteItem``; ``UnprocessedItems`` come back as the caller's plaintext."""
        return self._ops.batch_write_item(self._client.batch_write_item, kwargs)

    def transact_get_items(self, **kwargs: Any) -> Any:
        """``TransactGetItems``, every item verified and decrypted."""
        return self._ops.transact_get_items(self._client.transact_get_items, kwargs)

    def transact_write_items(self, **kwargs: Any) -> Any:
        """``TransactWriteItems``: Put items encrypted, every entry checked before sending."""
        return self._ops.transact_write_items(self._client.transact_write_items, kwargs)

    def get_paginator(self, operation_name: str) -> Any:
        """Paginators for query and scan decrypt their pages; metadata paginators pass."""
        if operation_name in _PROTECTED_PAGINATORS:
            return EncryptedPaginator(
                self._client.get_paginator(operation_name), self._ops, operation_name
            )
        if operation_name.startswith(_CLIENT_PASSTHROUGH_PREFIXES):
            return self._client.get_paginator(operation_name)
        raise refuse(f"the {operation_name} paginator", "EncryptedClient")

    def execute_statement(self, **kwargs: Any) -> Any:
        """Refused: PartiQL cannot be encrypted."""
        raise refuse("execute_statement", "EncryptedClient")

    def batch_execute_statement(self, **kwargs: Any) -> Any:
        """Refused: PartiQL cannot be encrypted."""
        raise refuse("batch_execute_statement", "EncryptedClient")

    def execute_transaction(self, **kwargs: Any) -> Any:
        """Refused: PartiQL cannot be encrypted."""
        raise refuse("execute_transaction", "EncryptedClient")

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not defined here. Pass on what cannot touch item values.
        if name.startswith("_"):
            raise AttributeError(name)
        if name in _CLIENT_PASSTHROUGH or name.startswith(_CLIENT_PASSTHROUGH_PREFIXES):
            return getattr(self._client, name)
        if name in _REFUSED or hasattr(self._client, name):
            raise refuse(name, "EncryptedClient")
        raise AttributeError(name)
