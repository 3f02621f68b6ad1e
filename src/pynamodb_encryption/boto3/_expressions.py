"""Which top-level attributes a DynamoDB expression names, to refuse what encryption breaks.

DynamoDB evaluates conditions, filters and updates on the stored value. For an encrypted
attribute that is ciphertext: a condition on it silently compares against random bytes, and an
update to a signed attribute breaks the item signature. The helpers therefore refuse such
requests before anything is sent. The parser is deliberately strict: anything it does not
recognise is refused rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import UnsupportedOperationError

__all__ = ["expression_names", "condition_to_text"]

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<placeholder>\#[A-Za-z0-9_]+)
  | (?P<value>:[A-Za-z0-9_]+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<index>\[\s*[0-9]+\s*\])
  | (?P<dot>\.)
  | (?P<lparen>\()
  | (?P<op><>|<=|>=|[=<>,)+\-])
    """,
    re.VERBOSE,
)

# Words that are syntax, not attribute names. They are DynamoDB reserved words, so they can
# never be bare attribute names (those need a ``#`` placeholder), and skipping them is safe.
_KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"})


def _tokens(expression: str, *, table: str | None, param: str) -> Iterator[tuple[str, str]]:
    position = 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None:
            raise UnsupportedOperationError(
                f"{param} could not be parsed, so it cannot be checked against the encrypted "
                "attributes; refusing it",
                table=table,
            )
        kind = match.lastgroup
        assert kind is not None
        if kind != "space":
            yield kind, match.group()
        position = match.end()


def expression_names(
    expression: str,
    names: Mapping[str, str] | None,
    *,
    table: str | None = None,
    param: str = "expression",
) -> set[str]:
    """The top-level attribute names an expression refers to.

    ``a.b[2]`` refers to ``a``; ``#n`` is resolved through ``names``
    (``ExpressionAttributeNames``); function names and keywords are skipped.

    Raises:
        UnsupportedOperationError: the expression cannot be parsed or uses an undefined
            ``#placeholder``.
    """
    if not isinstance(expression, str):
        raise UnsupportedOperationError(f"{param} must be a string here", table=table)
    if names is not None and not isinstance(names, Mapping):
        raise UnsupportedOperationError("ExpressionAttributeNames must be a mapping", table=table)
    found: set[str] = set()
    tokens = list(_tokens(expression, table=table, param=param))
    previous = ""
    for position, (kind, text) in enumerate(tokens):
        following = tokens[position + 1][0] if position + 1 < len(tokens) else ""
        if kind in ("placeholder", "ident") and previous != "dot":
            if kind == "ident" and (following == "lparen" or text.upper() in _KEYWORDS):
                pass
            elif kind == "placeholder":
                if not names or text not in names:
                    raise UnsupportedOperationError(
                        f"{param} uses an attribute-name placeholder missing from "
                        "ExpressionAttributeNames",
                        table=table,
                    )
                found.add(names[text])
            else:
                found.add(text)
        previous = kind
    return found


def condition_to_text(condition: Any, *, is_key_condition: bool) -> tuple[str, dict[str, str]]:
    """A boto3 ``Attr``/``Key`` condition object as an expression and its name placeholders.

    The resource layer builds the same text when it sends the request, so checking this text
    checks what DynamoDB will evaluate.
    """
    from boto3.dynamodb.conditions import ConditionExpressionBuilder

    built = ConditionExpressionBuilder().build_expression(
        condition, is_key_condition=is_key_condition
    )
    return built.condition_expression, dict(built.attribute_name_placeholders)
