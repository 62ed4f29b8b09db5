"""End to end: a SIP bag becomes a verified, replicated, registered TT 05 AIP; bad SIPs are
rejected with their codes, leaving nothing in AIP storage and nothing half-registered."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from ingest.bag import validate_bag
from preservation.catalog.models import (
    AuditEntry,
    Bitstream,
    Document,
    Job,
    Package,
    PremisEvent,
    RecordFile,
    StoredCopy,
)
from preservation.packaging.validate import validate_mets, validate_premis
from storage.errors import StorageError
from tests.support.hostile import files_in
from tests.support.khoso import services_recording_staged
from tests.support.sips import make_sip
from tests.support.viruses import EICAR


def test_a_valid_sip_becomes_a_registered_aip_on_every_replica(khoso):
    bag = make_sip(khoso.tmp / "sip")
    outcome = khoso.ingest(bag)
    assert outcome.accepted, outcome.report.to_dict()
    r1, r2 = files_in(khoso.replica("replica1")), files_in(khoso.replica("replica2"))
    assert r1 == r2 and r1
    prefix = "TTLTNA/P623/TTLTNA.H49.64.33.2001.160/v1/"
    assert f"{prefix}data/METS.xml" in r1
    assert f"{prefix}tagmanifest-sha256.txt.p7s" in r1
    assert f"{prefix}data/representations/rep1/data/tai-lieu-1.pdf" in r1
    aip = khoso.replica("replica1") / prefix
    assert validate_bag(aip).report.errors == []  # manifests match every file, digests read
    assert validate_mets((aip / "data/METS.xml").read_bytes()).ok
    assert validate_mets((aip / "data/representations/rep1/METS.xml").read_bytes()).ok
    assert validate_premis((aip / "data/metadata/preservation/PREMIS.xml").read_bytes()).ok
    assert validate_premis(
        (aip / "data/representations/rep1/metadata/preservation/PREMIS_rep1.xml").read_bytes()).ok
    with khoso.catalog.session() as s:
        pkg = s.scalar(sa.select(Package).where(Package.kind == "AIP"))
        assert pkg.objid == outcome.objid and pkg.objid.startswith("urn:P623:uuid-")
        rf = s.get(RecordFile, pkg.record_file_id)
        assert rf.arc_file_code == "TTLTNA.H49.64.33.2001.160"
        assert s.scalar(sa.select(sa.func.count(Document.id))) == 2
        assert {c.location for c in s.scalars(sa.select(StoredCopy))} == {"replica1", "replica2"}
        bits = s.scalar(sa.select(sa.func.count(Bitstream.id)).where(Bitstream.package_id == pkg.id))
        assert bits == len(r1) == len(files_in(aip))
        formats = dict((b.path, (b.puid, b.format_name)) for b in s.scalars(
            sa.select(Bitstream).where(Bitstream.package_id == pkg.id)))
        # content as identified; the metadata khoso wrote by construction; tag files none
        assert formats["data/representations/rep1/data/tai-lieu-1.pdf"][0].startswith("fmt/")
        assert formats["data/METS.xml"] == ("fmt/101", "Extensible Markup Language")
        assert formats["data/schemas/mets1_12.xsd"] == ("x-fmt/280", "XML Schema Definition")
        assert formats["manifest-sha256.txt"] == (None, None)
        identified = list(s.scalars(sa.select(PremisEvent.object_identifier).where(
            PremisEvent.package_id == pkg.id, PremisEvent.event_type == "format identification")))
        # one per content file; the SIP's METS and EAD are validated against their XSDs instead
        assert identified and all("representations/rep1/data/" in i for i in identified)
        types = set(s.scalars(sa.select(PremisEvent.event_type).where(
            PremisEvent.package_id == pkg.id)))
        assert {"ingestion start", "validation", "virus check", "message digest calculation",
                "format identification", "information package creation",
                "replication"} <= types
        assert s.get(Job, outcome.job_id).status == "succeeded"
        assert s.scalar(sa.select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)) \
            == "package.ingest"
    assert not (khoso.settings.data_dir / "staging" / outcome.job_id).exists()


def test_a_zipped_sip_is_accepted(khoso):
    bag = make_sip(khoso.tmp / "sip")
    archive = shutil.make_archive(str(khoso.tmp / "sip-bag"), "zip", bag.parent, bag.name)
    outcome = khoso.ingest(khoso.tmp / archive)
    assert outcome.accepted, outcome.report.to_dict()


def test_eicar_is_rejected_and_nothing_is_stored(khoso):
    bag = make_sip(khoso.tmp / "sip", contents={"tai-lieu-2.png": EICAR})
    outcome = khoso.ingest(bag)
    assert not outcome.accepted
    assert "AV001" in outcome.report.codes()
    assert outcome.failed_step == "scan_viruses"
    assert files_in(khoso.replica("replica1")) == [] == files_in(khoso.replica("replica2"))
    assert (outcome.quarantine / "report.json").is_file()
    with khoso.catalog.session() as s:
        kinds = [(p.kind, p.status) for p in s.scalars(sa.select(Package))]
        assert kinds == [("SIP", "rejected")]
        assert s.scalar(sa.select(sa.func.count(RecordFile.id))) == 0
        not_run = set(s.scalars(sa.select(PremisEvent.event_type).where(
            PremisEvent.outcome == "not_performed")))
        assert "information package creation" in not_run
        assert s.get(Job, outcome.job_id).status == "failed"


def everything_in(folder):
    """Every object but the rejection record and audit log kept next to the AIPs."""
    return sorted(rel for p in folder.rglob("*") if p.is_file()
                  if (rel := p.relative_to(folder).as_posix()).split("/")[1:2] not in (
                      ["_rejections"], ["_audit"]))


def test_a_large_file_is_staged_on_the_replicas_and_moved_into_place(khoso):
    """A content file ≥ 8 MiB is written to every replica by the read pass itself."""
    import hashlib

    from tests.support.sips import big_pdf

    data = big_pdf(9 * 2**20)
    for kind in ("dir", "zip"):
        bag = make_sip(khoso.tmp / f"sip-{kind}", contents={"tai-lieu-1.pdf": data},
                       hoso={"fileCode": f"H49.64.33.2001.17{len(kind) + (kind == 'zip')}"})
        if kind == "zip":
            bag = khoso.tmp / shutil.make_archive(str(khoso.tmp / "big-bag"), "zip", bag.parent,
                                                  bag.name)
        staged: list[str] = []
        services = services_recording_staged(khoso, staged)
        outcome = khoso.ingest(bag, services=services)
        assert outcome.accepted, outcome.report.to_dict()
        assert staged == ["representations/rep1/data/tai-lieu-1.pdf"]
        for name in ("replica1", "replica2"):
            root = khoso.replica(name)
            assert not (root / "_staging").exists() or everything_in(root / "_staging") == []
            copy = next(root.rglob("tai-lieu-1.pdf"))
            assert hashlib.sha256(copy.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
        with khoso.catalog.session() as s:
            bit = s.scalar(sa.select(Bitstream).where(Bitstream.path.like("%tai-lieu-1.pdf"))
                           .order_by(Bitstream.id.desc()).limit(1))
            assert bit.sha256 == hashlib.sha256(data).hexdigest() and bit.size == len(data)


def test_a_rejected_sip_leaves_no_staged_copy(khoso):
    from tests.support.sips import big_pdf

    bag = make_sip(khoso.tmp / "sip", count=3,
                   contents={"tai-lieu-1.pdf": big_pdf(9 * 2**20), "tai-lieu-2.png": EICAR,
                             "tai-lieu-3.pdf": big_pdf(10 * 2**20)})
    outcome = khoso.ingest(bag)
    assert not outcome.accepted and "AV001" in outcome.report.codes()
    assert everything_in(khoso.replica("replica1")) == [] == everything_in(khoso.replica("replica2"))


def test_a_replica_failing_while_staging_fails_the_job_and_cleans_up(khoso, monkeypatch):
    from access_api.services import build_services
    from storage.filesystem import FilesystemStorage
    from tests.support.sips import big_pdf

    real_put = FilesystemStorage.put

    def put(self, key, stream, **kw):
        if key.startswith("_staging/") and self.root == khoso.replica("replica2").resolve():
            stream.read(2**20)
            raise OSError(28, "No space left on device")
        return real_put(self, key, stream, **kw)
    monkeypatch.setattr(FilesystemStorage, "put", put)
    bag = make_sip(khoso.tmp / "sip", contents={"tai-lieu-1.pdf": big_pdf(9 * 2**20)})
    with pytest.raises(StorageError) as info:  # a system error, not a rejected SIP
        khoso.ingest(bag, services=build_services(khoso.settings))
    assert info.value.code == "STO044" and "No space" in info.value.message("en")
    assert info.value.transient and "replica2" in info.value.message("en")
    assert everything_in(khoso.replica("replica1")) == [] == everything_in(khoso.replica("replica2"))
    with khoso.catalog.session() as s:
        job = s.scalars(sa.select(Job)).one()  # the archive's disk: queued again for a retry
        assert job.status == "queued" and job.result["error"]["code"] == "STO044"
        assert job.result["retry"] is True
        assert s.scalar(sa.select(sa.func.count(Package.id))) == 0


def test_the_same_hoso_twice_is_refused_before_anything_is_written(khoso):
    bag = make_sip(khoso.tmp / "sip")
    first = khoso.ingest(bag)
    assert first.accepted
    before = {p: p.stat().st_mtime_ns for p in khoso.replica("replica1").rglob("*") if p.is_file()}
    again = make_sip(khoso.tmp / "again", contents={"tai-lieu-1.pdf": b"%PDF-1.4 other bytes"})
    second = khoso.ingest(again)
    assert not second.accepted and second.failed_step == "validate_sip"
    issue = next(i for i in second.report if i.code == "ING005")
    assert first.objid in issue.message("vi") and "đã có trong kho" in issue.message("vi")
    sidecars = {"_events", "_audit", "_rejections"}  # appended records, nothing rewritten
    after = {p: p.stat().st_mtime_ns for p in khoso.replica("replica1").rglob("*") if p.is_file()
             if not sidecars & set(p.parts)}
    assert after == {p: t for p, t in before.items() if not sidecars & set(p.parts)}


def test_replication_workers_write_the_aip_while_it_is_built_and_registered(khoso, monkeypatch):
    """With worker processes (any package size here) the content files are written during
    build_aip and the rest during registration, which commits only after both replicas are
    complete; the replication events are recorded like the threads' ones."""
    import storage.replication
    from access_api.services import build_services

    monkeypatch.setattr(storage.replication, "PROCESS_MIN", 1)
    services = build_services(khoso.settings)
    started, real = [], services.start_replication
    services.start_replication = lambda *a, **kw: started.append(real(*a, **kw)) or started[-1]
    outcome = khoso.ingest(make_sip(khoso.tmp / "sip"), services=services)
    assert outcome.accepted, outcome.report.to_dict()
    assert [type(h).__name__ for h in started] == ["_InWorkers"]
    assert started[0].batches[0] and all(
        "/representations/rep1/data/" in o.key for o in started[0].batches[0])
    r1, r2 = files_in(khoso.replica("replica1")), files_in(khoso.replica("replica2"))
    assert r1 == r2 and len(r1) == len(started[0].batches[0]) + len(started[0].batches[1])
    prefix = "TTLTNA/P623/TTLTNA.H49.64.33.2001.160/v1/"
    assert validate_bag(khoso.replica("replica1") / prefix).report.errors == []
    with khoso.catalog.session() as s:
        pkg = s.scalar(sa.select(Package).where(Package.kind == "AIP"))
        assert {c.location for c in s.scalars(sa.select(StoredCopy))} == {"replica1", "replica2"}
        details = list(s.scalars(sa.select(PremisEvent.detail).where(
            PremisEvent.package_id == pkg.id, PremisEvent.event_type == "replication")))
        assert sorted(d.split(";")[0] for d in details) == ["location=replica1",
                                                           "location=replica2"]
        assert all(f"objects={len(r1)};" in d for d in details)


