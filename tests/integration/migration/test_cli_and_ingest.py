"""``khoso formats`` and ``khoso migrate`` end to end; KHOSO_MIGRATE_ON_INGEST honoured both
ways, and FMT005 in the ingest report says what the setting does."""

from __future__ import annotations

import dataclasses
import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from access_api.cli import main
from preservation.catalog.models import Job, Package
from tests.support.cli import cli_env
from tests.support.khoso import Khoso
from tests.support.migration import PDF, PDFA, encrypted_pdf, ingest
from tests.support.sips import make_sip


def run(khoso: Khoso, *args: str, lang: str = "vi"):
    return CliRunner().invoke(main, ["--lang", lang, *args], env=cli_env(khoso),
                              catch_exceptions=False)


def test_formats_then_migrate_now_then_nothing_left(khoso: Khoso) -> None:
    objid, _ = ingest(khoso)
    table = run(khoso, "formats", "--at-risk")
    assert table.exit_code == 0, table.output
    assert "fmt/276" in table.output and "pdfa-2b" in table.output
    assert "fmt/11" not in table.output  # the PNG is accepted: not at risk

    dry = run(khoso, "migrate", "--puid", "fmt/276", "--dry-run")
    assert dry.exit_code == 0 and "1 AIP cần chuyển đổi (1 tệp)" in dry.output
    assert PDF in dry.output
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Package)) == 1

    done = run(khoso, "migrate", "--puid", "fmt/276", "--now", "--json")
    assert done.exit_code == 0, done.output
    (result,) = json.loads(done.output)["results"]
    assert result["outcome"] == "migrated" and result["migrated"] == {PDF: PDFA}

    shown = json.loads(run(khoso, "aip", "show", objid, "--json").output)
    assert [(v["version"], v["status"]) for v in shown["versions"]] == [
        (1, "superseded"), (2, "active")]
    assert any((e["type"], e["outcome"], e["version"]) == ("migration", "success", 2)
               for e in shown["timeline"])
    held = json.loads(run(khoso, "formats", "--json").output)
    assert {f["puid"]: f["files"] for f in held["formats"]} == {
        "fmt/276": 1, "fmt/11": 1, "fmt/477": 1}
    again = run(khoso, "migrate", "--puid", "fmt/276", "--dry-run")
    assert "0 AIP cần chuyển đổi (0 tệp), 1 AIP đã chuyển đổi trước đó" in again.output


def test_migrate_reports_a_failure_and_exits_1(khoso: Khoso) -> None:
    ingest(khoso, **{"tai-lieu-1.pdf": encrypted_pdf(khoso.tmp)})
    failed = run(khoso, "migrate", "--puid", "fmt/276", "--now", lang="en")
    assert failed.exit_code == 1
    assert "[MIG002]" in failed.stderr and "password" in failed.stderr


def test_a_puid_with_no_migration_is_a_clear_error(khoso: Khoso) -> None:
    bad = run(khoso, "migrate", "--puid", "fmt/11", lang="en")
    assert bad.exit_code == 1 and "MIG001" in bad.stderr and "fmt/276" in bad.stderr
    worse = run(khoso, "migrate", "--puid", "; rm -rf /")
    assert worse.exit_code == 1 and "MIG005" in worse.stderr


@pytest.mark.parametrize("mode", ["off", "queue"])
def test_migrate_on_ingest_is_honoured_and_fmt005_says_so(khoso: Khoso, mode: str,
                                                           monkeypatch) -> None:
    from access_api.services import migration

    sent: list[str] = []
    real = migration.queue_aip
    monkeypatch.setattr(migration, "queue_aip", lambda ctx, actor, o, puids, send=None: real(
        ctx, actor, o, puids, send=lambda jid: sent.append(jid) or "task"))
    khoso.settings = dataclasses.replace(khoso.settings, migrate_on_ingest=mode)

    outcome = khoso.ingest(make_sip(khoso.tmp / "sip"))

    assert outcome.accepted
    (fmt005,) = [i for i in outcome.report.issues if i.code == "FMT005"]
    vi, en = fmt005.message("vi"), fmt005.message("en")
    with khoso.catalog.session() as s:
        jobs = list(s.scalars(sa.select(Job).where(Job.kind == "migration")))
    if mode == "queue":
        assert "xếp lịch chuyển đổi tệp sang PDF/A-2b" in vi
        assert "queues the file's migration to PDF/A-2b" in en and "khoso migrate" not in en
        (job,) = jobs
        assert job.payload == {"objid": outcome.objid, "puids": ["fmt/276"]}
        assert sent == [job.id] and job.status == "queued"
    else:
        assert "khoso migrate" in vi and "không tự chuyển đổi" in vi
        assert "does not convert it at ingest" in en and "queues" not in en
        assert jobs == [] and sent == []
    assert "sẽ chuyển đổi" not in vi and "will convert" not in en
