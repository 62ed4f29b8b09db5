"""Picking a backend from the settings URL; bad options stop start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from preservation.errors import ConfigError
from preservation.settings import StorageLocation, parse_locations
from storage import check_locations, open_storage
from storage.filesystem import FilesystemStorage
from storage.s3 import S3Storage


def test_file_location(tmp_path: Path) -> None:
    (location,) = parse_locations(f"replica1=file://{tmp_path}")
    s = open_storage(location)
    assert isinstance(s, FilesystemStorage) and s.name == "replica1" and s.root == tmp_path


def test_s3_location(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    (location,) = parse_locations(
        "offsite=s3://archive?endpoint=http://127.0.0.1:9&region=ap-southeast-1"
        "&lock_mode=COMPLIANCE&lock_days=3650")
    s = open_storage(location)
    assert isinstance(s, S3Storage)
    assert (s.name, s.bucket, s.lock_mode, s.lock_days) == ("offsite", "archive", "COMPLIANCE", 3650)
    assert s.client.meta.region_name == "ap-southeast-1"
    assert s.client.meta.endpoint_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(("url", "options", "words"), [
    ("ftp://host/x", {}, "unsupported scheme"),
    ("file:///srv/r1", {"fsync": "no"}, "unknown option(s) fsync"),
    ("s3://b", {"lock_day": "10"}, "unknown option(s) lock_day"),
    ("s3://b", {"lock_mode": "COMPLIANCE", "lock_days": "ten"}, "whole number"),
    ("s3://b", {"lock_mode": "STRICT", "lock_days": "10"}, "GOVERNANCE or COMPLIANCE"),
    ("s3://b", {"lock_mode": "COMPLIANCE"}, "together with lock_mode"),
    ("s3://b", {"lock_mode": "COMPLIANCE", "lock_days": "0"}, "positive"),
    ("s3://", {}, "expected s3://bucket"),
])
def test_bad_locations_stop_start_up(url: str, options: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError) as info:
        open_storage(StorageLocation("r1", url, options))
    assert info.value.code == "CFG002" and "(r1)" in info.value.message("en")
    assert words in info.value.message("en")


def test_check_locations(tmp_path: Path) -> None:
    locations = [
        StorageLocation("up", f"file://{tmp_path}"),
        StorageLocation("gone", f"file://{tmp_path / 'missing'}"),
        StorageLocation("typo", "s3://b", {"lock_day": "1"}),
    ]
    report = check_locations(locations)
    assert [(h.name, h.up) for h in report] == [("up", True), ("gone", False), ("typo", False)]
    assert "lock_day" in report[2].detail
