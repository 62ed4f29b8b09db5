"""``S3Storage``: objects in one S3 bucket (AWS, MinIO, Ceph RGW, moto), optionally under Object Lock.

The stream is read once: each chunk is hashed as it is buffered, then sent with its SHA-256
checksum (one PUT up to ``multipart_threshold``, else parts of ``part_size`` with per-part
checksums), so a server that checks checksums rejects damaged bytes. Not every server does (moto
accepts a wrong checksum), so after writing the object is read back and hashed; a mismatch
removes it. A failed multipart upload is aborted; add an ``AbortIncompleteMultipartUpload``
lifecycle rule to the bucket for the case where even the abort cannot reach the server.
Keys are written once: ``PutObject`` and ``CompleteMultipartUpload`` carry ``If-None-Match: *``
(conditional writes), so the server itself refuses to replace an object; a refusal is then
resolved by re-reading what is there (the same bytes: success, other bytes: ``ObjectExists``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, FlexibleChecksumError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from preservation.errors import ConfigError
from preservation.issues import Text
from storage.errors import DigestMismatch, ObjectExists, ObjectLocked, ObjectMissing, StorageError
from storage.hashing import CHUNK, iter_chunks, read_up_to
from storage.keys import normalize_sha256, validate_key, validate_prefix
from storage.protocol import FixityOutcome, FixityResult, LocationHealth, ObjectInfo, StoredObject

log = logging.getLogger(__name__)

MiB = 1 << 20
LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
_MISSING = {"NoSuchKey", "NotFound", "404", "NoSuchVersion"}
_TRANSIENT = {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
              "RequestTimeout", "InternalError", "ServiceUnavailable", "503", "500"}


@dataclass(frozen=True)
class ObjectVersion:
    """One version of a key in a versioned bucket; ``version_id`` is "null" for an object
    written while versioning was off."""

    key: str
    version_id: str
    latest: bool
    delete_marker: bool
    size: int = 0  # bytes it occupies (a delete marker: none)


class _Exists(Exception):
    """A conditional write found the key taken (HTTP 412 PreconditionFailed)."""


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


class S3Storage:
    parallel_puts: int | None = None  # a put waits on the network: as many at once as asked
    worker_safe = False  # holds a boto3 client: not reopened in another process

    def __init__(self, bucket: str, endpoint_url: str | None = None, region: str | None = None,
                 lock_mode: str | None = None, lock_days: int | None = None, client: Any = None, *,
                 name: str | None = None, multipart_threshold: int = 64 * MiB, part_size: int = 64 * MiB,
                 max_attempts: int = 5, verify_after_write: bool = True) -> None:
        """``verify_after_write`` re-reads each new object; only turn it off for servers known to
        check the checksums they are sent (AWS S3 does)."""
        if lock_mode is not None and lock_mode not in LOCK_MODES:
            raise ConfigError("CFG002", name="lock_mode", value=lock_mode,
                              reason=Text("GOVERNANCE hoặc COMPLIANCE", "GOVERNANCE or COMPLIANCE"))
        if (lock_mode is None) != (lock_days is None) or (lock_days is not None and lock_days <= 0):
            raise ConfigError("CFG002", name="lock_days", value=str(lock_days),
                              reason=Text("số ngày dương, cho cùng với lock_mode",
                                          "a positive number of days, given together with lock_mode"))
        self.bucket = bucket
        self.name = name or f"s3://{bucket}"
        self.lock_mode, self.lock_days = lock_mode, lock_days
        self.multipart_threshold, self.part_size = multipart_threshold, part_size
        self.verify_after_write = verify_after_write
        self._versioned: bool | None = None
        self.client = client or boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=Config(
                retries={"mode": "standard", "max_attempts": max_attempts},
                connect_timeout=10, read_timeout=120,
                # We send and check SHA-256 ourselves; the SDK's own CRC would hash everything twice.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                s3={"addressing_style": "path"} if endpoint_url else None,
            ))

    # -- errors ---------------------------------------------------------------------------

    def _error(self, exc: Exception, key: str, operation: str) -> StorageError:
        """botocore's exceptions → ours: missing, transient (retry later) or permanent."""
        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            reason = f"{code} {err.get('Message') or ''}".strip()
            if code in _MISSING:
                return ObjectMissing(key, self.name)
            transient = code in _TRANSIENT or status >= 500 or status == 429
            return StorageError("STO006" if transient else "STO007", key, transient=transient, key=key,
                                location=self.name, operation=operation, reason=reason)
        if isinstance(exc, BotoConnectionError | HTTPClientError | OSError):
            return StorageError("STO006", key, transient=True, key=key, location=self.name,
                                operation=operation, reason=str(exc))
        return StorageError("STO007", key, key=key, location=self.name, operation=operation, reason=str(exc))

    def _call(self, operation: str, key: str, func: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return func(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            if "IfNoneMatch" in kwargs and (
                    exc.response.get("Error", {}).get("Code") == "PreconditionFailed"
                    or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 412):
                raise _Exists(key) from exc
            raise self._error(exc, key, operation) from exc
        except BotoCoreError as exc:
            raise self._error(exc, key, operation) from exc

    # -- put ------------------------------------------------------------------------------

    def _lock_args(self, lock: bool = True) -> dict[str, Any]:
        if not lock or not self.lock_mode or not self.lock_days:
            return {}
        until = datetime.now(UTC) + timedelta(days=self.lock_days)
        return {"ObjectLockMode": self.lock_mode, "ObjectLockRetainUntilDate": until}

    def deferred_sync(self) -> AbstractContextManager[None]:
        """Nothing to defer: an object is durable once the server answered its PUT."""
        return contextlib.nullcontext()

    def put(self, key: str, stream: BinaryIO, *, expected_sha256: str | None = None,
            size: int | None = None, lock: bool = True, replace: bool = False) -> StoredObject:
        validate_key(key)
        once = {} if replace else {"IfNoneMatch": "*"}
        expected = normalize_sha256(expected_sha256) if expected_sha256 is not None else None
        whole = hashlib.sha256()
        pending: list[bytearray] = []
        total, ended = 0, False
        while total <= self.multipart_threshold:
            chunk = read_up_to(stream, self.part_size)
            whole.update(chunk)
            total += len(chunk)
            if chunk:
                pending.append(chunk)
            if len(chunk) < self.part_size:
                ended = True
                break
        if ended and total <= self.multipart_threshold:
            digest = self._check(key, whole.hexdigest(), total, expected, size)
            body = b"".join(pending)
            pending.clear()

            def put_once() -> Any:
                return self._call("put", key, self.client.put_object, Key=key, Body=body,
                                  ChecksumAlgorithm="SHA256",
                                  ChecksumSHA256=_b64(bytes.fromhex(digest)),
                                  Metadata={"sha256": digest}, **self._lock_args(lock), **once)

            try:
                resp = put_once()
            except _Exists:
                if self._holds(key, digest, "put"):
                    return StoredObject(key, total, digest, self.name, created=False)
                # Gone again between the refusal and the read: one more conditional put.
                try:
                    resp = put_once()
                except _Exists:
                    raise StorageError("STO006", key, transient=True, key=key, location=self.name,
                                       operation="put", reason="the key changed while it was written"
                                       ) from None
        else:
            try:
                digest, total, resp = self._put_multipart(key, stream, pending, whole, total,
                                                          expected, size, lock, once)
            except _Exists as exists:
                digest, total = exists.args[1], exists.args[2]
                if self._holds(key, digest, "put"):
                    return StoredObject(key, total, digest, self.name, created=False)
                raise StorageError("STO006", key, transient=True, key=key, location=self.name,
                                   operation="put", reason="the key changed while it was written"
                                   ) from None
        if self.verify_after_write:
            self._read_back(key, digest, resp.get("VersionId"))
        return StoredObject(key, total, digest, self.name)

    def move(self, src: str, dst: str, *, expected_sha256: str, lock: bool = True) -> StoredObject:
        """Server-side copy of a staged object to its key (multipart above 5 GB), read back,
        then the staged object is removed; S3 has no rename."""
        validate_key(src)
        validate_key(dst)
        expected = normalize_sha256(expected_sha256)
        head = self._call("move", src, self.client.head_object, Key=src)
        size = int(head["ContentLength"])
        recorded = head.get("Metadata", {}).get("sha256")
        if recorded is None:  # a multipart staging upload records no digest: hash it
            result = self.verify(src, expected)
            if result.outcome is FixityOutcome.UNREADABLE:
                raise StorageError("STO006", src, transient=True, key=src, location=self.name,
                                   operation="move", reason=result.detail)
            recorded = result.actual_sha256
        if recorded != expected:
            raise DigestMismatch(dst, expected, str(recorded))
        # Write-once: CopyObject takes If-None-Match on AWS, but moto (the test server) and
        # the managed multipart copy ignore it, so ask first; a writer racing in between is
        # refused by the header where the server honours it.
        try:
            self._call("move", dst, self.client.head_object, Key=dst)
        except ObjectMissing:
            pass
        else:
            if self._holds(dst, expected, "move"):
                self._remove_staged(src)
                return StoredObject(dst, size, expected, self.name, created=False)
        extra = {"Metadata": {"sha256": expected}, "MetadataDirective": "REPLACE",
                 "ChecksumAlgorithm": "SHA256", **self._lock_args(lock)}
        source = {"Bucket": self.bucket, "Key": src}
        if size <= 5 * 1024 * MiB:
            try:
                resp = self._call("move", dst, self.client.copy_object, Key=dst,
                                  CopySource=source, IfNoneMatch="*", **extra)
            except _Exists:
                if not self._holds(dst, expected, "move"):
                    raise StorageError("STO006", dst, transient=True, key=dst, location=self.name,
                                       operation="move", reason="the key changed while it was written"
                                       ) from None
                self._remove_staged(src)
                return StoredObject(dst, size, expected, self.name, created=False)
            version = resp.get("VersionId")
        else:
            extra.pop("MetadataDirective")
            try:
                self.client.copy(source, self.bucket, dst, ExtraArgs=extra)
            except (ClientError, BotoCoreError) as exc:
                raise self._error(exc, dst, "move") from exc
            version = None
        if self.verify_after_write:
            self._read_back(dst, expected, version)
        self._remove_staged(src)
        return StoredObject(dst, size, expected, self.name)

    def _remove_staged(self, src: str) -> None:
        """Every version of the staged object goes: in a versioned bucket a plain delete only
        hides the record's bytes behind a delete marker, where a destruction would not find
        them (they are under the staging prefix, not the AIP's)."""
        try:
            self.delete(src)
        except ObjectMissing:
            pass
        except StorageError:
            log.warning("could not remove staged %s from %s", src, self.name, exc_info=True)

    @staticmethod
    def _check(key: str, digest: str, total: int, expected: str | None, size: int | None) -> str:
        if size is not None and total != size:
            raise StorageError("STO004", key, key=key, expected=size, actual=total)
        if expected is not None and digest != expected:
            raise DigestMismatch(key, expected, digest)
        return digest

    def _holds(self, key: str, digest: str, operation: str) -> bool:
        """After a refused conditional write: does ``key`` hold exactly these bytes? (re-read:
        the recorded digest is only a claim). Other bytes: ``ObjectExists``; False: gone."""
        there = self.verify(key, digest)
        if there.ok:
            return True
        if there.outcome is FixityOutcome.MISMATCH:
            raise ObjectExists(key, self.name, there.actual_sha256 or "?", digest)
        if there.outcome is FixityOutcome.UNREADABLE:
            raise StorageError("STO006", key, transient=True, key=key, location=self.name,
                               operation=operation, reason=there.detail)
        return False

    def _put_multipart(self, key: str, stream: BinaryIO, pending: list[bytearray], whole: Any,
                       total: int, expected: str | None, size: int | None,
                       lock: bool = True, once: dict[str, str] | None = None) -> tuple[str, int, Any]:
        # The whole-object digest is known only at the end, so the ``sha256`` metadata (fixed at
        # create time) is written only when the caller gave the expected digest.
        meta = {"sha256": expected} if expected else {}
        upload = self._call("put", key, self.client.create_multipart_upload, Key=key,
                            ChecksumAlgorithm="SHA256", Metadata=meta, **self._lock_args(lock))
        upload_id, parts = upload["UploadId"], list[dict[str, Any]]()
        try:
            while True:
                chunk = pending.pop(0) if pending else None
                if chunk is None:
                    chunk = read_up_to(stream, self.part_size)
                    whole.update(chunk)
                    total += len(chunk)
                    if not chunk:
                        break
                part_sum = _b64(hashlib.sha256(chunk).digest())
                number = len(parts) + 1
                resp = self._call("put", key, self.client.upload_part, Key=key, UploadId=upload_id,
                                  PartNumber=number, Body=bytes(chunk), ChecksumAlgorithm="SHA256",
                                  ChecksumSHA256=part_sum)
                parts.append({"PartNumber": number, "ETag": resp["ETag"], "ChecksumSHA256": part_sum})
                if len(chunk) < self.part_size and not pending:
                    break
            digest = self._check(key, whole.hexdigest(), total, expected, size)
            try:
                resp = self._call("put", key, self.client.complete_multipart_upload, Key=key,
                                  UploadId=upload_id, MultipartUpload={"Parts": parts},
                                  **(once or {}))
            except _Exists:
                raise _Exists(key, digest, total) from None
        except BaseException:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            except Exception:  # the original failure matters more; the lifecycle rule cleans up
                log.warning("could not abort multipart upload %s of %s in %s", upload_id, key, self.name,
                            exc_info=True)
            raise
        return digest, total, resp

    def _read_back(self, key: str, digest: str, version: str | None) -> None:
        """Hash what the server now holds; on a mismatch or any failure, remove the new object."""
        try:
            extra = {"VersionId": version} if version else {}
            resp = self._call("read back", key, self.client.get_object, Key=key, **extra)
            try:
                actual = hashlib.sha256()
                for view in iter_chunks(resp["Body"]):
                    actual.update(view)
            except FlexibleChecksumError as exc:  # an injected client that checks checksums itself
                raise DigestMismatch(key, digest, "?", code="STO011", location=self.name) from exc
            except (BotoCoreError, OSError) as exc:
                raise self._error(exc, key, "read back") from exc
            finally:
                resp["Body"].close()
            if actual.hexdigest() != digest:
                raise DigestMismatch(key, digest, actual.hexdigest(), code="STO011", location=self.name)
        except BaseException:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=key, **extra)
            except Exception:
                log.error("could not remove unverified object %s (version %s) from %s", key, version,
                          self.name, exc_info=True)
            raise

    # -- read -----------------------------------------------------------------------------

    def open(self, key: str, *, start: int = 0, end: int | None = None) -> BinaryIO:
        validate_key(key)
        if start < 0 or (end is not None and end < start):
            raise StorageError("STO010", key, key=key, start=start, end=end)
        if end == start:
            self.stat(key)
            return io.BytesIO(b"")
        extra = {}
        if start or end is not None:
            extra["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=key, **extra)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                self.stat(key)  # start is past the end: an empty range of an existing object
                return io.BytesIO(b"")
            raise self._error(exc, key, "open") from exc
        except BotoCoreError as exc:
            raise self._error(exc, key, "open") from exc
        return io.BufferedReader(_BodyReader(resp["Body"], self, key), CHUNK)

    def stat(self, key: str) -> ObjectInfo:
        validate_key(key)
        head = self._call("stat", key, self.client.head_object, Key=key)
        return ObjectInfo(key, int(head["ContentLength"]), head.get("Metadata", {}).get("sha256"),
                          head["LastModified"])

    def verify(self, key: str, sha256: str) -> FixityResult:
        expected = normalize_sha256(sha256)
        validate_key(key)
        checked_at, began = datetime.now(UTC), time.perf_counter()
        digest, total = hashlib.sha256(), 0

        def result(outcome: FixityOutcome, actual: str | None = None, detail: str = "") -> FixityResult:
            return FixityResult(key, self.name, outcome, expected, actual, total,
                                time.perf_counter() - began, checked_at, detail)

        try:
            resp = self._call("verify", key, self.client.get_object, Key=key)
            with resp["Body"] as body:
                try:
                    for view in iter_chunks(body):
                        digest.update(view)
                        total += len(view)
                except FlexibleChecksumError as exc:  # the SDK found the bytes differ from the
                    return result(FixityOutcome.MISMATCH, detail=str(exc))  # stored checksum
                except (BotoCoreError, OSError) as exc:
                    raise self._error(exc, key, "verify") from exc
        except ObjectMissing:
            return result(FixityOutcome.MISSING)
        except StorageError as exc:
            return result(FixityOutcome.UNREADABLE, detail=exc.message("en"))
        actual = digest.hexdigest()
        return result(FixityOutcome.OK if actual == expected else FixityOutcome.MISMATCH, actual)

    # -- delete, list, health -------------------------------------------------------------

    def head(self, key: str, version_id: str | None = None) -> dict[str, Any]:
        """The object's S3 headers (Object Lock retention, legal hold…), of its current version
        or of ``version_id``: what ``storage.retention`` asks before a destruction deletes
        anything."""
        validate_key(key)
        extra = {"VersionId": version_id} if version_id and version_id != "null" else {}
        return dict(self._call("stat", key, self.client.head_object, Key=key, **extra))

    def read_version(self, key: str, version_id: str, limit: int) -> bytes:
        """The first ``limit`` bytes of one version of ``key`` (an older one too): what an
        older ``bag-info.txt`` hidden behind a delete marker says (``storage.occupancy``)."""
        validate_key(key)
        extra = {"VersionId": version_id} if version_id and version_id != "null" else {}
        resp = self._call("open", key, self.client.get_object, Key=key,
                          Range=f"bytes=0-{limit - 1}", **extra)
        try:
            data: bytes = resp["Body"].read(limit)
        except BotoCoreError as exc:
            raise self._error(exc, key, "open") from exc
        return data

    def delete(self, key: str) -> None:
        """Delete every version and delete marker of ``key``: destruction must not leave old
        versions readable. Every version's lock is asked before any is deleted, so a locked
        older version refuses the whole key (``ObjectLocked``) instead of stopping half-way.
        ``ObjectMissing`` only when the key has no version at all (a key whose current version
        is a delete marker still has older bytes, and they go too)."""
        validate_key(key)
        if not self._is_versioned(key):
            self._refuse_if_locked(key, self.head(key))
            self._delete_version(key, None)
            return
        found = [v for v in self.versions(key) if v.key == key]
        if not found:
            raise ObjectMissing(key, self.name)
        for version in found:
            if not version.delete_marker:
                self._refuse_if_locked(key, self.head(key, version.version_id))
        for version in sorted(found, key=lambda v: v.latest):  # the current one last
            self._delete_version(key, version.version_id)

    def _refuse_if_locked(self, key: str, head: dict[str, Any]) -> None:
        until = head.get("ObjectLockRetainUntilDate")
        if until is not None and until > datetime.now(UTC):
            raise ObjectLocked(key, self.name, until.isoformat())
        if head.get("ObjectLockLegalHoldStatus") == "ON":
            raise ObjectLocked(key, self.name, code="STO013")

    def _delete_version(self, key: str, version_id: str | None) -> None:
        extra = {"VersionId": version_id} if version_id and version_id != "null" else {}
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key, **extra)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "AccessDenied":
                raise ObjectLocked(key, self.name, code="STO014") from exc
            raise self._error(exc, key, "delete") from exc
        except BotoCoreError as exc:
            raise self._error(exc, key, "delete") from exc

    def versioned(self) -> bool:
        """Whether old versions may exist in the bucket (versioning enabled, suspended, or
        not ours to ask)."""
        return self._is_versioned("")

    def _is_versioned(self, key: str) -> bool:
        """Whether old versions may exist (asked once); if we may not ask, assume they may."""
        if self._versioned is None:
            try:
                status = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "AccessDenied":
                    raise self._error(exc, key, "delete") from exc
                status = "unknown"
            except BotoCoreError as exc:
                raise self._error(exc, key, "delete") from exc
            self._versioned = status is not None  # Enabled, Suspended or unknown
        return self._versioned

    def versions(self, prefix: str = "") -> list[ObjectVersion]:
        """Every version and delete marker of every key starting with ``prefix``, also of keys
        ``list`` no longer shows (their current version a delete marker)."""
        found: list[ObjectVersion] = []
        try:
            for page in self.client.get_paginator("list_object_versions").paginate(
                    Bucket=self.bucket, Prefix=prefix):
                for marker, items in ((False, page.get("Versions", [])),
                                      (True, page.get("DeleteMarkers", []))):
                    found += [ObjectVersion(item["Key"], item["VersionId"], bool(item.get("IsLatest")),
                                            marker, int(item.get("Size") or 0)) for item in items]
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, prefix, "list versions") from exc
        return found

    def list(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"]
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, prefix, "list") from exc

    def health(self) -> LocationHealth:
        try:
            self._call("health", "", self.client.head_bucket)
        except StorageError as exc:
            return LocationHealth(self.name, False, exc.message("en"))
        lock = f", Object Lock {self.lock_mode} {self.lock_days} days" if self.lock_mode else ""
        return LocationHealth(self.name, True, f"bucket {self.bucket} reachable{lock}")


class _BodyReader(io.RawIOBase):
    """A GET body whose mid-stream network failures surface as ``StorageError`` (transient)."""

    def __init__(self, body: Any, storage: S3Storage, key: str) -> None:
        self._body, self._storage, self._key = body, storage, key

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            return int(self._body.readinto(buffer))
        except (BotoCoreError, OSError) as exc:
            raise self._storage._error(exc, self._key, "open") from exc

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()
