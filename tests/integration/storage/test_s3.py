"""What only S3 has: multipart, Object Lock, versions, the read-back check, settings URLs."""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest

from preservation.settings import parse_locations
from storage import (
    DigestMismatch,
    FixityOutcome,
    ObjectLocked,
    ObjectMissing,
    StorageError,
    open_storage,
)
from storage.s3 import S3Storage
from tests.support.backends import S3_PART, MiB

from .test_contract import FailingStream

pytestmark = pytest.mark.integration


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def make_s3(s3_endpoint: str, new_bucket):
    def make(bucket: str | None = None, **kwargs) -> S3Storage:
        kwargs.setdefault("multipart_threshold", S3_PART)
        kwargs.setdefault("part_size", S3_PART)
        return S3Storage(bucket or new_bucket(), endpoint_url=s3_endpoint, region="us-east-1", **kwargs)

    return make


def test_large_object_goes_multipart_with_part_checksums(make_s3, raw_s3) -> None:
    s = make_s3()
    data = b"\x5a" * (12 * MiB + 7)
    stored = s.put("aip/big.bin", io.BytesIO(data), expected_sha256=sha(data))
    head = raw_s3.head_object(Bucket=s.bucket, Key="aip/big.bin", ChecksumMode="ENABLED")
    assert head["ETag"].strip('"').endswith("-3")  # 5 + 5 + 2 MiB parts
    assert head["Metadata"]["sha256"] == stored.sha256 == sha(data)
    assert s.verify("aip/big.bin", sha(data)).outcome is FixityOutcome.OK


def test_multipart_without_expected_digest_has_no_recorded_digest(make_s3) -> None:
    s = make_s3()
    data = b"\x01" * (6 * MiB)
    assert s.put("k", io.BytesIO(data)).sha256 == sha(data)
    assert s.stat("k").sha256 is None  # metadata is fixed before the digest is known


def test_single_put_below_threshold(make_s3, raw_s3) -> None:
    s = make_s3()
    s.put("k", io.BytesIO(b"x" * S3_PART))  # exactly the threshold: still one PUT
    assert "-" not in raw_s3.head_object(Bucket=s.bucket, Key="k")["ETag"]


def test_failed_multipart_is_aborted(make_s3, raw_s3) -> None:
    s = make_s3()
    with pytest.raises(ConnectionResetError):
        s.put("k", FailingStream(11 * MiB))
    assert raw_s3.list_multipart_uploads(Bucket=s.bucket).get("Uploads", []) == []
    assert list(s.list()) == []


def test_multipart_digest_mismatch_is_aborted(make_s3, raw_s3) -> None:
    s = make_s3()
    with pytest.raises(DigestMismatch):
        s.put("k", io.BytesIO(b"\x02" * (11 * MiB)), expected_sha256=sha(b"something else"))
    assert raw_s3.list_multipart_uploads(Bucket=s.bucket).get("Uploads", []) == []
    assert list(s.list()) == []


class _CorruptingClient:
    """Passes everything to boto3 but flips a byte of what put_object/upload_part send.

    moto accepts the wrong checksum header, as a careless S3 server would: only the read-back
    check can catch it.
    """

    def __init__(self, client) -> None:
        self._client = client

    def __getattr__(self, name: str):
        attr = getattr(self._client, name)
        if name not in ("put_object", "upload_part"):
            return attr

        def corrupted(**kwargs):
            body = bytearray(kwargs["Body"])
            body[0] ^= 0xFF
            return attr(**{**kwargs, "Body": bytes(body)})

        return corrupted


@pytest.mark.parametrize("sdk_checks", [False, True], ids=["own-hash", "sdk-checksum"])
@pytest.mark.parametrize("size", [1000, 6 * MiB], ids=["single", "multipart"])
def test_read_back_catches_server_corruption(make_s3, raw_s3, new_bucket, size: int,
                                             sdk_checks: bool) -> None:
    bucket = new_bucket(versioned=True)
    # Our client leaves checksums to us; a default boto3 client also validates them on GET.
    client = raw_s3 if sdk_checks else make_s3(bucket).client
    s = make_s3(bucket, client=_CorruptingClient(client))
    with pytest.raises(DigestMismatch) as info:
        s.put("k", io.BytesIO(b"\x03" * size))
    assert info.value.code == "STO011" and s.name in info.value.message("en")
    assert list(s.list()) == []
    versions = raw_s3.list_object_versions(Bucket=bucket)
    assert versions.get("Versions", []) == []  # the bad version itself is gone, not hidden


