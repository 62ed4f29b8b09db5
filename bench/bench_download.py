"""Does a verified download through ``khoso serve`` keep up with a plain read + SHA-256 of the
same file? Goal: at least 80 % of the baseline's throughput.

The file (``--mib`` MiB of random bytes, default 1024, named as a PDF) is *placed* as an AIP the
catalog knows, not ingested: catalog rows (hồ sơ, document, package, bitstream, two stored
copies) are written directly and the bytes are put into both filesystem replicas with
``FilesystemStorage.put`` — an ingest would spend minutes in clamd and prove nothing about
delivery. ``khoso serve --no-worker`` (waitress, as deployed) then serves it on loopback to a
reader's token; the client streams it with ``http.client`` in 1 MiB reads and checks every
byte: ``--client sha256`` (default) hashes what arrives, ``--client compare`` compares each read
with the same bytes of the replica (as exact, with a fraction of the client's CPU: on a 2-core
machine the client's SHA-256 takes the core the server's sending would use).

- baseline: ``open`` + ``readinto`` 1 MiB + ``hashlib.sha256`` over the replica's file;
- cold: a cache miss with the file's block digests known (as after an ingest, which records
  them, or a first delivery): the server streams a replica, verifying each 4 MiB block before
  handing it to waitress (``access_api.services.stream``, ``access_api.api.waitress_send``);
- cold-first: a cache miss with no block digests (the row deleted: a file ingested before
  ingest recorded them): the server reads a replica while hashing it into the delivery cache,
  then sends (and records the digests);
- warm: the next downloads (served from the verified cache);
- range: a cold ``Range`` of 1 MiB in the middle (cache empty, digests known), against a read
  + SHA-256 of the same 1 MiB of the replica.

Every pass runs ``--repeat`` times (cold: the cache is emptied before each), best kept; the
page cache holds the file throughout, so disks do not decide the comparison. Each line also
gives the least CPU time the server process used for one pass (user + system, from
``/proc``): what a download costs the server whatever else the machine runs.

    .venv/bin/python bench/bench_download.py [--mib 1024] [--repeat 3] [--client compare]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MiB = 1 << 20
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from preservation.accounts import create_user, issue_token  # noqa: E402
from preservation.catalog import registry  # noqa: E402
from preservation.catalog.db import Catalog  # noqa: E402
from preservation.catalog.models import (  # noqa: E402
    Agency,
    Bitstream,
    Document,
    Package,
    RecordFile,
    StoredCopy,
)
from preservation.settings import load_settings  # noqa: E402
from storage.filesystem import FilesystemStorage  # noqa: E402

ARCHIVE, FOND, ORGAN = "BENCH", "P1", "000.00.00.H41"


@dataclass
class Instance:
    tmp: Path
    env: dict[str, str]
    catalog: Catalog
    token: dict[str, str]
    port: int
    server: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return Path(tempfile.gettempdir()) / f"khoso-bench-serve-{self.port}.log"

    def start(self) -> None:
        self.server = subprocess.Popen(
            [sys.executable, "-m", "access_api.cli", "-q", "serve", "--no-worker",
             "--port", str(self.port)], env=self.env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"))  # noqa: SIM115
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/v1/fonds")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.3)
        raise SystemExit("khoso serve did not answer in 60 s")

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(30)
        self.catalog.dispose()
        shutil.rmtree(self.tmp, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def instance(tmp: Path) -> Instance:
    """A data folder with an SQLite catalog, two filesystem replicas and a token per role."""
    data = tmp / "data"
    replicas = {name: data / "replicas" / name for name in ("replica1", "replica2")}
    for path in replicas.values():
        path.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KHOSO_")}
    env.update({"KHOSO_DATA_DIR": str(data), "KHOSO_ARCHIVE_CODE": ARCHIVE,
                "KHOSO_CLAMD_MANAGED": "false", "KHOSO_CLAMD": "tcp://127.0.0.1:9",
                "KHOSO_STORAGE_LOCATIONS": ",".join(f"{n}=file://{p}"
                                                    for n, p in replicas.items()),
                "KHOSO_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)})
    settings = load_settings({k: v for k, v in env.items() if k.startswith("KHOSO_")})
    catalog = Catalog(settings.database_url)
    catalog.upgrade()
    tokens = {}
    with catalog.session() as s:
        body = registry.ensure_archive_body(s, ARCHIVE, "Kho lưu trữ đo hiệu năng", "lich_su")
        registry.add_agency(s, ORGAN, "UBND tỉnh Nghệ An")
        registry.add_fonds(s, body, registry.FondsInput(FOND, "Phông đo hiệu năng"))
        for role in ("reader", "archivist"):
            tokens[role] = issue_token(s, create_user(s, f"bench-{role}", "mật-khẩu-dài-đủ-12",
                                                      [role]), "bench").token
    return Instance(tmp, env, catalog, tokens, free_port())


def place_record(inst: Instance, number: int, files: dict[str, bytes | Path],
                 documents: int = 1) -> tuple[str, list[str]]:
    """A hồ sơ of mode 01 with ``documents`` documents, the first holding ``files``, written to
    both replicas and registered as an active AIP; (arcFileCode, [docCode…])."""
    code = f"{ARCHIVE}.{ORGAN}.2001.{number:05d}"
    prefix = f"{ARCHIVE}/{FOND}/{code}/v1"
    stores = [FilesystemStorage(inst.env["KHOSO_STORAGE_LOCATIONS"].split(",")[i].split(
        "file://")[1], name=f"replica{i + 1}") for i in range(2)]
    facts = {}
    for name, content in files.items():
        path = f"data/representations/rep1/data/{name}"
        if isinstance(content, Path):
            digest = hashlib.sha256()
            with open(content, "rb") as f:
                while chunk := f.read(MiB):
                    digest.update(chunk)
            size, sha = content.stat().st_size, digest.hexdigest()
        else:
            size, sha = len(content), hashlib.sha256(content).hexdigest()
        for store in stores:
            with (open(content, "rb") if isinstance(content, Path) else _bytes(content)) as f:
                store.put(f"{prefix}/{path}", f, expected_sha256=sha, size=size)
        facts[path] = (size, sha)
    with inst.catalog.session() as s:
        fonds_id = s.execute(sa_text("SELECT id FROM fonds WHERE fond_code = :c"),
                             {"c": FOND}).scalar_one()
        agency = s.query(Agency).filter_by(organ_id=ORGAN).one()
        rf = RecordFile(fonds_id=fonds_id, file_code=code, arc_file_code=code,
                        title=f"Hồ sơ đo hiệu năng số {number}", maintenance="01", mode="01",
                        languages=["01"], start_date="2001-01-02", end_date="2001-12-28",
                        total_doc=documents, number_of_page=documents)
        s.add(rf)
        s.flush()
        pkg = Package(objid=f"urn:{FOND}:uuid-bench-{number}", kind="AIP", status="active",
                      record_file_id=rf.id, fonds_id=fonds_id, agency_id=agency.id,
                      label=rf.title, total_size=sum(n for n, _ in facts.values()),
                      file_count=len(facts))
        s.add(pkg)
        s.flush()
        codes = []
        for i in range(1, documents + 1):
            doc = Document(record_file_id=rf.id, package_id=pkg.id, kind="van_ban",
                           doc_code=f"{code}.{i:07d}", doc_ordinal=i, mode="01",
                           languages=["01"], type_name="02", issued_date="2001-03-15",
                           organ_name="UBND tỉnh Nghệ An", subject=f"Quyết định số {i}",
                           number_of_page=1)
            s.add(doc)
            s.flush()
            codes.append(doc.doc_code)
            if i == 1:
                for path, (size, sha) in facts.items():
                    s.add(Bitstream(package_id=pkg.id, document_id=doc.id, path=path, size=size,
                                    sha256=sha, mime="application/pdf", puid="fmt/276"))
        for i in range(2):
            s.add(StoredCopy(package_id=pkg.id, location=f"replica{i + 1}", key=prefix,
                             sha256="0" * 64, size=pkg.total_size, last_check_result="ok"))
    return code, codes


def _bytes(data: bytes):  # type: ignore[no-untyped-def]
    import io

    return io.BytesIO(data)


def sa_text(sql: str):  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    return sa.text(sql)


def baseline(path: Path) -> tuple[float, str]:
    buf = bytearray(MiB)
    view = memoryview(buf)
    digest = hashlib.sha256()
    began = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(view):
            digest.update(view[:n])
    return time.perf_counter() - began, digest.hexdigest()


def baseline_range(path: Path, start: int, length: int) -> tuple[float, str]:
    digest = hashlib.sha256()
    began = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        f.seek(start)
        digest.update(f.read(length))
    return time.perf_counter() - began, digest.hexdigest()


def server_cpu(inst: Instance) -> float:
    """CPU seconds (user + system) the server process has used: what a download costs the
    server, whatever else the machine runs."""
    assert inst.server is not None
    with open(f"/proc/{inst.server.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def download(inst: Instance, url: str, replica: Path, check: str, role: str = "reader",
             part: tuple[int, int] | None = None) -> tuple[float, bool, int]:
    """(seconds, the bytes are the replica's, bytes received). ``check``: ``sha256`` hashes
    what arrives and compares with the replica's digest; ``compare`` compares each read with
    the same bytes of the replica (as exact, at a fraction of the client's CPU: on two cores
    the client's SHA-256 competes with the server's)."""
    conn = http.client.HTTPConnection("127.0.0.1", inst.port, timeout=600)
    buf, mine = bytearray(MiB), bytearray(MiB)
    view, theirs = memoryview(buf), memoryview(mine)
    digest = hashlib.sha256()
    start = 0 if part is None else part[0]
    same = True
    began = time.perf_counter()
    headers = {"Authorization": f"Bearer {inst.token[role]}"}
    if part is not None:
        headers["Range"] = f"bytes={part[0]}-{part[1] - 1}"
    conn.request("GET", url, headers=headers)
    resp = conn.getresponse()
    if resp.status != (200 if part is None else 206):
        raise SystemExit(f"GET {url}: {resp.status} {resp.read()[:300]!r}; server log: "
                         f"{inst.log}")
    total = 0
    with open(replica, "rb", buffering=0) as original:
        original.seek(start)
        while n := resp.readinto(view):
            if check == "sha256":
                digest.update(view[:n])
            elif same:  # bytearrays compare with memcmp; memoryviews element by element
                same = original.readinto(theirs[:n]) == n and (
                    buf == mine if n == MiB else buf[:n] == mine[:n])
            total += n
        conn.close()
        elapsed = time.perf_counter() - began
        if check == "sha256":
            with open(replica, "rb") as f:
                f.seek(start)
                same = hashlib.sha256(f.read(total)).hexdigest() == digest.hexdigest()
    return elapsed, same, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--client", choices=("sha256", "compare"), default="sha256",
                        help="how the client checks the bytes it receives (default sha256)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="khoso-bench-download-"))
    inst = instance(tmp)
    try:
        source = tmp / "big.pdf"
        with open(source, "wb") as f:
            for _ in range(args.mib):
                f.write(os.urandom(MiB))
        code, (doc,) = place_record(inst, 1, {"big.pdf": source})
        source.unlink()
        replica = next((tmp / "data" / "replicas" / "replica1").rglob("big.pdf"))
        expected = baseline(replica)[1]
        inst.start()
        url = f"/api/v1/documents/{doc}/files/big.pdf"
        size = args.mib * MiB
        began = time.process_time()
        base = min(baseline(replica)[0] for _ in range(args.repeat))
        base_cpu = (time.process_time() - began) / args.repeat
        cache = tmp / "data" / "cache" / "files"

        cpu: dict[str, float] = {}

        def passes(name: str, part: tuple[int, int] | None = None, forget: bool = False,
                   empty: bool = True) -> float:
            times, spent = [], []
            for _ in range(args.repeat):
                if empty:
                    shutil.rmtree(cache, ignore_errors=True)
                if forget:
                    with inst.catalog.session() as s:
                        s.execute(sa_text("DELETE FROM block_digests"))
                before = server_cpu(inst)
                seconds, same, total = download(inst, url, replica, args.client, part=part)
                spent.append(server_cpu(inst) - before)
                assert same and total == (size if part is None else part[1] - part[0]), \
                    "wrong bytes"
                times.append(seconds)
            cpu[name] = min(spent)
            return min(times)

        cold_first = passes("cold-first", forget=True)
        cold = passes("cold")
        middle = (size // 2, size // 2 + MiB)
        ranged = passes("range", part=(middle[0], middle[1]))
        base_range = min(baseline_range(replica, middle[0], MiB)[0] for _ in range(args.repeat))
        passes("fill", empty=True)  # a streamed download fills the cache, unless its
        # writer fell behind
        kept = any(cache.rglob(expected))
        if not kept:
            passes("fill", forget=True)  # the verify-first read always fills it
        warm = passes("warm", empty=False)

        def line(name: str, seconds: float, base: float = base, mib: float = size / MiB,
                 spent: float | None = None) -> str:
            text = (f"{name:<48} {seconds:7.3f} s {mib / seconds:8.0f} MiB/s "
                    f"{100 * base / seconds:5.0f} % of baseline")
            if spent is not None:
                text += f"; server CPU {spent:.2f} s"
            return text

        print(f"{args.mib} MiB, best of {args.repeat}, file placed as an AIP (not ingested), "
              f"khoso serve (waitress) on loopback, client checks by {args.client}; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(line("baseline read+SHA-256", base) + f"; CPU {base_cpu:.2f} s")
        print(line("download, cold (block digests known)", cold, spent=cpu["cold"]))
        print(line("download, cold-first (no digests: verify first)", cold_first,
                   spent=cpu["cold-first"]))
        print(line("download, warm (verified cache)", warm, spent=cpu["warm"]))
        print(f"{'the streamed download filled the cache':<48} {'yes' if kept else 'no'}"
              " (only files up to stream.KEEP_MAX are kept while streamed)")
        print(line("baseline read+SHA-256 of 1 MiB (middle)", base_range, base_range, 1))
        print(line("range 1 MiB (middle), cold", ranged, base_range, 1, spent=cpu["range"]))
    finally:
        inst.stop()


if __name__ == "__main__":
    main()
