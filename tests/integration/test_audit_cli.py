"""``khoso audit`` and the registers end to end on a real ingested AIP; ``/healthz`` shows loss."""

from __future__ import annotations

import json

from click.testing import CliRunner

from access_api.app import create_app
from access_api.cli import main
from tests.support.cli import cli_env, content_file
from tests.support.officer import officer
from tests.support.sips import make_sip


def run(khoso, *args):
    return CliRunner().invoke(main, list(args), env=cli_env(khoso), catch_exceptions=False)


def test_audit_finds_and_repairs_a_corrupted_copy(khoso):
    assert khoso.ingest(make_sip(khoso.tmp / "sip")).accepted
    clean = json.loads(run(khoso, "audit", "--all", "--json").output)
    assert clean["copies_checked"] == 2 and clean["ok"] == 2
    damaged = content_file(khoso, "replica1")
    data = bytearray(damaged.read_bytes())
    data[100] ^= 0xFF
    damaged.write_bytes(bytes(data))
    found = run(khoso, "audit", "--all", "--json")
    assert found.exit_code == 1 and json.loads(found.output)["bad"] == 1
    fixed = run(khoso, "audit", "--all", "--repair", "--json")
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.output)["repaired"] == 1
    assert damaged.read_bytes() == content_file(khoso, "replica2").read_bytes()
    register = run(khoso, "report", "register", "bien_ban_xu_ly_su_co", "--format", "json")
    assert register.exit_code == 0 and "tai-lieu-1.pdf" in register.output


def test_healthz_reports_an_aip_with_no_good_copy(khoso):
    assert khoso.ingest(make_sip(khoso.tmp / "sip")).accepted
    for replica in ("replica1", "replica2"):
        content_file(khoso, replica).write_bytes(b"gone")
    assert run(khoso, "audit", "--all", "--repair").exit_code == 1
    body = create_app(khoso.settings, khoso.catalog).test_client().get(
        "/healthz", headers=officer(khoso.catalog)).get_json()
    assert body["status"] == "degraded" and "OPS005" in [i["code"] for i in body["issues"]]
    assert body["components"]["preservation"]["status"] == "down"
    assert len(body["components"]["preservation"]["critical_aips"]) == 1


def test_unknown_location_is_a_clear_error(khoso):
    out = run(khoso, "audit", "--location", "nowhere")
    assert out.exit_code == 2 and "CFG002" in out.output


