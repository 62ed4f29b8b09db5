"""Object Lock follows retention: permanent (01) AIPs are written in COMPLIANCE mode on a locked
location, others are not; what a lock protects cannot be deleted, with a clear error."""

from __future__ import annotations

import uuid

import boto3
import pytest
import sqlalchemy as sa

from access_api.services import build_services
from preservation.catalog.models import StoredCopy
from preservation.settings import StorageLocation
from storage.errors import ObjectLocked
from storage.locations import open_storage
from tests.support.sips import make_sip


@pytest.mark.integration
def test_permanent_aips_are_locked_others_are_not(khoso, s3_endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    bucket = f"khoso-lock-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    locked = StorageLocation("vault", f"s3://{bucket}", {
        "endpoint": s3_endpoint, "region": "us-east-1", "lock_mode": "COMPLIANCE",
        "lock_days": "3650"})
    settings = khoso.settings.__class__(**{**khoso.settings.__dict__, "storage_locations": (
        khoso.settings.location("replica1"), locked)})
    khoso.settings = settings
    permanent = khoso.ingest(make_sip(tmp_path / "a"), services=build_services(settings))
    ten_years = khoso.ingest(make_sip(tmp_path / "b", hoso={
        "fileCode": "H49.64.33.2001.161", "maintenance": "06"}),
        services=build_services(settings))
    assert permanent.accepted and ten_years.accepted, ten_years.report.to_dict()
    with khoso.catalog.session() as s:
        prefixes = {c.package_id: c.key for c in s.scalars(
            sa.select(StoredCopy).where(StoredCopy.location == "vault"))}
    modes = {}
    for prefix in prefixes.values():
        key = f"{prefix}/data/METS.xml"
        modes[prefix] = client.head_object(Bucket=bucket, Key=key).get("ObjectLockMode")
    assert sorted(modes.values(), key=str) == ["COMPLIANCE", None]
    storage = open_storage(locked)
    locked_prefix = next(p for p, m in modes.items() if m == "COMPLIANCE")
    with pytest.raises(ObjectLocked) as err:
        storage.delete(f"{locked_prefix}/data/METS.xml")
    assert err.value.code == "STO005" and "vault" in err.value.message("en")
    free_prefix = next(p for p, m in modes.items() if m is None)
    storage.delete(f"{free_prefix}/data/METS.xml")  # not protected: deletable
