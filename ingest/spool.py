"""An append-only sequence that keeps at most one chunk of its items in memory.

A 100,000-file ingest records one or more PREMIS events per file and reads them back only twice
(PREMIS, then the catalog); as Python objects they would cost hundreds of MB for the whole run.
Full chunks are pickled to an anonymous temporary file (unlinked when created, so nothing is
left behind whatever happens to the process) and every iteration reads them back one chunk at a
time, then the items not spilled yet.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

from preservation.events import Event

T = TypeVar("T")

CHUNK = 2000


class Spool(Generic[T]):
    """``append``/``extend``/``len``/iteration of a list, in insertion order; iterations see the
    items present when they start. Items must be picklable."""

    def __init__(self, items: Iterable[T] = (), *, chunk: int | None = None,
                 directory: Path | None = None) -> None:
        self.chunk = chunk or CHUNK
        self.directory = directory  # where the temporary file goes (read at the first spill)
        self._buffer: list[Any] = []
        self._spilled: list[tuple[int, int, int]] = []  # (offset, bytes, items) per chunk
        self._file: Any = None
        self._end = 0
        self._count = 0
        self.extend(items)

    def encode(self, item: T) -> Any:
        return item

    def decode(self, raw: Any) -> T:
        return raw

    def append(self, item: T) -> None:
        self._buffer.append(self.encode(item))
        self._count += 1
        if len(self._buffer) >= self.chunk:
            self._spill()

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)

    def _spill(self) -> None:
        if self._file is None:
            directory = self.directory if self.directory and self.directory.is_dir() else None
            self._file = tempfile.TemporaryFile(prefix="spool-", dir=directory)  # noqa: SIM115
        data = pickle.dumps(self._buffer, protocol=pickle.HIGHEST_PROTOCOL)
        os.pwrite(self._file.fileno(), data, self._end)
        self._spilled.append((self._end, len(data), len(self._buffer)))
        self._end += len(data)
        self._buffer = []

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[T]:
        spilled, buffered = list(self._spilled), list(self._buffer)
        for offset, size, _ in spilled:
            data = os.pread(self._file.fileno(), size, offset)
            if len(data) != size:
                raise OSError(f"spool chunk truncated: {len(data)} of {size} bytes")
            yield from map(self.decode, pickle.loads(data))
        yield from map(self.decode, buffered)

    def close(self) -> None:
        """Drop every item and the temporary file."""
        if self._file is not None:
            self._file.close()
        self._file, self._spilled, self._buffer, self._end, self._count = None, [], [], 0, 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._count} items, {len(self._spilled)} chunks spilled)"


class EventSpool(Spool[Event]):
    """PREMIS events as plain tuples: smaller and faster to pickle than the dataclass."""

    def encode(self, item: Event) -> tuple:
        return (item.event_type, item.outcome, item.detail, item.outcome_detail,
                item.object_identifier, item.agents, item.when, item.event_uuid,
                item.outcome_data)

    def decode(self, raw: tuple) -> Event:
        return Event(*raw)
