"""Queries and scans on beacons through the boto3 helpers (DB-ESDK ``ddb-support.md``).

A request written against plaintext names and values is rewritten by the engine's
`prepare_query` (beacon names and values), sent, and each decrypted item is kept only if the
caller's original conditions hold on it, so the false positives of truncated beacons never
reach the caller. Resource-style requests (boto3 condition objects, Python values) are turned
into expression text and DynamoDB JSON first, and back after the rewrite.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..structured import BeaconItemEncryptor, BeaconQuery, MigratingItemEncryptor, prepare_query

__all__ = ["beacons_of", "beacon_request"]


def beacons_of(encryptor: object) -> BeaconItemEncryptor | None:
    """The beacon side of a table's item encryptor (None: the table has no beacons)."""
    if isinstance(encryptor, BeaconItemEncryptor):
        return encryptor
    if isinstance(encryptor, MigratingItemEncryptor):
        return encryptor.beacons
    return None


def _to_text(request: dict[str, Any]) -> dict[str, Any]:
    """Condition objects -> expression text with placeholders (resource style)."""
    from boto3.dynamodb.conditions import ConditionBase, ConditionExpressionBuilder

    builder = ConditionExpressionBuilder()
    out = dict(request)
    names = dict(out.get("ExpressionAttributeNames") or {})
    values = dict(out.get("ExpressionAttributeValues") or {})
    for param in ("KeyConditionExpression", "FilterExpression"):
        value = out.get(param)
        if isinstance(value, ConditionBase):
            built = builder.build_expression(
                value, is_key_condition=param == "KeyConditionExpression"
            )
            out[param] = built.condition_expression
            names.update(built.attribute_name_placeholders)
            values.update(built.attribute_value_placeholders)
    if names:
        out["ExpressionAttributeNames"] = names
    if values:
        out["ExpressionAttributeValues"] = values
    return out


def beacon_request(
    beacons: BeaconItemEncryptor,
    request: Mapping[str, Any],
    *,
    scan: bool,
    resource_style: bool,
) -> tuple[dict[str, Any], BeaconQuery]:
    """The request to send and the query whose ``matches`` re-filters decrypted items.

    Raises:
        ConfigurationError: what DB-ESDK refuses (see `prepare_query`).
    """
    req = dict(request)
    convert: Callable[[Any], Any] | None = None
    if resource_style:
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        req = _to_text(req)
        ser, de = TypeSerializer(), TypeDeserializer()
        if "ExpressionAttributeValues" in req:
            req["ExpressionAttributeValues"] = {
                k: ser.serialize(v) for k, v in req["ExpressionAttributeValues"].items()
            }
        convert = de.deserialize
    query = prepare_query(beacons, req, scan=scan)
    out = dict(query.request)
    if convert is not None and "ExpressionAttributeValues" in out:
        out["ExpressionAttributeValues"] = {
            k: convert(v) for k, v in out["ExpressionAttributeValues"].items()
        }
    return out, query
