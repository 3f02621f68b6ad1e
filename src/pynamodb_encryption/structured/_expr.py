"""DynamoDB condition expressions: a parser, a renderer and an evaluator over plaintext items.

Pure, no I/O. Used to rewrite queries for beacons and to re-apply the caller's original filter
to decrypted items (so that beacon false positives never reach the caller). The grammar is
DynamoDB's (``Expressions.OperatorsAndFunctions``): comparisons, BETWEEN, IN, AND/OR/NOT,
parentheses and the functions attribute_exists, attribute_not_exists, attribute_type,
begins_with, contains and size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "And",
    "Between",
    "Compare",
    "ExpressionError",
    "Func",
    "In",
    "Not",
    "Or",
    "Path",
    "Size",
    "Value",
    "evaluate",
    "parse",
    "render",
]


class ExpressionError(ValueError):
    """A condition expression that does not parse or cannot be evaluated."""


@dataclass(frozen=True, slots=True)
class Path:
    # Elements: a name token ("#n" or "name") or a list index (int).
    elements: tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Value:
    name: str  # ":v"


@dataclass(frozen=True, slots=True)
class Size:
    path: Path


Operand = Path | Value | Size


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # = <> < <= > >=
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    operand: Operand
    choices: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Func:
    name: str  # attribute_exists, attribute_not_exists, attribute_type, begins_with, contains
    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not:
    inner: Node


Node = Compare | Between | In | Func | And | Or | Not

_TOKEN = re.compile(
    r"\s*(?:(?P<op><>|<=|>=|=|<|>)|(?P<punct>[(),.\[\]])|(?P<value>:[A-Za-z0-9_]+)"
    r"|(?P<alias>#[A-Za-z0-9_]+)|(?P<word>[A-Za-z0-9_\-]+))"
)
_FUNCS = {"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"}


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ExpressionError(f"unexpected character at position {pos}")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, k: int = 0) -> tuple[str, str] | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        t = self.peek()
        if t is None:
            raise ExpressionError("the expression ends too early")
        if value is not None and t[1].upper() != value:
            raise ExpressionError(f"expected {value!r}")
        self.i += 1
        return t

    def is_word(self, word: str) -> bool:
        t = self.peek()
        return t is not None and t[0] == "word" and t[1].upper() == word

    def parse(self) -> Node:
        node = self.or_()
        if self.peek() is not None:
            raise ExpressionError("unexpected text after the expression")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.is_word("OR"):
            self.take()
            node = Or(node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.is_word("AND"):
            self.take()
            node = And(node, self.not_())
        return node

    def not_(self) -> Node:
        if self.is_word("NOT"):
            self.take()
            return Not(self.not_())
        return self.primary()

    def primary(self) -> Node:
        t = self.peek()
        if t is not None and t == ("punct", "("):
            self.take()
            node = self.or_()
            self.take(")")
            return node
        if (
            t is not None
            and t[0] == "word"
            and t[1].lower() in _FUNCS
            and self.peek(1) == ("punct", "(")
        ):
            name = self.take()[1].lower()
            self.take("(")
            args = [self.operand()]
            while self.peek() == ("punct", ","):
                self.take()
                args.append(self.operand())
            self.take(")")
            return Func(name, tuple(args))
        left = self.operand()
        nxt = self.peek()
        if nxt is None:
            raise ExpressionError("a condition needs a comparison")
        if nxt[0] == "op":
            self.take()
            return Compare(nxt[1], left, self.operand())
        if self.is_word("BETWEEN"):
            self.take()
            low = self.operand()
            self.take("AND")
            return Between(left, low, self.operand())
        if self.is_word("IN"):
            self.take()
            self.take("(")
            choices = [self.operand()]
            while self.peek() == ("punct", ","):
                self.take()
                choices.append(self.operand())
            self.take(")")
            return In(left, tuple(choices))
        raise ExpressionError(f"unexpected {nxt[1]!r}")

    def operand(self) -> Operand:
        t = self.peek()
        if t is None:
            raise ExpressionError("an operand is missing")
        if t[0] == "value":
            self.take()
            return Value(t[1])
        if t[0] == "word" and t[1].lower() == "size" and self.peek(1) == ("punct", "("):
            self.take()
            self.take("(")
            p = self.path()
            self.take(")")
            return Size(p)
        return self.path()

    def path(self) -> Path:
        t = self.take()
        if t[0] not in ("word", "alias"):
            raise ExpressionError(f"expected an attribute name, got {t[1]!r}")
        elements: list[str | int] = [t[1]]
        while True:
            nxt = self.peek()
            if nxt == ("punct", "."):
                self.take()
                n = self.take()
                if n[0] not in ("word", "alias"):
                    raise ExpressionError("expected a name after '.'")
                elements.append(n[1])
            elif nxt == ("punct", "["):
                self.take()
                n = self.take()
                if n[0] != "word" or not n[1].isdigit():
                    raise ExpressionError("a list index is a number")
                elements.append(int(n[1]))
                self.take("]")
            else:
                return Path(tuple(elements))


def parse(text: str) -> Node:
    """Parse a DynamoDB condition (or key condition) expression."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("an expression must be a non-empty string")
    return _Parser(text).parse()


