"""The job's checkpoint file: per scan segment, where the next page starts.

Written after every fully processed page, atomically (temporary file in the same folder,
``fsync``, then ``os.replace``), so a crash at any point leaves either the previous or the new
state on disk, never a torn file. Redoing the page that was in flight is harmless: items that
were already rewritten are detected as current, and every write is conditional.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

__all__ = ["Checkpoint", "SegmentState"]

_FORMAT = "pynamodb-encryption/reencrypt-checkpoint"
_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentState:
    """Where one scan segment stands.

    Attributes:
        done: the segment has been scanned to its end.
        last_key: the ``LastEvaluatedKey`` after the last fully processed page (DynamoDB
            JSON), or None to start at the beginning.
        pages: pages fully processed so far, over every run.
        items: items seen so far, over every run.
    """

    done: bool = False
    last_key: Mapping[str, Any] | None = None
    pages: int = 0
    items: int = 0


def _encode_key(key: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in key.items():
        (kind, raw), *rest = value.items()
        if rest or kind not in ("S", "N", "B"):
            raise ConfigurationError("a key attribute must be S, N or B", attribute=name)
        out[name] = {kind: base64.b64encode(raw).decode("ascii") if kind == "B" else raw}
    return out


def _decode_key(data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError("key is not an object")
    out: dict[str, Any] = {}
    for name, value in data.items():
        if not isinstance(value, Mapping) or len(value) != 1:
            raise ValueError("key value is not a typed value")
        ((kind, raw),) = value.items()
        if kind not in ("S", "N", "B") or not isinstance(raw, str):
            raise ValueError("key value has an unexpected type")
        out[name] = {"B": base64.b64decode(raw, validate=True)} if kind == "B" else {kind: raw}
    return out


class Checkpoint:
    """The checkpoint of one job (thread-safe).

    Use `open` to load an existing file or start a new one.
    """

    __slots__ = ("_lock", "_path", "_segments", "_table", "resumed")

    def __init__(
        self, path: Path, *, table_name: str, segments: list[SegmentState], resumed: bool
    ) -> None:
        self._path = path
        self._table = table_name
        self._segments = segments
        self._lock = threading.Lock()
        #: True when the state was loaded from an existing file.
        self.resumed = resumed

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, table_name: str, segments: int) -> Checkpoint:
        """Load ``path`` if it exists (and matches the job), or start a fresh state.

        Raises:
            ConfigurationError: the file is unreadable, or was written for another table or
                another number of segments (resuming it would skip or repeat parts).
        """
        file = Path(path)
        if not file.exists():
            return cls(
                file,
                table_name=table_name,
                segments=[SegmentState() for _ in range(segments)],
                resumed=False,
            )
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            if (
                not isinstance(data, dict)
                or data.get("format") != _FORMAT
                or data.get("version") != _VERSION
            ):
                raise ValueError("not a checkpoint of this version")
            states = [
                SegmentState(
                    done=bool(entry["done"]),
                    last_key=None if entry["last_key"] is None else _decode_key(entry["last_key"]),
                    pages=int(entry.get("pages", 0)),
                    items=int(entry.get("items", 0)),
                )
                for entry in data["segments"]
            ]
            table = data["table"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise ConfigurationError(
                f"the checkpoint file cannot be read ({type(exc).__name__}); delete it to start "
                "over"
            ) from exc
        if table != table_name:
            raise ConfigurationError(
                "the checkpoint file belongs to another table", table=table_name
            )
        if len(states) != segments:
            raise ConfigurationError(
                f"the checkpoint file was written with {len(states)} segment(s), not {segments}: "
                "resume with the same --segments, or delete it to start over",
                table=table_name,
            )
        return cls(file, table_name=table_name, segments=states, resumed=True)

    @property
    def path(self) -> Path:
        return self._path

    def state(self, segment: int) -> SegmentState:
        with self._lock:
            return self._segments[segment]

    @property
    def complete(self) -> bool:
        with self._lock:
            return all(s.done for s in self._segments)

    def record_page(self, segment: int, last_key: Mapping[str, Any] | None, *, items: int) -> None:
        """A page of ``segment`` is fully processed; the next one starts after ``last_key``
        (None: the segment is finished). Persists the whole state before returning."""
        with self._lock:
            old = self._segments[segment]
            self._segments[segment] = SegmentState(
                done=last_key is None,
                last_key=None if last_key is None else dict(last_key),
                pages=old.pages + 1,
                items=old.items + items,
            )
            self._write_locked()

    def save(self) -> None:
        """Persist the current state (e.g. before the first page)."""
        with self._lock:
            self._write_locked()

    def remove(self) -> None:
        """Delete the file (the job finished)."""
        with self._lock:
            self._path.unlink(missing_ok=True)

    def _write_locked(self) -> None:
        payload = {
            "format": _FORMAT,
            "version": _VERSION,
            "table": self._table,
            "segments": [
                {
                    "done": s.done,
                    "last_key": None if s.last_key is None else _encode_key(s.last_key),
                    "pages": s.pages,
                    "items": s.items,
                }
                for s in self._segments
            ],
        }
        folder = self._path.parent
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self._path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
