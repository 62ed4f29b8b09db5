"""``khoso ingest`` and ``khoso bag validate`` through Click's runner, on both catalogs, with the
harness's clamd and two filesystem replicas.

Exit codes: ingest 0 accepted / 1 rejected / 2 usage or system error; bag validate 0 valid /
1 invalid.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.support.cli import as_json, codes, run
from tests.support.hostile import files_in, retag, set_oxum, zip_bag
from tests.support.sips import FOND, ORGAN, make_sip
from tests.support.viruses import EICAR


def replicas(env: dict[str, str]) -> list[Path]:
    return [Path(url.split("file://", 1)[1])
            for url in env["KHOSO_STORAGE_LOCATIONS"].split(",")]


def bag_without(bag: Path, label: str) -> Path:
    """Drop a bag-info element (and fix the tag manifest): RFC-valid, profile-invalid."""
    info = bag / "bag-info.txt"
    text = info.read_text(encoding="utf-8")
    stripped = re.sub(rf"(?m)^{re.escape(label)}:.*\n", "", text)
    assert stripped != text
    info.write_text(stripped, encoding="utf-8")
    retag(bag)
    return bag


# --- khoso ingest -----------------------------------------------------------------------------

def test_ingest_wait_json_accepts_a_valid_bag(env, tmp_path):
    result = run(env, "ingest", str(make_sip(tmp_path / "sip")), "--wait", "--json")
    assert result.exit_code == 0, result.output
    out = as_json(result)
    assert out["accepted"] is True and out["objid"].startswith(f"urn:{FOND}:uuid-")
    assert out["failed_step"] is None
    r1, r2 = (files_in(r) for r in replicas(env))
    assert r1 == r2 and r1


def test_ingest_wait_json_rejects_eicar_with_exit_1(env, tmp_path):
    bag = make_sip(tmp_path / "sip", contents={"tai-lieu-2.png": EICAR})
    result = run(env, "ingest", str(bag), "--wait", "--json")
    assert result.exit_code == 1, result.output
    out = as_json(result)
    assert out["accepted"] is False and out["failed_step"] == "scan_viruses"
    assert "AV001" in codes(out)
    assert Path(out["quarantine"], "report.json").is_file()
    assert all(files_in(r) == [] for r in replicas(env))


def test_ingest_of_a_path_that_does_not_exist_exits_2(env, tmp_path):
    result = run(env, "ingest", str(tmp_path / "no-such-bag"), "--wait", "--json")
    assert result.exit_code == 2
    assert "no-such-bag" in result.output


def test_ingest_wait_with_clamd_down_is_a_system_error_not_a_rejection(env, tmp_path):
    """Exit 2 naming clamd; the job stays queued (handed to the workers), nothing is recorded
    against the agency: no rejected-SIP record, no quarantine, nothing in storage."""
    import sqlalchemy as sa

    from preservation.catalog.db import Catalog
    from preservation.catalog.models import Job, Package

    env = {**env, "KHOSO_CLAMD": f"unix://{tmp_path}/no-clamd.sock"}
    result = run(env, "--lang", "en", "ingest", str(make_sip(tmp_path / "sip")), "--wait")
    assert result.exit_code == 2, result.output
    assert "[CLAM061]" in result.output and "no-clamd.sock" in result.output
    assert "still queued" in result.output
    catalog = Catalog(env["KHOSO_DATABASE_URL"])
    try:
        with catalog.session() as s:
            [job] = s.scalars(sa.select(Job)).all()
            assert job.status == "queued" and job.finished_at is None
            assert job.result["error"]["code"] == "CLAM061" and job.result["retry"] is True
            assert job.celery_task_id  # sent to the broker: a worker runs it again
            assert s.scalar(sa.select(sa.func.count(Package.id))) == 0
    finally:
        catalog.dispose()
    assert not (Path(env["KHOSO_DATA_DIR"]) / "quarantine").exists()
    assert all(files_in(r) == [] for r in replicas(env))


def test_ingest_wait_json_reports_a_system_error_on_stdout(env, tmp_path):
    env = {**env, "KHOSO_CLAMD": f"unix://{tmp_path}/no-clamd.sock"}
    result = run(env, "ingest", str(make_sip(tmp_path / "sip")), "--wait", "--json")
    assert result.exit_code == 2
    payload = as_json(result)
    assert payload["accepted"] is False and payload["status"] == "queued" and payload["retry"]
    assert payload["error"]["code"] == "CLAM061" and payload["job_id"]


def test_ingest_wait_starts_the_managed_clamd_when_no_serve_runs_it(env, tmp_path):
    from ingest import local_clamd
    from tests.support.workers import wait_for

    clamd = local_clamd.LocalClamd(Path(env["KHOSO_DATA_DIR"]) / "clamav")
    env = {**env, "KHOSO_CLAMD_MANAGED": "true", "KHOSO_CLAMD": clamd.address}
    assert local_clamd.running_pid(clamd) is None
    result = run(env, "ingest", str(make_sip(tmp_path / "sip")), "--wait", "--json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["accepted"] is True
    # what it started it stops: a later `khoso serve` starts (and supervises) its own
    wait_for(lambda: local_clamd.running_pid(clamd) is None, 30, "clamd to stop")


# --- khoso bag validate -----------------------------------------------------------------------

def test_bag_validate_accepts_a_valid_bag(env, tmp_path):
    result = run(env, "bag", "validate", str(make_sip(tmp_path / "sip")))
    assert result.exit_code == 0, result.output


def test_bag_validate_json_reports_an_oxum_lie_with_exit_1(env, tmp_path):
    bag = make_sip(tmp_path / "sip")
    set_oxum(bag, "1.1")
    retag(bag)
    result = run(env, "bag", "validate", str(bag), "--json")
    assert result.exit_code == 1, result.output
    out = as_json(result)
    assert out["ok"] is False and "BAG008" in codes(out)


def test_bag_validate_checks_the_profile_by_default(env, tmp_path):
    bag = bag_without(make_sip(tmp_path / "sip"), "Ma-Dinh-Danh-Co-Quan")
    result = run(env, "bag", "validate", str(bag), "--json")
    assert result.exit_code == 1, result.output
    out = as_json(result)
    assert "PRF004" in codes(out)
    assert not {c for c in codes(out) if c.startswith("BAG")}  # RFC 8493 itself is satisfied


def test_bag_validate_profile_none_skips_the_profile(env, tmp_path):
    bag = bag_without(make_sip(tmp_path / "sip"), "Ma-Dinh-Danh-Co-Quan")
    result = run(env, "bag", "validate", str(bag), "--profile", "none", "--json")
    assert result.exit_code == 0, result.output
    out = as_json(result)
    assert out["profile"] is None and not {c for c in codes(out) if c.startswith("PRF")}


def test_bag_validate_accepts_a_zipped_bag(env, tmp_path):
    archive = zip_bag(make_sip(tmp_path / "sip"), tmp_path / "sip.zip")
    result = run(env, "bag", "validate", str(archive), "--json")
    assert result.exit_code == 0, result.output
    out = as_json(result)
    assert out["ok"] is True and out["files"] == 16


# --- #12: nothing accepted is ever lost ------------------------------------------------------

def everything_in(folder: Path) -> dict[str, bytes]:
    """Every file of a replica folder (AIPs and sidecars) with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def fresh_catalog(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The same replicas under a new, empty catalog (the old one lost in a disaster)."""
    environ = {**env, "KHOSO_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite'}"}
    for args in (["db", "upgrade"], ["agency", "add", ORGAN, "UBND huyện Nghi Lộc"],
                 ["fonds", "add", FOND, "Phông UBND huyện Nghi Lộc"]):
        result = run(environ, *args)
        assert result.exit_code == 0, result.output
    return environ


def test_reingest_after_catalog_loss_is_refused_and_overwrites_nothing(env, tmp_path):
    """Ingest, lose the catalog, ingest the same hồ sơ again: refused with ING035 (the storage
    holds it), and every object in both replicas is byte-identical to before."""
    first = run(env, "ingest", str(make_sip(tmp_path / "sip1")), "--wait", "--json")
    assert first.exit_code == 0, first.output
    objid = as_json(first)["objid"]
    before = [everything_in(r) for r in replicas(env)]
    assert all(files_in(r) for r in replicas(env))

    again = run(fresh_catalog(env, tmp_path), "ingest", str(make_sip(tmp_path / "sip2")),
                "--wait", "--json")
    assert again.exit_code == 1, again.output
    out = as_json(again)
    assert out["accepted"] is False and out["failed_step"] == "validate_sip"
    assert codes(out) == {"ING035"}
    (issue,) = out["issues"]
    assert issue["params"]["objid"] == objid and "replica1" in issue["params"]["locations"]
    for replica, was in zip(replicas(env), before, strict=True):
        now = everything_in(replica)
        assert {k: now.get(k) for k in was} == was  # every original object byte-identical
        added = {k.split("/")[1] for k in now.keys() - was.keys()}
        assert added <= {"_rejections", "_audit"}, added  # only the rejection's own records


def test_unreachable_location_at_the_storage_check_is_a_system_error(env, tmp_path):
    """A location that cannot be listed is the archive's fault: exit 2, the job stays queued
    for a retry, and the SIP is neither refused nor quarantined."""
    r2 = replicas(env)[1]
    shutil.rmtree(r2)
    r2.write_bytes(b"not a folder: the disk is not mounted")
    result = run(env, "ingest", str(make_sip(tmp_path / "sip")), "--wait", "--json")
    assert result.exit_code == 2, result.output
    assert "STO044" in result.output or "STO006" in result.output
    assert not (Path(env["KHOSO_DATA_DIR"]) / "quarantine").exists() or not any(
        (Path(env["KHOSO_DATA_DIR"]) / "quarantine").iterdir())
    assert files_in(replicas(env)[0]) == []
