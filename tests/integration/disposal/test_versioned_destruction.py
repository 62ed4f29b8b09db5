"""Destruction in a versioned S3 bucket (moto, Object Lock on, so versioning on): every
version of every key of the hồ sơ is asked for its lock before anything is deleted, and
afterwards no version and no delete marker of its keys is left; the destruction file and the
tombstone are still written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from preservation.catalog.models import DisposalCase, Tombstone
from tests.integration.disposal.conftest import DUPLICATE, EXPIRED, World
from tests.integration.disposal.test_disposal_api import (
    code,
    decide,
    endorse,
    entity_keys,
    open_case,
    post,
)

pytestmark = pytest.mark.integration


def versions(world: World, prefix: str = "") -> list[tuple[str, str, bool]]:
    """(key, version id, is a delete marker) of everything in the bucket under ``prefix``."""
    found: list[tuple[str, str, bool]] = []
    for page in world.s3.get_paginator("list_object_versions").paginate(
            Bucket=world.bucket, Prefix=prefix):
        found += [(v["Key"], v["VersionId"], False) for v in page.get("Versions", [])]
        found += [(m["Key"], m["VersionId"], True) for m in page.get("DeleteMarkers", [])]
    return sorted(found)


def of_record(world: World, file_code: str) -> list[tuple[str, str, bool]]:
    return [v for v in versions(world) if f"/{code(file_code)}/" in v[0]]


def approved_case(world: World, records: list[str]) -> str:
    post(world, "luu-tru", "/scan")
    case_id = open_case(world, records)
    endorse(world, case_id)
    assert decide(world, case_id).status_code == 200
    return case_id


def lock(world: World, key: str, days: int = 3, version: str | None = None) -> dt.datetime:
    until = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=days)
    extra: dict[str, Any] = {"VersionId": version} if version else {}
    world.s3.put_object_retention(Bucket=world.bucket, Key=key, **extra,
                                  Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until})
    return until


def test_a_locked_older_version_refuses_before_anything_is_deleted(world: World):
    """The current version is free, an older one is locked: refused with DES019 naming the
    location, the key and the lock's end; nothing deleted in any location."""
    case_id = approved_case(world, [EXPIRED, DUPLICATE])
    key = sorted(entity_keys(world, DUPLICATE)["offsite"])[-1]
    until = lock(world, key)
    world.s3.put_object(Bucket=world.bucket, Key=key, Body=b"a newer version, unlocked")
    before_keys, before_versions = world.every_key(), versions(world)
    resp = post(world, "luu-tru", f"/cases/{case_id}/execute")
    assert resp.status_code == 409, resp.get_json()
    problem = resp.get_json()
    assert problem["code"] == "DES019", problem
    assert until.date().isoformat() in problem["message"]
    assert "offsite" in problem["message"] and key in problem["message"]
    assert world.every_key() == before_keys, "no partial destruction on any location"
    assert versions(world) == before_versions, "no version deleted"
    with world.khoso.catalog.session() as s:
        case = s.get(DisposalCase, case_id)
        assert case.status == "approved" and case.execution_started_at is None


def test_a_locked_version_behind_a_delete_marker_refuses(world: World):
    """A key whose current version is a delete marker is invisible to a plain listing; its
    older, locked version still holds the record's bytes and still refuses the destruction."""
    case_id = approved_case(world, [EXPIRED])
    key = sorted(entity_keys(world, EXPIRED)["offsite"])[0]
    until = lock(world, key, days=5)
    world.s3.delete_object(Bucket=world.bucket, Key=key)  # a delete marker on top
    before = versions(world)
    resp = post(world, "luu-tru", f"/cases/{case_id}/execute")
    assert resp.status_code == 409, resp.get_json()
    assert resp.get_json()["code"] == "DES019"
    assert until.date().isoformat() in resp.get_json()["message"]
    assert versions(world) == before


def test_a_legal_hold_on_an_older_version_refuses(world: World):
    case_id = approved_case(world, [EXPIRED])
    key = sorted(entity_keys(world, EXPIRED)["offsite"])[0]
    world.s3.put_object_legal_hold(Bucket=world.bucket, Key=key, LegalHold={"Status": "ON"})
    world.s3.put_object(Bucket=world.bucket, Key=key, Body=b"newer")
    before = versions(world)
    resp = post(world, "luu-tru", f"/cases/{case_id}/execute")
    assert resp.status_code == 409 and resp.get_json()["code"] == "DES019", resp.get_json()
    assert "legal hold" in resp.get_json()["message"]
    assert versions(world) == before


def test_every_version_and_delete_marker_goes(world: World):
    """Overwritten keys, keys hidden behind a delete marker and an expired lock on an old
    version: after the destruction none of the hồ sơ's versions or markers is left, the other
    hồ sơ are untouched, and the destruction file and tombstone are written."""
    case_id = approved_case(world, [EXPIRED])
    keys = sorted(entity_keys(world, EXPIRED)["offsite"])
    assert len(keys) >= 3
    world.s3.put_object(Bucket=world.bucket, Key=keys[0], Body=b"second version")
    world.s3.put_object(Bucket=world.bucket, Key=keys[0], Body=b"third version")
    world.s3.delete_object(Bucket=world.bucket, Key=keys[1])
    world.s3.delete_object(Bucket=world.bucket, Key=keys[1])  # two markers
    world.s3.put_object(Bucket=world.bucket, Key=keys[2], Body=b"newer")
    assert len(of_record(world, EXPIRED)) >= len(keys) + 4
    others = [v for v in versions(world) if f"/{code(EXPIRED)}/" not in v[0]]
    resp = post(world, "luu-tru", f"/cases/{case_id}/execute")
    assert resp.status_code == 200, resp.get_json()
    assert of_record(world, EXPIRED) == [], "no version and no delete marker left"
    assert entity_keys(world, EXPIRED) == {n: [] for n in ("replica1", "replica2", "offsite")}
    case = resp.get_json()
    kept = [v for v in versions(world) if f"/{code(EXPIRED)}/" not in v[0]]
    written = [v for v in kept if v[0].startswith(case["record_key"])]
    assert written and not any(marker for _, _, marker in written), "destruction file written"
    assert set(others) <= set(kept), "the other hồ sơ's versions untouched"
    with world.khoso.catalog.session() as s:
        stones = s.query(Tombstone).filter_by(case_id=case_id).all()
        assert [t.file_code for t in stones] == [code(EXPIRED)]
        assert stones[0].locations["offsite"] == len(keys)
