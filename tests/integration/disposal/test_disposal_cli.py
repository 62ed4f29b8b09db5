"""``khoso disposal`` and the daily scan job on a real catalog (SQLite and PostgreSQL) and two
filesystem locations: listing is idempotent, holds exclude, wrong input gets its code."""

from __future__ import annotations

import json

import pytest
from celery import Celery

from access_api.services.disposal.jobs import SCHEDULE, TASK
from access_api.services.wiring import register_worker_tasks
from tests.integration.disposal.conftest import EXPIRED
from tests.support.cli import cli_env, run
from tests.support.sips import make_sip

pytestmark = pytest.mark.integration


@pytest.fixture
def env(khoso, tmp_path):
    for folder, hoso in (("p", None), ("e", {"fileCode": EXPIRED, "maintenance": "06"})):
        assert khoso.ingest(make_sip(tmp_path / folder, hoso=hoso)).accepted
    return cli_env(khoso)


def test_scan_hold_lift_list(env):
    first = run(env, "disposal", "scan", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["codes"] == [f"TTLTNA.{EXPIRED}"]
    again = json.loads(run(env, "disposal", "scan", "--json").stdout)
    assert again["listed"] == 0  # idempotent
    listed = json.loads(run(env, "disposal", "list", "--json").stdout)
    assert [r["code"] for r in listed] == [f"TTLTNA.{EXPIRED}"] and listed[0]["reason"] == "expired"

    held = run(env, "disposal", "hold", EXPIRED, "--reason", "Đang thanh tra")
    assert held.exit_code == 0, held.output
    assert json.loads(run(env, "disposal", "list", "--json").stdout) == []
    twice = run(env, "disposal", "hold", EXPIRED, "--reason", "Lần nữa")
    assert twice.exit_code != 0 and "DES027" in twice.output
    assert json.loads(run(env, "disposal", "scan", "--json").stdout)["skipped_held"] == 1
    assert run(env, "disposal", "lift", "1", "--reason", "Xong").exit_code == 0
    lifted = run(env, "disposal", "lift", "1", "--reason", "Xong")
    assert lifted.exit_code != 0 and "DES024" in lifted.output
    assert json.loads(run(env, "disposal", "scan", "--json").stdout)["listed"] == 1


@pytest.mark.parametrize(("args", "code"), [
    (("hold", "KHONG.CO", "--reason", "x"), "DES002"),
    (("hold", "a\x01b", "--reason", "x"), "DES002"),
    (("hold", "x" * 5000, "--reason", "x"), "DES002"),
    (("lift", "999999", "--reason", "x"), "DES023"),
    (("execute", "not-a-case"), "DES001"),
    (("execute", "../../etc/passwd"), "DES001"),
])
def test_bad_input_gets_its_code(env, args, code):
    result = run(env, "disposal", *args)
    assert result.exit_code != 0 and code in result.output, result.output


def test_a_permanent_record_is_never_listed(env):
    scanned = json.loads(run(env, "disposal", "scan", "--json").stdout)
    assert "TTLTNA.H49.64.33.2001.160" not in scanned["codes"]


def test_the_daily_job_is_scheduled_and_scans(khoso, env):
    app = Celery("khoso-test")
    register_worker_tasks(app, khoso.settings)
    schedule = app.conf.beat_schedule[SCHEDULE]
    assert schedule["task"] == TASK and schedule["schedule"].hour == {2}
    assert "khoso-fixity-audit" in app.conf.beat_schedule
    result = app.tasks[TASK]()
    assert result["codes"] == [f"TTLTNA.{EXPIRED}"]
    assert app.tasks[TASK]()["listed"] == 0


def test_danh_muc_het_gia_tri_report_rows_match_the_catalog(khoso, env):
    from access_api.services.base import ServiceContext
    from access_api.services.reports import REPORTS
    from access_api.services.reports.spec import ReportParams

    spec = REPORTS["danh_muc_het_gia_tri"]
    ctx = ServiceContext(khoso.settings, khoso.catalog)
    assert list(spec.rows(ctx, ReportParams())) == []
    run(env, "disposal", "scan")
    rows = list(spec.rows(ctx, ReportParams()))
    assert [(r[0], r[1], r[4], r[6]) for r in rows] == [
        (1, f"TTLTNA.{EXPIRED}", "06", "Hết thời hạn bảo quản")]
    assert rows[0][5] == "2011-12-31"  # 31/12 of 2001 + 10 years
    assert list(spec.rows(ctx, ReportParams(fonds="KHAC"))) == []
    english = list(spec.rows(ctx, ReportParams(lang="en")))
    assert english[0][6] == "Retention expired"


def test_duplicates_by_number_notation_organ_and_date(khoso, tmp_path):
    """A hồ sơ whose every văn bản has the số, ký hiệu, cơ quan and ngày of a văn bản of an
    earlier hồ sơ is listed (its files differ); one that also holds a photo is not."""
    from tests.support.pki import minimal_pdf

    recent = {"maintenance": "06", "startDate": "01/01/2024", "endDate": "31/12/2024"}
    sips = [("kept", {"fileCode": "H49.64.33.2001.180"}, 1, "giữ"),
            ("same", {"fileCode": "H49.64.33.2024.181", **recent}, 1, "bản khác"),
            ("photo", {"fileCode": "H49.64.33.2024.182", **recent}, 2, "bản khác nữa")]
    for folder, hoso, count, text in sips:
        sip = make_sip(tmp_path / folder, hoso=hoso, count=count,
                       contents={"tai-lieu-1.pdf": minimal_pdf(text)})
        assert khoso.ingest(sip).accepted
    result = json.loads(run(cli_env(khoso), "disposal", "scan", "--json").stdout)
    assert result["codes"] == ["TTLTNA.H49.64.33.2024.181"] and result["duplicates"] == 1
    listed = json.loads(run(cli_env(khoso), "disposal", "list", "--json").stdout)
    assert [(r["reason"], r["duplicate_of"]) for r in listed] == [
        ("duplicate_metadata", "TTLTNA.H49.64.33.2001.180")]