def test_object_lock_compliance_refuses_delete(make_s3, raw_s3, new_bucket) -> None:
    s = make_s3(new_bucket(lock=True), lock_mode="COMPLIANCE", lock_days=1)
    s.put("aip/locked.bin", io.BytesIO(b"keep me"))
    head = raw_s3.head_object(Bucket=s.bucket, Key="aip/locked.bin")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    until = head["ObjectLockRetainUntilDate"]
    assert timedelta(hours=23) < until - datetime.now(UTC) < timedelta(days=1, minutes=5)
    with pytest.raises(ObjectLocked) as info:
        s.delete("aip/locked.bin")
    assert info.value.code == "STO005" and not info.value.transient
    assert "Object Lock" in info.value.message("vi") and str(until.year) in info.value.message("en")
    assert s.verify("aip/locked.bin", sha(b"keep me")).ok


def test_lock_on_bucket_without_object_lock_is_permanent_error(make_s3) -> None:
    s = make_s3(lock_mode="GOVERNANCE", lock_days=1)
    with pytest.raises(StorageError) as info:
        s.put("k", io.BytesIO(b"x"))
    assert info.value.code == "STO007" and not info.value.transient
    assert "InvalidRequest" in info.value.message("en")
    assert list(s.list()) == []


def test_delete_removes_every_version(make_s3, raw_s3, new_bucket) -> None:
    s = make_s3(new_bucket(versioned=True))
    s.put("k", io.BytesIO(b"v1"))
    s.put("k", io.BytesIO(b"v2"), replace=True)
    s.put("k2", io.BytesIO(b"other"))
    s.delete("k")
    listing = raw_s3.list_object_versions(Bucket=s.bucket)
    left = [v["Key"] for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])]
    assert left == ["k2"]


def test_delete_removes_a_key_hidden_behind_a_delete_marker(make_s3, raw_s3, new_bucket) -> None:
    """A plain delete in a versioned bucket hides the bytes behind a marker; ``delete`` still
    finds and removes the older version and the marker."""
    s = make_s3(new_bucket(versioned=True))
    s.put("k", io.BytesIO(b"record"))
    raw_s3.delete_object(Bucket=s.bucket, Key="k")
    assert list(s.list()) == []
    s.delete("k")
    listing = raw_s3.list_object_versions(Bucket=s.bucket)
    assert listing.get("Versions", []) == [] and listing.get("DeleteMarkers", []) == []
    with pytest.raises(ObjectMissing):
        s.delete("k")


def test_move_leaves_no_version_of_the_staged_object(make_s3, raw_s3, new_bucket) -> None:
    s = make_s3(new_bucket(versioned=True))
    s.put("staging/j/k", io.BytesIO(b"record"), lock=False, replace=True)
    s.move("staging/j/k", "aip/k", expected_sha256=sha(b"record"))
    listing = raw_s3.list_object_versions(Bucket=s.bucket, Prefix="staging/")
    assert listing.get("Versions", []) == [] and listing.get("DeleteMarkers", []) == []


def test_missing_bucket_is_permanent(make_s3) -> None:
    s = make_s3("khoso-test-no-such-bucket")
    with pytest.raises(StorageError) as info:
        s.put("k", io.BytesIO(b"x"))
    assert info.value.code == "STO007" and not info.value.transient
    assert "NoSuchBucket" in info.value.message("en")
    assert not s.health().up
    assert s.verify("k", sha(b"x")).outcome is FixityOutcome.UNREADABLE


def test_open_storage_from_settings_url(s3_endpoint: str, new_bucket) -> None:
    bucket = new_bucket(lock=True)
    (location,) = parse_locations(
        f"offsite=s3://{bucket}?endpoint={s3_endpoint}&region=us-east-1&lock_mode=GOVERNANCE&lock_days=2")
    s = open_storage(location)
    assert isinstance(s, S3Storage) and s.name == "offsite" and s.lock_days == 2
    s.put("k", io.BytesIO(b"x"))
    assert s.health().up and "GOVERNANCE" in s.health().detail
    with pytest.raises(ObjectLocked):
        s.delete("k")


def test_verify_trusts_bytes_not_the_servers_checksum_header(make_s3, raw_s3) -> None:
    s = make_s3()
    s.put("k", io.BytesIO(b"original"))
    # moto stores a body that does not match the checksum it was sent (real S3 would refuse).
    good = base64.b64encode(hashlib.sha256(b"original").digest()).decode()
    raw_s3.put_object(Bucket=s.bucket, Key="k", Body=b"origina1", ChecksumSHA256=good,
                      Metadata={"sha256": sha(b"original")})
    result = s.verify("k", sha(b"original"))
    assert result.outcome is FixityOutcome.MISMATCH and result.actual_sha256 == sha(b"origina1")
