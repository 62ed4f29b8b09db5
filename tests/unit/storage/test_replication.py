"""replicate(): every object on every location, each location with its own thread count."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from storage.errors import StorageError
from storage.memory import MemoryStorage
from storage.replication import ObjectToStore, replicate


class Watched(MemoryStorage):
    """Records how many puts ran at once; optionally fails one key."""

    def __init__(self, name: str, parallel_puts: int | None = None, fail: str | None = None):
        super().__init__(name=name)
        if parallel_puts is not None:
            self.parallel_puts = parallel_puts
        self.fail, self.now, self.most = fail, 0, 0
        self._lock = threading.Lock()

    def put(self, key, stream, **kw):
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
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
