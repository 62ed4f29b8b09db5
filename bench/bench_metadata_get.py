"""Metadata GETs under concurrent clients: requests/s and latency percentiles of
``GET /api/v1/records/…``, ``/documents/…`` and ``/fonds`` against ``khoso serve`` (waitress, 8
threads, SQLite catalog) on loopback.

``--clients`` threads (default 50), each with its own keep-alive ``http.client`` connection,
request a random hồ sơ, document or the fonds list for ``--seconds`` (default 20) as a reader
(every record or document a reader opens is a VIEW in the access register: a write), then
``--staff-seconds`` as an archivist (reads only). The catalog holds ``--records`` hồ sơ of
``--docs`` documents each, placed directly (``bench_download.place_record``). ``wrk`` is not
installed on the development machines; the clients are Python threads in one process, which
share the machine's cores with the server: the figures are a floor.

    .venv/bin/python bench/bench_metadata_get.py [--clients 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import http.client
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_download import instance, place_record  # noqa: E402


def run(inst, urls: list[str], role: str, clients: int, seconds: float) -> tuple[int, list[float], dict[int, int]]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {inst.token[role]}"}

    def client(seed: int) -> None:
        rnd = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", inst.port, timeout=60)
        mine: list[float] = []
        codes: dict[int, int] = {}
        while time.monotonic() < stop:
            url = rnd.choice(urls)
            began = time.perf_counter()
            try:
                conn.request("GET", url, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", inst.port, timeout=60)
                status = 0
            mine.append(time.perf_counter() - began)
            codes[status] = codes.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for k, v in codes.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies), latencies, statuses


def report(name: str, count: int, latencies: list[float], statuses: dict[int, int],
           seconds: float) -> None:
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else [0.0] * 99
    print(f"{name:<28} {count / seconds:8.1f} req/s   p50 {q[49]:7.1f} ms   p95 {q[94]:7.1f} ms"
          f"   p99 {q[98]:7.1f} ms   statuses {dict(sorted(statuses.items()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--staff-seconds", type=float, default=10)
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--docs", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="khoso-bench-meta-"))
    inst = instance(tmp)
    try:
        urls = ["/api/v1/fonds", "/api/v1/fonds/P1"]
        for n in range(1, args.records + 1):
            code, docs = place_record(inst, n, {f"tai-lieu-{n}.pdf": b"%PDF-1.4\n%%EOF\n"},
                                      documents=args.docs)
            urls.append(f"/api/v1/records/{code}")
            urls += [f"/api/v1/documents/{d}" for d in docs[:2]]
        inst.start()
        print(f"{args.clients} clients, keep-alive, {args.records} hồ sơ × {args.docs} documents, "
              f"SQLite catalog, khoso serve (waitress, 8 threads) on loopback")
        count, lat, codes = run(inst, urls, "reader", args.clients, args.seconds)
        report("reader (VIEW registered)", count, lat, codes, args.seconds)
        if args.staff_seconds:
            count, lat, codes = run(inst, urls, "archivist", args.clients, args.staff_seconds)
            report("archivist (read only)", count, lat, codes, args.staff_seconds)
    finally:
        inst.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
