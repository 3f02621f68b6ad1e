"""The helpers' public contract: importable from the top level, reference keyword names.

Code outside this repository swaps the reference's helpers for ours by changing imports only,
so every constructor parameter of the reference must exist here, in the same order.
"""

from __future__ import annotations

import inspect

import pytest

import pynamodb_encryption
from pynamodb_encryption import boto3 as helpers

reference = pytest.importorskip("dynamodb_encryption_sdk.encrypted")

PAIRS = [
    ("EncryptedTable", "dynamodb_encryption_sdk.encrypted.table"),
    ("EncryptedClient", "dynamodb_encryption_sdk.encrypted.client"),
    ("EncryptedResource", "dynamodb_encryption_sdk.encrypted.resource"),
]


def _parameters(cls: type) -> list[inspect.Parameter]:
    return [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]


@pytest.mark.parametrize(("name", "module"), PAIRS)
def test_same_constructor_keywords_in_the_same_order(name: str, module: str) -> None:
    import importlib

    theirs = _parameters(getattr(importlib.import_module(module), name))
    ours = _parameters(getattr(pynamodb_encryption, name))
    positional = [p.name for p in ours if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional[: len(theirs)] == [p.name for p in theirs]
    # What the reference makes optional is optional here too.
    for theirs_param in theirs:
        ours_param = next(p for p in ours if p.name == theirs_param.name)
        if theirs_param.default is not inspect.Parameter.empty:
            assert ours_param.default is not inspect.Parameter.empty, theirs_param.name


@pytest.mark.parametrize(
    "name",
    ["EncryptedTable", "EncryptedClient", "EncryptedResource", "TableInfo", "TableIndex"],
)
def test_exported_from_the_top_level(name: str) -> None:
    assert name in pynamodb_encryption.__all__
    assert getattr(pynamodb_encryption, name) is getattr(helpers, name)


@pytest.mark.parametrize(
    "method",
    ["put_item", "get_item", "query", "scan", "delete_item", "update_item", "batch_writer"],
)
def test_table_methods(method: str) -> None:
    assert callable(getattr(helpers.EncryptedTable, method))


@pytest.mark.parametrize(
    "method",
    [
        "put_item",
        "get_item",
        "query",
        "scan",
        "batch_get_item",
        "batch_write_item",
        "transact_write_items",
        "transact_get_items",
        "get_paginator",
    ],
)
def test_client_methods(method: str) -> None:
    assert callable(getattr(helpers.EncryptedClient, method))
