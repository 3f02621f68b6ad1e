"""PynamoDB expressions seen from the encryption side.

- Which top-level attributes a condition, filter or update action names (conditions on an
  encrypted attribute would compare ciphertext, so they are refused before any request).
- A local interpreter for update actions on a DynamoDB-JSON item, used when an update touches
  signed or encrypted attributes and must run as read / apply / re-sign / conditional UpdateItem.
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
    "check_update_expression",
    "condition_names",
    "evaluate_operand",
    "operand_names",
    "target_name",
]

_INDEX = re.compile(r"^(.*?)((?:\[\d+\])*)$")
_INDEX_PART = re.compile(r"\[(\d+)\]")


_SET_TYPES = ("SS", "NS", "BS")


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


_INVALID_PATH = "The document path provided in the update expression is invalid for update"


def _container(item: dict[str, Any], segments: list[str | int]) -> Any:
    """The parent of the last segment: a dict (map members) or a list (list elements)."""
    parent = _lookup(item, segments[:-1]) if len(segments) > 1 else {"M": item}
    if parent is None:
        raise LocalUpdateError(_INVALID_PATH)
    last = segments[-1]
    if isinstance(last, int):
        if "L" not in parent:
            raise LocalUpdateError(_INVALID_PATH)
        return parent["L"]
    if "M" not in parent:
        raise LocalUpdateError(_INVALID_PATH)
    return parent["M"]


# ---------------------------------------------------------------------------------------------
# Numbers and values, checked as DynamoDB checks them (measured on DynamoDB Local): arithmetic
# is exact, and a result that needs more than 38 significant digits or leaves the range
# 1E-130 .. 9.99...E+125 is refused, never rounded.

# Wide enough that the sum of two in-range numbers is exact (exponents span 256 places).
_EXACT = Context(prec=400, Emax=999_999, Emin=-999_999)
_MAX_DIGITS = 38
_MAX_MAGNITUDE = Decimal("9.9999999999999999999999999999999999999E+125")
_MIN_MAGNITUDE = Decimal("1E-130")
_TYPE_MISMATCH = "An operand in the update expression has an incorrect data type"


def _checked_number(number: Decimal) -> Decimal:
    if not number.is_finite():
        raise LocalUpdateError("the value is not a valid DynamoDB number")
    if number.is_zero():
        return number
    magnitude = number.copy_abs()  # abs() would round to the context precision (28)
    if magnitude > _MAX_MAGNITUDE:
        raise LocalUpdateError(
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range"
        )
    if magnitude < _MIN_MAGNITUDE:
        raise LocalUpdateError(
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range"
        )
    digits = number.as_tuple().digits
    end = len(digits)
    while end > 1 and digits[end - 1] == 0:
        end -= 1
    start = 0
    while start < end - 1 and digits[start] == 0:
        start += 1
    if end - start > _MAX_DIGITS:
        raise LocalUpdateError("DynamoDB only supports precision up to 38 digits")
    return number


def _parse_number(text: Any) -> Decimal:
    if not isinstance(text, str):
        raise LocalUpdateError("the value is not a valid DynamoDB number")
    try:
        return _checked_number(Decimal(text))
    except InvalidOperation as exc:
        raise LocalUpdateError("the value is not a valid DynamoDB number") from exc


def _check_value(value: Any) -> None:
    """Refuse what DynamoDB refuses in ExpressionAttributeValues (numbers, empty or duplicated
    sets), recursively."""
    if not isinstance(value, dict) or len(value) != 1:
        raise LocalUpdateError("an update value is not a DynamoDB value")
    ((kind, member),) = value.items()
    if kind == "N":
        _parse_number(member)
    elif kind in _SET_TYPES:
        if not member:
            raise LocalUpdateError("One or more parameter values were invalid: empty set")
        keys = [_parse_number(m) if kind == "NS" else m for m in member]
        if len(set(keys)) != len(keys):
            raise LocalUpdateError("Input collection contains duplicates")
    elif kind == "L":
        for element in member:
            _check_value(element)
    elif kind == "M":
        for element in member.values():
            _check_value(element)


def _iter_values(node: Any) -> Iterator[Value]:
    if isinstance(node, Value):
        yield node
    elif isinstance(node, (_Operand, Action)) and not isinstance(node, Path):
        for value in node.values:
            yield from _iter_values(value)


def _overlap(one: list[str | int], two: list[str | int]) -> bool:
    shorter = min(len(one), len(two))
    return one[:shorter] == two[:shorter]


def check_update_expression(actions: list[Action]) -> None:
    """What DynamoDB checks before looking at the item: every value is valid and no two
    actions write overlapping document paths (``a`` and ``a.b``, or the same path twice;
    ``l[0]`` and ``l[1]`` do not overlap).

    Raises:
        LocalUpdateError: DynamoDB would refuse the update expression itself.
    """
    seen: list[list[str | int]] = []
    for action in actions:
        target = action.values[0]
        assert isinstance(target, Path)
        segments = _segments(target)
        if any(_overlap(segments, other) for other in seen):
            raise LocalUpdateError(
                "Invalid UpdateExpression: Two document paths overlap with each other"
            )
        seen.append(segments)
        for value in _iter_values(action):
            _check_value(value.value)


# ---------------------------------------------------------------------------------------------
# Evaluation


def _number(value: dict[str, Any]) -> Decimal:
    if "N" not in value:
        raise LocalUpdateError(_TYPE_MISMATCH)
    return _parse_number(value["N"])


def _number_value(number: Decimal) -> dict[str, Any]:
    try:
        return {"N": normalize_number(str(_checked_number(number)))}
    except CodecError as exc:  # pragma: no cover - _checked_number refuses these first
        raise LocalUpdateError("DynamoDB only supports precision up to 38 digits") from exc


def _evaluate(operand: Any, item: dict[str, Any]) -> dict[str, Any]:
    if isinstance(operand, Value):
        result: dict[str, Any] = copy.deepcopy(operand.value)
        return result
    if isinstance(operand, Path):
        found = _lookup(item, _segments(operand))
        if found is None:
            raise LocalUpdateError(
                "The provided expression refers to an attribute that does not exist in the item"
            )
        return copy.deepcopy(found)
    if isinstance(operand, _IfNotExists):
        found = _lookup(item, _segments(operand.values[0]))
        return copy.deepcopy(found) if found is not None else _evaluate(operand.values[1], item)
    if isinstance(operand, (_Increment, _Decrement)):
        left = _number(_evaluate(operand.values[0], item))
        right = _number(_evaluate(operand.values[1], item))
        total = (
            _EXACT.add(left, right)
            if isinstance(operand, _Increment)
            else _EXACT.subtract(left, right)
        )
        return _number_value(total)
    if isinstance(operand, _ListAppend):
        first = _evaluate(operand.values[0], item)
        second = _evaluate(operand.values[1], item)
        if "L" not in first or "L" not in second:
            raise LocalUpdateError(
                "Invalid UpdateExpression: Incorrect operand type for operator or function; "
                "operator or function: list_append"
            )
        return {"L": first["L"] + second["L"]}
    raise UnsupportedOperationError(  # pragma: no cover - rejected by check_actions_supported
        f"update operand {type(operand).__name__} cannot be applied locally"
    )


def evaluate_operand(operand: Any, item: dict[str, Any]) -> dict[str, Any]:
    """The value of an update operand on a plaintext item, as DynamoDB computes it.

    Raises:
        LocalUpdateError: DynamoDB would refuse it (missing attribute, wrong type).
    """
    return _evaluate(operand, item)


def _set_key(set_type: str, member: Any) -> Any:
    return _parse_number(member) if set_type == "NS" else member


def _set_union(current: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    ((set_type, members),) = current.items()
    if set_type not in _SET_TYPES or set_type not in extra:
        raise LocalUpdateError(_TYPE_MISMATCH)
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
        raise LocalUpdateError(_TYPE_MISMATCH)
    drop = {_set_key(set_type, m) for m in removed[set_type]}
    kept = [m for m in members if _set_key(set_type, m) not in drop]
    return {set_type: kept} if kept else None


class _Pending:
    """Writes whose effect depends on the original positions in lists: elements set past the
    end are appended in index order, and list elements are removed by their original index
    (DynamoDB applies ``REMOVE l[0], l[1]`` to the list as it was, not one after the other)."""

    __slots__ = ("appends", "removals")

    def __init__(self) -> None:
        self.appends: dict[int, tuple[list[Any], list[tuple[int, dict[str, Any]]]]] = {}
        self.removals: dict[int, tuple[list[Any], set[int]]] = {}

    def append(self, elements: list[Any], index: int, value: dict[str, Any]) -> None:
        self.appends.setdefault(id(elements), (elements, []))[1].append((index, value))

    def remove(self, elements: list[Any], index: int) -> None:
        self.removals.setdefault(id(elements), (elements, set()))[1].add(index)

    def apply(self) -> None:
        for elements, added in self.appends.values():
            elements.extend(value for _, value in sorted(added, key=lambda pair: pair[0]))
        for elements, indexes in self.removals.values():
            for index in sorted(indexes, reverse=True):
                del elements[index]


def _assign(
    item: dict[str, Any], segments: list[str | int], value: dict[str, Any], pending: _Pending
) -> None:
    parent = _container(item, segments)
    last = segments[-1]
    if isinstance(last, int):
        if last >= len(parent):
            pending.append(parent, last, value)  # DynamoDB appends past the end
        else:
            parent[last] = value
    else:
        parent[last] = value


def _remove(item: dict[str, Any], segments: list[str | int], pending: _Pending) -> None:
    # A missing top-level attribute, map key or list index is a no-op; a missing or mistyped
    # parent is refused.
    parent = _container(item, segments)
    last = segments[-1]
    if isinstance(last, int):
        if last < len(parent):
            pending.remove(parent, last)
    else:
        parent.pop(last, None)


def apply_actions(item: dict[str, Any], actions: list[Action]) -> dict[str, Any]:
    """Apply PynamoDB update actions to a plaintext DynamoDB-JSON item; returns a new item.

    The semantics are DynamoDB's, as measured on DynamoDB Local (and checked by a
    differential test): operands are evaluated against the item *before* the update,
    overlapping paths and invalid values are refused, arithmetic is exact within 38 digits,
    list positions refer to the list as it was.

    Raises:
        LocalUpdateError: DynamoDB would refuse the update (a ValidationException).
    """
    check_update_expression(actions)
    before = item
    after = copy.deepcopy(item)
    pending = _Pending()
    for action in actions:
        target = action.values[0]
        assert isinstance(target, Path)
        segments = _segments(target)
        if isinstance(action, SetAction):
            _assign(after, segments, _evaluate(action.values[1], before), pending)
        elif isinstance(action, RemoveAction):
            _remove(after, segments, pending)
        elif isinstance(action, AddAction):
            operand = _evaluate(action.values[1], before)
            if "N" not in operand and not any(t in operand for t in _SET_TYPES):
                raise LocalUpdateError(
                    "Invalid UpdateExpression: Incorrect operand type for operator or "
                    "function; operator: ADD"
                )
            current = _lookup(after, segments)
            if current is None:
                _assign(after, segments, operand, pending)
            elif "N" in current:
                _assign(
                    after,
                    segments,
                    _number_value(_EXACT.add(_number(current), _number(operand))),
                    pending,
                )
            else:
                _assign(after, segments, _set_union(current, operand), pending)
        elif isinstance(action, DeleteAction):
            operand = _evaluate(action.values[1], before)
            if not any(t in operand for t in _SET_TYPES):
                raise LocalUpdateError(
                    "Invalid UpdateExpression: Incorrect operand type for operator or "
                    "function; operator: DELETE"
                )
            current = _lookup(after, segments)
            if current is None:
                _container(after, segments)  # a missing parent is still refused
                continue
            remaining = _set_difference(current, operand)
            if remaining is None:
                _remove(after, segments, pending)
            else:
                _assign(after, segments, remaining, pending)
    pending.apply()
    return after
