"""Does ``Storage.verify`` cost more than the plainest possible read + SHA-256 loop?

One run, the same bytes for every line: N small objects plus one large one, written through
``FilesystemStorage.put`` into a temporary folder (and ``S3Storage.put`` when ``--s3-endpoint``
is given; start ``moto_server -H 127.0.0.1 -p 5077`` for that). Each read pass runs ``--repeat``
times, alternating baseline and khoso, and the best time is reported, so that page-cache warm-up
does not favour whichever runs second.

    .venv/bin/python bench/bench_storage.py --s3-endpoint http://127.0.0.1:5077
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

from storage.filesystem import FilesystemStorage

MiB = 1 << 20


def plain_file_hash(path: Path) -> str:
    digest, buf = hashlib.sha256(), bytearray(MiB)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(view):
            digest.update(view[:n])
    return digest.hexdigest()


def best(func: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return min(times)


def row(label: str, nbytes: int, seconds: float) -> None:
    print(f"  {label:<44} {nbytes / MiB / seconds:9.1f} MB/s  ({seconds:6.2f} s)")


def make_data(args: argparse.Namespace) -> dict[str, bytes]:
    objects = {f"small/{i:04d}.bin": os.urandom(args.small_mib * MiB) for i in range(args.small_count)}
    objects["large/object.bin"] = os.urandom(args.large_mib * MiB)
    return objects


def bench_filesystem(objects: dict[str, bytes], sums: dict[str, str], workdir: Path, repeat: int) -> None:
    fs = FilesystemStorage(workdir / "replica", create_root=True)
    began = time.perf_counter()
    for key, data in objects.items():
        fs.put(key, io.BytesIO(data), expected_sha256=sums[key])
    total = sum(map(len, objects.values()))
    print(f"filesystem ({workdir}):")
    row("FilesystemStorage.put (hash + fsync)", total, time.perf_counter() - began)
    for group in ("small/", "large/"):
        keys = [k for k in objects if k.startswith(group)]
        nbytes = sum(len(objects[k]) for k in keys)

        def plain(keys: list[str] = keys) -> None:
            for k in keys:
                assert plain_file_hash(fs.root / k) == sums[k]

        def khoso(keys: list[str] = keys) -> None:
            for k in keys:
                assert fs.verify(k, sums[k]).ok

        t_plain, t_khoso = best(plain, repeat), best(khoso, repeat)
        row(f"{group[:-1]}: plain read+sha256 (1 MiB readinto)", nbytes, t_plain)
        row(f"{group[:-1]}: FilesystemStorage.verify", nbytes, t_khoso)


def bench_s3(objects: dict[str, bytes], sums: dict[str, str], endpoint: str, repeat: int) -> None:
    import boto3
    from botocore.config import Config

    from storage.s3 import S3Storage

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    bucket = f"khoso-bench-{uuid.uuid4().hex[:12]}"
    s3 = S3Storage(bucket, endpoint_url=endpoint, region="us-east-1")
    raw = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                       config=Config(response_checksum_validation="when_required"))
    raw.create_bucket(Bucket=bucket)
    began = time.perf_counter()
    for key, data in objects.items():
        s3.put(key, io.BytesIO(data), expected_sha256=sums[key])
    total = sum(map(len, objects.values()))
    print(f"s3 ({endpoint}, bucket {bucket}):")
    row("S3Storage.put (checksums + read-back)", total, time.perf_counter() - began)
    for group in ("small/", "large/"):
        keys = [k for k in objects if k.startswith(group)]
        nbytes = sum(len(objects[k]) for k in keys)

        def plain(keys: list[str] = keys) -> None:
            for k in keys:
                digest = hashlib.sha256()
                for chunk in raw.get_object(Bucket=bucket, Key=k)["Body"].iter_chunks(MiB):
                    digest.update(chunk)
                assert digest.hexdigest() == sums[k]

        def khoso(keys: list[str] = keys) -> None:
            for k in keys:
                assert s3.verify(k, sums[k]).ok

        t_plain, t_khoso = best(plain, repeat), best(khoso, repeat)
        row(f"{group[:-1]}: raw boto3 GET + sha256", nbytes, t_plain)
        row(f"{group[:-1]}: S3Storage.verify", nbytes, t_khoso)
    for key in objects:
        s3.delete(key)
    raw.delete_bucket(Bucket=bucket)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-count", type=int, default=200)
    parser.add_argument("--small-mib", type=int, default=1)
    parser.add_argument("--large-mib", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="parent of the temporary folder")
    parser.add_argument("--s3-endpoint", default=None, help="e.g. http://127.0.0.1:5077 (moto_server)")
    args = parser.parse_args(argv)
    objects = make_data(args)
    sums = {k: hashlib.sha256(v).hexdigest() for k, v in objects.items()}
    print(f"data: {args.small_count} x {args.small_mib} MiB + 1 x {args.large_mib} MiB, "
          f"best of {args.repeat}, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="khoso-bench-") as tmp:
        bench_filesystem(objects, sums, Path(tmp), args.repeat)
    if args.s3_endpoint:
        bench_s3(objects, sums, args.s3_endpoint, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
