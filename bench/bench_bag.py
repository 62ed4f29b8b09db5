"""Bag validation speed: khoso ``validate_bag`` vs bagit-python vs a plain read + SHA-256 loop.

Builds, in one temporary folder, a 10,000 x 10 KiB bag and a 1 GiB single-file bag (SHA-256 only),
then times each validator with two workers over a warm page cache. Run:

    .venv/bin/python bench/bench_bag.py [--tmp DIR] [--small-files 10000] [--big-mib 1024]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import bagit

from ingest.bag import validate_bag

BAGIT_PY = Path(sys.executable).with_name("bagit.py")


def build_small(root: Path, count: int, size: int) -> None:
    block = os.urandom(size)
    for i in range(count):
        folder = root / f"d{i // 1000:02}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:05}.bin").write_bytes(i.to_bytes(4, "big") + block[4:])
    bagit.make_bag(str(root), checksums=["sha256"], processes=2)


def build_big(root: Path, mib: int) -> None:
    root.mkdir(parents=True)
    chunk = os.urandom(1 << 20)
    with open(root / "big.bin", "wb") as f:
        for _ in range(mib):
            f.write(chunk)
    bagit.make_bag(str(root), checksums=["sha256"], processes=2)


def plain_loop(root: Path) -> None:
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    for dirpath, _dirs, files in os.walk(root / "data"):
        for name in files:
            h = hashlib.sha256()
            with open(os.path.join(dirpath, name), "rb", buffering=0) as f:
                while n := f.readinto(buf):
                    h.update(view[:n])


def khoso(root: Path) -> None:
    result = validate_bag(root, processes=2)
    assert result.is_valid(), result.report.to_dict()


def bagit_api(root: Path) -> None:
    bagit.Bag(str(root)).validate(processes=2)


def bagit_cli(root: Path) -> None:
    subprocess.run([sys.executable, str(BAGIT_PY), "--validate", "--processes", "2", "--quiet",
                    str(root)], check=True)


def timed(fn: Callable[[Path], None], root: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(root)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tmp", default=None, help="where to build the bags (default: system temp)")
    parser.add_argument("--small-files", type=int, default=10_000)
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="khoso-bench-", dir=args.tmp) as tmp:
        small, big = Path(tmp) / "small", Path(tmp) / "big"
        small.mkdir()
        build_small(small, args.small_files, 10 * 1024)
        build_big(big, args.big_mib)
        cases = [("khoso validate_bag(processes=2)", khoso),
                 ("bagit.Bag.validate(processes=2)", bagit_api),
                 ("bagit.py --validate --processes 2", bagit_cli),
                 ("plain read + sha256 loop (1 proc)", plain_loop)]
        print(f"{'case':36} {'bag':>6} {'seconds':>8} {'files/s':>10} {'MB/s':>8}")
        for label, root, files, size in (("small", small, args.small_files, args.small_files * 10240),
                                         ("1 GiB", big, 1, args.big_mib << 20)):
            plain_loop(root)  # warm the page cache
            for name, fn in cases:
                sec = timed(fn, root, args.repeat)
                print(f"{name:36} {label:>6} {sec:8.3f} {files / sec:10.0f} {size / sec / 1e6:8.0f}")


if __name__ == "__main__":
    main()
