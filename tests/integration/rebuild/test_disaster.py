"""Disaster recovery through the ``khoso`` command, as an operator runs it: nothing accepted is
lost. Two AIPs, a rejected SIP, accounts and an audit are made through the real call sites
(ingest's after-commit hooks, ``khoso audit``); one AIP's copy is damaged; the catalog is
rebuilt into an empty database from every location.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from access_api.app import create_app
from access_api.cli import main
from access_api.services.health import check as check_health
from preservation.accounts import create_user, issue_token
from preservation.catalog import audit as audit_log
from preservation.catalog.db import Catalog
from preservation.catalog.models import AuditEntry, Job, Package, PremisEvent, StoredCopy, User
from tests.support.khoso import Khoso
from tests.support.rebuild import ARCHIVE
from tests.support.sheets import FILE_CODE
from tests.support.sips import make_sip
from tests.support.sips import make_sip as make_virus_sip
from tests.support.viruses import EICAR


def cli(khoso: Khoso, *args: str, database_url: str | None = None):
    data = khoso.tmp / "data"
    env = {"KHOSO_DATA_DIR": str(data), "KHOSO_DATABASE_URL": database_url or khoso.settings.database_url,
           "KHOSO_CLAMD": khoso.settings.clamd, "KHOSO_CLAMD_MANAGED": "false",
           "KHOSO_STORAGE_LOCATIONS": f"replica1=file://{data / 'r1'},replica2=file://{data / 'r2'}",
           "KHOSO_ARCHIVE_CODE": ARCHIVE}
    return CliRunner().invoke(main, ["--lang", "en", *args], env=env, catch_exceptions=False)


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives naive UTC, PostgreSQL aware: compared to the microsecond."""
    if value is None:
        return None
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


@pytest.fixture
def archive(khoso: Khoso) -> tuple[Khoso, list[str], str]:
    """Two AIPs, one rejection, an account with a token, then ``khoso audit --all --repair``
    (one object of a copy in replica2 damaged: a failed check and a repair to remember)."""
    objids = []
    for n in (1, 2):
        outcome = khoso.ingest(make_sip(khoso.tmp / f"sip{n}", count=n,
                                        file_code=f"{FILE_CODE}{n}"))
        assert outcome.accepted, outcome.report.to_dict()
        objids.append(outcome.objid)
    rejected = khoso.ingest(make_virus_sip(khoso.tmp / "sip-bad", contents={"tai-lieu-2.png": EICAR}))
    assert not rejected.accepted and "AV001" in rejected.report.codes()
    with khoso.catalog.session() as s:
        user = create_user(s, "officer", "a long passphrase 1", ["preservation_officer"])
        issue_token(s, user, "api")
    png = sorted(khoso.replica("replica2").glob(f"{ARCHIVE}/*/*/v1/data/**/*.png"))[0]
    png.chmod(0o644)
    png.write_bytes(png.read_bytes() + b"\0")  # found by the audit, repaired from replica1
    audited = cli(khoso, "audit", "--all", "--repair")
    assert audited.exit_code == 0, audited.output
    assert "repaired 1" in audited.output
    return khoso, objids, rejected.job_id


def snapshot(catalog: Catalog) -> dict[str, Any]:
    """What must survive, by natural keys: events, packages, copies, jobs, the audit log."""
    with catalog.session() as s:
        pkg = {i: (o, v) for i, o, v in s.execute(sa.select(Package.id, Package.objid,
                                                            Package.version))}
        copies = {i: loc for i, loc in s.execute(sa.select(StoredCopy.id, StoredCopy.location))}
        return {
            "events": {(e.event_uuid, e.event_type, utc(e.event_datetime), e.outcome, e.detail,
                        e.outcome_detail, e.object_identifier, pkg.get(e.package_id),
                        copies.get(e.stored_copy_id))
                       for e in s.scalars(sa.select(PremisEvent))},
            "packages": {(p.objid, p.version, p.kind, p.status, utc(p.created_at), p.label,
                          p.file_count, p.total_size) for p in s.scalars(sa.select(Package))},
            "copies": {(pkg[c.package_id], c.location, c.key)
                       for c in s.scalars(sa.select(StoredCopy))},
            "audit": [(a.id, a.actor, a.action, a.entry_hash)
                      for a in s.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))],
            "jobs": {(j.id, j.status, (j.result or {}).get("failed_step"),
                      tuple((j.result or {}).get("codes") or ()))
                     for j in s.scalars(sa.select(Job).where(Job.status == "failed"))},
        }