def test_a_build_failure_after_the_content_started_leaves_nothing_stored(khoso, monkeypatch):
    import storage.replication
    from access_api.services import build_services

    monkeypatch.setattr(storage.replication, "PROCESS_MIN", 1)
    services = build_services(khoso.settings)

    class BrokenSigner:
        def sign_detached(self, data):
            raise OSError(5, "key store unreadable")
    services.signer = BrokenSigner()
    with pytest.raises(OSError, match="key store unreadable"):
        khoso.ingest(make_sip(khoso.tmp / "sip"), services=services)
    assert everything_in(khoso.replica("replica1")) == [] == everything_in(khoso.replica("replica2"))
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count(Package.id))) == 0
        assert s.scalars(sa.select(Job)).one().status == "failed"


@pytest.mark.parametrize("background", [True, False])
def test_the_aip_eads_are_written_while_the_formats_are_identified(khoso, monkeypatch, background):
    """With the identification helper still at work, identify_formats writes the AIP's EADs
    (they need no format) and build_aip uses them; a plain identifier leaves them to build.
    Either way each EAD is written once and the AIP is the same."""
    from access_api.services import build_services
    from ingest import aip

    services = build_services(khoso.settings)
    if not background:
        services.identifier = type("Plain", (), {
            "identify_many": services.identifier.identify_many})()
    calls, real = [], aip.describe
    monkeypatch.setattr(aip, "describe", lambda ctx: calls.append(
        (ctx.identifying is not None, ctx.aip is None)) or real(ctx))
    outcome = khoso.ingest(make_sip(khoso.tmp / "sip"), services=services)
    assert outcome.accepted, outcome.report.to_dict()
    assert calls == [(background, True)]
    prefix = "TTLTNA/P623/TTLTNA.H49.64.33.2001.160/v1/"
    aip_dir = khoso.replica("replica1") / prefix
    assert validate_bag(aip_dir).report.errors == []
    eads = sorted(p.name for p in (aip_dir / "data/representations/rep1/metadata/descriptive")
                  .iterdir())
    assert eads == ["EAD_doc_tai-lieu-1.xml", "EAD_pic_tai-lieu-2.xml"]
    text = (aip_dir / "data/representations/rep1/metadata/descriptive" / eads[0]).read_text()
    assert "TTLTNA.H49.64.33.2001.160.0000001" in text  # the archival document code


