"""The daily appraisal scan (``access_api.services.disposal.appraisal.scan``) over N generated
hồ sơ on a SQLite (or ``--db``) catalog, against the plainest baseline: read every hồ sơ's end
date and retention code and compute its expiry in Python (no duplicate search, nothing written).

Generated: 80 % permanent (01), 10 % expired (06, ended 2001), 10 % current (06, ended 2024); two
content files each, 1 % of hồ sơ holding exactly the files of an earlier one (duplicates). The
first scan lists; the second finds nothing new (idempotent) and shows the steady daily cost.

    .venv/bin/python bench/bench_disposal_scan.py [--records 100000] [--db URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import resource
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from access_api.services.base import Identity, ServiceContext  # noqa: E402
from access_api.services.disposal.appraisal import scan  # noqa: E402
from preservation.catalog import registry  # noqa: E402
from preservation.catalog.db import Catalog  # noqa: E402
from preservation.catalog.models import Bitstream, Document, Package, RecordFile  # noqa: E402
from preservation.metadata.dates import TTDate  # noqa: E402
from preservation.metadata.retention import expiry  # noqa: E402
from preservation.settings import load_settings  # noqa: E402


def populate(catalog: Catalog, n: int) -> None:
    with catalog.session() as s:
        body = registry.ensure_archive_body(s, "TTLTNA", "Trung tâm Lưu trữ", "lich_su")
        fonds = registry.add_fonds(s, body, registry.FondsInput("P1", "Phông thử"))
        fonds_id = fonds.id
    rf_t, pkg_t = RecordFile.__table__, Package.__table__
    doc_t, bit_t = Document.__table__, Bitstream.__table__
    now = dt.datetime.now(dt.UTC)
    chunk = 5000
    with catalog.engine.begin() as conn:
        for start in range(1, n + 1, chunk):
            ids = range(start, min(start + chunk, n + 1))
            records, packages, docs, bits = [], [], [], []
            for i in ids:
                kind = i % 10
                maintenance = "01" if kind < 8 else "06"
                end = "28/12/2001" if kind == 8 else "28/12/2024"
                last = expiry(TTDate.parse(end), maintenance)
                records.append({"id": i, "fonds_id": fonds_id, "file_code": f"H.{i}",
                                "arc_file_code": f"TTLTNA.H.{i}", "title": f"Hồ sơ số {i}",
                                "maintenance": maintenance, "mode": "01", "languages": [],
                                "start_date": "01/01/2001", "end_date": end, "total_doc": 2,
                                "number_of_page": 2, "risk_recovery": False, "state": "active",
                                "retention_expires_on": last, "created_at": now,
                                "updated_at": now})
                packages.append({"id": i, "objid": f"urn:TTLTNA:uuid-{i}", "kind": "AIP",
                                 "content_type": "hoso", "version": 1, "status": "active",
                                 "record_file_id": i, "fonds_id": fonds_id, "total_size": 2,
                                 "file_count": 2, "critical": False, "created_at": now,
                                 "updated_at": now})
                source = i - 50 if i % 100 == 99 else i  # 1 %: a current hồ sơ copying another
                for j in (1, 2):
                    docs.append({"id": 2 * i + j - 2, "record_file_id": i, "package_id": i,
                                 "kind": "van_ban", "doc_code": f"H.{i}.{j}", "languages": [],
                                 "doc_ordinal": j, "created_at": now, "updated_at": now})
                    bits.append({"package_id": i, "document_id": 2 * i + j - 2,
                                 "path": f"data/{j}.pdf", "size": 1, "created_at": now,
                                 "sha256": hashlib.sha256(f"{source}/{j}".encode()).hexdigest()})
            for table, rows in ((rf_t, records), (pkg_t, packages), (doc_t, docs), (bit_t, bits)):
                conn.execute(sa.insert(table), rows)


def baseline(catalog: Catalog, today: dt.date) -> int:
    found = 0
    with catalog.session() as s:
        for end, maintenance, years in s.execute(sa.select(
                RecordFile.end_date, RecordFile.maintenance, RecordFile.retention_years)):
            last = expiry(TTDate.parse(end), maintenance, years)
            found += last is not None and last < today
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/catalog.sqlite"
        settings = load_settings({"KHOSO_DATA_DIR": tmp, "KHOSO_DATABASE_URL": url,
                                  "KHOSO_STORAGE_LOCATIONS": f"r1=file://{tmp}/r1"})
        catalog = Catalog(url)
        catalog.upgrade()
        started = time.perf_counter()
        populate(catalog, args.records)
        print(f"generated {args.records:,} hồ sơ in {time.perf_counter() - started:.1f} s")
        today = dt.date(2026, 12, 7)
        started = time.perf_counter()
        expected = baseline(catalog, today)
        base = time.perf_counter() - started
        print(f"baseline (read + compute expiry): {base:.2f} s, {expected:,} expired")
        ctx = ServiceContext(settings, catalog)
        for run in ("first scan", "second scan"):
            started = time.perf_counter()
            result = scan(ctx, Identity.system("bench"), today=today)
            took = time.perf_counter() - started
            print(f"{run}: {took:.2f} s ({took / base:.1f}× baseline), expired "
                  f"{result.expired:,}, duplicates {result.duplicates:,}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS {peak:.0f} MiB")
        catalog.dispose()


if __name__ == "__main__":
    main()
