"""Hypothesis strategies and small helpers shared by the unit tests (pure: no servers)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Context, Decimal
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from pynamodb_encryption import RsaPrivateKey

RESERVED = frozenset({"*amzn-ddb-map-sig*", "*amzn-ddb-map-desc*"})

# Any Unicode except lone surrogates (which cannot be UTF-8 encoded, and DynamoDB rejects).
texts = st.text(max_size=12)
names = st.text(min_size=1, max_size=10).filter(lambda n: n not in RESERVED)
# Names that stress ordering: ASCII, U+E000..U+FFFF and supplementary characters mixed.
tricky_chars = st.sampled_from(["a", "Z", "\u00e9", "\ue000", "\uff5e", "\U0001f600", "\U00010000"])
tricky_names = st.text(tricky_chars, min_size=1, max_size=4)


@st.composite
def number_texts(draw: Any, max_digits: int = 38) -> str:
    """DynamoDB numbers in many spellings: up to ``max_digits`` significant digits, exponent
    inside DynamoDB's range, with signs, leading/trailing zeros and exponent notation."""
    digits = draw(st.integers(1, max_digits))
    first = draw(st.integers(1, 9))
    rest = draw(st.text("0123456789", min_size=digits - 1, max_size=digits - 1))
    mantissa = f"{first}{rest}"
    # Magnitude between 1E-130 and 9.99E+125.
    exponent = draw(st.integers(-129, 125 - digits + 1))
    sign = draw(st.sampled_from(["", "-", "+"])) if draw(st.booleans()) else ""
    style = draw(st.sampled_from(["exp", "plain", "padded"]))
    value = Decimal(f"{mantissa}E{exponent}")
    if style == "exp":
        return f"{sign}{mantissa}E{exponent}"
    text = format(value, "f")
    if style == "padded":
        if "." not in text:
            text += "."
        text = "00" + text + "000"
    return sign + text


zero_texts = st.sampled_from(["0", "-0", "+0", "0.000", "-0.0", "0E+5", "-0E-3", "00"])
any_number_texts = st.one_of(number_texts(), zero_texts)


def canonical_number(text: str) -> str:
    """Independent oracle for number normalization: exact, no exponent, no sign on zero."""
    value = Decimal(text)
    if value.is_zero():
        return "0"
    return format(value.normalize(Context(prec=200)), "f")


def _unique(strategy: st.SearchStrategy[Any], key: Any = None) -> st.SearchStrategy[list[Any]]:
    return st.lists(strategy, min_size=1, max_size=5, unique_by=key)


def scalar_values(numbers: st.SearchStrategy[str] = any_number_texts) -> st.SearchStrategy[Any]:
    return st.one_of(
        texts.map(lambda s: {"S": s}),
        numbers.map(lambda n: {"N": n}),
        st.binary(max_size=24).map(lambda b: {"B": b}),
        st.booleans().map(lambda b: {"BOOL": b}),
        st.just({"NULL": True}),
        _unique(texts).map(lambda v: {"SS": v}),
        _unique(numbers, key=lambda n: Decimal(n)).map(lambda v: {"NS": v}),
        _unique(st.binary(max_size=8)).map(lambda v: {"BS": v}),
    )


def ddb_values(numbers: st.SearchStrategy[str] = any_number_texts) -> st.SearchStrategy[Any]:
    """Arbitrary nested DynamoDB-JSON values (botocore shape, bytes for B)."""
    return st.recursive(
        scalar_values(numbers),
        lambda children: st.one_of(
            st.lists(children, max_size=4).map(lambda v: {"L": v}),
            st.dictionaries(texts, children, max_size=4).map(lambda v: {"M": v}),
        ),
        max_leaves=12,
    )


def ddb_items(
    numbers: st.SearchStrategy[str] = any_number_texts, min_size: int = 0
) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(names, ddb_values(numbers), min_size=min_size, max_size=6)


def canonical(value: Mapping[str, Any]) -> dict[str, Any]:
    """What a serialize -> deserialize round trip must give: numbers normalized, sets as
    sorted lists (byte order), everything else unchanged."""
    ((tag, inner),) = value.items()
    if tag == "N":
        return {"N": canonical_number(inner)}
    if tag == "NS":
        return {"NS": sorted((canonical_number(n) for n in inner), key=lambda s: s.encode())}
    if tag == "SS":
        return {"SS": sorted(inner, key=lambda s: s.encode())}
    if tag == "BS":
        return {"BS": sorted(bytes(b) for b in inner)}
    if tag == "L":
        return {"L": [canonical(v) for v in inner]}
    if tag == "M":
        return {"M": {k: canonical(v) for k, v in inner.items()}}
    if tag == "B":
        return {"B": bytes(inner)}
    return {tag: inner}


def canonical_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: canonical(v) for k, v in item.items()}


@lru_cache(maxsize=4)
def rsa_key(algorithm: str = "RSA", bits: int = 2048) -> RsaPrivateKey:
    """One generated RSA key per algorithm for the whole test session (generation is slow)."""
    base = _rsa_base(bits)
    return base.with_algorithm(algorithm)


@lru_cache(maxsize=2)
def _rsa_base(bits: int) -> RsaPrivateKey:
    return RsaPrivateKey.generate("RSA", bits)


def collect_strings(value: Any) -> list[str]:
    """Every str and bytes leaf inside a DynamoDB-JSON value (to look for leaks)."""
    found: list[str] = []
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, (bytes, bytearray)):
        found.append(bytes(value).hex())
    elif isinstance(value, Mapping):
        for v in value.values():
            found.extend(collect_strings(v))
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            found.extend(collect_strings(v))
    return found