def test_a_retried_job_clears_what_its_own_killed_attempt_left(khoso):
    """A job killed after writing some of its AIP (never registered) is run again: the objects
    whose bag-info.txt names this job's own package are its leftovers, removed so the retry
    can write its keys (write-once), while another package's would be refused (ING035)."""
    import io

    from access_api.services import build_services
    from ingest.jobs import create_job, run_job
    from preservation.metadata.identifiers import PackageId
    from storage.filesystem import FilesystemStorage
    from tests.support.sheets import FILE_CODE
    from tests.support.sips import FOND

    bag = make_sip(khoso.tmp / "sip")
    job_id = create_job(khoso.catalog, bag, "tester")
    own = str(PackageId("AIP", job_id.upper(), FOND))
    prefix = f"TTLTNA/{FOND}/TTLTNA.{FILE_CODE.replace('/', '_')}/v1"
    for name in ("replica1", "replica2"):
        left = FilesystemStorage(khoso.replica(name))
        left.put(f"{prefix}/bag-info.txt", io.BytesIO(f"External-Identifier: {own}\n".encode()))
        left.put(f"{prefix}/data/METS.xml", io.BytesIO(b"<mets/> of the killed attempt"))
    outcome = run_job(khoso.settings, khoso.catalog, job_id,
                      services=build_services(khoso.settings))
    assert outcome.accepted, outcome.report.to_dict()
    assert outcome.objid == own
    for name in ("replica1", "replica2"):
        mets = khoso.replica(name) / prefix / "data" / "METS.xml"
        assert b"killed attempt" not in mets.read_bytes()
        assert f"External-Identifier: {own}" in (khoso.replica(name) / prefix / "bag-info.txt").read_text()