def damage(khoso: Khoso, location: str, objid_index: int, how: str) -> str:
    """Damage one AIP's copy in ``location``; returns its key prefix."""
    root = khoso.replica(location)
    prefix = sorted(root.glob(f"{ARCHIVE}/*/*/v1"))[objid_index]
    target = prefix / "data" / "METS.xml"
    target.chmod(0o644)
    if how == "altered":  # RBD006: a metadata file no longer matches its manifest
        target.write_bytes(target.read_bytes().replace(b"<", b" <", 1))
    else:  # RBD005: an object listed in the manifest is gone
        target.unlink()
    return prefix.relative_to(root).as_posix()


def test_a_rebuild_keeps_what_the_archive_must_prove(archive, target):
    """Rejections with their reports, the audit log chain, every PREMIS event with its UUID
    and time, and when each package was registered."""
    khoso, objids, job_id = archive
    before = snapshot(khoso.catalog)
    report_file = khoso.tmp / "data" / "quarantine" / job_id / "report.json"
    report_text = report_file.read_text(encoding="utf-8")
    shutil.rmtree(khoso.tmp / "data" / "quarantine")  # lost with the machine

    result = cli(khoso, "catalog", "rebuild", "--from", "replica1", "--json",
                 database_url=target.url)

    assert result.exit_code == 0, result.output
    after = snapshot(target)
    # every PREMIS event (ingest, replication, fixity, repair, the rejection's) with its UUID
    # and time, linked to the same copy
    assert after["events"] == before["events"]
    assert {"replication", "fixity check"} <= {e[1] for e in after["events"] if e[8]}
    # the packages with their registration time, the rejected SIP among them
    assert after["packages"] == before["packages"]
    assert ("job:" + job_id, 1, "SIP", "rejected") in {p[:4] for p in after["packages"]}
    assert after["jobs"] == before["jobs"] and len(after["jobs"]) == 1
    assert json.loads(report_file.read_text(encoding="utf-8")) == json.loads(report_text)
    # the audit log, chain intact, and the rebuild's own entry chained on
    assert after["audit"][:-1] == before["audit"] and after["audit"][-1][2] == "catalog.rebuild"
    assert {"user.create", "token.issue", "package.ingest", "package.reject",
            "fixity.audit", "fixity.repair.repaired"} <= {a[2] for a in before["audit"]}
    with target.session() as s:
        assert audit_log.verify_chain(s) == []
        assert s.scalar(sa.select(sa.func.count()).select_from(User)) == 0  # accounts: not kept
    report = json.loads(result.stdout)
    assert (report["problems"], report["rejections"]) == ([], 1)
    # the first admin is made again as the README says, chained on in the restored log
    init = cli(khoso, "init", database_url=target.url)
    assert init.exit_code == 0 and "admin /" in init.output, init.output
    with target.session() as s:
        assert audit_log.verify_chain(s) == []
        assert s.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_a_damaged_copy_is_rebuilt_from_the_other_location(archive, target):
    khoso, objids, job_id = archive
    before = snapshot(khoso.catalog)
    damaged = damage(khoso, "replica1", 0, "altered")

    result = cli(khoso, "catalog", "rebuild", "--from", "replica1", "--json",
                 database_url=target.url)

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["complete"] and (report["aips_rebuilt"], report["aips_skipped"]) == (2, 0)
    assert [(p["code"], p["path"], p["params"]["location"], p["params"]["failed"])
            for p in report["problems"]] == [("RBD039", damaged, "replica1", "RBD006")]
    assert (report["copies"], report["copies_damaged"]) == (4, 1)
    after = snapshot(target)
    # every copy in both locations is registered; the damaged one as the audit would have
    assert after["copies"] == before["copies"]
    with target.session() as s:
        states = {(c.key, c.location): c.last_check_result
                  for c in s.scalars(sa.select(StoredCopy))}
    assert states.pop((damaged, "replica1")) == "mismatch"
    assert set(states.values()) == {"ok"}
    assert after["events"] == before["events"]  # the fixity checks of both locations' copies
    health = check_health(khoso.settings, target).detailed()
    assert "catalog_incomplete" not in health["components"]["preservation"]
    # the repair the report points to restores the damaged copy from the good one
    repaired = cli(khoso, "audit", "--all", "--repair", database_url=target.url)
    assert repaired.exit_code == 0, repaired.output


