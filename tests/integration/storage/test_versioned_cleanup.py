"""Cleanup of a job's own leftovers in a versioned S3 bucket (moto): staged copies discarded
after a failed or moved ingest, and the objects a killed attempt left under its AIP prefix.

A plain listing does not show a key whose current version is a delete marker, yet its older
versions still hold the bytes of a rejected or half-written package: the cleanup must find
them, remove every version and marker of its own keys (never a neighbour's), and report a
locked version instead of passing over it."""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest

from storage.errors import StorageError
from storage.memory import MemoryStorage
from storage.occupancy import occupancy, purge
from storage.s3 import S3Storage
from storage.staging import discard, staging_key

pytestmark = pytest.mark.integration

JOB = "5e1f0c2a-7d3b-4a9e-8c61-0f2e3d4c5b6a"
PREFIX = "TTLTNA/P623/TTLTNA.H49.2001.1/v1"


@pytest.fixture
def versioned(s3_endpoint: str, new_bucket, raw_s3):
    def make(*, lock: bool = False) -> S3Storage:
        bucket = new_bucket(lock=lock, versioned=not lock)  # Object Lock turns versioning on
        return S3Storage(bucket, endpoint_url=s3_endpoint, region="us-east-1", name="offsite",
                         max_attempts=2)

    return make


def everything(raw_s3, bucket: str, prefix: str = "") -> list[tuple[str, bool]]:
    """(key, is a delete marker) of every version under ``prefix``."""
    listing = raw_s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    return sorted([(v["Key"], False) for v in listing.get("Versions", [])]
                  + [(m["Key"], True) for m in listing.get("DeleteMarkers", [])])


def hide(raw_s3, bucket: str, key: str, data: bytes) -> None:
    """A version of ``key`` with ``data``, then a delete marker on top: ``list`` no longer
    shows the key, its bytes are still stored."""
    raw_s3.put_object(Bucket=bucket, Key=key, Body=data)
    raw_s3.delete_object(Bucket=bucket, Key=key)


def test_discard_removes_staged_keys_hidden_behind_delete_markers(versioned, raw_s3):
    s = versioned()
    s.put(staging_key(JOB, 0), io.BytesIO(b"a staged copy"), lock=False, replace=True)
    hide(raw_s3, s.bucket, staging_key(JOB, 1), b"half a rejected package")
    hide(raw_s3, s.bucket, staging_key(JOB, 2), b"first try")
    raw_s3.put_object(Bucket=s.bucket, Key=staging_key(JOB, 2), Body=b"second try")
    neighbour = staging_key(JOB + "0", 0)  # another job whose id starts with this one's
    hide(raw_s3, s.bucket, neighbour, b"someone else's")
    assert list(s.list(f"_staging/{JOB}/")) == [staging_key(JOB, 0), staging_key(JOB, 2)]

    assert discard([s], JOB) == 3
    assert everything(raw_s3, s.bucket, f"_staging/{JOB}/") == []
    assert everything(raw_s3, s.bucket) == [(neighbour, False), (neighbour, True)]


def test_discard_reports_a_locked_staged_version_and_removes_the_rest(versioned, raw_s3,
                                                                      caplog):
    s = versioned(lock=True)
    locked = staging_key(JOB, 0)
    hide(raw_s3, s.bucket, locked, b"under a bucket's retention")
    until = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=2)
    version = next(v["VersionId"] for v in raw_s3.list_object_versions(
        Bucket=s.bucket)["Versions"] if v["Key"] == locked)
    raw_s3.put_object_retention(Bucket=s.bucket, Key=locked, VersionId=version,
                                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until})
    hide(raw_s3, s.bucket, staging_key(JOB, 1), b"free")

    with caplog.at_level(logging.ERROR, logger="storage.staging"):
        assert discard([s], JOB) == 1
    assert everything(raw_s3, s.bucket) == [(locked, False), (locked, True)]
    reported = [r.getMessage() for r in caplog.records if locked in r.getMessage()]
    assert reported and until.date().isoformat() in reported[0], caplog.text


def test_purge_removes_every_version_under_the_prefix_only(versioned, raw_s3):
    s = versioned()
    memory = MemoryStorage("replica1")
    memory.put(f"{PREFIX}/bag-info.txt", io.BytesIO(b"External-Identifier: urn:own\n"))
    s.put(f"{PREFIX}/bag-info.txt", io.BytesIO(b"External-Identifier: urn:own\n"))
    hide(raw_s3, s.bucket, f"{PREFIX}/data/METS.xml", b"<mets/>")
    hide(raw_s3, s.bucket, f"{PREFIX}/data/representations/rep1/data/a.pdf", b"%PDF-1.7")
    hide(raw_s3, s.bucket, f"{PREFIX}0/data/METS.xml", b"<mets/> of v10")  # a neighbour

    assert purge([memory, s], PREFIX) == 4
    assert list(memory.list()) == []
    assert everything(raw_s3, s.bucket, PREFIX + "/") == []
    assert everything(raw_s3, s.bucket) == [(f"{PREFIX}0/data/METS.xml", False),
                                            (f"{PREFIX}0/data/METS.xml", True)]


