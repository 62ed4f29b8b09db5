"""The one read of each payload byte: digests, the virus scanner and the copy in a single pass.

Reading a file once instead of once per tool is what separates a fast ingest from one that reads
everything four times (Archivematica's checksum passes). The scanner gets the same buffers the
hashers see; the copy, when asked, is written from them too.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.adapters.clamd import ScanResult, VirusScanner

CHUNK = 1 << 20


SIGNATURE_MARKER = b"/ByteRange"  # every PDF signature dictionary has one, never compressed


@dataclass(frozen=True)
class FilePass:
    size: int
    digests: dict[str, str]  # algorithm -> lowercase hex
    scan: ScanResult | None
    marker: bool = False  # SIGNATURE_MARKER seen: worth a signature validation


def read_once(src: Path, algorithms: Iterable[str], scanner: VirusScanner | None,
              copy_to: Path | None = None, chunk: int = CHUNK) -> FilePass:
    """Read ``src`` once; hash it with every algorithm, stream it to clamd, copy it if asked.

    The copy is fsynced and appears under its final name only when complete.
    """
    hashers = {alg: hashlib.new(alg) for alg in algorithms}
    session = scanner.open_stream() if scanner is not None else None
    buf = bytearray(chunk)
    view = memoryview(buf)
    size = 0
    marker = False
    tail = b""
    out = tmp = None
    try:
        if copy_to is not None:
            copy_to.parent.mkdir(parents=True, exist_ok=True)
            tmp = copy_to.with_name(f".{copy_to.name}.part")
            out = open(tmp, "wb")  # noqa: SIM115 - closed in finally
        with open(src, "rb", buffering=0) as f:
            while n := f.readinto(buf):
                piece = view[:n]
                for h in hashers.values():
                    h.update(piece)
                if session is not None:
                    session.feed(piece)
                if out is not None:
                    out.write(piece)
                if not marker:  # searched in place (no copy), and across chunk borders
                    k = len(SIGNATURE_MARKER) - 1
                    marker = buf.find(SIGNATURE_MARKER, 0, n) >= 0 or \
                        SIGNATURE_MARKER in tail + bytes(buf[:min(k, n)])
                    tail = bytes(buf[max(0, n - k):n])
                size += n
        result = session.finish() if session is not None else None
        session = None
        if out is not None:
            out.flush()
            os.fsync(out.fileno())
            out.close()
            out = None
            os.replace(tmp, copy_to)
            tmp = None
        return FilePass(size, {a: h.hexdigest() for a, h in hashers.items()}, result, marker)
    finally:
        if session is not None:
            session.abort()
        if out is not None:
            out.close()
        if tmp is not None and tmp.exists():
            tmp.unlink()
