"""A digitisation over real HTTP on a running ``khoso serve``: the ZIP posted by an archivist,
the job run by the serve's own Celery worker (the same ingest task, which finds the digitisation
in the job's payload), polled until accepted, then found by a word of its pages."""

from __future__ import annotations

import urllib.parse

import pytest

from tests.integration.api.test_digitisation_api import zipped
from tests.integration.api.test_end_to_end import account, wait_job
from tests.support.cli import cli_env
from tests.support.digitised import FILE_CODE, make_folder
from tests.support.live import live_khoso
from tests.support.sips import FOND

SMALL = [["Biên bản kiểm kê tài liệu tồn đọng"], ["Quyết định phân công cán bộ"]]


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_worker_digitises_a_posted_zip(khoso, tmp_path):
    archivist = account(cli_env(khoso), "luu-tru-vien", "archivist")
    body = zipped(make_folder(tmp_path / "quet", texts=SMALL))
    query = urllib.parse.urlencode({"hoso": FILE_CODE, "fond": FOND, "scanner": "Kodak i4250"})
    with live_khoso(khoso, tmp_path) as live:
        status, answer = live.json("POST", f"/api/v1/digitisations?{query}", token=archivist,
                                   body=body, headers={"Content-Type": "application/zip"})
        assert status == 202, answer
        job = wait_job(live, archivist, answer["job"], timeout=300)
        assert job["state"] == "accepted" and job["objid"], job
        status, found = live.json("GET", "/api/v1/search?q=kiem%20ke%20ton%20dong")
        assert status == 200 and [h["docCode"] for h in found["hits"]] == [
            f"TTLTNA.{FILE_CODE}.0000001"], found
