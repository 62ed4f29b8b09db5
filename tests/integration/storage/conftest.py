"""Backends for the storage contract suite: each one only says how to build it and how to rot a byte.

S3 runs against the moto_server from ``s3_endpoint``, one fresh bucket per test; a small
multipart threshold keeps the multipart path covered without writing 64 MiB per test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storage.filesystem import FilesystemStorage
from storage.memory import MemoryStorage
from tests.support.backends import S3_PART, Backend, flip_middle


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials: moto accepts any, and the real chain must not be consulted in tests."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "khoso-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "khoso-test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def new_bucket(s3_endpoint: str, aws_env: None) -> Iterator[Callable[..., str]]:
    """Make uniquely named buckets on the moto_server; emptied and removed afterwards when possible."""
    import boto3

    raw = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    made: list[str] = []

    def make(*, lock: bool = False, versioned: bool = False) -> str:
        name = f"khoso-test-{uuid.uuid4().hex[:16]}"
        raw.create_bucket(Bucket=name, **({"ObjectLockEnabledForBucket": True} if lock else {}))
        if versioned:
            raw.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        made.append(name)
        return name

    yield make
    for name in made:  # locked objects cannot go; moto keeps them until it stops
        try:
            for page in raw.get_paginator("list_object_versions").paginate(Bucket=name):
                for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                    raw.delete_object(Bucket=name, Key=item["Key"], VersionId=item["VersionId"])
            raw.delete_bucket(Bucket=name)
        except Exception:
            pass


@pytest.fixture
def raw_s3(s3_endpoint: str, aws_env: None):
    import boto3

    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")


def _filesystem(request: pytest.FixtureRequest) -> Backend:
    root: Path = request.getfixturevalue("tmp_path") / "replica"
    storage = FilesystemStorage(root, name="fs-test", create_root=True)

    def corrupt(key: str) -> None:
        path = root / key
        path.write_bytes(flip_middle(path.read_bytes()))

    return Backend("filesystem", storage, corrupt)


def _memory(request: pytest.FixtureRequest) -> Backend:
    storage = MemoryStorage("memory-test")
    return Backend("memory", storage, storage.corrupt)


def _s3(request: pytest.FixtureRequest) -> Backend:
    from storage.s3 import S3Storage

    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = request.getfixturevalue("new_bucket")()
    raw = request.getfixturevalue("raw_s3")
    storage = S3Storage(bucket, endpoint_url=endpoint, region="us-east-1", name="s3-test",
                        multipart_threshold=S3_PART, part_size=S3_PART, max_attempts=2)

    def corrupt(key: str) -> None:
        head = raw.head_object(Bucket=bucket, Key=key)
        data = raw.get_object(Bucket=bucket, Key=key)["Body"].read()
        raw.put_object(Bucket=bucket, Key=key, Body=flip_middle(data), Metadata=head["Metadata"])

    return Backend("s3", storage, corrupt)


_BUILDERS = {"filesystem": _filesystem, "memory": _memory, "s3": _s3}


@pytest.fixture(params=["filesystem", "memory", pytest.param("s3", marks=pytest.mark.integration)])
def backend(request: pytest.FixtureRequest) -> Backend:
    return _BUILDERS[request.param](request)
