"""Full-text search over N documents (requirement: 1,000,000; index build ≤ 10 min, p95 of
one- to three-word queries with facets < 50 ms), on SQLite FTS5 and PostgreSQL full text.

Realistic Vietnamese metadata is generated straight into the catalog tables (fonds, agencies,
hồ sơ with their AIP package rows, tài liệu: văn bản with subject, type, number/notation, organ
and signer, and some photos), ``DOCS_PER_RECORD`` documents per hồ sơ, modes 01/02/03 at
70/25/5 %. Then, timed:

1. the index build: ``preservation.search.reindex`` (what ``khoso search reindex`` runs);
2. ``--queries`` one- to three-word queries (place names, actions, organs, types, people,
   written with and without diacritics) through ``preservation.search.search`` with facets, as a
   reader sees them (mode 03 filtered out in the query), page 1 of 20 hits with snippets;
3. the baseline in the same run: the plain scan ``LIKE '%word%'`` on the folded columns with
   the same visibility filter, counting, for a few queries.

Latency is also split by how many entries a query matches: counting facets over a very common
word is the expensive case.

    .venv/bin/python bench/bench_search.py --docs 1000000 [--db URL] [--queries 200]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from preservation import search  # noqa: E402
from preservation.catalog.db import Catalog  # noqa: E402
from preservation.search import Scope, SearchQuery  # noqa: E402
from preservation.search.fold import fold  # noqa: E402

DOCS_PER_RECORD = 20
PROVINCES = ["Nghệ An", "Hà Tĩnh", "Thanh Hóa", "Quảng Bình", "Quảng Trị", "Thừa Thiên Huế",
             "Đà Nẵng", "Quảng Nam", "Quảng Ngãi", "Bình Định", "Phú Yên", "Khánh Hòa",
             "Đắk Lắk", "Gia Lai", "Kon Tum", "Lâm Đồng", "Đồng Nai", "Bình Dương", "Long An",
             "Tiền Giang", "Bến Tre", "Cần Thơ", "An Giang", "Kiên Giang", "Cà Mau", "Hà Nội",
             "Hải Phòng", "Bắc Ninh", "Thái Bình", "Nam Định", "Ninh Bình", "Hà Nam",
             "Lào Cai", "Yên Bái", "Sơn La", "Điện Biên", "Lạng Sơn", "Cao Bằng", "Hà Giang",
             "Tuyên Quang"]
SYLLABLES = ["An", "Bình", "Phú", "Lộc", "Hưng", "Thịnh", "Phong", "Nghi", "Nam", "Đông",
             "Tây", "Bắc", "Xuân", "Thủy", "Sơn", "Hòa", "Thạch", "Đức", "Quỳnh", "Diễn",
             "Yên", "Thanh", "Tân", "Trung", "Hải", "Kim", "Minh", "Long", "Vĩnh", "Quang",
             "Mỹ", "Hồng", "Cẩm", "Kỳ", "Hương", "Đại", "Lâm", "Châu", "Tiến", "Thắng"]
ACTIONS = ["phê duyệt quy hoạch", "thành lập", "giải quyết khiếu nại", "cấp giấy chứng nhận "
           "quyền sử dụng đất cho", "tổ chức đại hội", "xây dựng", "sáp nhập", "bổ nhiệm cán bộ",
           "khen thưởng", "kiểm tra, thanh tra", "đầu tư xây dựng công trình",
           "phòng chống thiên tai tại", "điều chỉnh địa giới hành chính", "giải phóng mặt bằng",
           "bồi thường, hỗ trợ tái định cư", "tuyển dụng viên chức", "kỷ luật đảng viên",
           "nâng lương", "cải cách thủ tục hành chính", "phổ cập giáo dục"]
OBJECTS = ["trường tiểu học", "trạm y tế", "đường giao thông nông thôn", "khu dân cư", "chợ",
           "cầu", "nhà văn hóa", "hợp tác xã nông nghiệp", "Sở Nội vụ", "Ban chỉ huy quân sự",
           "hồ chứa nước", "đê biển", "khu công nghiệp", "bệnh viện đa khoa", "trường trung học "
           "cơ sở", "đội dân phòng", "chi bộ", "Hội Nông dân", "Đoàn Thanh niên", "Hội Phụ nữ"]
TYPES = [("01", "Nghị quyết", "NQ"), ("02", "Quyết định", "QĐ"), ("03", "Chỉ thị", "CT"),
         ("07", "Thông báo", "TB"), ("08", "Hướng dẫn", "HD"), ("09", "Chương trình", "CTr"),
         ("10", "Kế hoạch", "KH"), ("12", "Báo cáo", "BC"), ("13", "Biên bản", "BB"),
         ("14", "Tờ trình", "TTr"), ("19", "Công văn", "CV"), ("22", "Giấy mời", "GM")]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ",
          "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Đình", "Hữu", "Minh", "Quang", "Xuân", "Thanh", "Đức", "Ngọc"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Đạt", "Hà", "Hải", "Hùng", "Lan", "Long", "Mai",
         "Nam", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vinh", "Yến"]


class Generator:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.districts = [" ".join(self.r.sample(SYLLABLES, 2)) for _ in range(300)]
        self.communes = [" ".join(self.r.sample(SYLLABLES, 2)) for _ in range(3000)]

    def place(self) -> tuple[str, str, str]:
        return (self.r.choice(self.communes), self.r.choice(self.districts),
                self.r.choice(PROVINCES))

    def person(self) -> str:
        return f"{self.r.choice(FAMILY)} {self.r.choice(MIDDLE)} {self.r.choice(GIVEN)}"

    def organ(self, commune: str, district: str, province: str) -> str:
        return self.r.choice([f"UBND tỉnh {province}", f"UBND huyện {district}",
                              f"UBND xã {commune}", f"Đảng ủy xã {commune}",
                              f"Huyện ủy {district}", f"Sở Tài nguyên và Môi trường tỉnh {province}",
                              f"Sở Nội vụ tỉnh {province}", f"Tỉnh ủy {province}"])

    def mode(self) -> str:
        x = self.r.random()
        return "01" if x < 0.70 else "02" if x < 0.95 else "03"


def populate(catalog: Catalog, docs: int, seed: int) -> dict[str, Any]:
    """Fonds, agencies, hồ sơ, AIP packages and documents straight into the tables."""
    from preservation.catalog.models import (
        Agency,
        ArchiveBody,
        Document,
        Fonds,
        Package,
        RecordFile,
    )

    g = Generator(seed)
    r = g.r
    records = max(1, docs // DOCS_PER_RECORD)
    started = time.perf_counter()
    with catalog.session() as s:
        body = ArchiveBody(code="TTLTNA", name="Trung tâm Lưu trữ lịch sử tỉnh", kind="lich_su")
        s.add(body)
        s.flush()
        agencies, fonds = [], []
        for i in range(40):
            province = PROVINCES[i]
            agencies.append(Agency(organ_id=f"H49.64.{i:02d}", name=f"UBND tỉnh {province}"))
            fonds.append(Fonds(archive_body_id=body.id, fond_code=f"P{600 + i}",
                               fond_name=f"Phông UBND tỉnh {province}"))
        s.add_all(agencies + fonds)
        s.flush()
        fonds_ids = [(f.id, f.fond_code, a.id) for f, a in zip(fonds, agencies, strict=True)]
        rf_rows, pkg_rows, doc_rows = [], [], []
        doc_id = 0
        flush_at = 50_000

        def flush() -> None:
            if rf_rows:
                s.execute(sa.insert(RecordFile.__table__), rf_rows)
                s.execute(sa.insert(Package.__table__), pkg_rows)
            if doc_rows:  # one executemany needs the same keys in every row
                keys = {k for row in doc_rows for k in row}
                s.execute(sa.insert(Document.__table__),
                          [{k: row.get(k) for k in keys} for row in doc_rows])
            rf_rows.clear()
            pkg_rows.clear()
            doc_rows.clear()

        for i in range(1, records + 1):
            fid, code, agency_id = r.choice(fonds_ids)
            year = r.randint(1975, 2025)
            commune, district, province = g.place()
            action, obj = r.choice(ACTIONS), r.choice(OBJECTS)
            title = f"Hồ sơ về việc {action} {obj} xã {commune}, huyện {district}, tỉnh {province} năm {year}"
            mode = g.mode()
            file_code = f"{code}.{year}.{i:06d}"
            rf_rows.append({"id": i, "fonds_id": fid, "file_code": file_code,
                            "arc_file_code": f"TTLTNA.{file_code}", "title": title,
                            "maintenance": r.choice(["01", "02", "03"]), "mode": mode,
                            "languages": ["01"], "start_date": f"{year}-01-{r.randint(1, 28):02d}",
                            "end_date": f"{year}-12-28", "total_doc": DOCS_PER_RECORD,
                            "number_of_page": r.randint(5, 300), "keyword": obj,
                            "description": f"Tài liệu về {action} {obj}, gồm tờ trình, quyết định"
                                           f" và biên bản của {g.organ(commune, district, province)}",
                            "state": "active", "risk_recovery": False})
            pkg_rows.append({"id": i, "objid": f"urn:bench:{i}", "kind": "AIP",
                             "content_type": "hoso", "version": 1, "status": "active",
                             "record_file_id": i, "fonds_id": fid, "agency_id": agency_id,
                             "label": title[:1000], "total_size": 0, "file_count": 0,
                             "critical": False})
            for n in range(1, DOCS_PER_RECORD + 1):
                doc_id += 1
                if doc_id > docs:
                    break
                row: dict[str, Any] = {
                    "id": doc_id, "record_file_id": i, "package_id": i, "doc_ordinal": n,
                    "doc_code": f"TTLTNA.{file_code}.{n:07d}", "maintenance": "01",
                    "mode": None if r.random() < 0.8 else g.mode(), "languages": ["01"]}
                if r.random() < 0.9:
                    type_code, type_name, abbr = r.choice(TYPES)
                    organ = g.organ(commune, district, province)
                    row.update({"kind": "van_ban", "type_name": type_code,
                                "code_number": str(r.randint(1, 2000)),
                                "code_notation": f"{abbr}-{''.join(w[0] for w in organ.split()[:3]).upper()}",
                                "issued_date": f"{year}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                                "organ_name": organ,
                                "subject": f"{type_name} về việc {r.choice(ACTIONS)} {r.choice(OBJECTS)}"
                                           f" xã {commune}",
                                "autograph": g.person(), "number_of_page": r.randint(1, 40)})
                else:
                    c2, d2, p2 = g.place()
                    row.update({"kind": "pic", "type_pic": "01",
                                "image_title": f"Ảnh lễ {r.choice(ACTIONS)} {r.choice(OBJECTS)} "
                                               f"xã {c2}, huyện {d2}",
                                "photographer": g.person(), "photo_place": f"tỉnh {p2}",
                                "photo_time": str(year)})
                doc_rows.append(row)
            if len(doc_rows) >= flush_at:
                flush()
        flush()
    return {"records": records, "documents": min(docs, doc_id),
            "seconds": round(time.perf_counter() - started, 1)}


def queries(n: int, seed: int) -> list[str]:
    """One- to three-word queries as readers type them, half without diacritics."""
    g = Generator(seed + 1)
    r = g.r
    pool = (PROVINCES + g.districts[:50] + g.communes[:100] + [t[1] for t in TYPES]
            + [a.split(",")[0] for a in ACTIONS] + OBJECTS + FAMILY + GIVEN
            + ["Đảng ủy", "UBND", "hồ sơ", "quyết định", "tờ trình", "biên bản", "đất", "ảnh"])
    out = []
    for _ in range(n):
        words = r.choice(pool).split()
        k = r.randint(1, 3)
        start = r.randint(0, max(0, len(words) - k))
        q = " ".join(words[start:start + k])
        if len(q.split()) < k:
            q += " " + r.choice(pool).split()[0]
        out.append(fold(q) if r.random() < 0.5 else q)
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run_queries(catalog: Catalog, qs: list[str]) -> dict[str, Any]:
    scope = Scope(frozenset({"01", "02"}))
    times, cpu, buckets = [], [], {"<1k": [], "1k-100k": [], ">=100k": []}
    slowest: list[tuple[float, str, int]] = []
    estimated: list[tuple[str, int]] = []
    both: list[float] = []
    with catalog.session() as s:
        search.search(s, SearchQuery(q="quyết định", scope=scope))  # warm the cache
        server = server_cpu(s)
        for q in qs:
            t0, c0, n0 = time.perf_counter(), time.process_time(), server()
            result = search.search(s, SearchQuery(q=q, scope=scope, size=20))
            ms = (time.perf_counter() - t0) * 1000
            cpu.append((time.process_time() - c0) * 1000)
            if n0 is not None:
                both.append(cpu[-1] + (server() or 0) - n0)
            if not result.exact:
                estimated.append((q, result.total))
            times.append(ms)
            key = "<1k" if result.total < 1000 else "1k-100k" if result.total < 100_000 \
                else ">=100k"
            buckets[key].append(ms)
            slowest.append((ms, q, result.total))
    slowest.sort(reverse=True)
    return {"queries": len(qs), "p50_ms": round(percentile(times, 50), 1),
            "p95_ms": round(percentile(times, 95), 1), "max_ms": round(max(times), 1),
            # the search's own CPU time: its latency on an idle machine (SQLite runs in
            # this process), whatever else loads the two cores
            "cpu_p50_ms": round(percentile(cpu, 50), 1),
            "cpu_p95_ms": round(percentile(cpu, 95), 1),
            # PostgreSQL on this machine: with its backend's CPU time too
            **({"cpu_with_server_p50_ms": round(percentile(both, 50), 1),
                "cpu_with_server_p95_ms": round(percentile(both, 95), 1)} if both else {}),
            "estimated": len(estimated),
            "estimate_error": estimate_errors(catalog, estimated[:20]),
            "by_total": {k: {"n": len(v), "p50_ms": round(percentile(v, 50), 1),
                             "p95_ms": round(percentile(v, 95), 1)} for k, v in buckets.items()
                         if v},
            "slowest": [{"q": q, "ms": round(ms, 1), "total": t} for ms, q, t in slowest[:5]]}


def server_cpu(s: Any) -> Any:
    """A function giving the CPU milliseconds the PostgreSQL backend of ``s`` has used, read
    from ``/proc`` when the server runs on this machine (else None): with the client's, what
    a query costs whatever else loads the cores."""
    if s.get_bind().dialect.name != "postgresql":
        return lambda: None
    path = Path(f"/proc/{s.scalar(sa.text('SELECT pg_backend_pid()'))}/schedstat")
    try:
        path.read_text()
    except OSError:
        return lambda: None
    return lambda: int(path.read_text().split()[0]) / 1e6


def estimate_errors(catalog: Catalog, estimated: list[tuple[str, int]]) -> dict[str, Any]:
    """How far the estimated totals (queries past ``EXACT_LIMIT``) are from the exact counts."""
    errors = []
    with catalog.session() as s:
        for q, total in estimated:
            select, _ = search.query._base(s, SearchQuery(q=q, scope=Scope(frozenset(
                {"01", "02"}))), search.query.query_words(q), [sa.func.count()])
            exact = s.scalar(select) or 0
            errors.append(abs(total - exact) / max(exact, 1) * 100)
    if not errors:
        return {}
    return {"queries": len(errors), "p50_pct": round(percentile(errors, 50), 1),
            "max_pct": round(max(errors), 1)}


def baseline(catalog: Catalog, qs: list[str]) -> dict[str, Any]:
    """``LIKE '%word%'`` on the folded columns, every word, with the reader's mode filter:
    counting only (no ranking, no facets, no snippets): the cheapest honest scan."""
    out = []
    with catalog.session() as s:
        for q in qs:
            words = fold(q).split()
            where = " AND ".join(f"(title_f LIKE :w{i} OR body_f LIKE :w{i})"
                                 for i in range(len(words)))
            params = {f"w{i}": f"%{w}%" for i, w in enumerate(words)}
            t0 = time.perf_counter()
            n = s.execute(sa.text(f"SELECT count(*) FROM search_entry WHERE mode IN ('01','02') "
                                  f"AND {where}"), params).scalar()
            out.append({"q": q, "ms": round((time.perf_counter() - t0) * 1000, 1), "total": n})
    return {"queries": out, "p50_ms": round(percentile([o["ms"] for o in out], 50), 1)}


def build(catalog: Catalog, args: argparse.Namespace, report: dict[str, Any]) -> None:
    report["populate"] = populate(catalog, args.docs, args.seed)
    print(json.dumps(report, ensure_ascii=False), flush=True)
    with catalog.session() as s:
        t0 = time.perf_counter()
        built = search.reindex(s)
    report["index_build"] = {"records": built.records, "documents": built.documents,
                             "seconds_reindex": built.seconds,
                             "seconds_with_commit": round(time.perf_counter() - t0, 1),
                             "backend": built.backend}
    if catalog.engine.dialect.name == "postgresql":
        with catalog.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("VACUUM ANALYZE search_entry"))
    else:
        with catalog.engine.connect() as c:
            c.execute(sa.text("ANALYZE"))
            c.commit()
    print(json.dumps(report["index_build"]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--db", help="catalog URL (default: a new SQLite file in --tmp)")
    parser.add_argument("--tmp", default=None)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--queries-only", action="store_true",
                        help="search the catalog --db as it is (built by an earlier run)")
    args = parser.parse_args()
    tmp = Path(args.tmp or tempfile.mkdtemp(prefix="khoso-bench-search-"))
    url = args.db or f"sqlite:///{tmp / 'catalog.sqlite'}"
    catalog = Catalog(url)
    catalog.upgrade()
    report: dict[str, Any] = {"db": catalog.engine.dialect.name, "docs": args.docs}
    if not args.queries_only:
        build(catalog, args, report)
    qs = queries(args.queries, args.seed)
    report["search"] = run_queries(catalog, qs)
    print(json.dumps(report["search"], ensure_ascii=False), flush=True)
    few = qs[:5]
    report["baseline_like"] = baseline(catalog, few)
    with catalog.session() as s:
        scope = Scope(frozenset({"01", "02"}))
        same = []
        for q in few:
            t0 = time.perf_counter()
            total = search.search(s, SearchQuery(q=q, scope=scope, size=20)).total
            same.append({"q": q, "ms": round((time.perf_counter() - t0) * 1000, 1),
                         "total": total})
    report["search_same_queries"] = same
    print(json.dumps(report, ensure_ascii=False, indent=1))
    catalog.dispose()


if __name__ == "__main__":
    main()
