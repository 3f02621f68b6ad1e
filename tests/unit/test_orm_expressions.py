"""The local update interpreter and the condition scanner, on DynamoDB-JSON items (pure).

The functional suite checks the interpreter against DynamoDB itself; these tests pin the edge
cases and use hypothesis for the arithmetic and set algebra.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.expressions.condition import size
from pynamodb.expressions.operand import Path, Value
from pynamodb.models import Model

from pynamodb_encryption import UnsupportedOperationError
from pynamodb_encryption.orm._expressions import (
    LocalUpdateError,
    apply_actions,
    check_actions_supported,
    condition_names,
    operand_names,
    target_name,
)


class Thing(Model):
    class Meta:
        table_name = "things"

    pk = UnicodeAttribute(hash_key=True)
    n = NumberAttribute(null=True)
    s = UnicodeAttribute(null=True)
    ss = UnicodeSetAttribute(null=True)
    ns = NumberSetAttribute(null=True)
    lst = ListAttribute[Any](null=True)
    doc = MapAttribute[str, Any](null=True)


BASE: dict[str, Any] = {
    "pk": {"S": "k"},
    "n": {"N": "10"},
    "s": {"S": "text"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "lst": {"L": [{"S": "x"}, {"N": "1"}]},
    "doc": {"M": {"inner": {"M": {"v": {"N": "1"}}}}},
}


def test_operands_are_evaluated_before_the_update() -> None:
    out = apply_actions(BASE, [Thing.n.set(Thing.n + 1), Thing.s.set(Thing.n)])
    assert out["n"] == {"N": "11"}
    assert out["s"] == {"N": "10"}  # the old value of n, as DynamoDB does


def test_missing_operand_path_is_an_error() -> None:
    item = {"pk": {"S": "k"}}
    with pytest.raises(LocalUpdateError):
        apply_actions(item, [Thing.n.set(Thing.n + 1)])
    with pytest.raises(LocalUpdateError):
        apply_actions(item, [Thing.doc["a"]["b"].set(1)])


def test_type_errors() -> None:
    with pytest.raises(LocalUpdateError):
        apply_actions(BASE, [Thing.n.set(Path("s") + 1)])
    with pytest.raises(LocalUpdateError):
        apply_actions(BASE, [Thing.lst.set(Path("s").append(["x"]))])


def test_delete_last_member_removes_the_attribute() -> None:
    out = apply_actions(BASE, [Thing.ss.delete({"a", "b"})])
    assert "ss" not in out
    out = apply_actions(BASE, [Thing.ns.delete(Value({"NS": ["2.50"]}))])
    assert out["ns"] == {"NS": ["1"]}


def test_remove_missing_is_a_no_op() -> None:
    out = apply_actions({"pk": {"S": "k"}}, [Thing.s.remove()])
    assert out == {"pk": {"S": "k"}}
    out = apply_actions({"pk": {"S": "k"}, "lst": {"L": []}}, [Thing.lst[3].remove()])
    assert out == {"pk": {"S": "k"}, "lst": {"L": []}}


def test_remove_under_a_missing_parent_is_refused() -> None:
    # As DynamoDB (measured on DynamoDB Local): "REMOVE zz[3]" with no zz is a
    # ValidationException, not a no-op.
    with pytest.raises(LocalUpdateError, match="document path"):
        apply_actions({"pk": {"S": "k"}}, [Thing.lst[3].remove()])


def test_unsupported_actions_and_operands() -> None:
    from pynamodb.expressions.update import Action

    class Odd(Action):
        pass

    with pytest.raises(UnsupportedOperationError):
        check_actions_supported([Odd(Thing.n)])  # type: ignore[arg-type]
    with pytest.raises(UnsupportedOperationError):
        check_actions_supported([Thing.n.set(size(Thing.s))])


def test_names() -> None:
    assert target_name(Thing.lst[2].set("x")) == "lst"
    assert operand_names(Thing.s.set(Thing.doc["inner"]["v"] | Thing.n)) == {"doc", "n"}
    assert condition_names((Thing.s == "x") & ~(Thing.lst[0] < 3)) == {"s", "lst"}
    assert condition_names(size(Thing.s) > 2) == {"s"}
    assert condition_names(Thing.s.exists() & Thing.doc["x"].exists()) == {"doc"}
    assert condition_names(Thing.s.is_in("a", "b")) == {"s"}
    assert condition_names(None) == set()


_numbers = st.decimals(
    min_value=Decimal("-1e20"), max_value=Decimal("1e20"), places=4, allow_nan=False
)


@settings(max_examples=100, deadline=None)
@given(a=_numbers, b=_numbers)
def test_add_and_subtract_are_exact(a: Decimal, b: Decimal) -> None:
    item = {"pk": {"S": "k"}, "n": {"N": str(a)}}
    added = apply_actions(item, [Thing.n.add(Value({"N": str(b)}))])
    assert Decimal(added["n"]["N"]) == a + b
    subtracted = apply_actions(item, [Thing.n.set(Thing.n - Value({"N": str(b)}))])
    assert Decimal(subtracted["n"]["N"]) == a - b


@settings(max_examples=100, deadline=None)
@given(
    current=st.sets(st.text(min_size=1, max_size=3), min_size=1, max_size=6),
    extra=st.sets(st.text(min_size=1, max_size=3), min_size=1, max_size=6),
)
def test_set_add_and_delete(current: set[str], extra: set[str]) -> None:
    item = {"pk": {"S": "k"}, "ss": {"SS": sorted(current)}}
    added = apply_actions(item, [Thing.ss.add(extra)])
    assert set(added["ss"]["SS"]) == current | extra
    deleted = apply_actions(item, [Thing.ss.delete(extra)])
    remaining = current - extra
    if remaining:
        assert set(deleted["ss"]["SS"]) == remaining
    else:
        assert "ss" not in deleted


# DynamoDB's answers below were measured on DynamoDB Local (tests/functional/
# test_update_oracle.py runs the same cases against it).
_BIG = "12345678901234567890123456789012345678"


@pytest.mark.parametrize(
    ("item", "action", "message"),
    [
        ({"n": {"N": _BIG}}, Thing.n.add(Value({"N": "0.1"})), "38 digits"),
        ({"n": {"N": "9.9999999999999999999999999999999999999E+125"}}, Thing.n.add(1), "overflow"),
        ({}, Thing.n.set(Value({"N": "1E-131"})), "underflow"),
        ({}, Thing.ss.set(Value({"SS": []})), "invalid"),
        ({}, Thing.ns.set(Value({"NS": ["1", "1.0"]})), "duplicates"),
    ],
)
def test_numbers_and_values_are_refused_as_dynamodb_refuses_them(
    item: dict[str, Any], action: Any, message: str
) -> None:
    with pytest.raises(LocalUpdateError, match=message):
        apply_actions({"pk": {"S": "k"}, **item}, [action])


def test_the_largest_numbers_are_accepted() -> None:
    largest = "9.9999999999999999999999999999999999999E+125"
    out = apply_actions({"pk": {"S": "k"}}, [Thing.n.set(Value({"N": "-" + largest}))])
    assert Decimal(out["n"]["N"]) == Decimal("-" + largest)


def test_arithmetic_is_exact() -> None:
    negated = Thing.n.add(Value({"N": "-" + _BIG}))
    out = apply_actions({"pk": {"S": "k"}, "n": {"N": _BIG}}, [negated])
    assert out["n"] == {"N": "0"}


@pytest.mark.parametrize(
    "actions",
    [
        [Thing.n.set(1), Thing.n.set(2)],
        [Thing.doc["inner"].set({}), Thing.doc.remove()],
        [Thing.lst[0].set("a"), Thing.lst[0].remove()],
    ],
)
def test_overlapping_paths_are_refused(actions: list[Any]) -> None:
    with pytest.raises(LocalUpdateError, match="overlap"):
        apply_actions(BASE, actions)


def test_list_indexes_refer_to_the_list_as_it_was() -> None:
    item = {"pk": {"S": "k"}, "lst": {"L": [{"N": str(i)} for i in range(4)]}}
    out = apply_actions(item, [Thing.lst[0].remove(), Thing.lst[1].remove()])
    assert out["lst"] == {"L": [{"N": "2"}, {"N": "3"}]}
    out = apply_actions(item, [Thing.lst[10].set("ten"), Thing.lst[7].set("seven")])
    assert out["lst"]["L"][4:] == [{"S": "seven"}, {"S": "ten"}]
