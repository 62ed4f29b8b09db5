"""Time the streaming METS and PREMIS writers for 10,000 and 100,000 documents.

    .venv/bin/python bench/bench_mets.py [--counts 10000 100000]

Each count runs in a fresh interpreter so its peak RSS is its own. Entries are built lazily
(as the ingest builds them from the catalog), so the figures are the writers' cost.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run(count: int) -> dict[str, float]:
    from preservation.packaging.mets import write_rep_mets, write_root_mets
    from preservation.packaging.premis import PremisWriter
    from tests.support.mets import WHEN, LazyDocuments, rep_kwargs, root_kwargs

    docs = LazyDocuments(count)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with open(Path(tmp) / "rep.xml", "wb") as out:
            write_rep_mets(out, **rep_kwargs("AIP", "hoso", docs))
        write_root_mets(io.BytesIO(), **root_kwargs("AIP", "hoso"))
        mets = time.perf_counter() - started
        started = time.perf_counter()
        with open(Path(tmp) / "premis.xml", "wb") as out, PremisWriter(out) as w:
            for i, d in enumerate(docs):
                for f in d.files:
                    w.object("File", f.path, size=f.size, sha256=f.sha256, puid="fmt/354",
                             format_name=f.mime)
                w.event(f"E-{i}", "ingestion", WHEN, outcome="success",
                        objects=[("File", d.files[0].path, "source")])
            w.agent("local", "khoso", "khoso", "software")
        premis = time.perf_counter() - started
        size = (Path(tmp) / "rep.xml").stat().st_size
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    return {"documents": count, "mets_s": mets, "premis_s": premis, "mets_mb": size / 1e6,
            "files_per_s": 2 * count / mets, "rss_growth_mb": rss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child)))
        return
    print(f"{'docs':>8} {'METS s':>8} {'files/s':>9} {'METS MB':>8} {'PREMIS s':>9} {'ΔRSS MB':>8}")
    for count in args.counts:
        out = subprocess.run([sys.executable, __file__, "--child", str(count)], check=True,
                             capture_output=True, text=True)
        r = json.loads(out.stdout)
        print(f"{count:>8} {r['mets_s']:>8.1f} {r['files_per_s']:>9.0f} {r['mets_mb']:>8.1f} "
              f"{r['premis_s']:>9.1f} {r['rss_growth_mb']:>8.1f}")


if __name__ == "__main__":
    main()
