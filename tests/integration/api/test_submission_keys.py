"""A submission's ``Idempotency-Key``: the same account posting the same key again gets the
first job and nothing is staged or queued twice; a sender that did not hear the answer asks
``GET /api/v1/submissions/keys/{key}``; a key is the account's own; a malformed key is SUB030
with nothing written (both catalogs)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from preservation.catalog.models import Job
from tests.support.api_submissions import client, token_for, zipped_sip
from tests.support.sips import ORGAN

pytestmark = pytest.mark.integration
KEY = "urn:P623:uuid-0A1B2C3D-0000-4000-8000-000000000001"


def post(c, bag, headers, key=None):
    return c.post("/api/v1/submissions", data=bag.read_bytes(), headers={
        **headers, "Content-Type": "application/zip", **({"Idempotency-Key": key} if key else {})})


def staged(khoso) -> int:
    folder = khoso.settings.data_dir / "submissions"
    return len(list(folder.iterdir())) if folder.exists() else 0


def jobs(khoso) -> list[tuple[str, str | None, str | None]]:
    with khoso.catalog.session() as s:
        return [(j.id, j.created_by, j.idempotency_key)
                for j in s.scalars(sa.select(Job).order_by(Job.created_at))]


def test_the_same_key_twice_is_one_submission(khoso):
    agency = token_for(khoso, "he-thong-ubnd", "agency_submitter", ORGAN)
    c = client(khoso)
    bag = zipped_sip(khoso.tmp / "a")
    url = f"/api/v1/submissions/keys/{KEY.replace(':', '%3A')}"
    before = c.get(url, headers=agency)
    assert before.status_code == 200 and before.get_json() == {
        "found": False, "job": None, "status_url": None}

    first = post(c, bag, agency, KEY)
    again = post(c, bag, agency, KEY)

    assert first.status_code == again.status_code == 202, again.get_json()
    job = first.get_json()["job"]
    assert again.get_json()["job"] == job
    assert jobs(khoso) == [(job, "he-thong-ubnd", KEY)] and staged(khoso) == 1
    found = c.get(url, headers=agency).get_json()
    assert found == {"found": True, "job": job, "status_url": f"/api/v1/jobs/{job}"}
    # without a key, or with another one, a bag is a new submission
    assert post(c, bag, agency).get_json()["job"] != job
    assert post(c, bag, agency, KEY + "-2").get_json()["job"] != job
    assert len(jobs(khoso)) == 3


def test_a_key_is_the_accounts_own(khoso):
    one = token_for(khoso, "he-thong-1", "agency_submitter", ORGAN)
    two = token_for(khoso, "he-thong-2", "agency_submitter", ORGAN)
    c = client(khoso)
    bag = zipped_sip(khoso.tmp / "a")
    job = post(c, bag, one, KEY).get_json()["job"]
    asked = c.get(f"/api/v1/submissions/keys/{KEY}", headers=two).get_json()
    assert asked["found"] is False, "another account learns nothing of it"
    other = post(c, bag, two, KEY)
    assert other.status_code == 202 and other.get_json()["job"] != job


@pytest.mark.parametrize("key", ["có dấu", "a/b", "x" * 101, ""])
def test_a_malformed_key_is_refused_and_nothing_written(khoso, key):
    agency = token_for(khoso, "he-thong-ubnd", "agency_submitter", ORGAN)
    c = client(khoso)
    r = c.post("/api/v1/submissions", data=b"PK\x03\x04" + b"0" * 100, headers={
        **agency, "Content-Type": "application/zip", "Idempotency-Key": key})
    assert r.status_code == 400 and r.get_json()["code"] == "SUB030", r.get_json()
    assert "Idempotency-Key" in r.get_json()["message_en"]
    assert jobs(khoso) == [] and staged(khoso) == 0


def test_two_bags_racing_with_one_key_make_one_job(khoso):
    """Both passed the first look before either was queued (the bag still arriving): the
    catalog's unique (submitter, key) lets one job be made; the other gets it and its staged
    copy is dropped."""
    from access_api.services import submissions
    from access_api.services.base import Identity, ServiceContext

    ctx, who = ServiceContext(khoso.settings), Identity("he-thong-ubnd", frozenset())
    folder = khoso.settings.data_dir / "submissions"
    folder.mkdir(parents=True, exist_ok=True)
    one, two = folder / "a.zip", folder / "b.zip"
    for path in (one, two):
        path.write_bytes(zipped_sip(khoso.tmp / path.stem).read_bytes())
    first = submissions.queue(ctx, who, one, None, KEY)
    second = submissions.queue(ctx, who, two, None, KEY)
    assert second == first and jobs(khoso) == [(first, "he-thong-ubnd", KEY)]
    assert one.exists() and not two.exists()
