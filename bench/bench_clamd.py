"""Throughput of ClamdScanner against a minimal inline INSTREAM client and a SHA-256 read loop.

    .venv/bin/python bench/bench_clamd.py --clamd unix:///path/clamd.sock [--big-mib 512]

Same data for every row (one big random file, many small files; page cache warmed first), so the
rows compare the client code, not the disk. With the test database (EICAR only) clamd's own
scanning is nearly free: these are upper bounds on transport cost, not real AV throughput.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.adapters.clamd import ClamdScanner  # noqa: E402

MiB = 1024 * 1024
REPEAT = 3


def raw_instream(address: str, path: Path, chunk: int = MiB) -> str:
    """The ~15-line client from the toolchain probe: 1 MiB chunks, sendall, no buffering logic."""
    u = urlsplit(address)
    if u.scheme == "unix":
        s = socket.socket(socket.AF_UNIX)
        s.connect(u.path)
    else:
        s = socket.create_connection((u.hostname, u.port or 3310))
    with s, open(path, "rb") as f:
        s.sendall(b"zINSTREAM\0")
        while data := f.read(chunk):
            s.sendall(struct.pack("!L", len(data)) + data)
        s.sendall(struct.pack("!L", 0))
        reply = b""
        while not reply.endswith(b"\0"):
            part = s.recv(4096)
            if not part:
                break
            reply += part
    return reply.decode()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    buf = bytearray(MiB)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def one_pass(scanner: ClamdScanner, path: Path, piece: int = 64 * 1024) -> str:
    """The ingest pattern: one read feeds SHA-256 and the scanner (pieces of ``piece`` bytes)."""
    h = hashlib.sha256()
    session = scanner.open_stream()
    with open(path, "rb") as f:
        while data := f.read(piece):
            h.update(data)
            session.feed(data)
    result = session.finish()
    assert result.clean, result
    return h.hexdigest()


def scanner_file(scanner: ClamdScanner, path: Path) -> None:
    with open(path, "rb") as f:
        result = scanner.scan_stream(f)
    assert result.clean, result


def make_data(folder: Path, big_mib: int, small_count: int, small_kib: int) -> tuple[Path, list[Path]]:
    big = folder / "big.bin"
    with open(big, "wb") as f:
        for _ in range(big_mib):
            f.write(os.urandom(MiB))
    small_dir = folder / "small"
    small_dir.mkdir()
    smalls = []
    for i in range(small_count):
        p = small_dir / f"f{i:05d}.bin"
        p.write_bytes(os.urandom(small_kib * 1024))
        smalls.append(p)
    return big, smalls


def timed(label: str, fn: Callable[[Path], object], paths: list[Path], rows: list[str]) -> None:
    """Best of ``REPEAT`` runs, so one slow start (clamd thread pool, page cache) does not count."""
    size = sum(p.stat().st_size for p in paths)
    elapsed = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        for p in paths:
            fn(p)
        elapsed = min(elapsed, time.perf_counter() - start)
    rows.append(f"| {label} | {len(paths):>5} | {size / MiB:8.1f} | {elapsed:7.2f} | "
                f"{size / 1e6 / elapsed:8.1f} | {len(paths) / elapsed:8.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--clamd", default=os.environ.get("KHOSO_TEST_CLAMD"),
                        help="unix:///path or tcp://host:port (default: $KHOSO_TEST_CLAMD)")
    parser.add_argument("--big-mib", type=int, default=512)
    parser.add_argument("--small-count", type=int, default=2000)
    parser.add_argument("--small-kib", type=int, default=10)
    parser.add_argument("--tmp", default=None, help="folder for the temporary data")
    args = parser.parse_args()
    if not args.clamd:
        parser.error("--clamd or KHOSO_TEST_CLAMD is required")
    scanner = ClamdScanner(args.clamd, timeout=300)
    if not scanner.ping():
        parser.error(f"clamd does not answer at {args.clamd}")

    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        big, smalls = make_data(Path(tmp), args.big_mib, args.small_count, args.small_kib)
        for p in [big, *smalls]:  # warm the page cache and clamd
            sha256_file(p)
        scanner_file(scanner, smalls[0])
        rows = ["| path | files | MiB | s | MB/s | files/s |", "|---|---:|---:|---:|---:|---:|"]
        for label, paths in (("big", [big]), ("small", smalls)):
            timed(f"{label}: read + SHA-256 (1 MiB readinto)", sha256_file, paths, rows)
            timed(f"{label}: raw INSTREAM, 1 MiB sendall", lambda p: raw_instream(args.clamd, p),
                  paths, rows)
            timed(f"{label}: ClamdScanner.scan_stream", lambda p: scanner_file(scanner, p), paths, rows)
            timed(f"{label}: one pass SHA-256 + ClamdScanner.feed(64 KiB)",
                  lambda p: one_pass(scanner, p), paths, rows)
        print(f"clamd {args.clamd}: {scanner.version()}")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
