"""The digitisation queue (#16) over N paper hồ sơ (default 100,000) on SQLite or PostgreSQL
(``--db URL``): time of the first page of the queue (the explainable score computed in SQL
over every hồ sơ, its loans and the access register, sorted) and of the progress per fonds,
against the plainest baseline in the same process: the first page of the paper hồ sơ by code
(``SELECT … ORDER BY code LIMIT 50``), which computes nothing.

    .venv/bin/python bench/bench_digitisation_queue.py [--files 100000] [--db URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from access_api.services import digitisation_queue
from access_api.services.base import Identity, ServiceContext
from preservation.catalog import registry
from preservation.catalog.db import Catalog
from preservation.catalog.models import (
    Fonds,
    PaperBox,
    PaperFile,
    PaperLoan,
    PaperRepository,
    PaperShelf,
    utcnow,
)
from preservation.catalog.vocab import PaperCondition
from preservation.settings import load_settings


def fill(catalog: Catalog, files: int) -> None:
    rng = random.Random(14)
    with catalog.session() as s:
        body = registry.ensure_archive_body(s, "TTLTNA", "Trung tâm Lưu trữ", "lich_su")
        fonds = [registry.add_fonds(s, body, registry.FondsInput(f"P{n}", f"Phông {n}"))
                 for n in range(1, 11)]
        repo = PaperRepository(code="K1", name="Kho 1", area_m2=500)
        s.add(repo)
        s.flush()
        shelf = PaperShelf(repository_id=repo.id, code="G1")
        s.add(shelf)
        s.flush()
        box = PaperBox(shelf_id=shelf.id, code="H1", capacity=files + 1)
        s.add(box)
        s.flush()
        fonds_ids = [f.id for f in s.scalars(sa.select(Fonds))]
        conditions = [c.value for c in PaperCondition]
        now = utcnow()
        rows = [{"code": f"TTLTNA.K1-G1-H1.{n}", "box_id": box.id,
                 "fonds_id": fonds_ids[n % len(fonds_ids)], "title": f"Hồ sơ {n}",
                 "maintenance": rng.choice(("01", "05")), "page_count": rng.randint(1, 300),
                 "condition": rng.choice(conditions), "registered_by": "bench",
                 "priority_override": 0, "created_at": now, "updated_at": now}
                for n in range(files)]
        for i in range(0, files, 10_000):
            s.execute(sa.insert(PaperFile), rows[i:i + 10_000])
        ids = s.scalars(sa.select(PaperFile.id)).all()
        loans = [{"paper_file_id": pid, "borrower": "B", "purpose": "P", "out_by": "bench",
                  "out_at": now, "due_on": now.date(), "returned_at": now}
                 for pid in rng.sample(ids, min(len(ids), files // 5))]
        s.execute(sa.insert(PaperLoan), loans)
        del fonds


def timed(work, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'catalog.sqlite'}"
        settings = load_settings({"KHOSO_DATA_DIR": tmp, "KHOSO_DATABASE_URL": url})
        catalog = Catalog(url)
        catalog.upgrade()
        start = time.perf_counter()
        fill(catalog, args.files)
        print(f"{args.files} paper hồ sơ, {args.files // 5} loans inserted in "
              f"{time.perf_counter() - start:.1f} s ({catalog.engine.dialect.name})")
        ctx = ServiceContext(settings, catalog)
        who = Identity.system("bench")

        def baseline() -> None:
            with catalog.reading() as s:
                s.execute(sa.select(PaperFile).order_by(PaperFile.code).limit(50)).all()

        def first_page() -> None:
            digitisation_queue.queue(ctx, who, size=50)

        def progress() -> None:
            digitisation_queue.progress(ctx, who)

        base = timed(baseline)
        page = timed(first_page)
        prog = timed(progress)
        print(f"baseline: first 50 by code              {base * 1000:8.1f} ms")
        print(f"queue: first 50 by score (with count)   {page * 1000:8.1f} ms "
              f"({page / base:.0f}x baseline)")
        print(f"progress per fonds (10 fonds)           {prog * 1000:8.1f} ms")
        catalog.dispose()


if __name__ == "__main__":
    main()
