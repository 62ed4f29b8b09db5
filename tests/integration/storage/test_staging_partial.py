"""A worker killed while it staged a large file leaves half-written objects that ``list`` does
not show (a filesystem temporary file, an S3 multipart upload never completed): discarding the
job's staging removes those too, so a retried or abandoned job leaves nothing behind."""

from __future__ import annotations

import io

import pytest

from storage.staging import discard, staging_key

JOB = "0b6e4c1a-2f55-4d8e-9a43-5c1d2e3f4a5b"


@pytest.mark.parametrize("backend", ["filesystem", pytest.param(
    "s3", marks=pytest.mark.integration)], indirect=True)
def test_discard_removes_what_a_killed_put_left(backend):
    storage = backend.storage
    storage.put(staging_key(JOB, 0), io.BytesIO(b"a whole staged copy"), lock=False)
    other = staging_key("another-job", 0)
    storage.put(other, io.BytesIO(b"someone else's"), lock=False)
    if backend.kind == "filesystem":
        folder = storage.root / "_staging" / JOB
        (folder / ".khoso-tmp-deadbeef-4242-1").write_bytes(b"x" * 4096)  # put killed mid-write
    else:
        upload = storage.client.create_multipart_upload(Bucket=storage.bucket,
                                                        Key=staging_key(JOB, 1))
        storage.client.upload_part(Bucket=storage.bucket, Key=staging_key(JOB, 1), PartNumber=1,
                                   UploadId=upload["UploadId"], Body=b"y" * 5 * 2**20)

    assert discard([storage], JOB) >= 2
    assert list(storage.list(f"_staging/{JOB}/")) == []
    assert list(storage.list("_staging/another-job/")) == [other]
    if backend.kind == "filesystem":
        assert not folder.exists()
    else:
        pending = storage.client.list_multipart_uploads(Bucket=storage.bucket,
                                                        Prefix=f"_staging/{JOB}/")
        assert not pending.get("Uploads")