def test_another_packages_versions_hidden_behind_delete_markers_are_named_with_their_prefix(
        khoso, s3_endpoint, monkeypatch):
    """A versioned location holding only older versions of another package under the AIP key
    (delete markers on top): ING210 names the prefix and says what an operator does; ING035's
    'khoso catalog rebuild' would not bring that package back (rebuild reads current keys)."""
    import uuid

    import boto3

    from access_api.services import build_services
    from storage.occupancy import occupancy
    from storage.s3 import S3Storage
    from tests.support.sheets import FILE_CODE
    from tests.support.sips import FOND

    for name, value in (("AWS_ACCESS_KEY_ID", "khoso-test"),
                        ("AWS_SECRET_ACCESS_KEY", "khoso-test"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    raw = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    bucket = f"khoso-test-{uuid.uuid4().hex[:16]}"
    raw.create_bucket(Bucket=bucket)
    raw.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    offsite = S3Storage(bucket, endpoint_url=s3_endpoint, region="us-east-1", name="offsite")
    prefix = f"TTLTNA/{FOND}/TTLTNA.{FILE_CODE.replace('/', '_')}/v1"
    for key, body in ((f"{prefix}/bag-info.txt", b"External-Identifier: urn:khac:goi-cu\n"),
                      (f"{prefix}/data/METS.xml", b"<mets/> of the other package")):
        raw.put_object(Bucket=bucket, Key=key, Body=body)
        raw.delete_object(Bucket=bucket, Key=key)
    services = build_services(khoso.settings)
    services.occupancy = lambda p: occupancy([offsite], p)

    outcome = khoso.ingest(make_sip(khoso.tmp / "sip"), services=services)

    assert not outcome.accepted
    assert outcome.report.codes() == {"ING210"}
    issue = next(i for i in outcome.report.issues if i.code == "ING210")
    en, vi = issue.message("en"), issue.message("vi")
    assert f"under the prefix '{prefix}/' in offsite" in en and "urn:khac:goi-cu" in en
    assert "remove the delete markers" in en and "delete every version" in en
    assert f"dưới tiền tố «{prefix}/» ở offsite" in vi
    listing = raw.list_object_versions(Bucket=bucket, Prefix=prefix)
    assert len(listing["Versions"]) == 2 and len(listing["DeleteMarkers"]) == 2, "left alone"


def test_unidentified_objects_under_the_aip_key_are_never_replaced(khoso):
    """Objects under the AIP key with no bag-info.txt anywhere (an ingest that never finished,
    whoever it was): the ingest goes ahead, but a key holding other bytes fails it with
    STO045 and nothing there is replaced or removed."""
    import io

    from storage.filesystem import FilesystemStorage
    from tests.support.sheets import FILE_CODE
    from tests.support.sips import FOND

    prefix = f"TTLTNA/{FOND}/TTLTNA.{FILE_CODE.replace('/', '_')}/v1"
    for name in ("replica1", "replica2"):
        FilesystemStorage(khoso.replica(name)).put(f"{prefix}/data/METS.xml",
                                                   io.BytesIO(b"<mets/> someone else's"))
    with pytest.raises(StorageError) as info:
        khoso.ingest(make_sip(khoso.tmp / "sip"))
    assert info.value.code == "STO045" and not info.value.transient
    for name in ("replica1", "replica2"):
        assert (khoso.replica(name) / prefix / "data" / "METS.xml").read_bytes() == \
            b"<mets/> someone else's"
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count(Package.id)).where(Package.kind == "AIP")) == 0
