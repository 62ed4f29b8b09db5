"""Verified blocks handed to waitress's send queue as they are, without a copy.

waitress appends each bytes object a WSGI body yields to its output buffer: a 4 MiB block was
copied into a ``BytesIO``, spilled to a temporary file past ``outbuf_overflow`` (1 MiB), read
back 16 KiB at a time (the socket's send buffer as it stood at ``accept``) and only then sent:
about 1.4 s of server CPU per GiB on top of the read and SHA-256 of the block check, against
0.85 s this way (2026-12-07, loopback, 1 GiB).

The one object waitress's channel queues as it is, is its own ``wsgi.file_wrapper`` class
(``ReadOnlyFileBasedBuffer``); its send loop only asks it for ``get``/``skip``/``close`` and
its length. So each verified block is wrapped in such a buffer over a ``memoryview``: the
channel sends from the block itself, from the task thread while the socket takes it, then from
its event loop, while the task thread reads and checks the next block (up to waitress's
``outbuf_high_watermark`` ahead, as before). The block is never changed after its check: it is
an immutable ``bytes``. The task's ``write`` slices what it is given to the Content-Length, so
the buffer answers a slice too; a response without a Content-Length (chunked) would need bytes,
so this is only used where the length is set, and only under waitress 3 (``setup.cfg`` pins
it: the send loop is waitress's own code, checked by ``test_waitress_send``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any


def zero_copy_class(environ: Mapping[str, Any]) -> type | None:
    """waitress's file wrapper class when this request is served by waitress, else None."""
    try:
        from waitress.buffers import ReadOnlyFileBasedBuffer
    except ImportError:  # pragma: no cover - waitress is a dependency
        return None
    return ReadOnlyFileBasedBuffer if environ.get("wsgi.file_wrapper") is \
        ReadOnlyFileBasedBuffer else None


def sendable(body: Iterable[bytes], environ: Mapping[str, Any]) -> Iterable[Any]:
    """``body`` as the server sends it best: its blocks as waitress buffers under waitress,
    else as it is (the test client, another WSGI server)."""
    base = zero_copy_class(environ)
    if base is None:
        return body
    return _Blocks(body, _block_class(base))


class _Blocks:
    """The body's iterable with its ``close`` kept (it ends the storage read)."""

    def __init__(self, body: Iterable[bytes], block: type) -> None:
        self._body, self._block = body, block

    def __iter__(self) -> Iterator[Any]:
        for data in self._body:
            yield self._block(data)

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()


_CLASSES: dict[type, type] = {}


def _block_class(base: type) -> type:
    cls = _CLASSES.get(base)
    if cls is None:
        cls = _CLASSES[base] = type("Block", (_Block, base), {})
    return cls


class _Block:
    """One block, read by waitress's channel straight from its memory.

    Mixed before waitress's ``ReadOnlyFileBasedBuffer`` (``_block_class``), whose file-based
    methods it replaces: ``get`` returns a view, never a copy, so it hands the socket the whole
    rest and the socket takes what it can (``skip`` then moves on by what was sent)."""

    remain: int

    def __init__(self, data: bytes | memoryview) -> None:
        self._view = memoryview(data)
        self._pos = 0
        self.remain = len(self._view)

    def __len__(self) -> int:
        return self.remain

    def __bool__(self) -> bool:
        return self.remain > 0

    def __getitem__(self, key: slice) -> Any:
        """What the task's ``write`` keeps of the block (``data[:content_length - written]``):
        the block itself when it all fits, else a block of the part."""
        rest = self._view[self._pos:]
        start, stop, step = key.indices(len(rest))
        if (start, stop, step) == (0, len(rest), 1):
            return self
        return type(self)(rest[key])

    def prepare(self, size: int | None = None) -> int:
        return self.remain

    def get(self, numbytes: int = -1, skip: bool = False) -> memoryview:
        part = self._view[self._pos:]
        if skip:
            self.skip(len(part))
        return part

    def skip(self, numbytes: int, allow_prune: int = 0) -> None:
        if numbytes > self.remain:
            raise ValueError(f"cannot skip {numbytes} bytes of {self.remain}")
        self._pos += numbytes
        self.remain -= numbytes

    def close(self) -> None:
        self.remain = 0

    def __iter__(self) -> Iterator[bytes]:  # a server iterating it as a body: the bytes
        if self.remain:
            yield bytes(self._view[self._pos:])
