"""Two submissions of one hồ sơ at once: the second waits for the first (ING036, retried, never
a rejection), is refused as a duplicate when the first was accepted, and goes ahead when it was
not. AIP keys are write-once, so without this both could write part of the keys and both fail."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from access_api.services import build_services
from ingest.jobs import create_job, run_job
from preservation.catalog.claims import claim
from preservation.catalog.models import Job, Package
from preservation.errors import KhosoError
from tests.support.hostile import files_in
from tests.support.sips import make_sip

ARC = "TTLTNA.H49.64.33.2001.160"


def status(khoso, job_id: str) -> str:
    with khoso.catalog.session() as s:
        return s.get(Job, job_id).status


def set_status(khoso, job_id: str, value: str) -> None:
    with khoso.catalog.session() as s:
        s.get(Job, job_id).status = value


def packages(khoso) -> list[tuple[str, str]]:
    with khoso.catalog.session() as s:
        return [tuple(r) for r in s.execute(sa.select(Package.kind, Package.status))]


def test_a_second_submission_waits_while_the_first_runs_then_goes_ahead_if_it_failed(khoso):
    first = create_job(khoso.catalog, make_sip(khoso.tmp / "a"), "tester")
    assert claim(khoso.catalog, ARC, first) is None  # the first passed validation, is storing
    second = create_job(khoso.catalog, make_sip(khoso.tmp / "b"), "tester")
    services = build_services(khoso.settings)
    with pytest.raises(KhosoError) as caught:
        run_job(khoso.settings, khoso.catalog, second, services=services)
    assert caught.value.code == "ING036" and caught.value.transient
    assert status(khoso, second) == "queued"  # retried later, not rejected
    assert packages(khoso) == []  # no rejection recorded against the agency, nothing stored
    assert files_in(khoso.replica("replica1")) == []

    set_status(khoso, first, "failed")  # the first ended without an AIP: the second takes over
    outcome = run_job(khoso.settings, khoso.catalog, second, services=services)
    assert outcome is not None and outcome.accepted, outcome.report.to_dict()


def test_a_second_submission_is_refused_as_a_duplicate_once_the_first_is_accepted(khoso):
    assert khoso.ingest(make_sip(khoso.tmp / "a")).accepted
    before = files_in(khoso.replica("replica1"))
    outcome = khoso.ingest(make_sip(khoso.tmp / "b"))
    assert not outcome.accepted and "ING005" in outcome.report.codes()
    assert files_in(khoso.replica("replica1")) == before


def test_a_job_retrying_keeps_its_own_claim(khoso):
    job = create_job(khoso.catalog, make_sip(khoso.tmp / "a"), "tester")
    assert claim(khoso.catalog, ARC, job) is None
    assert claim(khoso.catalog, ARC, job) is None
    other = create_job(khoso.catalog, make_sip(khoso.tmp / "b"), "tester")
    assert claim(khoso.catalog, ARC, other) == job