def test_catalog_rebuild_from_one_location_through_the_cli(khoso, tmp_path):
    import sqlalchemy as sa

    from preservation.catalog.db import Catalog
    from preservation.catalog.models import Bitstream, Document, Fonds, Package, PremisEvent

    assert khoso.ingest(make_sip(khoso.tmp / "sip", count=3)).accepted
    assert run(khoso, "audit", "--all").exit_code == 0
    fresh = f"sqlite:///{tmp_path / 'rebuilt.sqlite'}"
    env = {**cli_env(khoso), "KHOSO_DATABASE_URL": fresh}
    out = CliRunner().invoke(main, ["catalog", "rebuild", "--from", "replica2", "--json"],
                             env=env, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["aips_rebuilt"] == 1
    rebuilt = Catalog(fresh)

    def counts(catalog):
        with catalog.session() as s:
            return {m.__name__: s.scalar(sa.select(sa.func.count()).select_from(m))
                    for m in (Fonds, Package, Document, Bitstream)} | {
                "fixity": s.scalar(sa.select(sa.func.count(PremisEvent.id)).where(
                    PremisEvent.event_type == "fixity check"))}

    assert counts(rebuilt) == {**counts(khoso.catalog), "Package": 1}
    rebuilt.dispose()


def test_aip_update_metadata_makes_a_new_version(khoso, tmp_path):
    outcome = khoso.ingest(make_sip(khoso.tmp / "sip"))
    assert outcome.accepted
    ead = next(khoso.replica("replica1").rglob("v1/data/metadata/descriptive/EAD.xml"))
    fixed = tmp_path / "EAD.xml"
    fixed.write_bytes(ead.read_bytes().replace("Sở Nội vụ".encode(), "Sở Nội vụ (đã sửa)".encode()))
    out = run(khoso, "aip", "update-metadata", outcome.objid, "--ead", str(fixed),
              "--reason", "Sửa tiêu đề hồ sơ")
    assert out.exit_code == 0, out.output
    assert "v2" in out.output
    for replica in ("replica1", "replica2"):
        v2 = next(khoso.replica(replica).rglob("v2"))
        assert (v2 / "data/metadata/descriptive/EAD.xml").read_bytes() != ead.read_bytes()
        assert not (v2 / "data/representations/rep1/data").exists()  # content never rewritten
    broken = tmp_path / "broken.xml"
    broken.write_text("<simpledc><arcFileCode>KHAC.1</arcFileCode>", encoding="utf-8")
    bad = run(khoso, "aip", "update-metadata", outcome.objid, "--ead", str(broken),
              "--reason", "thử")
    assert bad.exit_code == 1 and "XML001" in bad.output
    assert run(khoso, "audit", "--all").exit_code == 0


def test_a_replica_refusing_mkdir_is_reported_never_a_traceback(khoso, monkeypatch):
    """#12 item 7: a replica folder where mkdir gets EROFS (the audit writes its check events
    and restores history files there) gives the JSON report, never a bare OSError."""
    import errno
    import os
    import shutil

    assert khoso.ingest(make_sip(khoso.tmp / "sip")).accepted
    events = next(p for p in khoso.replica("replica1").rglob("_events") if p.is_dir())
    shutil.rmtree(events)

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "mkdir", read_only)
    result = run(khoso, "audit", "--all", "--repair", "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["copies_checked"] == 2 and report["ok"] == 2
    assert report["history_unrestored"] >= 1 and report["history_restored"] == 0
    issues = [i for p in report["problems"] for i in p["issues"]]
    assert {i["code"] for i in issues} == {"AUD044"}
    assert all("Read-only file system" in i["params"]["reason"] for i in issues)
    assert not events.exists()


def _fixity_records(khoso, replica: str) -> list[dict]:
    return [record for path in khoso.replica(replica).rglob("_events/*.jsonl")
            for record in map(json.loads, path.read_text(encoding="utf-8").splitlines())
            if record.get("event_type") == "fixity check"]


def test_audit_of_one_aip_checks_only_its_copies_and_mirrors_their_events(khoso):
    from tests.support.sheets import FILE_CODE

    first = khoso.ingest(make_sip(khoso.tmp / "sip1", count=1, file_code=f"{FILE_CODE}1"))
    other = khoso.ingest(make_sip(khoso.tmp / "sip2", count=1, file_code=f"{FILE_CODE}2"))
    assert first.accepted and other.accepted
    out = run(khoso, "audit", "--aip", first.objid, "--json")
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert (report["copies_checked"], report["ok"]) == (2, 2)  # due or not: the AIP's copies
    for replica in ("replica1", "replica2"):  # both checks, next to the AIP, in both locations
        records = _fixity_records(khoso, replica)
        assert {r["objid"] for r in records} == {first.objid} and len(records) == 2
    assert json.loads(run(khoso, "audit", "--due", "--json").output)["copies_checked"] == 0
    assert json.loads(run(khoso, "audit", "--all", "--json").output)["copies_checked"] == 4
    unknown = run(khoso, "audit", "--aip", "KHONG.CO.1")
    assert unknown.exit_code == 2
    assert "Lỗi [GEN002]: Không tìm thấy gói: KHONG.CO.1." in unknown.output


def test_the_scheduled_audit_mirrors_its_checks(khoso):
    from access_api.services import Identity, ServiceContext, audit

    assert khoso.ingest(make_sip(khoso.tmp / "sip")).accepted
    ctx = ServiceContext(khoso.settings, khoso.catalog)
    report = audit.scheduled(ctx, Identity.system("scheduler"))
    assert report.copies_checked == 1  # two copies over 90 days × 24 runs: one per run
    for replica in ("replica1", "replica2"):
        assert len(_fixity_records(khoso, replica)) == 1


def test_audit_cli_restores_a_destruction_case_state_file_lost_in_one_replica(khoso):
    """``khoso audit`` (the service, with the instance's archive code) covers the state files
    of destruction cases not yet executed: exit 1 while one is missing, restored by --repair."""
    from storage.disposal_state import state_key

    data = json.dumps({"kind": "khoso-disposal-case-state", "seq": 1}).encode()
    key = state_key(khoso.settings.archive_code, "0b7e4c52-1f3a-4d6e-8a9b-5c2d1e0f3a4b", 1, data)
    for replica in ("replica1", "replica2"):
        path = khoso.replica(replica) / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (khoso.replica("replica2") / key).unlink()

    found = run(khoso, "audit", "--all", "--json")
    assert found.exit_code == 1, found.output
    assert json.loads(found.output)["disposal_states_unrestored"] == 1
    fixed = run(khoso, "audit", "--all", "--repair", "--json")
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.output)["disposal_states_restored"] == 1
    assert (khoso.replica("replica2") / key).read_bytes() == data
    text = run(khoso, "audit", "--all")
    assert text.exit_code == 0 and "AUD21" not in text.output