# ------------------------------------------------------------------------------------------
# Rendering


def render_operand(o: Operand) -> str:
    if isinstance(o, Value):
        return o.name
    if isinstance(o, Size):
        return f"size({render_operand(o.path)})"
    out = ""
    for e in o.elements:
        out += f"[{e}]" if isinstance(e, int) else (("." if out else "") + e)
    return out


def render(node: Node) -> str:
    """Text for a parsed expression (fully parenthesized where precedence matters)."""
    if isinstance(node, Compare):
        return f"{render_operand(node.left)} {node.op} {render_operand(node.right)}"
    if isinstance(node, Between):
        return (
            f"{render_operand(node.operand)} BETWEEN {render_operand(node.low)} "
            f"AND {render_operand(node.high)}"
        )
    if isinstance(node, In):
        return (
            f"{render_operand(node.operand)} IN ("
            + ", ".join(render_operand(c) for c in node.choices)
            + ")"
        )
    if isinstance(node, Func):
        return f"{node.name}(" + ", ".join(render_operand(a) for a in node.args) + ")"
    if isinstance(node, And):
        return f"({render(node.left)}) AND ({render(node.right)})"
    if isinstance(node, Or):
        return f"({render(node.left)}) OR ({render(node.right)})"
    return f"NOT ({render(node.inner)})"


# ------------------------------------------------------------------------------------------
# Evaluation over plaintext DynamoDB-JSON items

Resolver = Callable[[Path], "dict[str, Any] | None"]


def path_resolver(item: Mapping[str, Any], names: Mapping[str, str]) -> Resolver:
    def resolve(path: Path) -> dict[str, Any] | None:
        value: Any = {"M": item}
        for e in path.elements:
            if isinstance(e, int):
                inner = value.get("L") if isinstance(value, Mapping) else None
                if not isinstance(inner, list) or e >= len(inner):
                    return None
                value = inner[e]
            else:
                key = names.get(e, e) if e.startswith("#") else e
                inner = value.get("M") if isinstance(value, Mapping) else None
                if not isinstance(inner, Mapping) or key not in inner:
                    return None
                value = inner[key]
        return dict(value) if isinstance(value, Mapping) else None

    return resolve


def _number(text: Any) -> Decimal:
    try:
        return Decimal(str(text))
    except InvalidOperation as exc:  # pragma: no cover - DynamoDB numbers always parse
        raise ExpressionError("a number does not parse") from exc


def _bytes(v: Any) -> bytes:
    return bytes(v) if isinstance(v, (bytes, bytearray, memoryview)) else str(v).encode()


