"""Drop-in encrypting wrappers for boto3's DynamoDB client, service resource and Table.

Same names and constructor keywords as ``dynamodb_encryption_sdk.encrypted``; see
``docs/migration.md``.

This package is ``pynamodb_encryption.boto3``; with absolute imports, ``import boto3`` inside
it (and anywhere else) still means the real boto3.
"""

from __future__ import annotations

from ._client import EncryptedClient, EncryptedPageIterator, EncryptedPaginator
from ._resource import EncryptedResource, EncryptedTablesCollection
from ._table import EncryptedTable
from ._table_info import TableIndex, TableInfo

__all__ = [
    "EncryptedClient",
    "EncryptedPageIterator",
    "EncryptedPaginator",
    "EncryptedResource",
    "EncryptedTable",
    "EncryptedTablesCollection",
    "TableIndex",
    "TableInfo",
]
