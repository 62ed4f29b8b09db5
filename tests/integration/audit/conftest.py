"""A catalog on both databases, two filesystem locations and one S3 bucket on moto; the fake
AIPs the tests put there are made by ``tests.support.audit``."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from preservation.catalog.db import Catalog
from storage.filesystem import FilesystemStorage
from storage.protocol import Storage


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "khoso-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "khoso-test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def raw_s3(s3_endpoint: str, aws_env: None):
    import boto3

    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")


@pytest.fixture
def new_bucket(raw_s3) -> Callable[..., str]:
    def make(*, lock: bool = False) -> str:
        name = f"khoso-audit-{uuid.uuid4().hex[:16]}"
        raw_s3.create_bucket(Bucket=name, **({"ObjectLockEnabledForBucket": True} if lock else {}))
        return name

    return make  # moto forgets its buckets when the harness stops it


@pytest.fixture
def catalog(db_url: str) -> Iterator[Catalog]:
    c = Catalog(db_url)
    c.upgrade()
    yield c
    c.dispose()


@pytest.fixture
def fs_storages(tmp_path: Path) -> dict[str, Storage]:
    return {name: FilesystemStorage(tmp_path / name, name=name, create_root=True) for name in ("fs1", "fs2")}


@pytest.fixture
def storages(fs_storages: dict[str, Storage], s3_endpoint: str, new_bucket) -> dict[str, Storage]:
    from storage.s3 import S3Storage

    s3 = S3Storage(new_bucket(), endpoint_url=s3_endpoint, region="us-east-1", name="s3", max_attempts=2)
    return {**fs_storages, "s3": s3}
