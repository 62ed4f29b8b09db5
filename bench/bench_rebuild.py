"""How long does ``khoso catalog rebuild`` take for N AIPs? (requirement: 10,000 AIPs)

One real AIP is made by the real ingest (clamd, siegfried, signing) from a 3-document SIP, then
cloned N times straight into a filesystem location: per clone the OBJID, arcFileCode (hence the
document codes and the key), event UUIDs and job id are rewritten in every metadata file, and
the manifest, bag-info (Payload-Oxum) and tag manifest are recomputed, so every clone passes the
rebuild's tag-manifest and manifest checks. Unchanged files (content, schemas, bagit.txt, the
.p7s) are hard links to the template's: the same bytes to read, without 3 GB of copies. METS
checksums of rewritten EADs are left stale (the rebuild does not read them) and the copied
signature no longer matches (the rebuild only checks it exists). Each clone also gets a sidecar
batch with its two replication events, and the fonds and agency snapshots are written once.

    set -a && . /tmp/svc/env && set +a   # KHOSO_TEST_CLAMD from tests/harness/services.sh
    .venv/bin/python bench/bench_rebuild.py [--aips 10000] [--db URL] [--verify] [--tmp DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.* helpers for the SIP

from preservation.catalog import registry  # noqa: E402
from preservation.catalog.db import Catalog  # noqa: E402
from preservation.events import REPLICATION, Agent, Event, Outcome  # noqa: E402
from preservation.packaging.aip import bagit  # noqa: E402
from preservation.settings import load_settings  # noqa: E402
from preservation.signing import init_keys  # noqa: E402
from storage import sidecar  # noqa: E402
from storage.filesystem import FilesystemStorage  # noqa: E402
from storage.rebuild import rebuild_catalog  # noqa: E402

ARCHIVE, LOCATION = "TTLTNA", "replica1"
EVENT_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
REWRITTEN = ("bag-info.txt", "data/")  # bag paths whose text may hold codes and identifiers


def template(tmp: Path, clamd: str, docs: int) -> tuple[Path, str, str]:
    """Ingest one SIP for real; returns (location root, AIP key prefix, objid)."""
    from access_api.services import build_services
    from ingest.jobs import create_job, run_job
    from tests.support.sips import FOND, ORGAN, make_sip

    data = tmp / "template"
    root = data / "r1"
    root.mkdir(parents=True)
    settings = load_settings({
        "KHOSO_DATA_DIR": str(data), "KHOSO_DATABASE_URL": f"sqlite:///{data / 'c.sqlite'}",
        "KHOSO_CLAMD": clamd, "KHOSO_STORAGE_LOCATIONS": f"{LOCATION}=file://{root}",
        "KHOSO_ARCHIVE_CODE": ARCHIVE})
    init_keys(Path(settings.keys_dir), settings.archive_name, settings.archive_code)
    catalog = Catalog(settings.database_url)
    catalog.upgrade()
    with catalog.session() as s:
        body = registry.ensure_archive_body(s, ARCHIVE, "Trung tâm Lưu trữ tỉnh", "lich_su")
        registry.add_agency(s, ORGAN, "UBND huyện Nghi Lộc")
        registry.add_fonds(s, body, registry.FondsInput(FOND, "Phông UBND huyện Nghi Lộc"))
    job = create_job(catalog, make_sip(tmp / "sip", count=docs), "bench")
    outcome = run_job(settings, catalog, job, services=build_services(settings))
    if not outcome.accepted:
        raise SystemExit(f"template ingest failed: {outcome.report.to_dict()}")
    catalog.dispose()
    (prefix,) = {str(p.parent.relative_to(root)) for p in root.rglob("bagit.txt")}
    return root, prefix, outcome.objid


def clone(src: Path, prefix: str, objid: str, dest: Path, count: int) -> None:
    arc = prefix.split("/")[2]
    paths = sorted(str(p.relative_to(src / prefix)) for p in (src / prefix).rglob("*")
                   if p.is_file())
    files = {p: (src / prefix / p).read_bytes() for p in paths}
    agent = Agent("khoso-bench", "khoso bench")
    for i in range(count):
        new_arc = f"{arc}{i:06d}"
        new_objid = f"urn:P623:uuid-{str(uuid.uuid4()).upper()}"
        new_prefix = f"{ARCHIVE}/{prefix.split('/')[1]}/{new_arc}/v1"
        ids: dict[bytes, bytes] = {}
        out = dest / new_prefix
        written: dict[str, bytes] = {}
        for path in paths:
            data = files[path]
            if path.startswith(REWRITTEN) and not path.endswith((".xsd", ".pdf", ".png")):
                new = data.replace(objid.encode(), new_objid.encode()).replace(
                    arc.encode(), new_arc.encode())
                new = EVENT_UUID.sub(
                    lambda m, ids=ids: ids.setdefault(m[0], str(uuid.uuid4()).encode()), new)
                if new != data:
                    written[path] = new
        # the tag files through the module that writes and reads them (bagit-python-free)
        entries = bagit.parse_manifest(files[bagit.MANIFEST].decode())
        grown = 0
        for path, data in written.items():
            if path.startswith("data/"):
                entries[path] = hashlib.sha256(data).hexdigest()
                grown += len(data) - len(files[path])
        written[bagit.MANIFEST] = bagit.manifest(entries.items()).encode()
        info = bagit.parse_bag_info(written.get(bagit.BAG_INFO, files[bagit.BAG_INFO]).decode())
        octets, count = (info.first("Payload-Oxum") or "0.0").split(".")
        written[bagit.BAG_INFO] = bagit.bag_info(
            (label, bagit.payload_oxum(int(octets) + grown, int(count))
             if label == "Payload-Oxum" else value) for label, value in info.elements).encode()
        written[bagit.TAGMANIFEST] = bagit.manifest(
            (n, hashlib.sha256(written.get(n, files[n])).hexdigest())
            for n in (bagit.BAGIT_TXT, bagit.BAG_INFO, bagit.MANIFEST)).encode()
        for path in paths:
            target = out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if path in written:
                target.write_bytes(written[path])
            else:
                os.link(src / prefix / path, target)
        events = [sidecar.event_record(
            Event(REPLICATION, Outcome.SUCCESS, f"location={loc}; key={new_prefix}",
                  object_identifier=new_objid, agents=((agent, "executing program"),)),
            objid=new_objid, copy={"location": loc, "key": new_prefix}, link_copy=False)
            for loc in (LOCATION, "replica2")]
        batch = dest / f"{ARCHIVE}/{prefix.split('/')[1]}/{new_arc}/_events/000001-0000beef.jsonl"
        batch.parent.mkdir(parents=True)
        batch.write_text("".join(json.dumps({**e, "version": 1}, ensure_ascii=False) + "\n"
                                 for e in events), encoding="utf-8")


def snapshots(dest: Path) -> None:
    from tests.support.sips import FOND, ORGAN

    storage = FilesystemStorage(dest, name=LOCATION)
    agency = {"organ_id": ORGAN, "name": "UBND huyện Nghi Lộc"}
    sidecar.write_fonds_snapshot(storage, ARCHIVE, {"fond_code": FOND,
                                                     "fond_name": "Phông UBND huyện Nghi Lộc",
                                                     "status": "mo", "languages": ["01"]},
                                 None, {"code": ARCHIVE, "name": "Trung tâm Lưu trữ tỉnh",
                                        "kind": "lich_su"})
    sidecar.write_agency_snapshot(storage, ARCHIVE, agency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aips", type=int, default=1000)
    parser.add_argument("--docs", type=int, default=3, help="documents per hồ sơ")
    parser.add_argument("--db", help="catalog URL to rebuild into (default: a new SQLite file)")
    parser.add_argument("--verify", action="store_true", help="re-hash every object")
    parser.add_argument("--tmp", type=Path, default=None)
    parser.add_argument("--clamd", default=os.environ.get("KHOSO_TEST_CLAMD")
                        or os.environ.get("KHOSO_CLAMD"))
    args = parser.parse_args()
    if not args.clamd:
        raise SystemExit("need --clamd (or KHOSO_TEST_CLAMD from tests/harness/services.sh)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-rebuild-", dir=args.tmp))
    try:
        src, prefix, objid = template(tmp, args.clamd, args.docs)
        dest = tmp / "location"
        began = time.perf_counter()
        clone(src, prefix, objid, dest, args.aips)
        snapshots(dest)
        print(f"generated {args.aips} AIPs in {time.perf_counter() - began:.1f} s")
        catalog = Catalog(args.db or f"sqlite:///{tmp / 'rebuilt.sqlite'}")
        catalog.upgrade()
        began = time.perf_counter()
        report = rebuild_catalog(catalog, FilesystemStorage(dest, name=LOCATION),
                                 archive_code=ARCHIVE, verify=args.verify)
        seconds = time.perf_counter() - began
        catalog.dispose()
        assert report.aips_rebuilt == args.aips, report.problems[:3]
        print(f"rebuilt {report.aips_rebuilt} AIPs ({report.documents} documents, "
              f"{report.bitstreams} bitstreams, {report.events} events) on "
              f"{catalog.engine.dialect.name}{' with --verify' if args.verify else ''}: "
              f"{seconds:.1f} s, {report.aips_rebuilt / seconds:.1f} AIPs/s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
