"""The scaled-out topology the README promises, as processes on loopback: `khoso serve` and two
`khoso worker`s on Redis, the catalog on PostgreSQL, two S3 locations (moto). Fifty SIPs (some
hostile, two duplicates of an accepted hồ sơ) are submitted at once; one worker is killed with
SIGKILL halfway, in the middle of a job, as a machine crash would. Then: no job lost, exactly
one AIP per accepted SIP, every copy in both buckets, no orphan object, nothing left staged.

Each worker has its own data folder (as on its own machine); they share the catalog, the broker,
the buckets and the signing key. A worker's workspace ``{data}/staging/{job}`` exists exactly
while it runs a job, which is how the test knows the worker it kills is mid-job.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
import sqlalchemy as sa

from ingest.jobs import submit
from preservation.catalog.db import Catalog
from preservation.catalog.models import Bitstream, Job, Package, RecordFile, StoredCopy
from preservation.jobs import make_celery
from preservation.settings import load_settings
from tests.support.db import postgres_schema
from tests.support.sips import FOND, ORGAN, big_pdf, make_sip
from tests.support.viruses import EICAR

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[3]
VALID, VIRUS, TAMPERED, TRAVERSAL = 40, 4, 3, 1  # + 2 duplicates = 50
FILE_CODE = "H49.64.33.2001.{:03d}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def pg_schema_url(postgres_url: str):
    with postgres_schema(postgres_url) as url:
        yield url


class Topology:
    def __init__(self, tmp: Path, db_url: str, redis_url: str, s3_endpoint: str,
                 clamd: str) -> None:
        self.tmp, self.port = tmp, free_port()
        self.buckets = [f"khoso-{uuid.uuid4().hex[:10]}-{site}" for site in ("a", "b")]
        self.s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                               aws_access_key_id="test", aws_secret_access_key="test")
        for bucket in self.buckets:
            self.s3.create_bucket(Bucket=bucket)
        locations = ",".join(
            f"site-{site}=s3://{bucket}?endpoint={s3_endpoint}&region=us-east-1"
            for site, bucket in zip("ab", self.buckets, strict=True))
        self.base = {k: v for k, v in os.environ.items() if not k.startswith("KHOSO_")
                     or k.startswith("KHOSO_TEST_")}
        self.base.update({
            "KHOSO_DATABASE_URL": db_url, "KHOSO_BROKER_URL": redis_url,
            "KHOSO_CLAMD": clamd, "KHOSO_CLAMD_MANAGED": "false",
            "KHOSO_STORAGE_LOCATIONS": locations, "KHOSO_ARCHIVE_CODE": "TTLTNA",
            "KHOSO_KEYS_DIR": str(tmp / "shared" / "keys"),
            "KHOSO_TRUST_DIR": str(tmp / "shared" / "trust"),
            "KHOSO_JOB_VISIBILITY_TIMEOUT": "20", "KHOSO_PORT": str(self.port),
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")])),
        })
        self.procs: list[subprocess.Popen] = []

    def env(self, name: str) -> dict[str, str]:
        return {**self.base, "KHOSO_DATA_DIR": str(self.tmp / name)}

    def cli(self, *args: str, name: str = "web") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "access_api.cli", *args], cwd=ROOT,
                              env=self.env(name), capture_output=True, text=True, timeout=120)

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "access_api.cli", *args], cwd=ROOT,
                                env=self.env(name), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    def keys(self, bucket: str) -> set[str]:
        found: set[str] = set()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            found.update(o["Key"] for o in page.get("Contents", []))
        return found

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def healthz(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def make_sips(folder: Path) -> dict[str, list[Path]]:
    """The fifty submissions, by what should become of them."""
    filler = big_pdf(3 * 2**20)  # long enough a job that a worker is caught in the middle
    sips: dict[str, list[Path]] = {"valid": [], "virus": [], "tampered": [], "traversal": [],
                                   "duplicate": []}
    for i in range(VALID):
        sips["valid"].append(make_sip(folder / f"valid-{i}", contents={"tai-lieu-1.pdf": filler},
                                      hoso={"fileCode": FILE_CODE.format(100 + i)}))
    for i in range(VIRUS):
        sips["virus"].append(make_sip(folder / f"virus-{i}", contents={"tai-lieu-2.png": EICAR},
                                      hoso={"fileCode": FILE_CODE.format(300 + i)}))
    for i in range(TAMPERED):
        bag = make_sip(folder / f"tampered-{i}", hoso={"fileCode": FILE_CODE.format(400 + i)})
        target = next(bag.glob("data/representations/rep1/data/*.pdf"))
        target.write_bytes(target.read_bytes() + b"\n% changed after bagging\n")
        sips["tampered"].append(bag)
    for i in range(TRAVERSAL):
        import zipfile

        bag = make_sip(folder / f"traversal-{i}", hoso={"fileCode": FILE_CODE.format(500 + i)})
        archive = folder / f"traversal-{i}.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for path in sorted(bag.rglob("*")):
                if path.is_file():
                    zf.write(path, f"bag/{path.relative_to(bag).as_posix()}")
            zf.writestr("bag/../../escaped.txt", b"outside")
        sips["traversal"].append(archive)
    for i in range(2):  # the same hồ sơ as valid-0, submitted again at the same time
        sips["duplicate"].append(make_sip(folder / f"duplicate-{i}",
                                          contents={"tai-lieu-1.pdf": filler},
                                          hoso={"fileCode": FILE_CODE.format(100)}))
    return sips


def test_scaled_out_topology_loses_no_job_and_leaves_no_orphan(
        tmp_path, pg_schema_url, redis_url, s3_endpoint, clamd_address):
    import redis as redis_client

    # a Redis database of its own: test_worker's Redis broker (database 10) may run meanwhile
    # in the other test process (make test runs two)
    redis_url = redis_url.rsplit("/", 1)[0] + "/11"
    redis_client.Redis.from_url(redis_url).flushdb()
    topo = Topology(tmp_path, pg_schema_url, redis_url, s3_endpoint, clamd_address)
    for args in (("init",), ("agency", "add", ORGAN, "UBND huyện Nghi Lộc"),
                 ("fonds", "add", FOND, "Phông UBND huyện Nghi Lộc", "--agency", ORGAN)):
        done = topo.cli(*args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    sips = make_sips(tmp_path / "sips")
    all_sips = [p for group in sips.values() for p in group]
    assert len(all_sips) == 50
    catalog = Catalog(pg_schema_url)
    settings = load_settings({k: v for k, v in topo.env("submitter").items()
                              if k.startswith("KHOSO_") and not k.startswith("KHOSO_TEST_")})
    try:
        topo.start("web", "serve", "--port", str(topo.port))
        worker_a = topo.start("worker-a", "worker")
        topo.start("worker-b", "worker")
        wait_for(lambda: healthz(topo.port) is not None, 60, "khoso serve", every=0.5)

        app = make_celery(settings)
        with ThreadPoolExecutor(8) as pool:  # the same service `khoso ingest` calls
            jobs = dict(zip(pool.map(lambda p: submit(catalog, app, p, "tester"), all_sips),
                            all_sips, strict=True))
        by_path = {path: job for job, path in jobs.items()}

        def statuses() -> dict[str, str]:
            with catalog.session() as s:
                rows = s.execute(sa.select(Job.id, Job.status).where(Job.id.in_(jobs)))
                return dict(rows.all())

        def finished() -> int:
            return sum(v in ("succeeded", "failed") for v in statuses().values())

        # Halfway, kill worker A (and its helpers) while it is in the middle of a job. A job that
        # ended between the look and the kill does not count: start A again and try once more.
        wait_for(lambda: finished() >= 20, 300, "half the jobs")
        staging_a = tmp_path / "worker-a" / "staging"
        killed_job, stale = None, set()  # a miss can leave a finished job's workspace behind
        def new_jobs() -> set[str]:
            return ({d.name for d in staging_a.iterdir()} - stale) if staging_a.is_dir() else set()

        for _ in range(10):
            wait_for(lambda: bool(new_jobs()), 120, "worker A to be in a job", every=0.05)
            running = new_jobs()
            os.killpg(worker_a.pid, signal.SIGKILL)
            worker_a.wait(10)
            now = statuses()
            killed_job = next((j for j in running if now.get(j) == "running"), None)
            if killed_job:
                break
            stale |= running
            worker_a = topo.start("worker-a", "worker")
        assert killed_job is not None, "worker A was never caught in the middle of a job"

        wait_for(lambda: finished() == len(jobs), 600, "every job to end")
        final = statuses()
    finally:
        topo.stop()

    logs = {n: topo.log(n) for n in ("web", "worker-a", "worker-b")}
    with catalog.session() as s:
        job_rows = {j.id: j for j in s.scalars(sa.select(Job).where(Job.id.in_(jobs)))}
        # No job lost: the killed one ran again and ended.
        assert job_rows[killed_job].attempts >= 2, logs
        assert job_rows[killed_job].status in ("succeeded", "failed")
        same_hoso = [sips["valid"][0], *sips["duplicate"]]
        for path in sips["valid"][1:]:
            job = job_rows[by_path[path]]
            assert final[job.id] == "succeeded", (path, job.result, logs)
        # Three submissions of one hồ sơ at once: exactly one is accepted, the others refused
        # because the archive already holds it (whichever came first).
        outcomes = sorted(final[by_path[p]] for p in same_hoso)
        assert outcomes == ["failed", "failed", "succeeded"], [
            job_rows[by_path[p]].result for p in same_hoso]
        for group in ("virus", "tampered", "traversal"):
            for path in sips[group]:
                job = job_rows[by_path[path]]
                assert final[job.id] == "failed", (group, job.result)
                assert job.result and job.result.get("accepted") is False, (group, job.result)
        codes = {group: [(job_rows[by_path[p]].result or {}).get("codes", [])
                         for p in sips[group]] for group in ("virus", "tampered", "traversal")}
        assert all(any(c.startswith("AV") for c in cs) for cs in codes["virus"]), codes
        assert all(cs for cs in codes["tampered"]), codes
        assert all("PKG004" in cs for cs in codes["traversal"]), codes

        # Exactly one AIP per accepted SIP.
        aips = s.execute(sa.select(Package.objid, RecordFile.file_code)
                         .join(RecordFile, Package.record_file_id == RecordFile.id)
                         .where(Package.kind == "AIP")).all()
        accepted = [j for j in job_rows.values() if j.status == "succeeded"]
        assert len(aips) == len(accepted) == VALID, (len(aips), len(accepted))
        assert sorted(code for _, code in aips) == sorted("TTLTNA." + FILE_CODE.format(100 + i)
                                                          for i in range(VALID))
        assert {j.result["objid"] for j in accepted} == {objid for objid, _ in aips}

        # Every copy in both buckets; nothing in a bucket the catalog does not know of.
        files = s.execute(sa.select(StoredCopy.location, StoredCopy.key, Bitstream.path)
                          .join(Bitstream, Bitstream.package_id == StoredCopy.package_id)).all()
        prefixes = {loc: {k for lo, k in s.execute(sa.select(StoredCopy.location,
                                                              StoredCopy.key)) if lo == loc}
                    for loc in ("site-a", "site-b")}
    catalog.dispose()
    assert prefixes["site-a"] == prefixes["site-b"] and len(prefixes["site-a"]) == VALID
    for site, bucket in zip(("site-a", "site-b"), topo.buckets, strict=True):
        expected = {f"{key}/{path}" for loc, key, path in files if loc == site}
        stored = topo.keys(bucket)
        # the hồ sơ's later PREMIS events live beside its versions, in {hồ sơ}/_events/
        events = {k for k in stored if "/_events/" in k}
        assert {k.split("/_events/")[0] for k in events} <= {
            p.rsplit("/", 1)[0] for p in prefixes[site]}, site
        # sidecars (fonds, agencies, events…) have a segment starting with "_"; AIPs never do
        aip_objects = {k for k in stored if not any(p.startswith("_") for p in k.split("/"))}
        assert aip_objects == expected, (site, sorted(aip_objects ^ expected)[:10])
        assert not [k for k in stored if k.startswith("_staging/")], site

    # The copies verify: a full audit over both buckets finds no AIP object wrong. A worker
    # killed just after its job committed may have written that job's event sidecar to one site
    # only (sidecars follow the commit, best effort): the audit reports it as history missing
    # there (AUD044) and --repair restores it from the other site (AUD043); nothing else is left.
    audit = topo.cli("audit", "--all", "--json", name="auditor")
    report = json.loads(audit.stdout)
    assert report["copies_checked"] == 2 * VALID and report["bad"] == 0, report
    assert not (report["critical"] or report["not_checked"] or report["foreign_files"]), report
    assert audit.returncode == (1 if report["history_unrestored"] else 0), audit.stderr[-3000:]
    repaired = topo.cli("audit", "--all", "--repair", "--json", name="auditor")
    assert repaired.returncode == 0, (repaired.stdout[-3000:], repaired.stderr[-3000:])
    assert json.loads(repaired.stdout)["history_restored"] == report["history_unrestored"]
    again = topo.cli("audit", "--all", "--json", name="auditor")
    assert again.returncode == 0, (again.stdout[-3000:], again.stderr[-3000:])