@pytest.mark.parametrize("hold", [False, True], ids=["retention", "legal-hold"])
def test_purge_refuses_a_locked_version_before_deleting_anything(versioned, raw_s3, hold):
    """A locked older version behind a delete marker: a transient error naming the location,
    the key and the lock (the job is retried, its SIP kept); nothing deleted anywhere."""
    s = versioned(lock=True)
    memory = MemoryStorage("replica1")
    memory.put(f"{PREFIX}/data/METS.xml", io.BytesIO(b"<mets/>"))
    key = f"{PREFIX}/data/representations/rep1/data/a.pdf"
    raw_s3.put_object(Bucket=s.bucket, Key=f"{PREFIX}/data/METS.xml", Body=b"<mets/>")
    version = raw_s3.put_object(Bucket=s.bucket, Key=key, Body=b"%PDF-1.7")["VersionId"]
    until = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=3)
    if hold:
        raw_s3.put_object_legal_hold(Bucket=s.bucket, Key=key, VersionId=version,
                                     LegalHold={"Status": "ON"})
    else:
        raw_s3.put_object_retention(Bucket=s.bucket, Key=key, Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": until})
    raw_s3.delete_object(Bucket=s.bucket, Key=key)
    before = everything(raw_s3, s.bucket)

    with pytest.raises(StorageError) as info:
        purge([memory, s], PREFIX)
    error = info.value
    assert error.code == "STO046" and error.transient
    for lang in ("vi", "en"):
        assert "offsite" in error.message(lang) and key in error.message(lang)
    if hold:
        assert "legal hold" in error.message("en") and "legal hold" in error.message("vi")
    else:
        assert until.date().isoformat() in error.message("en")
    assert "giữ" in error.message("vi")
    assert list(memory.list()) == [f"{PREFIX}/data/METS.xml"], "nothing deleted anywhere"
    assert everything(raw_s3, s.bucket) == before
    if hold:
        raw_s3.put_object_legal_hold(Bucket=s.bucket, Key=key, VersionId=version,
                                     LegalHold={"Status": "OFF"})  # the bucket can go


# -- occupancy: what an AIP prefix holds, every version counted -----------------------------

def test_a_prefix_holding_only_hidden_versions_is_held_and_says_how_much(versioned, raw_s3):
    """A killed attempt's objects deleted (delete markers on top): a listing shows nothing,
    yet the older versions occupy space and name the package; once purged the prefix is free."""
    s = versioned()
    assert occupancy([s], PREFIX) is None
    hide(raw_s3, s.bucket, f"{PREFIX}/bag-info.txt", b"External-Identifier: urn:own\n")
    hide(raw_s3, s.bucket, f"{PREFIX}/data/METS.xml", b"<mets/>")
    hide(raw_s3, s.bucket, f"{PREFIX}0/data/METS.xml", b"<mets/> of v10")  # a neighbour
    assert list(s.list(PREFIX + "/")) == []

    held = occupancy([MemoryStorage("replica1"), s], PREFIX)

    assert held is not None and held.locations == ("offsite",) and held.hidden == ("offsite",)
    assert held.identifiers == {"urn:own"}
    assert (held.noncurrent, held.noncurrent_bytes) == (4, 29 + 7)  # 2 versions, 2 markers
    assert purge([s], PREFIX) == 2
    assert occupancy([s], PREFIX) is None


def test_older_versions_under_current_keys_are_counted(versioned, raw_s3):
    s = versioned()
    s.put(f"{PREFIX}/bag-info.txt", io.BytesIO(b"External-Identifier: urn:P623:uuid-1\n"))
    raw_s3.put_object(Bucket=s.bucket, Key=f"{PREFIX}/data/METS.xml", Body=b"first")
    raw_s3.put_object(Bucket=s.bucket, Key=f"{PREFIX}/data/METS.xml", Body=b"second")
    hide(raw_s3, s.bucket, f"{PREFIX}/data/gone.pdf", b"%PDF-1.7")

    held = occupancy([s], PREFIX)

    assert held is not None and held.locations == ("offsite",) and held.hidden == ()
    assert held.identifiers == {"urn:P623:uuid-1"}
    assert (held.noncurrent, held.noncurrent_bytes) == (3, 5 + 8)  # first, gone.pdf, a marker


def test_hidden_versions_of_another_package_are_not_free(versioned, raw_s3):
    """The ingest step reads this as held by another package (ING035), as it does a current
    copy: its keys are never written on top of another package's history."""
    s = versioned()
    hide(raw_s3, s.bucket, f"{PREFIX}/bag-info.txt", b"External-Identifier: urn:old\n")
    raw_s3.put_object(Bucket=s.bucket, Key=f"{PREFIX}/bag-info.txt",
                      Body=b"External-Identifier: urn:older\n")
    raw_s3.delete_object(Bucket=s.bucket, Key=f"{PREFIX}/bag-info.txt")

    held = occupancy([s], PREFIX)

    assert held is not None and held.identifiers == {"urn:older"}, "the newest older version"
    assert held.noncurrent == 4
