"""Digitisation throughput: page images → signed two-layer PDF/A (``make_pdf``) and a put of
the result into a filesystem storage location, against ``tesseract`` alone on the same pages
with the same parallelism, in the same run.

    .venv/bin/python bench/bench_digitise.py                  # 10 A4 pages at 200 dpi
    .venv/bin/python bench/bench_digitise.py --pages 20 --jobs 2 --dpi 300

Pages are rendered Vietnamese administrative text (``tests/support/pages.py``, DejaVu Serif
13 pt, about 1,100 characters a page). The baseline runs ``tesseract PAGE - -l vie`` (plain
text, ``OMP_THREAD_LIMIT=1``) on every page, ``--jobs`` processes at a time, as ocrmypdf does
inside ``make_pdf``. khoso's time is split as ``DigitisedPdf.times`` reports it: page checks
(Pillow decodes every page), OCR + PDF/A (img2pdf and ocrmypdf, which runs Tesseract, writes
the hOCR text layer and converts to PDF/A-2b), verification (siegfried + pdftotext, before and
after signing), signing (pyHanko, incremental PAdES), then storage (``FilesystemStorage.put``
hashing while it writes). The figures are wall clock on a shared machine: run it twice.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.digitise import make_pdf  # noqa: E402
from ingest.digitise.stamp_sign import pyhanko_signer  # noqa: E402
from preservation.signing import init_keys  # noqa: E402
from storage.filesystem import FilesystemStorage  # noqa: E402
from tests.support.pages import render_page  # noqa: E402


def tesseract_alone(pages: list[Path], jobs: int) -> float:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def one(page: Path) -> None:
        subprocess.run(["tesseract", str(page), "-", "-l", "vie"], env=env, check=True,
                       capture_output=True)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, pages))
    return time.perf_counter() - started


def per_minute(pages: int, seconds: float) -> str:
    return f"{pages * 60 / seconds:7.1f} pages/min" if seconds > 0 else "      -"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--dpi", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="khoso-bench-digitise-") as tmp:
        folder = Path(tmp)
        pages = []
        for n in range(1, args.pages + 1):
            path = folder / f"page_{n:04}.png"
            render_page(path, n, dpi=args.dpi)
            pages.append(path)
        signer = init_keys(folder / "keys", "Lưu trữ lịch sử tỉnh", "LS")
        storage = FilesystemStorage(folder / "replica", create_root=True)

        warm = time.perf_counter()  # once per process: pyHanko's import
        pyhanko_signer(signer)
        warm = time.perf_counter() - warm

        baseline = tesseract_alone(pages, args.jobs)
        started = time.perf_counter()
        result = make_pdf(pages, folder / "out.pdf", agency_name="Trung tâm Lưu trữ lịch sử tỉnh",
                          signer=signer, jobs=args.jobs, signed_at=dt.datetime.now(dt.UTC))
        put_started = time.perf_counter()
        with result.path.open("rb") as f:
            storage.put("bench/hs-0001.pdf", f, expected_sha256=result.sha256)
        finished = time.perf_counter()

    n = args.pages
    t = result.times
    store = finished - put_started
    total = finished - started
    print(f"{n} pages, A4 {args.dpi} dpi PNG, {args.jobs} OCR processes, "
          f"PDF {result.size / 1e6:.2f} MB, tools {result.tools}")
    print(f"  tesseract alone (baseline)  {baseline:7.2f} s  {per_minute(n, baseline)}")
    print(f"  khoso make_pdf + put        {total:7.2f} s  {per_minute(n, total)}"
          f"  ({total / baseline:.2f} × the baseline's time)")
    print(f"  (before both, once per process: pyHanko's import {warm:.2f} s)")
    for name, seconds in (("page checks", t.check), ("OCR + PDF/A", t.ocr),
                          ("verification", t.verify), ("signing", t.sign),
                          ("storage put", store)):
        print(f"    {name:<24}{seconds:7.2f} s  {100 * seconds / total:5.1f} %")


if __name__ == "__main__":
    main()
