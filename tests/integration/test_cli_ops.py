"""The operator commands end to end on a real catalog: jobs, AIPs, audit output, settings, -q/-v,
and a worker's own log line per job (issue 13 section 4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from access_api.cli import main
from ingest.jobs import submit
from ingest.pipeline import STEPS
from preservation.jobs import make_celery
from tests.support.cli import cli_env, content_file
from tests.support.sips import make_sip
from tests.support.versions import retitle, update
from tests.support.viruses import EICAR
from tests.support.workers import job_status, wait_for, worker_env

ROOT = Path(__file__).parents[2]


def run(khoso, *args, env=None):
    return CliRunner().invoke(main, list(args), env={**cli_env(khoso), **(env or {})},
                              catch_exceptions=False)


@pytest.fixture
def two_jobs(khoso):
    accepted = khoso.ingest(make_sip(khoso.tmp / "good"))
    rejected = khoso.ingest(make_sip(khoso.tmp / "bad", contents={"tai-lieu-2.png": EICAR}))
    assert accepted.accepted and not rejected.accepted
    return accepted, rejected


def test_job_list_and_show_give_outcome_and_report(khoso, two_jobs):
    accepted, rejected = two_jobs
    rows = json.loads(run(khoso, "job", "list", "--json").output)
    assert {r["id"]: r["outcome"] for r in rows} == {accepted.job_id: "accepted",
                                                   rejected.job_id: "rejected"}
    only = json.loads(run(khoso, "job", "list", "--state", "failed", "--json").output)
    assert [r["id"] for r in only] == [rejected.job_id]
    table = run(khoso, "job", "list").output
    assert accepted.job_id in table and "accepted" in table

    shown = run(khoso, "job", "show", rejected.job_id, "--json")
    assert shown.exit_code == 1
    view = json.loads(shown.output)
    assert view["state"] == "failed" and view["outcome"] == "rejected"
    assert view["failed_step"] == "scan_viruses"
    virus = [i for i in view["issues"] if i["severity"] == "error"]
    assert virus and all(i["code"] and i["message"] and i["message_en"] for i in virus)
    assert any(i["path"].endswith("tai-lieu-2.png") for i in virus)

    plain = run(khoso, "job", "show", rejected.job_id)
    assert plain.exit_code == 1
    assert "bị từ chối" in plain.output and "scan_viruses" in plain.output
    assert f"[{virus[0]['code']}] lỗi" in plain.output

    good = run(khoso, "--lang", "en", "job", "show", accepted.job_id)
    assert good.exit_code == 0 and "accepted" in good.output and accepted.objid in good.output
    assert json.loads(run(khoso, "job", "show", accepted.job_id, "--json").output)[
        "objid"] == accepted.objid

    missing = run(khoso, "job", "show", "no-such-job")
    assert missing.exit_code == 2 and "GEN002" in missing.output


def test_aip_list_and_show_versions_copies_and_timeline(khoso):
    outcome = khoso.ingest(make_sip(khoso.tmp / "sip"))
    assert outcome.accepted
    key = next(khoso.replica("replica1").glob("TTLTNA/*/*/v1/data/metadata/descriptive/EAD.xml"))
    assert update(khoso, outcome.objid, package_ead=retitle(key.read_bytes(), "Tiêu đề mới")
                  ).accepted

    rows = json.loads(run(khoso, "aip", "list", "--json").output)
    assert [(r["objid"], r["version"], r["versions"]) for r in rows] == [(outcome.objid, 2, 2)]
    assert rows[0]["copies"] == 2 and rows[0]["copies_ok"] == 2
    assert outcome.objid in run(khoso, "aip", "list").output

    detail = json.loads(run(khoso, "aip", "show", outcome.objid, "--json").output)
    versions = detail["versions"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "superseded"), (2, "active")]
    for v in versions:
        assert sorted(c["location"] for c in v["copies"]) == ["replica1", "replica2"]
        assert all(c["status"] == "ok" and c["checked_at"] and c["key"].endswith(
            f"/v{v['version']}") for c in v["copies"])
    timeline = detail["timeline"]
    assert [e["time"] for e in timeline] == sorted(e["time"] for e in timeline)
    types = [e["type"] for e in timeline]
    assert types[0] == "ingestion start" and "virus check" in types
    assert {e["version"] for e in timeline} == {1, 2}
    assert all(e["outcome"] and e["agents"] is not None for e in timeline)
    assert any(e["agents"] for e in timeline)

    plain = run(khoso, "aip", "show", outcome.objid).output
    assert "v1 superseded" in plain and "v2 active" in plain and "virus check" in plain
    virus = [line for line in plain.splitlines() if "virus check" in line]
    assert len(virus) == 1 and "×" in virus[0]  # one line for the per-file checks alike
    missing = run(khoso, "aip", "show", "uuid-khong-co")
    assert missing.exit_code == 2 and "GEN002" in missing.output


def test_audit_plain_output_names_each_bad_object(khoso):
    assert khoso.ingest(make_sip(khoso.tmp / "sip")).accepted
    damaged = content_file(khoso, "replica1")
    damaged.write_bytes(b"changed")
    content_file(khoso, "replica2").unlink()
    out = run(khoso, "audit", "--all")
    assert out.exit_code == 1
    lines = out.output.splitlines()
    bad = [line for line in lines if "tai-lieu-1.pdf" in line]
    assert len(bad) == 2, out.output
    assert any("replica1" in line and "sai mã băm [AUD001]" in line for line in bad)
    assert any("replica2" in line and "thiếu [AUD002]" in line for line in bad)
    assert all("/v1/" in line for line in bad)  # the storage key, not only the bag path
    english = run(khoso, "--lang", "en", "audit", "--all").output.splitlines()
    bad = [line for line in english if "tai-lieu-1.pdf" in line]
    assert any("replica1" in line and "checksum mismatch [AUD001]" in line for line in bad)
    assert any("replica2" in line and "missing [AUD002]" in line for line in bad)


def test_one_incident_is_one_row_and_rejections_are_not_backups(khoso, two_jobs):
    damaged = content_file(khoso, "replica1")
    damaged.write_bytes(b"changed")
    assert run(khoso, "audit", "--all").exit_code == 1  # found, not repaired
    assert run(khoso, "audit", "--all").exit_code == 1  # found again: the same incident
    assert run(khoso, "audit", "--all", "--repair").exit_code == 0
    incidents = json.loads(run(khoso, "report", "register", "bien_ban_xu_ly_su_co",
                               "--format", "json").output)["rows"]
    assert len(incidents) == 1, incidents
    assert incidents[0]["result"] == "Đã khôi phục và kiểm tra lại mã băm"
    damaged.write_bytes(b"changed again")  # a new incident after the repair: a new row
    assert run(khoso, "audit", "--all", "--repair").exit_code == 0
    incidents = json.loads(run(khoso, "report", "register", "bien_ban_xu_ly_su_co",
                               "--format", "json").output)["rows"]
    assert [r["no"] for r in incidents] == [1, 2]
    assert incidents[0]["detected_at"] <= incidents[1]["detected_at"]
    assert all(r["result"] == "Đã khôi phục và kiểm tra lại mã băm" for r in incidents)

    _accepted, rejected = two_jobs
    backups = json.loads(run(khoso, "report", "register", "nhat_ky_sao_luu",
                             "--format", "json").output)["rows"]
    assert backups and all(not r["objid"].startswith("job:") for r in backups)
    assert f"job:{rejected.job_id}" not in json.dumps(backups)


def test_settings_show_values_in_effect_and_where_they_came_from(khoso, tmp_path):
    env = {"KHOSO_DATABASE_URL": "postgresql+psycopg://khoso:s3cret@db.example/khoso",
           "KHOSO_PORT": "9090"}
    out = run(khoso, "settings", "--json", env=env)
    assert out.exit_code == 0, out.output
    rows = {r["name"]: r for r in json.loads(out.output)}
    assert rows["KHOSO_PORT"] == {**rows["KHOSO_PORT"], "value": "9090", "source": "environment"}
    assert rows["KHOSO_DATABASE_URL"]["value"] == "postgresql+psycopg://khoso:***@db.example/khoso"
    assert rows["KHOSO_HOST"]["source"] == "default" and rows["KHOSO_HOST"]["value"] == "127.0.0.1"
    assert rows["KHOSO_LOG_FORMAT"]["value"] == "text"
    assert rows["KHOSO_DATA_DIR"]["value"] == str(khoso.settings.data_dir)
    plain = run(khoso, "settings", env=env).output
    assert "s3cret" not in plain and "s3cret" not in out.output
    assert "KHOSO_PORT=9090  (môi trường)" in plain and "environment" not in plain
    english = run(khoso, "--lang", "en", "settings", env=env).output
    assert "KHOSO_PORT=9090  (environment)" in english and "môi trường" not in english


def test_settings_doc_speaks_the_chosen_language_and_json_gives_both(khoso):
    env = {"KHOSO_PORT": "x"}
    rows = {r["name"]: r for r in json.loads(run(khoso, "settings", "--json", env=env).output)}
    assert rows["KHOSO_PORT"]["doc"] == {"vi": "Cổng mà khoso serve lắng nghe.",
                                         "en": "Port khoso serve binds."}
    assert rows["KHOSO_PORT"]["error"] == {"vi": "cần một số nguyên dương",
                                           "en": "must be a positive integer"}
    assert rows["KHOSO_HOST"]["error"] is None
    vi = run(khoso, "settings", "--doc", env=env).output
    assert "    giá trị không hợp lệ: cần một số nguyên dương\n" in vi
    assert "    Cổng mà khoso serve lắng nghe. [mặc định: 8080]" in vi
    assert "Port khoso serve binds" not in vi and "positive integer" not in vi
    assert "Catalog database" not in vi and "Cơ sở dữ liệu danh mục" in vi
    en = run(khoso, "--lang", "en", "settings", "--doc", env=env).output
    assert "    invalid value: must be a positive integer\n" in en
    assert "    Port khoso serve binds. [default: 8080]" in en
    assert "Cổng" not in en and "nguyên dương" not in en


def test_quiet_hides_informational_lines_and_verbose_logs_debug(khoso):
    outcome = khoso.ingest(make_sip(khoso.tmp / "sip"))
    loud = run(khoso, "aip", "show", outcome.objid).output
    quiet = run(khoso, "-q", "aip", "show", outcome.objid).output
    assert "Dòng thời gian PREMIS:" in loud and "Dòng thời gian PREMIS" not in quiet
    assert "virus check" in quiet  # results stay
    import logging

    run(khoso, "-v", "aip", "list")
    assert logging.getLogger().level == logging.DEBUG
    run(khoso, "aip", "list")
    assert logging.getLogger().level == logging.WARNING
    both = run(khoso, "-q", "-v", "aip", "list")
    assert both.exit_code == 2


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_worker_logs_json_lines_per_job_and_per_step_and_no_banner(khoso, tmp_path):
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    settings = khoso.settings.__class__(**{**khoso.settings.__dict__, "broker_url": broker})
    app = make_celery(settings)
    good = submit(khoso.catalog, app, make_sip(tmp_path / "good"), "tester")
    bad = submit(khoso.catalog, app, make_sip(tmp_path / "bad", contents={"tai-lieu-2.png": EICAR}),
                 "tester")
    log = tmp_path / "worker.log"
    env = {**worker_env(khoso, broker), "KHOSO_LOG_FORMAT": "json"}
    worker = subprocess.Popen([sys.executable, "-m", "access_api.cli", "-q", "worker"], cwd=ROOT,
                              env={**os.environ, **env}, stdout=log.open("ab"),
                              stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: job_status(khoso.catalog, good) == "succeeded"
                 and job_status(khoso.catalog, bad) == "failed", 120, "both jobs")
        time.sleep(0.5)  # the log line follows the commit
    finally:
        worker.terminate()
        worker.wait(30)
    text = log.read_text(encoding="utf-8")
    assert "succeeded in" not in text and "[tasks]" not in text and "superuser" not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    by_job = {line["job_id"]: line for line in lines if line.get("job_id")}
    assert by_job[good]["outcome"] == "accepted" and by_job[good]["step"] == "register"
    assert by_job[bad]["outcome"] == "rejected" and by_job[bad]["step"] == "scan_viruses"
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    steps = [(line["job_id"], line["step"], line["outcome"]) for line in lines
             if line["logger"] == "ingest.pipeline" and line.get("step")]
    assert [step for job, step, _ in steps if job == good] == [s.name for s in STEPS]
    assert [(step, outcome) for job, step, outcome in steps if job == bad][-1] == (
        "scan_viruses", "failure")


def test_services_show_a_submitter_only_its_own_jobs_and_no_aips(khoso, two_jobs):
    from access_api.services.aips import list_aips
    from access_api.services.base import Identity, ServiceContext, UserRole
    from access_api.services.jobs import list_jobs, show_job
    from preservation.errors import KhosoError

    ctx = ServiceContext(khoso.settings)
    accepted, _rejected = two_jobs
    assert len(list_jobs(ctx, Identity.system())) == 2
    submitter = Identity("tester", frozenset({UserRole.AGENCY_SUBMITTER}))
    other = Identity("someone-else", frozenset({UserRole.AGENCY_SUBMITTER}))
    assert len(list_jobs(ctx, submitter)) == 2  # the fixture's jobs were made by "tester"
    assert list_jobs(ctx, other) == []
    assert show_job(ctx, submitter, accepted.job_id).objid == accepted.objid
    with pytest.raises(KhosoError) as err:
        show_job(ctx, other, accepted.job_id)
    assert err.value.code == "GEN002"
    with pytest.raises(KhosoError) as err:
        list_aips(ctx, Identity("reader", frozenset({UserRole.READER})))
    assert err.value.code == "AUTH004"
    assert [a.objid for a in list_aips(ctx, Identity.system())] == [accepted.objid]
