"""Queries and scans on beacons (DB-ESDK ``ddb-support.md#queryinputforbeacons``); pure.

`prepare_query` turns a DynamoDB Query/Scan request written against plaintext names and
values into one against the stored beacons: each beacon operand is renamed to its stored
attribute, each value compared with it is replaced by its beacon, and the comparisons DB-ESDK
refuses are refused here with the same rules. The result also re-applies the caller's
original key condition and filter to the decrypted items, so the false positives that
truncated beacons let through never reach the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core._actions import CryptoAction
from ..errors import ConfigurationError
from ._beacon_encryptor import BeaconItemEncryptor
from ._beacons import SearchInfo, _Cmp, _Std, lcm_partition
from ._encryptor import RESERVED_PREFIX, DbEsdkItemEncryptor
from ._expr import (
    And,
    Between,
    Compare,
    ExpressionError,
    Func,
    In,
    Node,
    Not,
    Operand,
    Or,
    Path,
    Size,
    Value,
    evaluate,
    parse,
    path_resolver,
    render,
)

__all__ = [
    "PARTITION_VALUE",
    "BeaconQuery",
    "beacon_table_schema",
    "number_of_queries",
    "prepare_query",
]

PARTITION_VALUE = ":aws_dbe_partition"
_MAX_EXPRESSION = 4096
_LEGACY = ("KeyConditions", "QueryFilter", "ScanFilter", "ConditionalOperator", "AttributesToGet")


def _err(message: str) -> ConfigurationError:
    return ConfigurationError(message)


@dataclass(frozen=True, slots=True)
class _Use:
    beacon: str | None
    for_equality: bool = True
    for_contains: bool = False


@dataclass(slots=True)
class _Context:
    info: SearchInfo
    names: Mapping[str, str]
    values: Mapping[str, Mapping[str, Any]]
    keys: Callable[[], Mapping[str, bytes]]
    uses: dict[str, _Use] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # stored name -> alias

    def real(self, element: str) -> str:
        if element.startswith("#"):
            if element not in self.names:
                raise _err(f"name {element} is not in ExpressionAttributeNames")
            return self.names[element]
        return element

    def beacon_of(self, o: Operand, *, in_function: str | None = None) -> str | None:
        """The beacon an operand names, or None for an ordinary attribute or a value."""
        if isinstance(o, Size):
            name = self.beacon_of(o.path)
            top = self.real(str(o.path.elements[0]))
            if name is not None or top in self.info.encrypted_fields:
                raise _err(
                    f"function size cannot be used on encrypted fields, but it is used with {top}"
                )
            return None
        if isinstance(o, Value):
            return None
        top = self.real(str(o.elements[0]))
        if top in self.info.beacons:
            b = self.info.beacons[top]
            if isinstance(b, _Std) and b.part_only:
                raise _err(
                    f"field {top} is encrypted, and has a part_only beacon, and so can only be "
                    "used as part of a compound beacon"
                )
            if len(o.elements) != 1:
                raise _err(f"beacon {top} cannot be searched with a document path")
            if in_function == "attribute_type":
                raise _err(
                    f"function attribute_type cannot be used on encrypted fields, but it is "
                    f"used with {top}"
                )
            return top
        if top in self.info.encrypted_fields:
            if in_function in ("attribute_exists", "attribute_not_exists"):
                return None
            raise _err(f"field {top} is encrypted, and cannot be searched without a beacon")
        return None

    def alias(self, beacon: str) -> Path:
        stored = self.info.stored_name(beacon)
        a = self.aliases.get(stored)
        if a is None:
            a = f"#aws_dbe_b{len(self.aliases)}"
            self.aliases[stored] = a
        return Path((a,))

    def use(self, value: Operand, u: _Use) -> None:
        if not isinstance(value, Value):
            return
        if value.name not in self.values:
            raise _err(f"value {value.name} is used in the expression but not supplied")
        prev = self.uses.get(value.name)
        if prev is None:
            self.uses[value.name] = u
            return
        if prev.beacon != u.beacon:
            if prev.beacon is None or u.beacon is None:
                raise _err(
                    f"value {value.name} is compared with beacon "
                    f"{prev.beacon or u.beacon} and with an attribute that is not a beacon: "
                    "use two value names"
                )
            raise _err(
                f"value {value.name} is used with two beacons ({prev.beacon} and {u.beacon}): "
                "use one value name per beacon"
            )
        if prev != u:
            self.uses[value.name] = _Use(
                u.beacon, prev.for_equality and u.for_equality, prev.for_contains or u.for_contains
            )


def _check_op(info: SearchInfo, beacon: str, op: str, value: Mapping[str, Any] | None) -> None:
    b = info.beacons[beacon]
    if isinstance(b, _Std):
        if op in ("<>", "<", "<=", ">", ">=", "BETWEEN", "begins_with"):
            raise _err(f"the operation {op!r} cannot be used with a standard beacon ({beacon})")
        return
    if op in ("<", "<=", ">", ">=") and value is not None:
        if "S" not in value:
            raise _err(f"a value for compound beacon {beacon} must be a string (S)")
        pieces = str(value["S"]).split(b.split)
        if not info.less_than_comparable(b, pieces):
            raise _err(
                f"the operation {op!r} cannot be used with compound beacon {beacon} unless the "
                "value is LessThanComparable (signed parts, then at most a bare encrypted prefix)"
            )


def _check_between(info: SearchInfo, beacon: str, low: Any, high: Any) -> None:
    b = info.beacons[beacon]
    if isinstance(b, _Std):
        raise _err(f"the operation BETWEEN cannot be used with a standard beacon ({beacon})")
    for v in (low, high):
        if not isinstance(v, Mapping) or "S" not in v:
            raise _err(f"values for compound beacon {beacon} must be strings (S)")
    lp, rp = str(low["S"]).split(b.split), str(high["S"]).split(b.split)
    while lp and rp and lp[0] == rp[0]:
        lp.pop(0)
        rp.pop(0)
    if not (info.less_than_comparable(b, lp) and info.less_than_comparable(b, rp)):
        raise _err(
            f"to use BETWEEN with compound beacon {beacon}, the part after any common prefix "
            "must be LessThanComparable"
        )


def _is_encrypted(info: SearchInfo, name: str) -> bool:
    b = info.beacons[name]
    return isinstance(b, _Std) or b.is_encrypted


def _renamer(renames: Mapping[str, str]) -> Callable[[Value], Value]:
    def rename(v: Value) -> Value:
        return Value(renames.get(v.name, v.name))

    return rename


def _value(ctx: _Context, o: Operand) -> Mapping[str, Any] | None:
    return ctx.values.get(o.name) if isinstance(o, Value) else None


def _plan(ctx: _Context, node: Node) -> None:
    """First pass: check every comparison and record which beacon each value goes with."""
    if isinstance(node, (And, Or)):
        _plan(ctx, node.left)
        _plan(ctx, node.right)
    elif isinstance(node, Not):
        _plan(ctx, node.inner)
    elif isinstance(node, Compare):
        lb, rb = ctx.beacon_of(node.left), ctx.beacon_of(node.right)
        if lb is not None and rb is not None:
            return
        if lb is None and rb is None:
            ctx.use(node.left, _Use(None))
            ctx.use(node.right, _Use(None))
            return
        b, other = (lb, node.right) if lb is not None else (rb, node.left)
        assert b is not None
        _check_op(ctx.info, b, node.op, _value(ctx, other))
        ctx.use(other, _Use(b, for_equality=node.op in ("=", "<>")))
    elif isinstance(node, Between):
        b = ctx.beacon_of(node.operand)
        if b is not None:
            _check_between(ctx.info, b, _value(ctx, node.low), _value(ctx, node.high))
        for o in (node.operand, node.low, node.high):
            ctx.use(o, _Use(b, for_equality=False))
    elif isinstance(node, In):
        b = ctx.beacon_of(node.operand)
        for o in (node.operand, *node.choices):
            ctx.use(o, _Use(b))
    else:
        b = ctx.beacon_of(node.args[0], in_function=node.name)
        for extra in node.args[1:]:
            if ctx.beacon_of(extra, in_function=node.name) is not None:
                raise _err(f"a beacon must be the first argument of {node.name}")
        if b is not None and node.name == "begins_with":
            _check_op(ctx.info, b, "begins_with", None)
        for o in node.args[1:]:
            ctx.use(
                o,
                _Use(b, for_equality=False, for_contains=node.name == "contains")
                if b is not None
                else _Use(None),
            )
        ctx.use(node.args[0], _Use(None))


def _rename(ctx: _Context, o: Operand, in_function: str | None = None) -> Operand:
    b = ctx.beacon_of(o, in_function=in_function)
    if b is None:
        return o
    if in_function in ("attribute_exists", "attribute_not_exists"):
        # The encrypted attribute itself exists when its beacon does; keep a real attribute.
        top = ctx.real(str(o.elements[0])) if isinstance(o, Path) else ""
        if top in ctx.info.encrypted_fields:
            return o
    return ctx.alias(b)


def _rewrite(ctx: _Context, node: Node, rename_value: Callable[[Value], Value]) -> Node:
    if isinstance(node, And):
        return And(_rewrite(ctx, node.left, rename_value), _rewrite(ctx, node.right, rename_value))
    if isinstance(node, Or):
        return Or(_rewrite(ctx, node.left, rename_value), _rewrite(ctx, node.right, rename_value))
    if isinstance(node, Not):
        return Not(_rewrite(ctx, node.inner, rename_value))

    def v(o: Operand) -> Operand:
        if isinstance(o, Value) and ctx.uses.get(o.name, _Use(None)).beacon is not None:
            return rename_value(o)
        return o

    if isinstance(node, Compare):
        return Compare(node.op, v(_rename(ctx, node.left)), v(_rename(ctx, node.right)))
    if isinstance(node, Between):
        return Between(_rename(ctx, node.operand), v(node.low), v(node.high))
    if isinstance(node, In):
        return In(_rename(ctx, node.operand), tuple(v(c) for c in node.choices))
    return Func(
        node.name,
        (_rename(ctx, node.args[0], node.name), *(v(a) for a in node.args[1:])),
    )


def _beacon_values(ctx: _Context, partition: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, u in ctx.uses.items():
        if u.beacon is None:
            continue
        out[name] = ctx.info.query_value(
            u.beacon,
            ctx.values[name],
            ctx.keys(),
            for_equality=u.for_equality,
            for_contains=u.for_contains,
            partition=partition,
        )
    return out


def _key_values(ctx: _Context, node: Node | None) -> list[tuple[str, Mapping[str, Any]]]:
    out: list[tuple[str, Mapping[str, Any]]] = []

    def walk(n: Node) -> None:
        if isinstance(n, (And, Or)):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, Not):
            walk(n.inner)
        elif isinstance(n, Compare):
            for a, b in ((n.left, n.right), (n.right, n.left)):
                name = ctx.beacon_of(a)
                if name is not None and isinstance(b, Value) and b.name in ctx.values:
                    out.append((name, ctx.values[b.name]))
        elif isinstance(n, Between):
            name = ctx.beacon_of(n.operand)
            if name is not None:
                for o in (n.low, n.high):
                    if isinstance(o, Value) and o.name in ctx.values:
                        out.append((name, ctx.values[o.name]))
        elif isinstance(n, Func) and len(n.args) > 1:
            name = ctx.beacon_of(n.args[0], in_function=n.name)
            if name is not None and isinstance(n.args[1], Value):
                out.append((name, ctx.values.get(n.args[1].name, {})))

    if node is not None:
        walk(node)
    return out


def _key_ids(ctx: _Context, field_name: str, nodes: Iterable[Node | None]) -> set[str]:
    """The beacon key ids a query names: values compared with the key field, or the key
    field's signed part inside a compound beacon's value (DB-ESDK ``GetBeaconKeyIds``)."""
    found: set[str] = set()

    def from_attr(a: Operand, b: Operand) -> None:
        if not (isinstance(a, Path) and len(a.elements) == 1 and isinstance(b, Value)):
            return
        val = ctx.values.get(b.name, {})
        if "S" not in val:
            return
        text = str(val["S"])
        name = ctx.real(str(a.elements[0]))
        if name == field_name:
            found.add(text)
            return
        beacon = ctx.info.beacons.get(name)
        if not isinstance(beacon, _Cmp):
            return
        parts = [p for p in beacon.parts if p.encrypted is None and p.path[0] == field_name]
        if len(parts) != 1:
            return
        pieces = [x for x in text.split(beacon.split) if x.startswith(parts[0].prefix)]
        if len(pieces) == 1:
            found.add(pieces[0][len(parts[0].prefix) :])

    def walk(n: Node) -> None:
        if isinstance(n, (And, Or)):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, Not):
            walk(n.inner)
        elif isinstance(n, Compare):
            from_attr(n.left, n.right)
            from_attr(n.right, n.left)
        elif isinstance(n, In):
            for c in n.choices:
                from_attr(n.operand, c)
        elif isinstance(n, Between):
            from_attr(n.operand, n.low)
            from_attr(n.operand, n.high)
        elif isinstance(n, Func) and len(n.args) > 1:
            from_attr(n.args[0], n.args[1])

    for node in nodes:
        if node is not None:
            walk(node)
    return found


_NAME_TOKEN = re.compile(r"#[A-Za-z0-9_]+")
_VALUE_TOKEN = re.compile(r":[A-Za-z0-9_]+")


@dataclass(frozen=True, slots=True)
class BeaconQuery:
    """A request rewritten for beacons, and the original conditions to re-check results with.

    Send `request` with boto3 (``client.query(**q.request)`` or ``scan``), decrypt each item
    with `BeaconItemEncryptor.decrypt`, and keep those for which `matches` is true (or call
    `filter`). ``Count`` and ``Limit`` refer to what DynamoDB read, before re-filtering.
    """

    request: Mapping[str, Any]
    _encryptor: DbEsdkItemEncryptor
    _beacons: BeaconItemEncryptor | None
    _conditions: tuple[Node, ...]
    _names: Mapping[str, str]
    _values: Mapping[str, Mapping[str, Any]]
    beacon_key_id: str | None = None
    """The tenant's beacon key id the request was rewritten with (multi-tenant sources)."""

    def matches(self, item: Mapping[str, Any]) -> bool:
        """Does a decrypted item satisfy the caller's original key condition and filter?"""
        base = path_resolver(item, self._names)
        info = self._beacons.search_info if self._beacons is not None else None

        def resolve(p: Path) -> dict[str, Any] | None:
            if info is not None and len(p.elements) == 1:
                top = str(p.elements[0])
                real = self._names.get(top, top) if top.startswith("#") else top
                if real in info.beacons:
                    return info.plain_value(real, item)
            return base(p)

        try:
            return all(evaluate(c, resolve, self._values) for c in self._conditions)
        except ExpressionError as exc:
            raise ConfigurationError(f"cannot re-apply the query's conditions: {exc}") from exc

    def filter(self, items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The decrypted items that really match (false positives dropped)."""
        return [i for i in items if self.matches(i)]

    def decrypt(self, stored_items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Verify and decrypt the items of a response; keep those that really match.

        With a multi-tenant key source, an item whose data key was wrapped under another
        branch key than the query's beacon key id is dropped (as DB-ESDK does): another
        tenant's beacons can collide with this tenant's.
        """
        out: list[dict[str, Any]] = []
        for stored in stored_items:
            if self.beacon_key_id is not None and not self._same_tenant(stored):
                continue
            if self._beacons is not None:
                item = self._beacons.decrypt(stored)
            else:
                plain = self._encryptor.decrypt(stored)
                item = {k: v for k, v in plain.items() if not k.startswith(RESERVED_PREFIX)}
            if self.matches(item):
                out.append(item)
        return out

    def _same_tenant(self, stored: Mapping[str, Any]) -> bool:
        header = self._encryptor.read_header(stored)
        ids = {
            info.decode("utf-8", "replace")
            for pid, info in zip(header.provider_ids, header.provider_infos, strict=True)
            if pid == "aws-kms-hierarchy"
        }
        return not ids or ids == {self.beacon_key_id}


def prepare_query(
    beacons: BeaconItemEncryptor | DbEsdkItemEncryptor,
    request: Mapping[str, Any],
    *,
    scan: bool = False,
    beacon_key_id: str | None = None,
) -> BeaconQuery:
    """Rewrite a Query (or, with ``scan=True``, Scan) request for the beacons of a table.

    Args:
        beacons: the table's `BeaconItemEncryptor`; for a table without beacons, its
            `DbEsdkItemEncryptor` (the request is then only checked: a condition on an
            encrypted field is refused, as DB-ESDK does).
        request: boto3 client keyword arguments, with plaintext names and values.
        scan: the request is a Scan (no key condition; no ``:aws_dbe_partition``).
        beacon_key_id: for a multi-tenant key source, the tenant's beacon key id, if the
            request does not compare the key field with a value.

    Raises:
        ConfigurationError: the request does what DB-ESDK refuses (a comparison a beacon does
            not support, an encrypted field without a beacon, one value with two beacons,
            a missing or out-of-range partition), with what to change.
    """
    if not isinstance(beacons, (BeaconItemEncryptor, DbEsdkItemEncryptor)):
        raise _err("beacons must be a BeaconItemEncryptor or a DbEsdkItemEncryptor")
    for legacy in _LEGACY:
        if legacy in request:
            raise _err(f"{legacy} is not supported with beacons: use expressions instead")
    names = dict(request.get("ExpressionAttributeNames") or {})
    values = dict(request.get("ExpressionAttributeValues") or {})
    key_text = request.get("KeyConditionExpression")
    filter_text = request.get("FilterExpression")
    if scan and key_text is not None:
        raise _err("a Scan has no KeyConditionExpression")
    for label, text in (("KeyConditionExpression", key_text), ("FilterExpression", filter_text)):
        if text is not None and len(text) > _MAX_EXPRESSION:
            raise _err(f"{label} exceeds maximum length of {_MAX_EXPRESSION} characters")
    try:
        key_node = parse(key_text) if key_text is not None else None
        filter_node = parse(filter_text) if filter_text is not None else None
    except ExpressionError as exc:
        raise _err(f"the expression does not parse: {exc}") from exc
    conditions = tuple(n for n in (key_node, filter_node) if n is not None)
    if isinstance(beacons, DbEsdkItemEncryptor):
        _refuse_encrypted(beacons, names, conditions)
        if PARTITION_VALUE in values:
            raise _err(f"if no partitions are configured, do not specify {PARTITION_VALUE}")
        if beacon_key_id is not None:
            raise _err("beacon_key_id is only for a multi-tenant beacon key source")
        return BeaconQuery(dict(request), beacons, None, conditions, names, values)
    info = beacons.search_info

    # Partition
    raw_partition = values.pop(PARTITION_VALUE, None)
    mx = info.max_partitions
    if scan and raw_partition is not None:
        raise _err(f"a value for {PARTITION_VALUE} must not be specified for Scan operations")

    key_source = beacons.beacon_version.key_source
    key_id: str | None = None
    if key_source.key_field_name is not None:
        probe = _Context(info, names, values, lambda: {})
        found = _key_ids(probe, key_source.key_field_name, (key_node, filter_node))
        if beacon_key_id is not None:
            found.add(beacon_key_id)
        if len(found) > 1:
            raise _err(f"multiple values found for {key_source.key_field_name} in the query")
        key_id = next(iter(found), None)
    elif beacon_key_id is not None:
        raise _err("beacon_key_id is only for a multi-tenant beacon key source")

    cache: dict[str, Mapping[str, bytes]] = {}

    def keys() -> Mapping[str, bytes]:
        if "k" not in cache:
            cache["k"] = beacons.hmac_keys(key_id)
        return cache["k"]

    ctx = _Context(info, names, values, keys)
    for node in (key_node, filter_node):
        if node is not None:
            _plan(ctx, node)
    uses_encrypted = any(
        u.beacon is not None and _is_encrypted(info, u.beacon) for u in ctx.uses.values()
    )

    if mx <= 1:
        if raw_partition is not None:
            raise _err(f"if no partitions are configured, do not specify {PARTITION_VALUE}")
        partition = 0
    elif raw_partition is not None:
        try:
            partition = int(str(raw_partition["N"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise _err(f"value of {PARTITION_VALUE} is not a number (N)") from exc
        if not 0 <= partition < mx:
            raise _err(
                f"{PARTITION_VALUE} was {partition}; it must be less than the number of "
                f"partitions: {mx}"
            )
    elif uses_encrypted and not scan:
        raise _err(
            f"when maximum_number_of_partitions is greater than one, ExpressionAttributeValues "
            f"must contain {PARTITION_VALUE} (run one query per partition, 0 to "
            f"{mx - 1}; see number_of_queries)"
        )
    else:
        partition = 0

    queries = 1
    if not scan:
        for name, value in _key_values(ctx, key_node):
            q = info.number_of_queries(name, value)
            if q in (1, queries):
                continue
            queries = lcm_partition(queries, q, mx)
    if mx > 1 and queries <= partition:
        raise _err(
            f"partition number was {partition} but should have been less than the number of "
            f"queries: {queries}"
        )

    new_values: dict[str, Any] = dict(values)
    first = _beacon_values(ctx, partition)
    new_values.update(first)
    out = dict(request)
    key_out = _rewrite(ctx, key_node, lambda v: v) if key_node is not None else None
    filter_out: str | None = None
    if filter_node is not None:
        if queries >= mx or (mx - partition) <= queries:
            filter_out = render(_rewrite(ctx, filter_node, lambda v: v))
        else:
            rendered: list[str] = []
            p = partition
            while True:
                vals = first if p == partition else _beacon_values(ctx, p)
                renames: dict[str, str] = {}
                for k, v in vals.items():
                    if new_values.get(k) != v:
                        nk = f"{k}_aws_dbe_p{p}"
                        new_values[nk] = v
                        renames[k] = nk
                text = render(_rewrite(ctx, filter_node, _renamer(renames)))
                if text not in rendered:
                    rendered.append(text)
                if mx - p <= queries:
                    break
                p += queries
            filter_out = (
                rendered[0] if len(rendered) == 1 else " OR ".join(f"({t})" for t in rendered)
            )
    if key_out is not None:
        out["KeyConditionExpression"] = render(key_out)
    if filter_out is not None:
        out["FilterExpression"] = filter_out
    all_names = {**names, **{a: stored for stored, a in ctx.aliases.items()}}
    texts = " ".join(
        str(out[k])
        for k in ("KeyConditionExpression", "FilterExpression", "ProjectionExpression")
        if out.get(k)
    )
    used_names = set(_NAME_TOKEN.findall(texts))
    used_values = set(_VALUE_TOKEN.findall(texts))
    if all_names:
        out["ExpressionAttributeNames"] = {k: v for k, v in all_names.items() if k in used_names}
        if not out["ExpressionAttributeNames"]:
            del out["ExpressionAttributeNames"]
    if new_values or "ExpressionAttributeValues" in out:
        out["ExpressionAttributeValues"] = {k: v for k, v in new_values.items() if k in used_values}
        if not out["ExpressionAttributeValues"]:
            del out["ExpressionAttributeValues"]
    return BeaconQuery(out, beacons.encryptor, beacons, conditions, names, values, key_id)


def _refuse_encrypted(
    encryptor: DbEsdkItemEncryptor, names: Mapping[str, str], conditions: tuple[Node, ...]
) -> None:
    encrypted = {
        k for k, a in encryptor.attribute_actions.items() if a is CryptoAction.ENCRYPT_AND_SIGN
    }

    def check(o: Operand, function: str | None = None) -> None:
        path = o.path if isinstance(o, Size) else o
        if not isinstance(path, Path):
            return
        top = str(path.elements[0])
        real = names.get(top, top) if top.startswith("#") else top
        if real in encrypted and function not in ("attribute_exists", "attribute_not_exists"):
            raise _err(
                f"field {real} is encrypted, and cannot be searched without a beacon: declare "
                "a beacon and use BeaconItemEncryptor"
            )

    def walk(n: Node) -> None:
        if isinstance(n, (And, Or)):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, Not):
            walk(n.inner)
        elif isinstance(n, Compare):
            check(n.left)
            check(n.right)
        elif isinstance(n, Between):
            for o in (n.operand, n.low, n.high):
                check(o)
        elif isinstance(n, In):
            for o in (n.operand, *n.choices):
                check(o)
        else:
            for o in n.args:
                check(o, n.name)

    for c in conditions:
        walk(c)


def number_of_queries(
    beacons: BeaconItemEncryptor | DbEsdkItemEncryptor, request: Mapping[str, Any]
) -> int:
    """How many queries (partitions ``0..n-1``) a Query request must be run as."""
    if not isinstance(beacons, BeaconItemEncryptor):
        return 1
    info = beacons.search_info
    text = request.get("KeyConditionExpression")
    if info.max_partitions <= 1 or text is None:
        return 1
    values = {
        k: v
        for k, v in (request.get("ExpressionAttributeValues") or {}).items()
        if k != PARTITION_VALUE
    }
    ctx = _Context(info, request.get("ExpressionAttributeNames") or {}, values, lambda: {})
    queries = 1
    for name, value in _key_values(ctx, parse(text)):
        q = info.number_of_queries(name, value)
        if q not in (1, queries):
            queries = lcm_partition(queries, q, info.max_partitions)
    return queries


def beacon_table_schema(beacons: BeaconItemEncryptor, request: Mapping[str, Any]) -> dict[str, Any]:
    """A CreateTable (or UpdateTable) request with beacon names turned into stored names.

    Key schemas (table, global and local secondary indexes) and attribute definitions that
    name a beacon are rewritten to ``aws_dbe_b_<name>`` (type S); a signed beacon keeps its
    name. An encrypted attribute without a beacon cannot be a key.
    """
    info = beacons.search_info
    actions = beacons.encryptor.attribute_actions

    def stored(name: str) -> str:
        if name in info.beacons:
            b = info.beacons[name]
            if isinstance(b, _Std) and (b.part_only or b.as_set):
                raise _err(f"beacon {name} cannot be a key (part_only or as_set)")
            return info.stored_name(name)
        if actions.get(name) is CryptoAction.ENCRYPT_AND_SIGN:
            raise _err(
                f"{name} is encrypted and has no beacon: it cannot be a key; declare a beacon"
            )
        return name

    out = dict(request)
    if "KeySchema" in out:
        out["KeySchema"] = [
            {**k, "AttributeName": stored(k["AttributeName"])} for k in out["KeySchema"]
        ]
    for idx_key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if idx_key in out:
            out[idx_key] = [
                {
                    **idx,
                    "KeySchema": [
                        {**k, "AttributeName": stored(k["AttributeName"])} for k in idx["KeySchema"]
                    ],
                }
                for idx in out[idx_key]
            ]
    if "GlobalSecondaryIndexUpdates" in out:
        updates = []
        for u in out["GlobalSecondaryIndexUpdates"]:
            if "Create" in u:
                c = u["Create"]
                u = {
                    **u,
                    "Create": {
                        **c,
                        "KeySchema": [
                            {**k, "AttributeName": stored(k["AttributeName"])}
                            for k in c["KeySchema"]
                        ],
                    },
                }
            updates.append(u)
        out["GlobalSecondaryIndexUpdates"] = updates
    if "AttributeDefinitions" in out:
        defs = []
        for d in out["AttributeDefinitions"]:
            name = stored(d["AttributeName"])
            if name != d["AttributeName"] and d.get("AttributeType") != "S":
                raise _err(f"beacon {d['AttributeName']} is a string: its AttributeType is S")
            defs.append({**d, "AttributeName": name})
        out["AttributeDefinitions"] = defs
    return out
