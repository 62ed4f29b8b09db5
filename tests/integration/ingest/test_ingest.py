"""End to end: a SIP bag becomes a verified, replicated, registered TT 05 AIP; bad SIPs are
rejected with their codes, leaving nothing in AIP storage and nothing half-registered."""

from __future__ import annotations

import shutil

import sqlalchemy as sa

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
from tests.integration.conftest import make_sip


def files_in(folder):
    """AIP objects in a replica folder; catalog sidecars (``_fonds.json``, ``_events/``…) aside."""
    paths = (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return sorted(rel for rel in paths if not any(s.startswith("_") for s in rel.split("/")))


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
    eicar = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode()
    bag = make_sip(khoso.tmp / "sip", contents={"tai-lieu-2.png": eicar})
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
