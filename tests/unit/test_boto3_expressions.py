"""The expression scanner that decides which attributes a condition or update refers to."""

from __future__ import annotations

import pytest
from boto3.dynamodb.conditions import Attr, Key
from hypothesis import given
from hypothesis import strategies as st

from pynamodb_encryption import UnsupportedOperationError
from pynamodb_encryption.boto3._expressions import condition_to_text, expression_names


@pytest.mark.parametrize(
    ("expression", "names", "expected"),
    [
        ("a = :v", None, {"a"}),
        ("a.b.c = :v AND d[1].e <> :w", None, {"a", "d"}),
        ("#a.#b = :v", {"#a": "top", "#b": "nested"}, {"top"}),
        ("#x = :v", {"#x": "name.with.dots"}, {"name.with.dots"}),
        ("attribute_exists(a) AND NOT attribute_not_exists(#b)", {"#b": "b"}, {"a", "b"}),
        ("size(lst[0]) > :n OR begins_with(s, :p)", None, {"lst", "s"}),
        ("a BETWEEN :x AND :y", None, {"a"}),
        ("a IN (:x, :y, :z)", None, {"a"}),
        (
            "SET a = b + :one, c = if_not_exists(c, :z) REMOVE d ADD e :n DELETE f :s",
            None,
            {"a", "b", "c", "d", "e", "f"},
        ),
        ("set a = list_append(a, :l)", None, {"a"}),
        ("pk = :p and sk >= :s", None, {"pk", "sk"}),
        ("contains(tags, :t)", None, {"tags"}),
    ],
)
def test_top_level_names(expression: str, names: dict[str, str] | None, expected: set[str]) -> None:
    assert expression_names(expression, names) == expected


@pytest.mark.parametrize("expression", ["a = 'literal'", 'a = "x"', "a = 5;", "a ~ :v", "a = @x"])
def test_unparseable_expressions_are_refused(expression: str) -> None:
    with pytest.raises(UnsupportedOperationError):
        expression_names(expression, None, param="ConditionExpression")


def test_undefined_placeholder_is_refused() -> None:
    with pytest.raises(UnsupportedOperationError):
        expression_names("#missing = :v", {"#other": "x"})
    with pytest.raises(UnsupportedOperationError):
        expression_names("#missing = :v", None)


def test_non_string_is_refused() -> None:
    with pytest.raises(UnsupportedOperationError):
        expression_names(Attr("a").eq(1), None)  # type: ignore[arg-type]


def test_condition_objects() -> None:
    text, names = condition_to_text(
        Attr("doc.inner").eq(1) & Attr("tags").contains("x") | Attr("n").not_exists(),
        is_key_condition=False,
    )
    assert expression_names(text, names) == {"doc", "tags", "n"}
    text, names = condition_to_text(
        Key("pk").eq("a") & Key("sk").between(1, 2), is_key_condition=True
    )
    assert expression_names(text, names) == {"pk", "sk"}


_names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=10)


@given(st.lists(st.tuples(_names, st.lists(_names, max_size=2)), min_size=1, max_size=5))
def test_every_placeholder_path_is_found(paths: list[tuple[str, list[str]]]) -> None:
    """Whatever the attribute names, placeholders resolve to exactly the top-level names."""
    mapping: dict[str, str] = {}
    clauses = []
    for i, (top, nested) in enumerate(paths):
        mapping[f"#t{i}"] = top
        parts = [f"#t{i}"]
        for j, inner in enumerate(nested):
            mapping[f"#n{i}_{j}"] = inner
            parts.append(f"#n{i}_{j}")
        clauses.append(f"attribute_exists({'.'.join(parts)})")
    found = expression_names(" AND ".join(clauses), mapping)
    assert found == {top for top, _ in paths}
