"""Does ``run_audit`` (catalog lookups, verify, one commit and one PREMIS event per copy) keep up
with the plainest possible read + SHA-256 loop over the same objects? Goal: at least 80 %.

One run, the same bytes for every line: ``--small-count`` objects of ``--small-kib`` KiB grouped into
packages of ``--files-per-package``, plus ``--large-count`` packages of one ``--large-mib`` MiB
object, written with ``put`` and registered in a SQLite catalog (or ``--db``). Each pass runs
``--repeat`` times, alternating baseline and audit, and the best time is kept so that page-cache
warm-up favours neither. With ``--s3-endpoint`` the same is done against S3 (raw boto3 GET + hash
vs an audit of the S3 location); start ``moto_server -H 127.0.0.1 -p 5077`` for that.

    .venv/bin/python bench/bench_audit.py --s3-endpoint http://127.0.0.1:5077
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from preservation.catalog.db import Catalog
from preservation.catalog.models import Bitstream, Package, StoredCopy
from storage.audit import run_audit
from storage.filesystem import FilesystemStorage
from storage.protocol import Storage

MiB = 1 << 20


def make_packages(args: argparse.Namespace, tag: str, small_count: int) -> dict[str, dict[str, bytes]]:
    """prefix -> {bag path: bytes}; random bytes so nothing compresses or dedups."""
    packages: dict[str, dict[str, bytes]] = {}
    for i in range(small_count):
        prefix = f"KHOSO/BENCH-{tag}/P{i // args.files_per_package:05d}/v1"
        packages.setdefault(prefix, {})[f"data/f{i:05d}.bin"] = os.urandom(args.small_kib * 1024)
    for i in range(args.large_count):
        packages[f"KHOSO/BENCH-{tag}/L{i:03d}/v1"] = {"data/large.bin": os.urandom(args.large_mib * MiB)}
    return packages


def digests(packages: dict[str, dict[str, bytes]]) -> dict[str, str]:
    return {f"{p}/{k}": hashlib.sha256(v).hexdigest() for p, files in packages.items() for k, v in files.items()}


def register(catalog: Catalog, location: str, packages: dict[str, dict[str, bytes]],
             sums: dict[str, str]) -> None:
    with catalog.session() as s:
        for prefix, files in packages.items():
            pkg = Package(objid=prefix, kind="AIP", status="active", total_size=sum(map(len, files.values())))
            s.add(pkg)
            s.flush()
            s.execute(sa.insert(Bitstream), [{"package_id": pkg.id, "path": p, "size": len(d),
                                              "sha256": sums[f"{prefix}/{p}"]} for p, d in files.items()])
            s.add(StoredCopy(package_id=pkg.id, location=location, key=prefix, sha256="0" * 64,
                             size=pkg.total_size))


def store(storage: Storage, packages: dict[str, dict[str, bytes]], sums: dict[str, str]) -> None:
    for prefix, files in packages.items():
        for path, data in files.items():
            storage.put(f"{prefix}/{path}", io.BytesIO(data), expected_sha256=sums[f"{prefix}/{path}"])


def best(func: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return min(times)


def compare(label: str, nbytes: int, plain: Callable[[], None], audit: Callable[[], None],
            repeat: int) -> float:
    t_plain, t_audit = [], []
    for _ in range(repeat):  # alternate, so neither always runs on a warmer cache
        t_plain.append(best(plain, 1))
        t_audit.append(best(audit, 1))
    p, a = min(t_plain), min(t_audit)
    print(f"  {label}: baseline {nbytes / MiB / p:8.1f} MB/s ({p:6.2f} s)   "
          f"run_audit {nbytes / MiB / a:8.1f} MB/s ({a:6.2f} s)   ratio {p / a:5.1%}")
    return p / a


def audit_pass(catalog: Catalog, storages: dict[str, Storage], location: str, copies: int,
               workers: int) -> Callable[[], None]:
    def run() -> None:
        report = run_audit(catalog, storages, due_only=False, location=location, actor="bench",
                           workers=workers)
        assert report.copies_checked == copies and report.ok == copies, report.to_dict()
    return run


def bench_filesystem(catalog: Catalog, packages, sums, workdir: Path, repeat: int, workers: int) -> float:
    fs = FilesystemStorage(workdir / "replica", name="fs", create_root=True)
    store(fs, packages, sums)
    register(catalog, "fs", packages, sums)
    nbytes = sum(len(d) for files in packages.values() for d in files.values())

    def plain() -> None:
        buf = bytearray(MiB)
        view = memoryview(buf)
        for key, expected in sums.items():
            digest = hashlib.sha256()
            with open(fs.root / key, "rb", buffering=0) as f:
                while n := f.readinto(view):
                    digest.update(view[:n])
            assert digest.hexdigest() == expected

    print(f"filesystem ({workdir}):")
    return compare("read+sha256 vs audit", nbytes, plain, audit_pass(catalog, {"fs": fs}, "fs", len(packages), workers),
                   repeat)


def bench_s3(catalog: Catalog, packages, sums, endpoint: str, repeat: int, workers: int) -> float:
    import boto3
    from botocore.config import Config

    from storage.s3 import S3Storage

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    bucket = f"khoso-bench-{uuid.uuid4().hex[:12]}"
    raw = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                       config=Config(response_checksum_validation="when_required"))
    raw.create_bucket(Bucket=bucket)
    s3 = S3Storage(bucket, endpoint_url=endpoint, region="us-east-1", name="s3")
    store(s3, packages, sums)
    register(catalog, "s3", packages, sums)
    nbytes = sum(len(d) for files in packages.values() for d in files.values())

    def plain() -> None:
        for key, expected in sums.items():
            digest = hashlib.sha256()
            for chunk in raw.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(MiB):
                digest.update(chunk)
            assert digest.hexdigest() == expected

    print(f"s3 ({endpoint}, bucket {bucket}):")
    try:
        return compare("GET+sha256 vs audit", nbytes, plain, audit_pass(catalog, {"s3": s3}, "s3", len(packages), workers),
                       repeat)
    finally:
        for key in sums:
            s3.delete(key)
        raw.delete_bucket(Bucket=bucket)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-count", type=int, default=2000)
    parser.add_argument("--small-kib", type=int, default=256)
    parser.add_argument("--files-per-package", type=int, default=20)
    parser.add_argument("--large-count", type=int, default=3)
    parser.add_argument("--large-mib", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="parent of the temporary folder")
    parser.add_argument("--db", default=None, help="catalog URL (default: a SQLite file in the temporary folder)")
    parser.add_argument("--s3-endpoint", default=None, help="e.g. http://127.0.0.1:5077 (moto_server)")
    parser.add_argument("--workers", type=int, default=2, help="run_audit reader threads")
    parser.add_argument("--s3-small-count", type=int, default=None,
                        help="fewer small objects for S3 (moto is slow); default: --small-count")
    args = parser.parse_args(argv)
    packages = make_packages(args, "fs", args.small_count)
    sums = digests(packages)
    print(f"data: {args.small_count} x {args.small_kib} KiB in {args.files_per_package}-file packages + "
          f"{args.large_count} x {args.large_mib} MiB, best of {args.repeat}, workers={args.workers}, Python {sys.version.split()[0]}")
    ratios = []
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="khoso-bench-audit-") as tmp:
        catalog = Catalog(args.db or f"sqlite:///{tmp}/catalog.sqlite")
        catalog.upgrade()
        ratios.append(bench_filesystem(catalog, packages, sums, Path(tmp), args.repeat, args.workers))
        if args.s3_endpoint:
            packages = make_packages(args, "s3", args.s3_small_count or args.small_count)
            sums = digests(packages)
            ratios.append(bench_s3(catalog, packages, sums, args.s3_endpoint, args.repeat, args.workers))
        catalog.dispose()
    goal = all(r >= 0.8 for r in ratios)
    print(f"goal (run_audit >= 80% of baseline): {'met' if goal else 'NOT met'}")
    return 0 if goal else 1


if __name__ == "__main__":
    raise SystemExit(main())
