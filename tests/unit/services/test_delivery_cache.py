"""The delivery cache alone: what it admits, when it stops trusting a file, what it evicts."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time

import pytest

from access_api.services.delivery import DeliveryCache


def put(cache: DeliveryCache, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    tmp = cache.temp_file()
    tmp.write_bytes(data)
    cache.admit(tmp, sha).close()
    return sha


@pytest.fixture
def cache(tmp_path):
    return DeliveryCache(tmp_path / "cache", 3000, dt.timedelta(hours=24))


def test_an_admitted_file_is_read_only_and_served_while_it_is_unchanged(cache):
    sha = put(cache, b"a" * 1000)
    assert not os.stat(cache.data_path(sha)).st_mode & 0o222
    f, reason = cache.open(sha, 1000)
    assert reason is None and f.read() == b"a" * 1000
    f.close()
    assert cache.open("0" * 64, 10) == (None, None)


@pytest.mark.parametrize("change,said", [
    (lambda p: (os.chmod(p, 0o644), p.write_bytes(b"b" * 1000)), "changed"),
    (lambda p: os.utime(p, (1, 1)), "changed"),
    (lambda p: os.chmod(p, 0o400), "changed"),
    (lambda p: p.with_name(p.name + ".json").unlink(), "no record"),
])
def test_a_file_changed_on_disk_is_discarded(cache, change, said):
    sha = put(cache, b"a" * 1000)
    change(cache.data_path(sha))
    f, reason = cache.open(sha, 1000)
    assert f is None and said in reason
    assert not cache.data_path(sha).exists() and not cache.meta_path(sha).exists()


def test_a_wrong_size_and_an_old_verification_are_checked(cache):
    sha = put(cache, b"a" * 1000)
    f, reason = cache.open(sha, 999)
    assert f is None and "size" in reason
    sha = put(cache, b"c" * 1000)
    meta = cache.meta_path(sha)
    record = json.loads(meta.read_text())
    record["verified_at"] -= 25 * 3600
    meta.write_text(json.dumps(record))
    f, reason = cache.open(sha, 1000)  # still intact: hashed again, and trusted anew
    assert reason is None and f.read() == b"c" * 1000
    f.close()
    assert json.loads(meta.read_text())["verified_at"] > time.time() - 60
    record = json.loads(meta.read_text())
    record["boot"] = "another boot"
    meta.write_text(json.dumps(record))
    os.chmod(cache.data_path(sha), 0o644)  # rot the recorded stat cannot see:
    with open(cache.data_path(sha), "r+b") as raw:
        raw.write(b"X")
    st = os.stat(cache.data_path(sha))
    record.update(ino=st.st_ino, ctime_ns=st.st_ctime_ns, mtime_ns=st.st_mtime_ns)
    meta.write_text(json.dumps(record))
    f, reason = cache.open(sha, 1000)
    assert f is None and "SHA-256" in reason


def test_the_least_recently_used_files_go_first(cache):
    first, second = put(cache, b"1" * 1000), put(cache, b"2" * 1000)
    old = time.time() - 100
    os.utime(cache.meta_path(first), (old, old))
    os.utime(cache.meta_path(second), (old + 10, old + 10))
    cache.open(first, 1000)[0].close()  # used now: the newest
    third = put(cache, b"3" * 1000)
    fourth = put(cache, b"4" * 1000)  # 4000 > 3000: one goes
    assert not cache.data_path(second).exists()
    assert all(cache.data_path(s).exists() for s in (first, third, fourth))
    assert cache.evict() == 0


def test_stale_temporary_files_are_removed_at_start(tmp_path):
    cache = DeliveryCache(tmp_path / "c", 10, dt.timedelta(hours=1))
    stale, fresh = cache.tmp / "stale", cache.tmp / "fresh"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(stale, (1, 1))
    DeliveryCache(tmp_path / "c", 10, dt.timedelta(hours=1))
    assert not stale.exists() and fresh.exists()
