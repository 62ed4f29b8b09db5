"""How S3 failures become ours, without a server: botocore's Stubber, and a closed port."""

from __future__ import annotations

import hashlib
import io
import socket
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import FlexibleChecksumError
from botocore.stub import Stubber

from storage import FixityOutcome, ObjectLocked, ObjectMissing, StorageError
from storage.s3 import S3Storage


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")


@pytest.fixture
def stubbed():
    client = boto3.client("s3", region_name="us-east-1", endpoint_url="http://s3.invalid")
    with Stubber(client) as stub:
        yield S3Storage("b", client=client, name="offsite"), stub
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(("code", "status", "kind", "transient"), [
    ("NoSuchKey", 404, ObjectMissing, False),
    ("404", 404, ObjectMissing, False),
    ("SlowDown", 503, StorageError, True),
    ("InternalError", 500, StorageError, True),
    ("ThrottlingException", 400, StorageError, True),
    ("AccessDenied", 403, StorageError, False),
    ("NoSuchBucket", 404, StorageError, False),
    ("InvalidRequest", 400, StorageError, False),
])
def test_client_errors_are_mapped(stubbed, code: str, status: int, kind: type, transient: bool) -> None:
    s, stub = stubbed
    stub.add_client_error("head_object", service_error_code=code, http_status_code=status)
    with pytest.raises(kind) as info:
        s.stat("k")
    err = info.value
    assert type(err) is kind and err.transient is transient
    if kind is StorageError:
        assert err.code == ("STO006" if transient else "STO007") and code in err.message("en")


def test_verify_unreadable_is_not_mismatch(stubbed) -> None:
    s, stub = stubbed
    stub.add_client_error("get_object", service_error_code="SlowDown", http_status_code=503)
    result = s.verify("k", hashlib.sha256(b"").hexdigest())
    assert result.outcome is FixityOutcome.UNREADABLE and "SlowDown" in result.detail


class _BadBody(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise FlexibleChecksumError(error_msg="Expected checksum x did not match calculated checksum y")


def test_verify_sdk_checksum_failure_is_mismatch(stubbed) -> None:
    s, stub = stubbed
    stub.add_response("get_object", {"Body": _BadBody()})
    result = s.verify("k", hashlib.sha256(b"").hexdigest())
    assert result.outcome is FixityOutcome.MISMATCH and "did not match" in result.detail


def test_delete_access_denied_means_locked(stubbed) -> None:
    s, stub = stubbed
    # May not even ask whether the bucket is versioned: assume it is and list the versions.
    stub.add_client_error("get_bucket_versioning", service_error_code="AccessDenied", http_status_code=403)
    stub.add_response("list_object_versions", {"Versions": [{"Key": "k", "VersionId": "v1", "IsLatest": True}]})
    stub.add_response("head_object", {"ContentLength": 1}, {"Bucket": "b", "Key": "k", "VersionId": "v1"})
    stub.add_client_error("delete_object", service_error_code="AccessDenied", http_status_code=403)
    with pytest.raises(ObjectLocked) as info:
        s.delete("k")
    assert info.value.code == "STO014" and "AccessDenied" in info.value.message("vi")


def test_delete_under_legal_hold(stubbed) -> None:
    s, stub = stubbed
    stub.add_response("get_bucket_versioning", {})
    stub.add_response("head_object", {"ContentLength": 1, "ObjectLockLegalHoldStatus": "ON"})
    with pytest.raises(ObjectLocked) as info:
        s.delete("k")
    assert info.value.code == "STO013" and "legal hold" in info.value.message("en")


def test_delete_after_retention_expired(stubbed) -> None:
    s, stub = stubbed
    past = datetime.now(UTC) - timedelta(days=1)
    stub.add_response("get_bucket_versioning", {"Status": "Enabled"})
    stub.add_response("list_object_versions", {"Versions": [
        {"Key": "k", "VersionId": "v2", "IsLatest": True}, {"Key": "k", "VersionId": "v1", "IsLatest": False},
        {"Key": "k2", "VersionId": "x", "IsLatest": True}]})
    for version in ("v2", "v1"):  # every version's lock asked before any is deleted
        stub.add_response("head_object", {"ContentLength": 1, "ObjectLockRetainUntilDate": past,
                                          "ObjectLockMode": "COMPLIANCE"},
                          {"Bucket": "b", "Key": "k", "VersionId": version})
    stub.add_response("delete_object", {}, {"Bucket": "b", "Key": "k", "VersionId": "v1"})
    stub.add_response("delete_object", {}, {"Bucket": "b", "Key": "k", "VersionId": "v2"})
    s.delete("k")


def test_a_locked_older_version_refuses_before_any_version_is_deleted(stubbed) -> None:
    """The current version is free, an older one locked: nothing deleted (no delete_object
    stubbed: a call would fail the test)."""
    s, stub = stubbed
    future = datetime.now(UTC) + timedelta(days=2)
    stub.add_response("get_bucket_versioning", {"Status": "Enabled"})
    stub.add_response("list_object_versions", {"Versions": [
        {"Key": "k", "VersionId": "v2", "IsLatest": True},
        {"Key": "k", "VersionId": "v1", "IsLatest": False}]})
    stub.add_response("head_object", {"ContentLength": 1}, {"Bucket": "b", "Key": "k", "VersionId": "v2"})
    stub.add_response("head_object", {"ContentLength": 1, "ObjectLockRetainUntilDate": future},
                      {"Bucket": "b", "Key": "k", "VersionId": "v1"})
    with pytest.raises(ObjectLocked) as info:
        s.delete("k")
    assert info.value.code == "STO005" and str(future.year) in info.value.message("en")


def test_delete_in_unversioned_bucket_lists_no_versions(stubbed) -> None:
    s, stub = stubbed
    for key in ("a", "b"):
        if key == "a":
            stub.add_response("get_bucket_versioning", {})  # asked once per storage
        stub.add_response("head_object", {"ContentLength": 1})
        stub.add_response("delete_object", {}, {"Bucket": "b", "Key": key})
        s.delete(key)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_server_down_is_transient_with_a_clear_message() -> None:
    s = S3Storage("b", endpoint_url=f"http://127.0.0.1:{_closed_port()}", region="us-east-1",
                  name="offsite", max_attempts=1)
    with pytest.raises(StorageError) as info:
        s.put("aip/k", io.BytesIO(b"x"))
    err = info.value
    assert err.code == "STO006" and err.transient
    assert "offsite" in err.message("vi") and "tạm thời không truy cập được" in err.message("vi")
    assert "temporarily unreachable" in err.message("en") and "aip/k" in err.message("en")
    assert s.verify("aip/k", hashlib.sha256(b"x").hexdigest()).outcome is FixityOutcome.UNREADABLE
    health = s.health()
    assert not health.up and "unreachable" in health.detail
    with pytest.raises(StorageError) as info:
        list(s.list())
    assert info.value.transient
