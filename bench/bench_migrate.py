"""What does a format migration cost over the conversion itself? ``--aips`` AIPs, each holding one
plain PDF of ``--pages`` text pages (reportlab, PDF 1.3: fmt/17), are ingested into a fresh
instance (SQLite catalog, two filesystem replicas, the harness's clamd); then, on the same PDFs,
the baseline runs Ghostscript alone with khoso's options (``gs`` on the stored original, to a
temp file) and khoso runs ``migration.migrate_aip`` per AIP (read and verify the original,
convert, identify with siegfried, write v2 with METS/PREMIS/signature, replicate to both
locations, register). Prints seconds per AIP and pages per minute for both and the ratio.

    tests/harness/services.sh start /tmp/svc-bench && set -a && . /tmp/svc-bench/env && set +a
    .venv/bin/python bench/bench_migrate.py --aips 10 --pages 20
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def text_pdf(pages: int, seed: int) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    c.setPageCompression(0)
    for p in range(pages):
        for line in range(45):
            c.drawString(60, 800 - line * 16, f"Quyet dinh {seed} trang {p + 1} dong {line + 1}: "
                                              "noi dung van ban hanh chinh de luu tru lau dai.")
        c.showPage()
    c.save()
    return out.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--aips", type=int, default=10)
    ap.add_argument("--pages", type=int, default=20)
    args = ap.parse_args()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    clamd = os.environ.get("KHOSO_TEST_CLAMD")
    if not clamd:
        sys.exit("start the test services first (tests/harness/services.sh), KHOSO_TEST_CLAMD")

    from access_api.services import build_services, migration
    from access_api.services.base import Identity, ServiceContext, UserRole, build_storages
    from ingest.adapters.migrate_pdfa import GS, OPTIONS
    from ingest.jobs import create_job, run_job
    from preservation.catalog import registry
    from preservation.catalog.db import Catalog
    from preservation.settings import load_settings
    from preservation.signing import init_keys
    from tests.support.sips import FOND, ORGAN, make_sip

    with tempfile.TemporaryDirectory(prefix="khoso-bench-migrate-") as tmp:
        root = Path(tmp)
        data = root / "data"
        for r in ("r1", "r2"):
            (data / r).mkdir(parents=True)
        settings = load_settings({
            "KHOSO_DATA_DIR": str(data), "KHOSO_CLAMD": clamd, "KHOSO_ARCHIVE_CODE": "TTLTNA",
            "KHOSO_STORAGE_LOCATIONS": f"replica1=file://{data / 'r1'},"
                                       f"replica2=file://{data / 'r2'}"})
        init_keys(Path(settings.keys_dir), settings.archive_name, settings.archive_code)
        catalog = Catalog(settings.database_url)
        catalog.upgrade()
        with catalog.session() as s:
            body = registry.ensure_archive_body(s, "TTLTNA", "Trung tâm Lưu trữ tỉnh", "lich_su")
            registry.add_agency(s, ORGAN, "UBND huyện Nghi Lộc")
            registry.add_fonds(s, body, registry.FondsInput(FOND, "Phông UBND huyện Nghi Lộc"))
        services = build_services(settings)
        objids = []
        for i in range(args.aips):
            sip = make_sip(root / f"sip{i}", count=1, file_code=f"H49.64.33.2001.{i + 1:03d}",
                           contents={"tai-lieu-1.pdf": text_pdf(args.pages, i)})
            outcome = run_job(settings, catalog, create_job(catalog, sip, "bench"),
                              services=services)
            assert outcome.accepted, outcome.report
            objids.append(outcome.objid)
        originals = sorted((data / "r1").glob("TTLTNA/*/*/v1/data/representations/rep1/data/*.pdf"))
        assert len(originals) == args.aips

        start = time.perf_counter()
        for n, pdf in enumerate(originals):
            subprocess.run([GS, "-q", *OPTIONS, "-o", str(root / f"gs{n}.pdf"), str(pdf)],
                           check=True, capture_output=True)
        baseline = time.perf_counter() - start

        ctx = ServiceContext(settings, catalog, build_storages(settings))
        officer = Identity("bench", frozenset({UserRole.PRESERVATION_OFFICER}))
        start = time.perf_counter()
        for objid in objids:
            result = migration.migrate_aip(ctx, officer, objid, ["fmt/17"])
            assert result.version == 2, result
        khoso = time.perf_counter() - start
        catalog.dispose()

    pages = args.aips * args.pages
    print(f"{args.aips} AIPs × {args.pages} pages (PDF 1.3 → PDF/A-2b)")
    print(f"  gs alone          {baseline / args.aips:6.2f} s/AIP  "
          f"{pages / baseline * 60:8.0f} pages/min")
    print(f"  khoso migrate_aip {khoso / args.aips:6.2f} s/AIP  {pages / khoso * 60:8.0f} pages/min"
          f"  ({khoso / baseline:.2f} × gs alone)")


if __name__ == "__main__":
    main()
