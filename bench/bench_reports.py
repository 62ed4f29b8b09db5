"""The mục lục hồ sơ of a fonds of N hồ sơ (default 100,000) as XLSX, PDF, CSV and JSON through
``khoso``'s report service, against a plain ``csv.writer`` over the same SELECT (the baseline:
what streaming the rows costs with nothing drawn).

    .venv/bin/python bench/bench_reports.py                  # 100,000 hồ sơ (the issue's figure)
    .venv/bin/python bench/bench_reports.py --records 20000  # shorter

The catalog is a SQLite file in a temporary folder, filled once. Each variant runs in a child
process of its own (the same imports for all), so its peak RSS is its own; the time is the
child's wall time around the render, the file's size is printed too. Goal: streaming, peak
RSS under 500 MB for XLSX and PDF, flat in N (run with two sizes to see it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FOND = "P623"
VARIANTS = ("baseline-csv", "csv", "json", "xlsx", "pdf")


def environment(data: Path) -> dict[str, str]:
    return {"KHOSO_DATA_DIR": str(data), "KHOSO_ARCHIVE_CODE": "TTLTNA",
            "KHOSO_ARCHIVE_NAME": "Trung tâm Lưu trữ lịch sử tỉnh Nghệ An",
            "KHOSO_STORAGE_LOCATIONS": f"replica1=file://{data / 'r1'}"}


def fill(data: Path, records: int) -> None:
    import sqlalchemy as sa

    from preservation.catalog import registry
    from preservation.catalog.db import Catalog
    from preservation.catalog.models import RecordFile
    from preservation.settings import load_settings

    (data / "r1").mkdir(parents=True)
    settings = load_settings(environment(data))
    catalog = Catalog(settings.database_url)
    catalog.upgrade()
    with catalog.session() as s:
        body = registry.ensure_archive_body(s, "TTLTNA", "Trung tâm Lưu trữ tỉnh", "lich_su")
        fonds = registry.add_fonds(s, body, registry.FondsInput(FOND, "Phông UBND huyện Nghi Lộc"))
        fonds_id = fonds.id
    rows = [{"fonds_id": fonds_id, "file_code": f"H49.64.33.{2000 + i % 25}.{i:06d}",
             "arc_file_code": f"TTLTNA.H49.64.33.{2000 + i % 25}.{i:06d}",
             "title": f"Hồ sơ về việc cấp giấy chứng nhận quyền sử dụng đất cho hộ gia đình ở xã "
                      f"Nghi Thuận, huyện Nghi Lộc, tỉnh Nghệ An năm {2000 + i % 25} (số {i})",
             "maintenance": "01" if i % 3 else "04", "mode": "01", "languages": ["01"],
             "start_date": f"{2000 + i % 25}-01-15", "end_date": f"{2000 + i % 25}-12-20",
             "total_doc": 1 + i % 40, "number_of_paper": 3 + i % 90, "number_of_page": 0,
             "state": "active", "paper_file_code": f"H{i // 20:05d}"} for i in range(records)]
    with catalog.engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(sa.insert(RecordFile), rows[start:start + 10_000])
    catalog.dispose()


def child(data: Path, variant: str, out: Path) -> None:
    """One render in this process; prints its figures as JSON."""
    import csv
    import resource

    import sqlalchemy as sa

    from access_api.services.base import Identity, ServiceContext
    from access_api.services.reports import service
    from preservation.catalog.models import Fonds, RecordFile
    from preservation.settings import load_settings

    ctx = ServiceContext(load_settings(environment(data)))
    ctx.catalog.engine.connect().close()
    start = time.perf_counter()
    if variant == "baseline-csv":
        query = (sa.select(RecordFile.file_code, RecordFile.arc_file_code, RecordFile.title,
                           RecordFile.start_date, RecordFile.end_date, RecordFile.maintenance,
                           RecordFile.number_of_paper, RecordFile.total_doc,
                           RecordFile.paper_file_code, RecordFile.description)
                 .join(Fonds).where(Fonds.fond_code == FOND)
                 .order_by(RecordFile.file_code, RecordFile.id))
        rows = 0
        with ctx.catalog.session() as s, out.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            for i, row in enumerate(s.execute(query.execution_options(yield_per=1000)), 1):
                writer.writerow([i, *row])
                rows = i
    else:
        rows = service.write_file(ctx, Identity.system("bench"), "muc_luc_ho_so", variant, out,
                                  fonds=FOND).rows
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"variant": variant, "rows": rows, "seconds": seconds, "peak": peak,
                      "bytes": out.stat().st_size}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--only", default=",".join(VARIANTS))
    parser.add_argument("--child", nargs=3, metavar=("DATA", "VARIANT", "OUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1], Path(args.child[2]))
        return
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        data = Path(tmp) / "data"
        began = time.perf_counter()
        fill(data, args.records)
        print(f"catalog: {args.records:,} hồ sơ in {time.perf_counter() - began:.1f} s")
        print(f"{'variant':<14}{'rows':>9}{'seconds':>10}{'rows/s':>10}{'peak RSS MB':>13}"
              f"{'file MB':>9}{'× baseline time':>17}")
        base = None
        for variant in args.only.split(","):
            out = Path(tmp) / f"out.{variant}"
            done = subprocess.run([sys.executable, __file__, "--child", str(data), variant,
                                   str(out)], capture_output=True, text=True,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
            if done.returncode:
                print(variant, "failed:", done.stderr[-2000:])
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            base = base or (r["seconds"] if variant == "baseline-csv" else None)
            ratio = f"{r['seconds'] / base:.1f}" if base else "-"
            print(f"{variant:<14}{r['rows']:>9,}{r['seconds']:>10.1f}"
                  f"{r['rows'] / r['seconds']:>10,.0f}{r['peak'] / 1e6:>13.0f}"
                  f"{r['bytes'] / 1e6:>9.1f}{ratio:>17}")


if __name__ == "__main__":
    main()
