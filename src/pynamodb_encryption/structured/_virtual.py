"""Terminal locations and virtual fields of DB-ESDK searchable encryption (pure, no I/O).

A terminal location is a document path such as ``a.b[3]``; a virtual field concatenates the
transformed string values of a few locations. Semantics follow AWS's ``TermLoc.dfy`` and
``Virtual.dfy`` (specification ``searchable-encryption/virtual.md``). Character positions are
Dafny ``string`` positions, that is UTF-16 code units: strings are handled here as UTF-16 so
that a value outside the BMP is cut where AWS's code cuts it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigurationError

__all__ = [
    "Insert",
    "Lower",
    "Prefix",
    "Segment",
    "Segments",
    "Substring",
    "Suffix",
    "Upper",
    "VirtualField",
    "VirtualPart",
    "VirtualTransform",
    "parse_location",
]

Selector = str | int


def parse_location(text: str) -> tuple[Selector, ...]:
    """Parse ``a.b[3]`` into ``("a", "b", 3)``; the first selector is always an attribute name."""
    if not isinstance(text, str) or not text:
        raise ConfigurationError("a terminal location must be a non-empty string such as 'a.b[0]'")
    out: list[Selector] = []
    i = 0
    n = len(text)
    start = 0
    while i < n and text[i] not in ".[":
        i += 1
    out.append(text[start:i])
    while i < n:
        if text[i] == ".":
            j = i + 1
            while j < n and text[j] not in ".[":
                j += 1
            out.append(text[i + 1 : j])
            i = j
        else:
            j = text.find("]", i)
            digits = text[i + 1 : j] if j >= 0 else ""
            if j < 0 or not digits.isascii() or not digits.isdigit():
                raise ConfigurationError(
                    f"terminal location {text!r}: a list index is written [digits]"
                )
            out.append(int(digits))
            i = j + 1
    return tuple(out)


def resolve(location: tuple[Selector, ...], item: Mapping[str, Any]) -> dict[str, Any] | None:
    """The DynamoDB-JSON value at ``location`` in ``item``, or None where the path does not lead."""
    value = item.get(str(location[0]))
    for selector in location[1:]:
        if not isinstance(value, Mapping):
            return None
        if isinstance(selector, int):
            inner = value.get("L")
            if not isinstance(inner, list) or selector >= len(inner):
                return None
            value = inner[selector]
        else:
            inner = value.get("M")
            if not isinstance(inner, Mapping) or selector not in inner:
                return None
            value = inner[selector]
    return value if isinstance(value, dict) else (dict(value) if value is not None else None)


def value_to_string(value: Mapping[str, Any]) -> str:
    """``AttrValueToString``: S and N as they are, BOOL and NULL as words; anything else fails."""
    if "S" in value:
        return str(value["S"])
    if "N" in value:
        return str(value["N"])
    if "BOOL" in value:
        return "true" if value["BOOL"] else "false"
    if "NULL" in value:
        return "null"
    kind = next(iter(value), "?")
    raise ValueError(f"a value of type {kind} cannot be used as a string")


# ------------------------------------------------------------------------------------------
# UTF-16 helpers: DB-ESDK's positions count UTF-16 code units.


def _units(s: str) -> list[str]:
    data = s.encode("utf-16-le", "surrogatepass")
    return [data[i : i + 2].decode("utf-16-le", "surrogatepass") for i in range(0, len(data), 2)]


def _join(units: list[str]) -> str:
    return "".join(units).encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _pos(pos: int, limit: int) -> int:
    if limit == 0:
        return 0
    if pos >= 0:
        return min(pos, limit - 1)
    if limit + pos < 0:
        return 0
    return limit + pos


# ------------------------------------------------------------------------------------------
# Transforms


@dataclass(frozen=True, slots=True)
class Upper:
    """ASCII upper case (other characters are left as they are)."""

    def apply(self, s: str) -> str:
        return "".join(chr(ord(c) - 32) if "a" <= c <= "z" else c for c in s)


@dataclass(frozen=True, slots=True)
class Lower:
    """ASCII lower case (other characters are left as they are)."""

    def apply(self, s: str) -> str:
        return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in s)


@dataclass(frozen=True, slots=True)
class Insert:
    """Append a literal."""

    literal: str

    def __post_init__(self) -> None:
        if not isinstance(self.literal, str):
            raise ConfigurationError("Insert(literal=...) takes a str")

    def apply(self, s: str) -> str:
        return s + self.literal


@dataclass(frozen=True, slots=True)
class Prefix:
    """The first ``length`` characters (negative: all but the last ``-length``)."""

    length: int

    def __post_init__(self) -> None:
        if not isinstance(self.length, int) or isinstance(self.length, bool):
            raise ConfigurationError("Prefix(length=...) takes an int")

    def apply(self, s: str) -> str:
        u = _units(s)
        if self.length >= 0:
            return _join(u[: min(self.length, len(u))])
        return _join(u[: len(u) - min(-self.length, len(u))])


@dataclass(frozen=True, slots=True)
class Suffix:
    """The last ``length`` characters (negative: all but the first ``-length``)."""

    length: int

    def __post_init__(self) -> None:
        if not isinstance(self.length, int) or isinstance(self.length, bool):
            raise ConfigurationError("Suffix(length=...) takes an int")

    def apply(self, s: str) -> str:
        u = _units(s)
        if self.length >= 0:
            return _join(u[len(u) - min(self.length, len(u)) :])
        return _join(u[min(-self.length, len(u)) :])


@dataclass(frozen=True, slots=True)
class Substring:
    """Characters ``low`` up to (not including) ``high``; negative positions count from the end."""

    low: int
    high: int

    def __post_init__(self) -> None:
        for v in (self.low, self.high):
            if not isinstance(v, int) or isinstance(v, bool):
                raise ConfigurationError("Substring(low=..., high=...) takes ints")

    def apply(self, s: str) -> str:
        u = _units(s)
        lo, hi = _pos(self.low, len(u)), _pos(self.high, len(u))
        return _join(u[lo:hi]) if lo < hi else ""


def _check_split(split: object, what: str) -> None:
    if not isinstance(split, str) or len(split) != 1:
        raise ConfigurationError(f"{what}(split=...) must be exactly one character")


@dataclass(frozen=True, slots=True)
class Segment:
    """Split on ``split`` and keep piece ``index`` (negative counts from the end)."""

    split: str
    index: int

    def __post_init__(self) -> None:
        _check_split(self.split, "Segment")

    def apply(self, s: str) -> str:
        parts = s.split(self.split)
        if self.index >= len(parts) or -self.index > len(parts):
            return ""
        return parts[_pos(self.index, len(parts))]


@dataclass(frozen=True, slots=True)
class Segments:
    """Split on ``split`` and keep pieces ``low`` up to ``high``, joined again."""

    split: str
    low: int
    high: int

    def __post_init__(self) -> None:
        _check_split(self.split, "Segments")

    def apply(self, s: str) -> str:
        parts = s.split(self.split)
        lo, hi = _pos(self.low, len(parts)), _pos(self.high, len(parts))
        return self.split.join(parts[lo:hi]) if lo < hi else ""


VirtualTransform = Upper | Lower | Insert | Prefix | Suffix | Substring | Segment | Segments
_TRANSFORMS = (Upper, Lower, Insert, Prefix, Suffix, Substring, Segment, Segments)


@dataclass(frozen=True, slots=True)
class VirtualPart:
    """One piece of a virtual field: the string at ``location`` through ``transforms`` in order."""

    location: str
    transforms: tuple[VirtualTransform, ...] = ()

    def __post_init__(self) -> None:
        parse_location(self.location)
        if not isinstance(self.transforms, tuple):
            object.__setattr__(self, "transforms", tuple(self.transforms))
        for t in self.transforms:
            if not isinstance(t, _TRANSFORMS):
                raise ConfigurationError(
                    f"virtual part {self.location!r}: a transform must be one of Upper, Lower, "
                    "Insert, Prefix, Suffix, Substring, Segment, Segments"
                )

    @property
    def path(self) -> tuple[Selector, ...]:
        return parse_location(self.location)


@dataclass(frozen=True, slots=True)
class VirtualField:
    """A field that is never stored: the concatenation of its parts (``virtual.md``)."""

    name: str
    parts: tuple[VirtualPart, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigurationError("VirtualField(name=...) must be a non-empty str")
        if not isinstance(self.parts, tuple):
            object.__setattr__(self, "parts", tuple(self.parts))
        if not self.parts:
            raise ConfigurationError(f"virtual field {self.name!r} needs at least one VirtualPart")
        for p in self.parts:
            if not isinstance(p, VirtualPart):
                raise ConfigurationError(f"virtual field {self.name!r}: parts must be VirtualPart")

    def value(self, item: Mapping[str, Any]) -> str | None:
        """The field's string for a plaintext DynamoDB-JSON item, or None if a part is missing."""
        acc = ""
        for part in self.parts:
            raw = resolve(part.path, item)
            if raw is None:
                return None
            s = value_to_string(raw)
            for t in part.transforms:
                s = t.apply(s)
            acc += s
        return acc
