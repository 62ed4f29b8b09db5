"""How much does exporting a hồ sơ as a transfer SIP cost against the least any export must do?

One hồ sơ is ingested for real (``bench_ingest``'s instance: SQLite catalog, two filesystem
replicas, the harness's clamd), then exported with ``transfer_export.export_sip`` (each content
file read from a replica and hashed against the catalog, the SIP_hoso bag built with its METS,
EADs and manifests, the bag zipped), ``--repeat`` times, best kept. The baseline, in the same
run on the same stored bytes: read each replica file with 1 MiB reads + SHA-256 and write it
into a ZIP (stored, not deflated) — one verified read and one write per byte.

Scenarios: ``big`` (one ``--mib`` MiB PDF) and ``many`` (``--files`` small PDFs, one document
each). Prints seconds, MB/s and the ratio to the baseline.

    set -a && . /tmp/svc-bench/env && set +a
    .venv/bin/python bench/bench_transfer.py [--mib 256] [--files 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

MiB = 1 << 20
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_ingest import make_big, make_instance, make_small  # noqa: E402


def ingest(env: dict[str, str], bag: Path) -> None:
    from access_api.services import build_services
    from ingest.jobs import create_job, run_job
    from preservation.catalog.db import Catalog
    from preservation.settings import load_settings

    settings = load_settings(env)
    catalog = Catalog(settings.database_url)
    outcome = run_job(settings, catalog, create_job(catalog, bag, "bench"),
                      services=build_services(settings))
    catalog.dispose()
    if not outcome.accepted:
        raise SystemExit(f"ingest refused: {outcome.report}")


def baseline(files: list[Path], target: Path) -> float:
    began = time.perf_counter()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for path in files:
            digest = hashlib.sha256()
            with path.open("rb") as f, zf.open(path.name, "w", force_zip64=True) as out:
                while chunk := f.read(MiB):
                    digest.update(chunk)
                    out.write(chunk)
    return time.perf_counter() - began


def export(env: dict[str, str], work: Path) -> float:
    import sqlalchemy as sa

    from access_api.services.base import Identity, ServiceContext
    from access_api.services.transfer_export import export_sip
    from preservation.catalog.db import Catalog
    from preservation.catalog.models import RecordFile
    from preservation.settings import load_settings

    settings = load_settings(env)
    ctx = ServiceContext(settings, Catalog(settings.database_url))
    with ctx.catalog.session() as s:
        rf_id = s.scalars(sa.select(RecordFile.id)).one()
    began = time.perf_counter()
    export_sip(ctx, Identity.system("bench"), rf_id, work / "ws", work / "sip.zip")
    took = time.perf_counter() - began
    ctx.catalog.dispose()
    return took


def run(name: str, folder: Path, bag: Path, env: dict[str, str], repeat: int) -> None:
    ingest(env, bag)
    replica = Path(env["KHOSO_STORAGE_LOCATIONS"].split(",")[0].split("file://", 1)[1])
    stored = sorted(p for p in replica.rglob("*") if p.is_file()
                    and "/representations/rep1/data/" in p.as_posix())
    size = sum(p.stat().st_size for p in stored)
    base = min(baseline(stored, folder / "base.zip") for _ in range(repeat))
    took = min(export(env, folder) for _ in range(repeat))
    print(f"{name}: {len(stored)} content files, {size / MiB:.1f} MiB")
    print(f"  baseline read+SHA-256+zip  {base:8.2f} s  {size / MiB / base:8.1f} MiB/s")
    print(f"  export_sip (SIP_hoso zip)  {took:8.2f} s  {size / MiB / took:8.1f} MiB/s"
          f"  ({took / base:.2f} x baseline)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="big,many")
    args = ap.parse_args()
    clamd = os.environ.get("KHOSO_TEST_CLAMD")
    if not clamd:
        raise SystemExit("KHOSO_TEST_CLAMD not set: start tests/harness/services.sh first")
    tmp = Path(tempfile.mkdtemp(prefix="khoso-bench-transfer-"))
    try:
        if "big" in args.only:
            folder = tmp / "big"
            env = make_instance(folder, clamd)
            run("big", folder, make_big(folder / "sip", args.mib, 64), env, args.repeat)
        if "many" in args.only:
            folder = tmp / "many"
            env = make_instance(folder, clamd)
            run("many", folder, make_small(folder / "sip", args.files, 16, one_document=False),
                env, args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
