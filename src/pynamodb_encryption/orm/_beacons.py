"""Beacons on models: queries, scans and CreateTable rewritten where PynamoDB sends them.

PynamoDB serializes a model's conditions (``Patient.ssn == "078-05-1120"``) and an index's
hash key value into a request with plaintext names and values; the hook below, installed on
the class's connection, hands that request to the engine's `prepare_query` (beacon names and
values), sends the rewritten one and keeps only the items whose decrypted values satisfy the
original conditions, so the false positives of truncated beacons never reach the caller.
Items are decrypted once: the plaintext is handed to ``from_raw_data`` by identity.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pynamodb.constants import CREATE_TABLE, QUERY, SCAN

from ..errors import ConfigurationError
from ..structured import (
    BeaconItemEncryptor,
    BeaconQuery,
    beacon_table_schema,
    number_of_queries,
    prepare_query,
)
from ..structured._beacon_query import PARTITION_VALUE

__all__ = ["install_beacon_hook", "take_decrypted"]

_local = threading.local()


def _decrypted() -> dict[int, tuple[dict[str, Any], dict[str, Any]]]:
    cache: dict[int, tuple[dict[str, Any], dict[str, Any]]] | None = getattr(_local, "items", None)
    if cache is None:
        cache = {}
        _local.items = cache
    return cache


def take_decrypted(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The plaintext of a stored item this thread's last beacon query already decrypted."""
    hit = _decrypted().pop(id(raw), None)
    if hit is None or hit[0] is not raw:
        return None
    return hit[1]


def _all_partitions(
    beacons: BeaconItemEncryptor,
    send: Callable[[str, dict[str, Any]], Any],
    request: dict[str, Any],
) -> tuple[BeaconQuery, dict[str, Any]]:
    """A Query on partitioned beacons: one query per partition (DB-ESDK leaves the loop to the
    caller; a model has no way to pass the partition), all pages read, merged into one page."""
    for name in ("Limit", "ExclusiveStartKey"):
        if name in request:
            raise ConfigurationError(
                f"a query on partitioned beacons runs once per partition and reads every page: "
                f"{name} (limit=, page_size=, last_evaluated_key=) is not supported"
            )
    values = dict(request.get("ExpressionAttributeValues") or {})
    if PARTITION_VALUE in values:
        query = prepare_query(beacons, request)
        return query, send(QUERY, dict(query.request))
    first: BeaconQuery | None = None
    merged: dict[str, Any] = {"Items": [], "Count": 0, "ScannedCount": 0}
    for partition in range(number_of_queries(beacons, request)):
        query = prepare_query(
            beacons,
            {
                **request,
                "ExpressionAttributeValues": {**values, PARTITION_VALUE: {"N": str(partition)}},
            },
        )
        first = first or query
        start = None
        while True:
            page = send(QUERY, {**query.request, **({"ExclusiveStartKey": start} if start else {})})
            merged["Items"].extend(page.get("Items") or [])
            merged["ScannedCount"] += int(page.get("ScannedCount", 0))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
    assert first is not None
    return first, merged


def install_beacon_hook(
    connection: Any,
    beacons: Callable[[], BeaconItemEncryptor],
    decrypt: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    """Wrap ``connection._make_api_call`` (a PynamoDB ``Connection``) once."""
    if getattr(connection, "_pde_beacon_hook", False):
        return
    original = connection._make_api_call

    def call(operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        if operation_name == CREATE_TABLE:
            return original(operation_name, beacon_table_schema(beacons(), operation_kwargs))
        if operation_name not in (QUERY, SCAN):
            return original(operation_name, operation_kwargs)
        request = dict(operation_kwargs)
        counting = request.get("Select") == "COUNT"
        if counting:
            del request["Select"]  # false positives are dropped here, so items are read
        table = beacons()
        if operation_name == QUERY and table.search_info.max_partitions > 1:
            query, data = _all_partitions(table, original, request)
        else:
            query = prepare_query(table, request, scan=operation_name == SCAN)
            data = original(operation_name, query.request)
        items = data.get("Items") if isinstance(data, dict) else None
        if isinstance(items, list):
            cache = _decrypted()
            cache.clear()
            kept = []
            for stored in items:
                plain = decrypt(stored)
                if query.matches(plain):
                    kept.append(stored)
                    if not counting:
                        cache[id(stored)] = (stored, plain)
            data["Count"] = len(kept)
            if counting:
                del data["Items"]
            else:
                data["Items"] = kept
        return data

    connection._make_api_call = call
    connection._pde_beacon_hook = True