def _key(v: Mapping[str, Any]) -> tuple[str, Any]:
    """A comparable form of a value: (type, payload)."""
    if "S" in v:
        return ("S", str(v["S"]).encode("utf-8", "surrogatepass"))
    if "N" in v:
        return ("N", _number(v["N"]))
    if "B" in v:
        return ("B", _bytes(v["B"]))
    if "SS" in v:
        return ("SS", frozenset(str(x).encode("utf-8", "surrogatepass") for x in v["SS"]))
    if "NS" in v:
        return ("NS", frozenset(_number(x) for x in v["NS"]))
    if "BS" in v:
        return ("BS", frozenset(_bytes(x) for x in v["BS"]))
    if "BOOL" in v:
        return ("BOOL", bool(v["BOOL"]))
    if "NULL" in v:
        return ("NULL", True)
    if "L" in v:
        return ("L", tuple(_key(x) for x in v["L"]))
    if "M" in v:
        return ("M", frozenset((k, _key(x)) for k, x in v["M"].items()))
    raise ExpressionError("unknown value type")


def _size(v: Mapping[str, Any]) -> int | None:
    if "S" in v:
        return len(str(v["S"]).encode("utf-8", "surrogatepass"))
    if "B" in v:
        return len(_bytes(v["B"]))
    for k in ("SS", "NS", "BS", "L", "M"):
        if k in v:
            return len(v[k])
    return None


def evaluate(
    node: Node,
    resolve: Resolver,
    values: Mapping[str, Mapping[str, Any]],
) -> bool:
    """Does a plaintext item (seen through ``resolve``) satisfy ``node``? DynamoDB's semantics:
    a comparison with a missing attribute or of values of different types is false."""

    def operand(o: Operand) -> dict[str, Any] | None:
        if isinstance(o, Value):
            if o.name not in values:
                raise ExpressionError(f"value {o.name} is not in ExpressionAttributeValues")
            return dict(values[o.name])
        if isinstance(o, Size):
            v = resolve(o.path)
            n = None if v is None else _size(v)
            return None if n is None else {"N": str(n)}
        return resolve(o)

    def compare(op: str, a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
        if a is None or b is None:
            return op == "<>" and not (a is None and b is None)
        ka, kb = _key(a), _key(b)
        if op == "=":
            return ka == kb
        if op == "<>":
            return ka != kb
        if ka[0] != kb[0] or ka[0] not in ("S", "N", "B"):
            return False
        x, y = ka[1], kb[1]
        return bool({"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op])

    def walk(n: Node) -> bool:
        if isinstance(n, And):
            return walk(n.left) and walk(n.right)
        if isinstance(n, Or):
            return walk(n.left) or walk(n.right)
        if isinstance(n, Not):
            return not walk(n.inner)
        if isinstance(n, Compare):
            return compare(n.op, operand(n.left), operand(n.right))
        if isinstance(n, Between):
            v = operand(n.operand)
            return compare(">=", v, operand(n.low)) and compare("<=", v, operand(n.high))
        if isinstance(n, In):
            v = operand(n.operand)
            return any(compare("=", v, operand(c)) for c in n.choices)
        a = operand(n.args[0])
        if n.name == "attribute_exists":
            return a is not None
        if n.name == "attribute_not_exists":
            return a is None
        b = operand(n.args[1]) if len(n.args) > 1 else None
        if a is None or b is None:
            return False
        if n.name == "attribute_type":
            return "S" in b and next(iter(a)) == b["S"]
        if n.name == "begins_with":
            ka, kb = _key(a), _key(b)
            return ka[0] == kb[0] and ka[0] in ("S", "B") and ka[1].startswith(kb[1])
        # contains
        ka, kb = _key(a), _key(b)
        if ka[0] == "S" and kb[0] == "S":
            return kb[1] in ka[1]
        if ka[0] in ("SS", "NS", "BS") and kb[0] == ka[0][0]:
            return kb[1] in ka[1]
        if ka[0] == "L":
            return kb in ka[1]
        return False

    return walk(node)
