"""A paper hồ sơ digitised into an AIP_hoso (``khoso digitise import --wait``: the ``digitise``
step, then the whole ingest into two filesystem replicas, SQLite catalog, the harness's clamd)
against ``make_pdf`` alone on the same pages with the same parallelism, in the same run: what
making an AIP of the PDFs costs on top of making them.

    tests/harness/services.sh start /tmp/svc-bench && set -a && . /tmp/svc-bench/env && set +a
    .venv/bin/python bench/bench_digitise_import.py [--docs 2] [--pages 5] [--jobs N]

Pages are A4 at 200 dpi of rendered Vietnamese administrative text (``tests/support/pages.py``).
The import's time is split into the PDF making its PREMIS events record (per document: page
checks, OCR + PDF/A, verification, signing) and the rest: the sheet and the internal SIP, receive,
virus scan, format identification, signature validation, the AIP builder, both replicas written
and verified, registration with the OCR text and the search index. Wall clock on a shared
machine: run it twice.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_ingest import make_instance  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=2)
    parser.add_argument("--pages", type=int, default=5, help="pages per document")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--clamd", default=os.environ.get("KHOSO_TEST_CLAMD"))
    args = parser.parse_args()
    if not args.clamd:
        sys.exit("needs clamd: --clamd ADDRESS or KHOSO_TEST_CLAMD (tests/harness/services.sh)")

    import sqlalchemy as sa

    from access_api.services import digitisation
    from access_api.services.base import Identity, ServiceContext, UserRole
    from ingest.digitise import make_pdf
    from ingest.digitise.importer import DIGITIZATION, Options
    from preservation.catalog.db import Catalog
    from preservation.catalog.models import PremisEvent
    from preservation.settings import load_settings
    from preservation.signing import load_signer
    from tests.support.digitised import FILE_CODE, rows, write_sheet
    from tests.support.pages import render_page

    with tempfile.TemporaryDirectory(prefix="khoso-bench-digimport-") as tmp:
        folder = Path(tmp)
        env = make_instance(folder, args.clamd)
        env["KHOSO_DIGITISE_JOBS"] = str(args.jobs)
        settings = load_settings(env)
        scans = folder / "quet"
        documents: list[list[Path]] = []
        for d in range(1, args.docs + 1):
            pages = []
            for n in range(1, args.pages + 1):
                path = scans / f"tai-lieu-{d}" / f"{n:03d}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                render_page(path, n)
                pages.append(path)
            documents.append(pages)
        write_sheet(scans / "hoso.csv", rows(FILE_CODE, args.docs))
        total_pages = args.docs * args.pages

        signer = load_signer(Path(settings.keys_dir))
        baseline_out = folder / "baseline"
        baseline_out.mkdir()
        make_pdf(documents[0][:1], baseline_out / "warm.pdf", agency_name=settings.archive_name,
                 signer=signer, jobs=args.jobs)  # imports and fonts, once per process
        started = time.perf_counter()
        for d, pages in enumerate(documents, 1):
            make_pdf(pages, baseline_out / f"{d}.pdf", agency_name=settings.archive_name,
                     signer=signer, jobs=args.jobs)
        baseline = time.perf_counter() - started

        steps: list[tuple[str, float]] = []

        class Steps(logging.Handler):  # the pipeline's one line per step, with its time
            def emit(self, record: logging.LogRecord) -> None:
                found = re.search(r"step (\S+): \S+ in ([\d.]+) s", record.getMessage())
                if found:
                    steps.append((found.group(1), float(found.group(2))))

        pipeline_log = logging.getLogger("ingest.pipeline")
        pipeline_log.setLevel(logging.INFO)
        pipeline_log.addHandler(Steps())
        catalog = Catalog(settings.database_url)
        ctx = ServiceContext(settings, catalog)
        who = Identity("bench", frozenset({UserRole.ARCHIVIST}))
        started = time.perf_counter()
        run = digitisation.run_now(ctx, who, scans, Options(FILE_CODE, "P623",
                                                            operator="bench"))
        imported = time.perf_counter() - started
        if run.outcome is None or not run.outcome.accepted:
            sys.exit(f"import failed: {run.error or run.outcome and run.outcome.to_dict()}")
        with catalog.session() as s:
            made = [e.outcome_data["seconds"]["total"] for e in s.scalars(sa.select(PremisEvent)
                    .where(PremisEvent.event_type == DIGITIZATION)) if e.outcome_data]
        catalog.dispose()

    pdfs = sum(made)
    rest = imported - pdfs
    print(f"{args.docs} documents x {args.pages} pages, A4 200 dpi PNG, {args.jobs} OCR "
          f"processes, SQLite catalog, 2 filesystem replicas")
    print(f"  make_pdf alone (baseline)      {baseline:7.2f} s  "
          f"{total_pages * 60 / baseline:6.1f} pages/min")
    print(f"  digitise import into an AIP    {imported:7.2f} s  "
          f"{total_pages * 60 / imported:6.1f} pages/min  ({imported / baseline:.2f} x)")
    print(f"    PDF making (PREMIS timings)  {pdfs:7.2f} s  {100 * pdfs / imported:5.1f} %")
    print(f"    sheet, SIP, ingest, storage  {rest:7.2f} s  {100 * rest / imported:5.1f} %")
    for name, seconds in steps:
        print(f"      step {name:<22}{seconds:7.1f} s")
    print(f"      registration (the rest)   {imported - sum(t for _, t in steps):7.1f} s")


if __name__ == "__main__":
    main()
