"""replicate(): every object on every location, each location with its own thread count."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from preservation.packaging.objects import ObjectToStore
from storage.errors import StorageError
from storage.memory import MemoryStorage
from storage.replication import replicate


class Watched(MemoryStorage):
    """Records how many puts ran at once; optionally fails one key."""

    def __init__(self, name: str, parallel_puts: int | None = None, fail: str | None = None):
        super().__init__(name=name)
        if parallel_puts is not None:
            self.parallel_puts = parallel_puts
        self.fail, self.now, self.most, self.puts = fail, 0, 0, 0
        self._lock = threading.Lock()

    def put(self, key, stream, **kw):
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.puts += 1
        try:
            time.sleep(0.002)
            if key == self.fail:
                raise StorageError("STO007", key, key=key, location=self.name, operation="put",
                                   reason="disk gone")
            return super().put(key, stream, **kw)
        finally:
            with self._lock:
                self.now -= 1


def objects(tmp_path, n: int) -> list[ObjectToStore]:
    out = []
    for i in range(n):
        path = tmp_path / f"{i}.bin"
        path.write_bytes(b"%d" % i)
        out.append(ObjectToStore(f"pkg/{i}.bin", path, hashlib.sha256(b"%d" % i).hexdigest(),
                                 len(b"%d" % i)))
    return out


def test_each_location_gets_its_own_threads_and_every_object(tmp_path):
    disk, bucket = Watched("disk", parallel_puts=1), Watched("bucket")
    items = objects(tmp_path, 60)
    replicas = replicate(items, [disk, bucket], workers=8)
    assert [r.objects for r in replicas] == [60, 60]
    assert disk.most == 1 and bucket.most > 1
    for storage in (disk, bucket):
        assert sorted(storage.list("pkg/")) == sorted(o.key for o in items)


def test_a_failing_location_removes_the_package_everywhere(tmp_path):
    disk, bucket = Watched("disk", parallel_puts=1), Watched("bucket", fail="pkg/30.bin")
    with pytest.raises(StorageError):
        replicate(objects(tmp_path, 60), [disk, bucket], attempts=1)
    assert list(disk.list("pkg/")) == [] == list(bucket.list("pkg/"))


def test_progress_is_reported_from_the_callers_thread_and_ends_at_the_total(tmp_path):
    calls = []
    disk, bucket = Watched("disk", parallel_puts=1), Watched("bucket")
    replicate(objects(tmp_path, 80), [disk, bucket],
              progress=lambda stage, done, total: calls.append(
                  (threading.current_thread() is threading.main_thread(), stage, done, total)))
    assert calls and all(main and stage == "store" and total == 160
                         for main, stage, _, total in calls)
    assert [c[2] for c in calls] == sorted(c[2] for c in calls)  # never goes backwards
    assert calls[-1][2] == 160


def test_a_failure_stops_the_other_workers_and_the_first_error_is_raised(tmp_path):
    disk = Watched("disk", parallel_puts=1, fail="pkg/0.bin")
    bucket = Watched("bucket", parallel_puts=1)
    with pytest.raises(StorageError) as caught:
        replicate(objects(tmp_path, 300), [disk, bucket], attempts=1)
    assert caught.value.code == "STO007" and "pkg/0.bin" in str(caught.value)
    assert bucket.puts < 300  # stopped early instead of writing the whole package first
    assert list(disk.list("pkg/")) == [] == list(bucket.list("pkg/"))


def test_no_objects_or_no_locations_return_at_once(tmp_path):
    assert replicate(objects(tmp_path, 3), []) == []
    assert [r.objects for r in replicate([], [Watched("disk", parallel_puts=1)])] == [0]


def test_a_conflict_fails_and_removes_nothing(tmp_path):
    """A key holding another package's bytes fails the write (STO045) and nothing is removed:
    not the objects found in place (same bytes), not the conflicting one, and not what this
    package wrote either, since the other package (perhaps being written at this very moment)
    may count on those same bytes. Re-ingesting over an existing AIP must not destroy it."""
    disk = MemoryStorage("disk")
    items = objects(tmp_path, 6)
    for same in items[:3]:  # the original AIP's identical content files
        disk.put(same.key, same.path.open("rb"))
    disk.put(items[3].key, __import__("io").BytesIO(b"the original METS"))
    with pytest.raises(StorageError) as info:
        replicate(items, [disk], workers=1)
    assert info.value.code == "STO045" and not info.value.transient
    assert sorted(disk.list("pkg/")) == sorted(o.key for o in items[:4])  # stopped at the clash
    assert disk.open(items[3].key).read() == b"the original METS"
    assert all(disk.verify(o.key, o.sha256).ok for o in items[:3])


def test_other_failures_still_remove_what_the_package_wrote_but_not_what_it_found(tmp_path):
    disk = Watched("disk", fail="pkg/4.bin")
    items = objects(tmp_path, 6)
    for same in items[:2]:
        disk.put(same.key, same.path.open("rb"))
    with pytest.raises(StorageError) as info:
        replicate(items, [disk], workers=1)
    assert info.value.code == "STO007"
    assert sorted(disk.list("pkg/")) == sorted(o.key for o in items[:2])


def test_a_location_without_a_thread_limit_gets_the_callers_workers(tmp_path):
    disk, bucket = Watched("disk", parallel_puts=1), Watched("bucket")  # None: no limit of its own
    assert bucket.parallel_puts is None
    replicate(objects(tmp_path, 40), [disk, bucket], workers=4)
    assert disk.most == 1 and 1 < bucket.most <= 4


def test_errors_are_permanent_unless_they_say_otherwise():
    from preservation.errors import KhosoError

    assert KhosoError("GEN001").transient is False
    assert StorageError("STO007", "k", key="k", location="x", operation="put",
                        reason="r").transient is False
    assert StorageError("STO006", "k", transient=True, key="k", location="x", operation="put",
                        reason="r").transient is True


def test_an_object_with_neither_a_file_nor_a_staged_key_is_refused_and_nothing_stays(tmp_path):
    disk = Watched("disk", parallel_puts=1)
    with pytest.raises(ValueError, match="pkg/x.bin"):
        replicate([*objects(tmp_path, 2), ObjectToStore("pkg/x.bin", None, "0" * 64, 1)], [disk])
    assert list(disk.list("pkg/")) == []
