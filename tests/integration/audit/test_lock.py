"""A copy under S3 Object Lock: it cannot be deleted, and repair restores it without deleting."""

from __future__ import annotations

import pytest

from storage.audit import run_audit
from storage.errors import ObjectLocked
from tests.support.audit import make_aip, sha

from .test_audit import PDF, flipped, s3_rewrite


class NoDelete:
    """A storage that fails the test if anything calls ``delete``."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.name = inner.name

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    def delete(self, key: str) -> None:
        raise AssertionError(f"repair deleted {key} in {self.name}")


def test_locked_copy_cannot_be_deleted_and_repair_never_deletes(catalog, fs_storages, s3_endpoint,
                                                                 new_bucket, raw_s3):
    from storage.s3 import S3Storage

    locked = S3Storage(new_bucket(lock=True), endpoint_url=s3_endpoint, region="us-east-1", name="s3",
                       lock_mode="COMPLIANCE", lock_days=1)
    storages = {"fs1": fs_storages["fs1"], "s3": locked}
    aip = make_aip(catalog, storages, "KHOSO.H49.2001.200")
    key = aip.key(PDF)
    with pytest.raises(ObjectLocked):
        locked.delete(key)

    s3_rewrite(raw_s3, locked, key, flipped)  # bit rot arrives as a new version
    guarded = {name: NoDelete(s) for name, s in storages.items()}
    report = run_audit(catalog, guarded, due_only=False, repair=True, actor="tester")

    assert report.bad == 1 and report.repaired == 1
    assert locked.verify(key, sha(aip.files[PDF])).ok
    versions = raw_s3.list_object_versions(Bucket=locked.bucket, Prefix=key)["Versions"]
    assert len(versions) == 3  # as written, rotted, restored: nothing deleted
    with pytest.raises(ObjectLocked):
        locked.delete(key)  # the restored version is locked too