def test_an_aip_with_no_good_copy_marks_the_catalog_incomplete_until_rebuilt(archive, target):
    khoso, objids, _ = archive
    altered = damage(khoso, "replica1", 1, "altered")
    saved = khoso.tmp / "METS.xml"
    shutil.copy2(khoso.replica("replica2") / altered / "data" / "METS.xml", saved)
    assert damage(khoso, "replica2", 1, "missing") == altered

    result = cli(khoso, "catalog", "rebuild", "--from", "replica1", "--json",
                 database_url=target.url)

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert not report["complete"] and (report["aips_rebuilt"], report["aips_skipped"]) == (1, 1)
    assert [(p["code"], p["path"]) for p in report["problems"]] == [
        ("RBD006", altered), ("RBD005", altered), ("RBD038", ARCHIVE)]
    client = create_app(khoso.settings, target).test_client()
    response = client.get("/healthz")  # anonymous: the state; degraded, as the catalog answers
    assert response.status_code == 200 and response.get_json() == {"status": "degraded"}
    health = check_health(khoso.settings, target)  # the details an officer's token shows
    body = health.components["preservation"]
    assert "RBD038" in [i.code for i in health.issues] and body["status"] == "down"
    assert body["catalog_incomplete"]["skipped"] == [altered]
    assert "INCOMPLETE" in body["catalog_incomplete"]["detail"]

    # the package is restored into a location from a backup: a rebuild run again adds it
    shutil.copy2(saved, khoso.replica("replica2") / altered / "data" / "METS.xml")
    again = cli(khoso, "catalog", "rebuild", "--json", database_url=target.url)

    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert report["complete"] and (report["aips_rebuilt"], report["aips_skipped"]) == (1, 0)
    body = check_health(khoso.settings, target).components["preservation"]
    assert "catalog_incomplete" not in body and body["status"] == "up"
    with target.session() as s:
        assert {(o, st) for o, st in s.execute(sa.select(Package.objid, Package.status)
                                               .where(Package.kind == "AIP"))} == {
            (objids[0], "active"), (objids[1], "active")}
        assert s.scalar(sa.select(sa.func.count()).select_from(StoredCopy)) == 4
        assert audit_log.verify_chain(s) == []


def test_a_rejection_record_no_location_can_read_is_an_error(archive, target):
    khoso, _, job_id = archive
    for name in ("replica1", "replica2"):
        record = khoso.replica(name) / ARCHIVE / "_rejections" / f"{job_id}.json"
        record.chmod(0o644)
        record.write_text("{not json", encoding="utf-8")

    result = cli(khoso, "catalog", "rebuild", "--json", database_url=target.url)

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert [(p["code"], p["path"]) for p in report["problems"]] == [
        ("RBD042", f"{ARCHIVE}/_rejections/{job_id}.json")]
    assert (report["aips_rebuilt"], report["rejections"], report["complete"]) == (2, 0, True)
