"""Digitisation on a full work disk (a real ENOSPC: the jobs' staging folder is a small tmpfs):
the archive's own fault, so the job stays queued for a retry — not refused as if the scans
were bad (DIG115), not failed for good — with no partial PDF left in the workspace and no
document, AIP or OCR text registered; once there is room, the retry makes the AIP."""

from __future__ import annotations

import subprocess

import pytest

from access_api.services import digitisation as service
from access_api.services.base import ServiceContext
from access_api.services.wiring import build_services
from ingest.jobs import run_job
from preservation.catalog.models import Job
from preservation.catalog.vocab import JobStatus
from tests.integration.digitise.test_import_refusals import (
    ARCHIVIST,
    SMALL,
    nothing_stored,
    options,
)
from tests.support.digitised import make_folder

pytestmark = pytest.mark.integration


@pytest.fixture(params=[("96k", "DIG033"), ("400k", "ING055")], ids=["ocr", "sip"])
def small_staging(khoso, request):
    """Full while ocrmypdf writes its PDF/A (96 KiB), or after the PDFs, while the SIP and
    AIP are built (400 KiB; sizes measured 2026-12-07 with the three pages of ``SMALL``)."""
    staging = khoso.settings.data_dir / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    size, code = request.param
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(staging)],
                   check=True)
    yield staging, code
    subprocess.run(["umount", "-l", str(staging)], check=False)


def test_a_full_work_disk_leaves_the_digitisation_queued_and_the_retry_succeeds(
        khoso, tmp_path, small_staging):
    staging, code = small_staging
    folder = make_folder(tmp_path / "quet", texts=SMALL)
    ctx = ServiceContext(khoso.settings, khoso.catalog)

    done = service.run_now(ctx, ARCHIVIST, folder, options())

    assert done.outcome is None or done.outcome.accepted is False
    assert done.requeued, (done.error, done.outcome and done.outcome.report.to_dict())
    assert done.error is not None and done.error.transient, done.error
    # DIG033 names the work folder and its disk (it was DIG031 "the OCR and PDF/A
    # conversion failed", which sent the operator to the tools)
    assert done.error.code == code, done.error.message("en")
    assert str(staging) in done.error.message("vi"), done.error.message("vi")
    assert "No space left on device" in done.error.message("en")
    with khoso.catalog.session() as s:
        assert s.get_one(Job, done.job_id).status == JobStatus.QUEUED
    nothing_stored(khoso)
    assert not list(staging.rglob("*.pdf")), "no partial PDF left"

    subprocess.run(["umount", "-l", str(staging)], check=True)  # room again
    run_job(ctx.settings, ctx.catalog, done.job_id, services=build_services(ctx.settings))
    with khoso.catalog.session() as s:
        assert s.get_one(Job, done.job_id).status == JobStatus.SUCCEEDED
