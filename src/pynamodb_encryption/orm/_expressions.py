"""PynamoDB expressions seen from the encryption side.

- Which top-level attributes a condition, filter or update action names (conditions on an
  encrypted attribute would compare ciphertext, so they are refused before any request).
- A local interpreter for update actions on a DynamoDB-JSON item, used when an update touches
  signed or encrypted attributes and must run as read / apply / re-sign / conditional put.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from pynamodb.expressions.condition import Condition, Exists, NotExists
from pynamodb.expressions.operand import (
    Path,
    Value,
    _Decrement,
    _IfNotExists,
    _Increment,
    _ListAppend,
    _Operand,
    _Size,
)
from pynamodb.expressions.update import (
    Action,
    AddAction,
    DeleteAction,
    RemoveAction,
    SetAction,
)

from ..core._codec import CodecError, normalize_number
from ..errors import UnsupportedOperationError

__all__ = [
    "LocalUpdateError",
    "apply_actions",
    "check_actions_supported",
    "condition_names",
    "operand_names",
    "target_name",
]

_INDEX = re.compile(r"^(.*?)((?:\[\d+\])*)$")
_INDEX_PART = re.compile(r"\[(\d+)\]")
# DynamoDB numbers: 38 significant digits.
_DDB_CONTEXT = Context(prec=38)


class LocalUpdateError(ValueError):
    """An update action cannot be applied to the current item (what DynamoDB would reject)."""


def _top_name(path: Path) -> str:
    first = path.path[0]
    match = _INDEX.match(first)
    return match.group(1) if match else first


def _iter_paths(node: Any) -> Iterator[Path]:
    if isinstance(node, Path):
        yield node
    elif isinstance(node, Value):
        return
    elif isinstance(node, (Condition, _Operand, Action)):
        for value in node.values:
            yield from _iter_paths(value)


def _iter_value_paths(node: Any) -> Iterator[Path]:
    """Paths whose *value* a condition looks at: everything except a top-level attribute
    tested only for presence (``attribute_exists(x)`` sees no ciphertext)."""
    if isinstance(node, (Exists, NotExists)):
        path = node.values[0]
        if isinstance(path, Path) and len(path.path) == 1 and "[" not in path.path[0]:
            return
    if isinstance(node, Path):
        yield node
    elif isinstance(node, Value):
        return
    elif isinstance(node, (Condition, _Operand)):
        for value in node.values:
            yield from _iter_value_paths(value)


def condition_names(condition: Condition | None) -> set[str]:
    """Top-level attributes whose stored value a condition or filter expression compares
    (presence tests of a whole attribute are left out: they work on ciphertext too)."""
    if condition is None:
        return set()
    return {_top_name(path) for path in _iter_value_paths(condition)}


def target_name(action: Action) -> str:
    """The top-level attribute an update action writes."""
    target = action.values[0]
    if not isinstance(target, Path):  # pragma: no cover - PynamoDB always builds a Path here
        raise UnsupportedOperationError("an update action must target an attribute path")
    return _top_name(target)


def operand_names(action: Action) -> set[str]:
    """Top-level attributes an update action reads (``SET a = b + :v`` reads ``b``)."""
    return {_top_name(path) for value in action.values[1:] for path in _iter_paths(value)}


# ---------------------------------------------------------------------------------------------
# Local interpreter


def _segments(path: Path) -> list[str | int]:
    out: list[str | int] = []
    for segment in path.path:
        match = _INDEX.match(segment)
        assert match is not None
        out.append(match.group(1))
        out.extend(int(i) for i in _INDEX_PART.findall(match.group(2)))
    return out


_SUPPORTED_OPERANDS = (Path, Value, _Increment, _Decrement, _IfNotExists, _ListAppend)


def _check_operand(operand: Any) -> None:
    if isinstance(operand, _Size) or not isinstance(operand, _SUPPORTED_OPERANDS):
        raise UnsupportedOperationError(
            f"update operand {type(operand).__name__} cannot be applied locally to a signed item"
        )
    if not isinstance(operand, (Path, Value)):
        for value in operand.values:
            _check_operand(value)


def check_actions_supported(actions: list[Action]) -> None:
    """Raise `UnsupportedOperationError` unless every action can be applied locally."""
    for action in actions:
        if not isinstance(action, (SetAction, RemoveAction, AddAction, DeleteAction)):
            raise UnsupportedOperationError(
                f"update action {type(action).__name__} cannot be applied locally to a signed item"
            )
        if not isinstance(action.values[0], Path):
            raise UnsupportedOperationError("an update action must target an attribute path")
        for operand in action.values[1:]:
            _check_operand(operand)


def _lookup(item: dict[str, Any], segments: list[str | int]) -> dict[str, Any] | None:
    node: Any = {"M": item}
    for segment in segments:
        if isinstance(segment, int):
            elements = node.get("L") if isinstance(node, dict) else None
            if elements is None or segment >= len(elements):
                return None
            node = elements[segment]
        else:
            members = node.get("M") if isinstance(node, dict) else None
            if members is None or segment not in members:
                return None
            node = members[segment]
    result: dict[str, Any] = node
    return result


def _container(item: dict[str, Any], segments: list[str | int]) -> Any:
    """The parent of the last segment: a dict (map members) or a list (list elements)."""
    parent = _lookup(item, segments[:-1]) if len(segments) > 1 else {"M": item}
    if parent is None:
        raise LocalUpdateError("the document path does not exist in the item")
    last = segments[-1]
    if isinstance(last, int):
        if "L" not in parent:
            raise LocalUpdateError("the document path dereferences a non-list as a list")
        return parent["L"]
    if "M" not in parent:
        raise LocalUpdateError("the document path dereferences a non-map as a map")
    return parent["M"]


def _number(value: dict[str, Any]) -> Decimal:
    if "N" not in value:
        raise LocalUpdateError("an arithmetic operand is not a number")
    try:
        return Decimal(value["N"])
    except InvalidOperation as exc:  # pragma: no cover - numbers come from DynamoDB/PynamoDB
        raise LocalUpdateError("an arithmetic operand is not a number") from exc


def _number_value(number: Decimal) -> dict[str, Any]:
    try:
        return {"N": normalize_number(str(number))}
    except CodecError as exc:
        raise LocalUpdateError("the result is not a valid DynamoDB number") from exc


def _evaluate(operand: Any, item: dict[str, Any]) -> dict[str, Any]:
    if isinstance(operand, Value):
        result: dict[str, Any] = copy.deepcopy(operand.value)
        return result
    if isinstance(operand, Path):
        found = _lookup(item, _segments(operand))
        if found is None:
            raise LocalUpdateError("the update refers to an attribute that does not exist")
        return copy.deepcopy(found)
    if isinstance(operand, _IfNotExists):
        found = _lookup(item, _segments(operand.values[0]))
        return copy.deepcopy(found) if found is not None else _evaluate(operand.values[1], item)
    if isinstance(operand, (_Increment, _Decrement)):
        left = _number(_evaluate(operand.values[0], item))
        right = _number(_evaluate(operand.values[1], item))
        total = (
            _DDB_CONTEXT.add(left, right)
            if isinstance(operand, _Increment)
            else _DDB_CONTEXT.subtract(left, right)
        )
        return _number_value(total)
    if isinstance(operand, _ListAppend):
        first = _evaluate(operand.values[0], item)
        second = _evaluate(operand.values[1], item)
        if "L" not in first or "L" not in second:
            raise LocalUpdateError("list_append needs two lists")
        return {"L": first["L"] + second["L"]}
    raise UnsupportedOperationError(  # pragma: no cover - rejected by check_actions_supported
        f"update operand {type(operand).__name__} cannot be applied locally"
    )


_SET_TYPES = ("SS", "NS", "BS")


def _set_key(set_type: str, member: Any) -> Any:
    return Decimal(member) if set_type == "NS" else member


def _set_union(current: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    ((set_type, members),) = current.items()
    if set_type not in _SET_TYPES or set_type not in extra:
        raise LocalUpdateError("ADD needs a set of the same type")
    seen = {_set_key(set_type, m) for m in members}
    merged = list(members)
    for member in extra[set_type]:
        key = _set_key(set_type, member)
        if key not in seen:
            seen.add(key)
            merged.append(member)
    return {set_type: merged}


def _set_difference(current: dict[str, Any], removed: dict[str, Any]) -> dict[str, Any] | None:
    ((set_type, members),) = current.items()
    if set_type not in _SET_TYPES or set_type not in removed:
        raise LocalUpdateError("DELETE needs a set of the same type")
    drop = {_set_key(set_type, m) for m in removed[set_type]}
    kept = [m for m in members if _set_key(set_type, m) not in drop]
    return {set_type: kept} if kept else None


def _assign(item: dict[str, Any], segments: list[str | int], value: dict[str, Any]) -> None:
    parent = _container(item, segments)
    last = segments[-1]
    if isinstance(last, int):
        if last >= len(parent):
            parent.append(value)  # DynamoDB appends when the index is past the end
        else:
            parent[last] = value
    else:
        parent[last] = value


def _remove(item: dict[str, Any], segments: list[str | int]) -> None:
    try:
        parent = _container(item, segments)
    except LocalUpdateError:
        return
    last = segments[-1]
    if isinstance(last, int):
        if last < len(parent):
            del parent[last]
    else:
        parent.pop(last, None)


def apply_actions(item: dict[str, Any], actions: list[Action]) -> dict[str, Any]:
    """Apply PynamoDB update actions to a plaintext DynamoDB-JSON item; returns a new item.

    All operands are evaluated against the item *before* the update, as DynamoDB does.

    Raises:
        LocalUpdateError: the item does not allow the update (missing path, wrong type).
    """
    before = item
    after = copy.deepcopy(item)
    for action in actions:
        target = action.values[0]
        assert isinstance(target, Path)
        segments = _segments(target)
        if isinstance(action, SetAction):
            _assign(after, segments, _evaluate(action.values[1], before))
        elif isinstance(action, RemoveAction):
            _remove(after, segments)
        elif isinstance(action, AddAction):
            operand = _evaluate(action.values[1], before)
            current = _lookup(after, segments)
            if current is None:
                _assign(after, segments, operand)
            elif "N" in current:
                _assign(
                    after,
                    segments,
                    _number_value(_DDB_CONTEXT.add(_number(current), _number(operand))),
                )
            else:
                _assign(after, segments, _set_union(current, operand))
        elif isinstance(action, DeleteAction):
            operand = _evaluate(action.values[1], before)
            current = _lookup(after, segments)
            if current is None:
                continue
            remaining = _set_difference(current, operand)
            if remaining is None:
                _remove(after, segments)
            else:
                _assign(after, segments, remaining)
    return after
