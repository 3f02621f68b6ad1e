"""``EncryptedModel.update()`` means what DynamoDB means (Hardening 4).

DynamoDB Local is the oracle: the same update actions run natively on a plain table and through
``update()`` on an encrypted one (where signed and encrypted attributes are updated by the
local interpreter), from the same starting item. Both must end with the same item, or both
must fail with the same PynamoDB exception (``UpdateError`` whose ``cause_response_code`` is
``ValidationException``) and leave the item as it was.

The fixed cases are the divergences found by the adversarial review and by this test (each
one failed before the fix); hypothesis explores SET/REMOVE/ADD/DELETE, list_append,
if_not_exists, arithmetic, nested paths and list indexes, number precision and range.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.exceptions import PynamoDBException
from pynamodb.expressions.operand import Path, Value
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from pynamodb_encryption import StaticMaterialsProvider, SymmetricKey
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

PROVIDER = StaticMaterialsProvider(
    encryption_key=SymmetricKey.generate("AES", 256),
    signing_key=SymmetricKey.generate("HmacSHA256", 256),
)


class _Tables:
    def __init__(self, plain: type[Model], secure: type[EncryptedModel], client: Any) -> None:
        self.plain = plain
        self.secure = secure
        self.client = client
        self.counter = 0


@pytest.fixture
def tables(
    ddb_backend: str, ddb_endpoint: str, make_table: Any, table_name: str, dynamodb_client: Any
) -> _Tables:
    if ddb_backend != "ddblocal":
        pytest.skip("DynamoDB Local is the oracle (moto accepts what DynamoDB refuses)")
    plain_name = make_table(table_name + "-plain")
    secure_name = make_table(table_name + "-secure")

    class Plain(Model):
        class Meta:
            table_name = plain_name
            host = ddb_endpoint

        pk = UnicodeAttribute(hash_key=True)

    class Secure(EncryptedModel):
        class Meta:
            table_name = secure_name
            host = ddb_endpoint
            materials_provider = PROVIDER

        pk = UnicodeAttribute(hash_key=True)
        n = SignedAttribute(NumberAttribute(null=True))
        e = EncryptedAttribute(NumberAttribute(null=True))
        s = EncryptedAttribute(UnicodeAttribute(null=True))
        ss = EncryptedAttribute(UnicodeSetAttribute(null=True))
        ns = SignedAttribute(NumberSetAttribute(null=True))
        l = EncryptedAttribute(ListAttribute[Any](null=True))  # noqa: E741
        m = SignedAttribute(MapAttribute[str, Any](null=True))
        u = NumberAttribute(null=True)  # unsigned: updated natively in the same UpdateItem

    return _Tables(Plain, Secure, dynamodb_client)


# ---------------------------------------------------------------------------------------------
# Running one case on both sides


def _canonical(value: dict[str, Any]) -> Any:
    ((kind, member),) = value.items()
    if kind == "N":
        return ("N", Decimal(member).normalize())
    if kind == "NS":
        return ("NS", frozenset(Decimal(m).normalize() for m in member))
    if kind in ("SS", "BS"):
        return (kind, frozenset(member))
    if kind == "L":
        return ("L", tuple(_canonical(v) for v in member))
    if kind == "M":
        return ("M", frozenset((k, _canonical(v)) for k, v in member.items()))
    return (kind, member)


def _item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _canonical(v) for k, v in item.items()}


def _outcome(model: type[Model], key: str, actions: list[Action]) -> tuple[str, Any]:
    try:
        model(key).update(list(actions))
    except PynamoDBException as exc:
        return "error", (type(exc), exc.cause_response_code)
    return "ok", None


def run_both(tables: _Tables, item: dict[str, Any], actions: list[Action]) -> None:
    tables.counter += 1
    key = f"case-{tables.counter}"
    start = {"pk": {"S": key}, **item}
    plain_table = tables.plain.Meta.table_name
    secure_table = tables.secure.Meta.table_name
    tables.client.put_item(TableName=plain_table, Item=start)
    tables.client.put_item(
        TableName=secure_table, Item=tables.secure._pde_encryptor().encrypt(start)
    )
    native = _outcome(tables.plain, key, actions)
    ours = _outcome(tables.secure, key, actions)
    if currently_in_test_context():
        event(f"DynamoDB: {native[0]}")

    def stored(table: str) -> dict[str, Any]:
        raw = tables.client.get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True)
        return dict(raw["Item"])

    native_item = stored(plain_table)
    our_item = tables.secure._pde_decrypt(stored(secure_table))
    assert ours == native, (actions, item)
    assert _item(our_item) == _item(native_item), (actions, item)
    if native[0] == "error":
        assert _item(our_item) == _item(start)


def _n(text: str) -> Value:
    return Value({"N": text})


BASE: dict[str, Any] = {
    "n": {"N": "12345678901234567890123456789012345678"},
    "e": {"N": "5"},
    "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]},
    "m": {"M": {"a": {"N": "1"}, "s": {"SS": ["x"]}}},
    "ss": {"SS": ["a", "b"]},
    "u": {"N": "7"},
}

N, E, L, M, SS, U = (Path([name]) for name in ("n", "e", "l", "m", "ss", "u"))

# Each of these diverged from DynamoDB before the fix (the first six are the review's).
FIXED: dict[str, list[Action]] = {
    "precision-add": [N.add(_n("0.1"))],
    "precision-set": [N.set(N + _n("0.1"))],
    "overflow": [E.set(E + _n("9.9999999999999999999999999999999999999E+125"))],
    "underflow": [M["a"].set(_n("1E-131"))],
    "duplicate-path": [E.set(_n("1")), E.set(_n("2"))],
    "overlapping-paths": [M["a"].set(_n("1")), M.remove()],
    "remove-two-indexes": [L[0].remove(), L[1].remove()],
    "remove-and-set-indexes": [L[1].remove(), L[0].set(Value({"S": "z"}))],
    "appends-in-index-order": [L[10].set(Value({"S": "ten"})), L[7].set(Value({"S": "seven"}))],
    "remove-under-missing-parent": [Path(["zz"])["r"].remove(), E.set(_n("1"))],
    "remove-under-a-number": [M["a"]["b"].remove()],
    "add-set-to-number": [M["a"].add(Value({"SS": ["x"]}))],
    "delete-wrong-set-type": [SS.delete(Value({"NS": ["1"]}))],
    "empty-set-value": [M["q"].set(Value({"SS": []}))],
    "duplicate-set-members": [M["q"].set(Value({"NS": ["1", "1.0"]}))],
    "exact-negation": [N.add(_n("-12345678901234567890123456789012345678"))],
    "mixed-native-and-local": [U.add(_n("1")), E.set(E + _n("1")), M["b"].set(U)],
    "copy-signed-to-unsigned": [U.set(E + _n("1"))],
    # Found by the generated test: abs() rounded to 28 digits and overflowed.
    "largest-number": [N.set(_n("-9.9999999999999999999999999999999999999E+125"))],
}


@pytest.mark.parametrize("case", sorted(FIXED))
def test_known_divergences(tables: _Tables, case: str) -> None:
    run_both(tables, BASE, FIXED[case])


# ---------------------------------------------------------------------------------------------
# Generated cases

NUMBERS = st.sampled_from(
    [
        "0",
        "1",
        "-1",
        "0.1",
        "2.5",
        "-7.25",
        "12345678901234567890123456789012345678",
        "99999999999999999999999999999999999999",
        "1E+38",
        "1E+125",
        "9.9999999999999999999999999999999999999E+125",
        "1E-130",
        "-1E-129",
    ]
) | st.integers(-1000, 1000).map(str)
TEXT = st.sampled_from(["", "a", "b", "x", "héllo"])
SCALARS = st.one_of(
    NUMBERS.map(lambda n: {"N": n}),
    TEXT.map(lambda s: {"S": s}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
)
STRING_SETS = st.sets(st.sampled_from(["a", "b", "c", "x"]), min_size=1, max_size=3)
NUMBER_SETS = st.sets(st.sampled_from(["1", "2", "3.5", "-4"]), min_size=1, max_size=3)
SETS = st.one_of(
    STRING_SETS.map(lambda s: {"SS": sorted(s)}), NUMBER_SETS.map(lambda s: {"NS": sorted(s)})
)
VALUES = st.recursive(
    st.one_of(SCALARS, SETS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3).map(
            lambda v: {"M": v}
        ),
    ),
    max_leaves=5,
)
MAPS = st.dictionaries(st.sampled_from(["a", "b", "c"]), VALUES, max_size=3).map(lambda v: {"M": v})
LISTS = st.lists(VALUES, max_size=4).map(lambda v: {"L": v})

ITEMS = st.fixed_dictionaries(
    {},
    optional={
        "n": NUMBERS.map(lambda n: {"N": n}),
        "e": NUMBERS.map(lambda n: {"N": n}),
        "s": TEXT.map(lambda s: {"S": s}),
        "ss": STRING_SETS.map(lambda s: {"SS": sorted(s)}),
        "ns": NUMBER_SETS.map(lambda s: {"NS": sorted(s)}),
        "l": LISTS,
        "m": MAPS,
        "u": NUMBERS.map(lambda n: {"N": n}),
    },
)

NUMBER_PATHS = [Path(["n"]), Path(["e"]), Path(["u"])]
NESTED_PATHS = [
    Path(["m"])["a"],
    Path(["m"])["b"],
    Path(["m"])["a"]["b"],
    Path(["m"])["a"][0],
    Path(["l"])[0],
    Path(["l"])[1],
    Path(["l"])[5],
    Path(["l"])[0]["a"],
    Path(["zz"])["r"],
]
ALL_PATHS = NUMBER_PATHS + NESTED_PATHS + [Path(["l"]), Path(["m"])]


@st.composite
def number_operands(draw: st.DrawFn) -> Any:
    value = _n(draw(NUMBERS))
    path = draw(st.sampled_from(NUMBER_PATHS))
    kind = draw(st.sampled_from(["value", "add", "sub", "if_not_exists", "path"]))
    if kind == "value":
        return value
    if kind == "add":
        return path + value
    if kind == "sub":
        return value - path if draw(st.booleans()) else path - value
    if kind == "if_not_exists":
        return path | value
    return path


@st.composite
def any_operands(draw: st.DrawFn) -> Any:
    """Operands for untyped (nested) targets: anything DynamoDB can compute."""
    value = Value(draw(VALUES))
    path = draw(st.sampled_from(ALL_PATHS))
    kind = draw(
        st.sampled_from(["value", "path", "add", "if_not_exists", "append", "prepend", "number"])
    )
    if kind == "value":
        return value
    if kind == "path":
        return path
    if kind == "add":
        return path + _n(draw(NUMBERS))
    if kind == "if_not_exists":
        return path | value
    if kind == "number":
        return draw(number_operands())
    other = Value({"L": draw(st.lists(VALUES, max_size=2))})
    return path.append(other) if kind == "append" else path.prepend(other)


@st.composite
def actions(draw: st.DrawFn) -> Action:
    kind = draw(st.sampled_from(["set-number", "set-nested", "set-typed", "remove", "add", "del"]))
    if kind == "set-number":
        return draw(st.sampled_from(NUMBER_PATHS)).set(draw(number_operands()))
    if kind == "set-nested":
        return draw(st.sampled_from(NESTED_PATHS)).set(draw(any_operands()))
    if kind == "set-typed":
        target = draw(st.sampled_from(["s", "ss", "ns", "l", "m"]))
        if target == "s":
            return Path(["s"]).set(Value({"S": draw(TEXT)}))
        if target == "ss":
            return Path(["ss"]).set(Value({"SS": sorted(draw(STRING_SETS))}))
        if target == "ns":
            return Path(["ns"]).set(Value({"NS": sorted(draw(NUMBER_SETS))}))
        if target == "l":
            extra = Value({"L": draw(st.lists(VALUES, max_size=2))})
            return Path(["l"]).set(
                Path(["l"]).append(extra) if draw(st.booleans()) else Path(["l"]).prepend(extra)
            )
        return Path(["m"]).set(Value(draw(MAPS)))
    if kind == "remove":
        return draw(st.sampled_from([*ALL_PATHS, Path(["s"]), Path(["ss"])])).remove()
    if kind == "add":
        target = draw(st.sampled_from(["number", "ss", "ns", "nested"]))
        if target == "number":
            return draw(st.sampled_from(NUMBER_PATHS)).add(_n(draw(NUMBERS)))
        if target == "ss":
            return Path(["ss"]).add(Value({"SS": sorted(draw(STRING_SETS))}))
        if target == "ns":
            return Path(["ns"]).add(Value({"NS": sorted(draw(NUMBER_SETS))}))
        operand = draw(st.one_of(NUMBERS.map(lambda n: {"N": n}), SETS))
        return draw(st.sampled_from(NESTED_PATHS)).add(Value(operand))
    target = draw(st.sampled_from(["ss", "ns", "nested"]))
    if target == "ss":
        return Path(["ss"]).delete(Value({"SS": sorted(draw(STRING_SETS))}))
    if target == "ns":
        return Path(["ns"]).delete(Value({"NS": sorted(draw(NUMBER_SETS))}))
    return draw(st.sampled_from(NESTED_PATHS)).delete(Value(draw(SETS)))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(item=ITEMS, update=st.lists(actions(), min_size=1, max_size=3))
def test_update_matches_dynamodb(tables: _Tables, item: dict[str, Any], update: list[Any]) -> None:
    run_both(tables, item, update)


def test_update_that_changes_nothing_signed(tables: _Tables) -> None:
    # Only signed (no encrypted) values: the new signature equals the old one.
    run_both(tables, {"n": {"N": "1"}, "u": {"N": "1"}}, [N.set(N)])
    run_both(tables, {"n": {"N": "1"}, "u": {"N": "1"}}, [N.set(N), U.add(_n("1"))])
