"""Rendering for the CLI: plain-text tables, DynamoDB values for humans and for JSON, progress.

Nothing here knows about keys or providers; it only turns data into text.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

__all__ = [
    "Document",
    "Progress",
    "Table",
    "describe_value",
    "dump_json",
    "jsonable_item",
    "jsonable_value",
    "mask_value",
    "print_document",
    "render_plain",
    "render_table",
]

_T = TypeVar("_T")

#: Longest cell text before it is cut with an ellipsis, so a table stays readable.
MAX_CELL = 60
#: How many leading bytes of a binary value are shown in hex.
HEX_PREVIEW = 12


def _cut(text: str, limit: int = MAX_CELL) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_value(value: Any) -> str:
    """One-line, human-readable text for a DynamoDB-JSON value (``{"S": "x"}``...).

    Binary values show their length and a short hex prefix: enough to see that a ciphertext
    is there and differs between items, without dumping it.
    """
    if not isinstance(value, Mapping) or len(value) != 1:
        return _cut(repr(value))
    ((tag, inner),) = value.items()
    if tag == "S":
        return _cut(json.dumps(inner, ensure_ascii=False))
    if tag == "N":
        return _cut(str(inner))
    if tag == "B":
        raw = bytes(inner)
        preview = raw[:HEX_PREVIEW].hex()
        more = "..." if len(raw) > HEX_PREVIEW else ""
        return f"<{len(raw)} bytes> {preview}{more}"
    if tag == "BOOL":
        return "true" if inner else "false"
    if tag == "NULL":
        return "null"
    return _cut(f"{tag} " + json.dumps(jsonable_value(value)[tag], ensure_ascii=False))


def mask_value(value: Any) -> str:
    """A decrypted value with its content hidden: its type and size only."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return "***"
    ((tag, inner),) = value.items()
    if tag == "S":
        size = f", {len(inner)} chars"
    elif tag == "B":
        size = f", {len(bytes(inner))} bytes"
    elif tag in ("L", "M", "SS", "NS", "BS"):
        size = f", {len(inner)} {'entries' if tag == 'M' else 'items'}"
    else:
        size = ""
    return f"*** ({tag}{size})"


def jsonable_value(value: Any) -> Any:
    """A DynamoDB-JSON value with binary parts base64-encoded, ready for ``json.dumps``."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return value
    ((tag, inner),) = value.items()
    if tag == "B":
        return {"B": base64.b64encode(bytes(inner)).decode("ascii")}
    if tag == "BS":
        return {"BS": [base64.b64encode(bytes(v)).decode("ascii") for v in inner]}
    if tag == "L":
        return {"L": [jsonable_value(v) for v in inner]}
    if tag == "M":
        return {"M": {k: jsonable_value(v) for k, v in inner.items()}}
    return {tag: inner}


def jsonable_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """`jsonable_value` for every attribute of an item."""
    return {name: jsonable_value(value) for name, value in item.items()}


def dump_json(data: Any, stream: IO[str] | None = None) -> None:
    """Write ``data`` as indented JSON (sorted keys, so output is stable) and a newline."""
    out = stream if stream is not None else sys.stdout
    out.write(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
    out.write("\n")


def render_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """An ASCII table (``+---+`` borders), so it survives any terminal encoding and a pipe."""
    body = [[str(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    lines = [rule, line(headers), rule.replace("-", "=")]
    lines.extend(line(row) for row in body)
    lines.append(rule)
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Table:
    """A table of a `Document`; ``emphasis`` names the columns coloured by their words."""

    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    emphasis: frozenset[str] = field(default_factory=frozenset)


#: Lines of text and tables, rendered as plain text (pipes) or through rich (terminals).
Document = Sequence["str | Table"]

#: Words that colour a cell, in order of precedence (rich only; plain text is unchanged).
_STYLES = (
    ("FAILED", "bold red"),
    ("not detected", "yellow"),
    ("DETECTED", "bold green"),
    ("encrypt", "green"),
    ("verified", "green"),
    ("plain", "yellow"),
    ("not checked", "yellow"),
    ("sign", "cyan"),
    ("***", "dim"),
)


def style_of(text: str) -> str | None:
    """The rich style for a cell or status text, from the words in it."""
    for word, style in _STYLES:
        if word in text:
            return style
    return None


def render_plain(document: Document) -> str:
    """The document as plain text with ASCII tables (pipes, files, no rich)."""
    parts = [
        part if isinstance(part, str) else render_table(part.headers, part.rows)
        for part in document
    ]
    return "\n".join(parts)


def print_document(document: Document, stream: IO[str] | None = None) -> None:
    """Print ``document``: through rich on a terminal (colour, width), plain text otherwise."""
    from ._term import stdout_console

    out = stream if stream is not None else sys.stdout
    console = stdout_console(out)
    if console is None:
        out.write(render_plain(document) + "\n")
        return
    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text

    for part in document:
        if isinstance(part, str):
            label, sep, rest = part.partition(": ")
            style = style_of(rest) if sep else None
            if sep and label and " " not in label.strip():
                text = Text(label + sep, style="bold")
                text.append(rest, style=style or "")
                console.print(text)
            else:
                console.print(Text(part, style=style or ""))
            continue
        table = RichTable(box=box.ROUNDED, header_style="bold", show_lines=False)
        for header in part.headers:
            table.add_column(header, overflow="fold")
        for row in part.rows:
            cells = [
                Text(cell, style=(style_of(cell) or "") if header in part.emphasis else "")
                for header, cell in zip(part.headers, row, strict=True)
            ]
            table.add_row(*cells)
        console.print(table)


class Progress:
    """A progress bar on stderr for long operations; silent when stderr is not a terminal.

    Output only goes to stderr, so stdout stays clean for pipes and ``--json``.

    Args:
        label: what is being counted ("items", "versions").
        total: the expected count, or None when unknown (a counter is shown instead).
        stream: where to draw; stderr by default.
        enabled: force on or off; by default on only for a terminal.
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        stream: IO[str] | None = None,
        enabled: bool | None = None,
    ) -> None:
        self._label = label
        self._total = total
        self._stream = stream if stream is not None else sys.stderr
        isatty = getattr(self._stream, "isatty", None)
        self._enabled = enabled if enabled is not None else bool(isatty and isatty())
        self._done = 0
        self._last_draw = 0.0

    @property
    def done(self) -> int:
        """How many units have been counted so far."""
        return self._done

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more units; redraws at most ten times a second."""
        self._done += count
        now = time.monotonic()
        if self._enabled and (now - self._last_draw >= 0.1 or self._done == self._total):
            self._last_draw = now
            self._draw()

    def _draw(self) -> None:
        if self._total:
            fraction = min(1.0, self._done / self._total)
            filled = int(fraction * 30)
            bar = "#" * filled + "-" * (30 - filled)
            text = f"\r[{bar}] {self._done}/{self._total} {self._label} ({fraction:5.1%})"
        else:
            text = f"\r{self._done} {self._label}"
        self._stream.write(text)
        self._stream.flush()

    def close(self) -> None:
        """End the bar's line (when one was drawn)."""
        if self._enabled and self._done:
            self._draw()
            self._stream.write("\n")
            self._stream.flush()

    def track(self, iterable: Iterable[_T]) -> Iterator[_T]:
        """Yield from ``iterable``, counting one unit per element, and close at the end."""
        try:
            for element in iterable:
                yield element
                self.advance()
        finally:
            self.close()
