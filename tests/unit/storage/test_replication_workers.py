"""start_replication(): batches written by one worker process per location, all or nothing."""

from __future__ import annotations

import hashlib
import os
import signal
import time

import pytest

from preservation.packaging.objects import ObjectToStore
from storage.errors import StorageError
from storage.filesystem import FilesystemStorage
from storage.memory import MemoryStorage
from storage.replication import Replication, start_replication


def objects(folder, n: int, start: int = 0, tag: str = "") -> list[ObjectToStore]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(start, start + n):
        data = b"object %d %s" % (i, tag.encode())
        (folder / f"{i}.bin").write_bytes(data)
        out.append(ObjectToStore(f"pkg/v1/data/{i}.bin", folder / f"{i}.bin",
                                 hashlib.sha256(data).hexdigest(), len(data)))
    return out


def stored(storage) -> list[str]:
    return sorted(storage.list("pkg/"))


@pytest.fixture
def disks(tmp_path):
    return [FilesystemStorage(tmp_path / name, name=name, create_root=True)
            for name in ("disk1", "disk2")]


def test_batches_go_to_worker_processes_and_every_object_is_verified(tmp_path, disks):
    first, rest = objects(tmp_path / "src", 30), objects(tmp_path / "src", 5, start=30)
    ticks = []
    handle = start_replication(first, disks, process_min=1,
                               progress=lambda stage, done, total: ticks.append((done, total)))
    assert handle.running  # workers, not the caller's threads
    pids = [w.proc.pid for w in handle.workers]
    handle.add(rest)
    replicas = handle.wait()
    assert [(r.location, r.objects, r.bytes) for r in replicas] == [
        (d.name, 35, sum(o.size for o in first + rest)) for d in disks]
    assert ticks[-1] == (70, 70) and all(t[0] <= t[1] for t in ticks)
    for disk in disks:
        assert stored(disk) == sorted(o.key for o in first + rest)
        for o in first + rest:
            assert disk.verify(o.key, o.sha256).ok
    assert not handle.running
    for pid in pids:  # the workers are gone, and reaped
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_a_failing_location_removes_every_batch_from_every_location(tmp_path, disks):
    first = objects(tmp_path / "src", 20)
    rest = objects(tmp_path / "src", 3, start=20)
    bad = ObjectToStore(rest[1].key, rest[1].path, "0" * 64, rest[1].size)
    handle = start_replication(first, disks, process_min=1)
    handle.add([rest[0], bad, rest[2]])
    with pytest.raises(StorageError) as info:
        handle.wait()
    assert info.value.code == "STO003"  # the digest did not match: nothing kept
    for disk in disks:
        assert stored(disk) == []


def test_cancel_stops_the_workers_and_removes_everything(tmp_path, disks):
    handle = start_replication(objects(tmp_path / "src", 2500), disks, process_min=1)
    time.sleep(0.3)  # some objects are written
    handle.cancel()
    assert not handle.running
    for disk in disks:
        assert stored(disk) == []
        assert not [p for p in disk.root.rglob("*") if p.is_file()]  # no temporary file either


def test_a_killed_worker_fails_the_replication_and_nothing_stays(tmp_path, disks):
    handle = start_replication(objects(tmp_path / "src", 3000), disks, process_min=1)
    os.kill(handle.workers[1].proc.pid, signal.SIGKILL)
    with pytest.raises(StorageError) as info:
        handle.wait()
    assert info.value.code == "STO007" and info.value.transient  # a retry may succeed
    assert stored(disks[0]) == []
    # the killed worker could not clean up after itself: the caller removes its objects too
    assert stored(disks[1]) == []


def test_small_packages_and_other_storages_are_written_in_the_callers_threads(tmp_path, disks):
    handle = start_replication(objects(tmp_path / "src", 3), disks)  # below PROCESS_MIN
    assert type(handle) is Replication and not handle.running
    assert [r.objects for r in handle.wait()] == [3, 3]
    memory = [MemoryStorage(name="m1"), MemoryStorage(name="m2")]
    handle = start_replication(objects(tmp_path / "src2", 5, tag="m"), memory, process_min=1)
    assert not handle.running  # a memory storage cannot be reopened in another process
    handle.add(objects(tmp_path / "src3", 2, start=5, tag="m"))
    assert [r.objects for r in handle.wait()] == [7, 7]
    handle.cancel()
    assert stored(memory[0]) == [] == stored(memory[1])


def test_a_failing_batch_in_the_callers_threads_removes_the_earlier_ones(tmp_path):
    memory = [MemoryStorage(name="m1"), MemoryStorage(name="m2")]
    handle = start_replication(objects(tmp_path / "src", 4), memory)
    late = objects(tmp_path / "src", 1, start=4)[0]
    with pytest.raises(StorageError):
        handle.add([ObjectToStore(late.key, late.path, "1" * 64, late.size)])
    assert stored(memory[0]) == [] == stored(memory[1])


def test_a_worker_whose_parent_is_gone_stops_and_removes_nothing(tmp_path, disks):
    """stdin closing means the parent died: the job's retry may already be writing the same
    keys, so the worker must not delete them; it stops at once."""
    handle = start_replication(objects(tmp_path / "src", 4000), disks[:1], process_min=1)
    worker = handle.workers[0]
    deadline = time.monotonic() + 30
    while worker.done == 0 and time.monotonic() < deadline:  # progress comes every 0.1 s
        time.sleep(0.05)
    written = stored(disks[0])  # at least these exist when stdin closes
    worker.proc.stdin.close()
    assert worker.proc.wait(30) == 3  # stopped before it finished (a finished worker exits 0)
    left = stored(disks[0])
    assert written and set(written) <= set(left)  # nothing it wrote was removed
    handle.workers = []  # what a dead parent would do: nothing
    assert stored(disks[0]) == left


def test_workers_that_cannot_start_fall_back_to_threads(tmp_path, disks, monkeypatch):
    import sys

    monkeypatch.setattr(sys, "executable", sys.executable + "-missing")
    handle = start_replication(objects(tmp_path / "src", 5), disks, process_min=1)
    assert type(handle) is Replication
    assert [r.objects for r in handle.wait()] == [5, 5]


def test_worker_processes_never_remove_objects_found_in_place(tmp_path, disks):
    """Write-once through the worker processes too: a conflict (STO045) on one location
    fails the package, and objects that were already there (same bytes) stay everywhere."""
    import io

    first = objects(tmp_path / "src", 30)
    for disk in disks:
        for same in first[:10]:
            disk.put(same.key, same.path.open("rb"))
    disks[1].put(first[20].key, io.BytesIO(b"another package's object"))
    with pytest.raises(StorageError) as info:  # workers (threads if they are slow to start)
        start_replication(first, disks, process_min=1).wait()
    assert info.value.code == "STO045"
    assert disks[1].open(first[20].key).read() == b"another package's object"
    for disk in disks:  # nothing removed after a conflict; what is there is intact
        held = set(disk.list("pkg/"))
        assert {o.key for o in first[:10]} <= held
        assert all(disk.verify(o.key, o.sha256).ok for o in first if o.key in held
                   and not (disk is disks[1] and o is first[20]))
