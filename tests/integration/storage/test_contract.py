"""The one ``Storage`` contract, run unchanged against every backend (see ``conftest.Backend``)."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest

from storage import (
    DigestMismatch,
    FixityOutcome,
    InvalidKey,
    ObjectExists,
    ObjectMissing,
    Storage,
    StorageError,
)
from tests.support.backends import Backend, MiB


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FailingStream(io.RawIOBase):
    """Gives ``good`` bytes, then fails as a dropped client connection would."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.left <= 0:
            raise ConnectionResetError("client went away")
        n = min(len(buffer), self.left, 300_000)
        buffer[:n] = b"x" * n
        self.left -= n
        return n


def assert_nothing_under(storage: Storage, key: str) -> None:
    with pytest.raises(ObjectMissing):
        storage.stat(key)
    assert list(storage.list()) == []


def test_backend_plays_the_storage_role(backend: Backend) -> None:
    assert isinstance(backend.storage, Storage)
    assert backend.storage.name


def test_backend_declares_its_capabilities(backend: Backend) -> None:
    s = backend.storage
    assert s.parallel_puts is None or s.parallel_puts >= 1
    assert isinstance(s.worker_safe, bool)
    with s.deferred_sync():  # what is written inside the block is there once it is left
        s.put("deferred/a.bin", io.BytesIO(b"a"))
        s.put("deferred/b.bin", io.BytesIO(b"b"))
    assert sorted(s.list("deferred/")) == ["deferred/a.bin", "deferred/b.bin"]
    assert s.verify("deferred/b.bin", sha(b"b")).ok


def test_round_trip(backend: Backend) -> None:
    s, data = backend.storage, b"Phong luu tru \x00\xff" * 1000
    stored = s.put("fonds/hồ sơ/tài liệu 01.pdf", io.BytesIO(data))
    assert (stored.key, stored.size, stored.sha256, stored.location) == (
        "fonds/hồ sơ/tài liệu 01.pdf", len(data), sha(data), s.name)
    with s.open("fonds/hồ sơ/tài liệu 01.pdf") as f:
        assert f.read() == data
    info = s.stat("fonds/hồ sơ/tài liệu 01.pdf")
    assert info.size == len(data)
    assert info.sha256 in (sha(data), None)
    assert abs(info.modified - datetime.now(UTC)) < timedelta(minutes=5)


def test_put_with_matching_digest_and_size(backend: Backend) -> None:
    data = b"abc" * 10
    stored = backend.storage.put("k", io.BytesIO(data), expected_sha256=sha(data).upper(), size=30)
    assert stored.sha256 == sha(data)


def test_empty_object(backend: Backend) -> None:
    s = backend.storage
    assert s.put("empty", io.BytesIO(b""), expected_sha256=sha(b"")).size == 0
    assert s.open("empty").read() == b""
    assert s.verify("empty", sha(b"")).outcome is FixityOutcome.OK


def test_put_is_write_once(backend: Backend) -> None:
    """Another package's object is never overwritten; a retried write of the same bytes is."""
    s = backend.storage
    assert s.put("A/F/c/v1/METS.xml", io.BytesIO(b"original")).created
    with pytest.raises(ObjectExists) as info:
        s.put("A/F/c/v1/METS.xml", io.BytesIO(b"re-ingest"), expected_sha256=sha(b"re-ingest"))
    assert info.value.code == "STO045" and not info.value.transient
    assert info.value.existing == sha(b"original") and "ghi đè" in info.value.message("vi")
    assert s.open("A/F/c/v1/METS.xml").read() == b"original"
    again = s.put("A/F/c/v1/METS.xml", io.BytesIO(b"original"), expected_sha256=sha(b"original"))
    assert (again.created, again.sha256, again.size) == (False, sha(b"original"), 8)
    assert s.open("A/F/c/v1/METS.xml").read() == b"original"
    assert list(s.list()) == ["A/F/c/v1/METS.xml"]


def test_large_put_is_write_once(backend: Backend) -> None:
    """The multipart path of S3 (CompleteMultipartUpload with If-None-Match) too."""
    s = backend.storage
    data = bytes(range(256)) * (12 * MiB // 256)
    other = data[:-1] + b"!"
    s.put("A/F/c/v1/data/big.mp4", io.BytesIO(data))
    with pytest.raises(ObjectExists):
        s.put("A/F/c/v1/data/big.mp4", io.BytesIO(other))
    assert s.verify("A/F/c/v1/data/big.mp4", sha(data)).ok
    assert not s.put("A/F/c/v1/data/big.mp4", io.BytesIO(data), size=len(data)).created
    assert list(s.list()) == ["A/F/c/v1/data/big.mp4"]


def test_put_replace_overwrites(backend: Backend) -> None:
    s = backend.storage
    s.put("k", io.BytesIO(b"old"))
    assert s.put("k", io.BytesIO(b"new content"), replace=True).created
    assert s.open("k").read() == b"new content"
    assert list(s.list()) == ["k"]


@pytest.mark.parametrize(("start", "end", "expected"), [
    (0, None, b"0123456789"), (2, 5, b"234"), (5, None, b"56789"), (0, 0, b""), (3, 3, b""),
    (3, 100, b"3456789"), (10, None, b""), (100, None, b""), (100, 200, b""), (9, 10, b"9"),
])
def test_ranges(backend: Backend, start: int, end: int | None, expected: bytes) -> None:
    backend.storage.put("r", io.BytesIO(b"0123456789"))
    with backend.storage.open("r", start=start, end=end) as f:
        assert f.read() == expected


@pytest.mark.parametrize(("start", "end"), [(-1, None), (5, 2)])
def test_bad_range_refused(backend: Backend, start: int, end: int | None) -> None:
    backend.storage.put("r", io.BytesIO(b"0123456789"))
    with pytest.raises(StorageError) as info:
        backend.storage.open("r", start=start, end=end)
    assert info.value.code == "STO010"


def test_range_of_missing_object(backend: Backend) -> None:
    for start, end in [(0, None), (2, 4), (3, 3)]:
        with pytest.raises(ObjectMissing):
            backend.storage.open("nothing", start=start, end=end)


def test_digest_mismatch_leaves_nothing(backend: Backend) -> None:
    s = backend.storage
    with pytest.raises(DigestMismatch) as info:
        s.put("a/b", io.BytesIO(b"payload"), expected_sha256=sha(b"other"))
    assert (info.value.code, info.value.expected, info.value.actual) == ("STO003", sha(b"other"), sha(b"payload"))
    assert "không khớp" in info.value.message("vi")
    assert_nothing_under(s, "a/b")


def test_digest_mismatch_keeps_previous_object(backend: Backend) -> None:
    s = backend.storage
    s.put("k", io.BytesIO(b"good"))
    with pytest.raises(DigestMismatch):
        s.put("k", io.BytesIO(b"bad"), expected_sha256=sha(b"good"))
    assert s.open("k").read() == b"good"


def test_size_mismatch_leaves_nothing(backend: Backend) -> None:
    with pytest.raises(StorageError) as info:
        backend.storage.put("k", io.BytesIO(b"12345"), size=4)
    assert info.value.code == "STO004" and not info.value.transient
    assert_nothing_under(backend.storage, "k")


@pytest.mark.parametrize("good", [100_000, 7 * MiB], ids=["small", "past-one-part"])
def test_stream_failing_mid_write_leaves_nothing(backend: Backend, good: int) -> None:
    with pytest.raises(ConnectionResetError, match="client went away"):
        backend.storage.put("sip/obj.bin", FailingStream(good))
    assert_nothing_under(backend.storage, "sip/obj.bin")


def test_large_object(backend: Backend) -> None:
    data = bytes(range(256)) * (12 * MiB // 256) + b"tail"
    s = backend.storage
    stored = s.put("big/object.tar", io.BytesIO(data), expected_sha256=sha(data), size=len(data))
    assert stored.size == len(data)
    assert s.stat("big/object.tar").sha256 in (sha(data), None)
    assert s.verify("big/object.tar", sha(data)).outcome is FixityOutcome.OK
    with s.open("big/object.tar", start=len(data) - 10) as f:
        assert f.read() == data[-10:]


def test_verify_ok(backend: Backend) -> None:
    data = b"fixity" * 1000
    backend.storage.put("v", io.BytesIO(data))
    result = backend.storage.verify("v", sha(data))
    assert result.ok and result.outcome is FixityOutcome.OK
    assert (result.key, result.location, result.bytes_read) == ("v", backend.storage.name, len(data))
    assert result.actual_sha256 == result.expected_sha256 == sha(data)
    assert result.seconds >= 0 and result.checked_at.tzinfo is not None


def test_verify_mismatch_after_bit_rot(backend: Backend) -> None:
    data = b"fixity" * 1000
    backend.storage.put("v", io.BytesIO(data))
    backend.corrupt("v")
    result = backend.storage.verify("v", sha(data))
    assert result.outcome is FixityOutcome.MISMATCH and not result.ok
    assert result.actual_sha256 == sha(bytes(b ^ (i == len(data) // 2) for i, b in enumerate(data)))
    assert result.bytes_read == len(data)


def test_verify_missing(backend: Backend) -> None:
    result = backend.storage.verify("nope", sha(b""))
    assert result.outcome is FixityOutcome.MISSING
    assert result.actual_sha256 is None and result.bytes_read == 0


def test_verify_refuses_bad_digest(backend: Backend) -> None:
    with pytest.raises(StorageError) as info:
        backend.storage.verify("k", "md5:abc")
    assert info.value.code == "STO012"


def test_list_by_prefix(backend: Backend) -> None:
    s = backend.storage
    keys = ["a/b/c", "a/b2", "a-c", "ab", "b", "a/é", "a/b/d/e"]
    for key in keys:
        s.put(key, io.BytesIO(key.encode()))
    assert list(s.list()) == sorted(keys, key=str.encode)
    assert list(s.list("a/")) == ["a/b/c", "a/b/d/e", "a/b2", "a/é"]
    assert list(s.list("a/b")) == ["a/b/c", "a/b/d/e", "a/b2"]
    assert list(s.list("a/b/")) == ["a/b/c", "a/b/d/e"]
    assert list(s.list("a")) == ["a-c", "a/b/c", "a/b/d/e", "a/b2", "a/é", "ab"]
    assert list(s.list("zz")) == [] and list(s.list("zz/y/")) == []


HOSTILE = ["../x", "/abs", "a//b", "a/./b", "a/../b", "a\x00b", "x" * 2000, "", "a/", ".", "..",
           "a\nb", "a\\..\\b", "e\u0301", ".khoso-tmp-1", "d/.khoso-tmp-2"]


@pytest.mark.parametrize("key", HOSTILE, ids=repr)
def test_hostile_keys_refused(backend: Backend, key: str) -> None:
    s = backend.storage
    calls = [lambda: s.put(key, io.BytesIO(b"x")), lambda: s.open(key), lambda: s.stat(key),
             lambda: s.verify(key, sha(b"x")), lambda: s.delete(key)]
    for call in calls:
        with pytest.raises(InvalidKey) as info:
            call()
        assert info.value.code == "STO001" and not info.value.transient
        assert "Khóa đối tượng lưu trữ không hợp lệ" in info.value.message("vi")
    assert list(s.list()) == []


def test_hostile_prefix_refused(backend: Backend) -> None:
    for prefix in ["../", "/etc", "a//"]:
        with pytest.raises(InvalidKey):
            list(backend.storage.list(prefix))


def test_delete(backend: Backend) -> None:
    s = backend.storage
    s.put("aip/1/data.bin", io.BytesIO(b"1"))
    s.put("aip/2/data.bin", io.BytesIO(b"2"))
    s.delete("aip/1/data.bin")
    with pytest.raises(ObjectMissing):
        s.stat("aip/1/data.bin")
    with pytest.raises(ObjectMissing):
        s.open("aip/1/data.bin")
    assert list(s.list()) == ["aip/2/data.bin"]
    s.put("aip/1/data.bin", io.BytesIO(b"again"))
    assert s.open("aip/1/data.bin").read() == b"again"


def test_delete_missing(backend: Backend) -> None:
    with pytest.raises(ObjectMissing) as info:
        backend.storage.delete("not/there")
    assert info.value.code == "STO002" and not info.value.transient
    assert "not/there" in info.value.message("vi") and backend.storage.name in info.value.message("en")


def test_health_up(backend: Backend) -> None:
    health = backend.storage.health()
    assert health.up and health.name == backend.storage.name


# -- move and staged copies (storage.staging) ---------------------------------------------


def test_move_puts_object_in_place(backend: Backend) -> None:
    s, data = backend.storage, b"staged bytes" * 5000
    s.put("_staging/job1/000000", io.BytesIO(data), lock=False)
    stored = s.move("_staging/job1/000000", "ARC/F1/hồ sơ/v1/data/a.pdf", expected_sha256=sha(data))
    assert (stored.key, stored.size, stored.sha256) == ("ARC/F1/hồ sơ/v1/data/a.pdf", len(data), sha(data))
    assert s.open("ARC/F1/hồ sơ/v1/data/a.pdf").read() == data
    assert list(s.list("_staging/")) == []
    assert s.verify("ARC/F1/hồ sơ/v1/data/a.pdf", sha(data)).ok


def test_move_refuses_wrong_digest_and_keeps_both(backend: Backend) -> None:
    s = backend.storage
    s.put("_staging/job1/000000", io.BytesIO(b"new"), lock=False)
    s.put("dst/k", io.BytesIO(b"old"))
    with pytest.raises(DigestMismatch):
        s.move("_staging/job1/000000", "dst/k", expected_sha256=sha(b"other"))
    assert s.open("dst/k").read() == b"old"
    assert s.open("_staging/job1/000000").read() == b"new"


def test_move_is_write_once(backend: Backend) -> None:
    s, data = backend.storage, b"staged bytes" * 100
    s.put("dst/k", io.BytesIO(b"original"))
    s.put("_staging/job1/000000", io.BytesIO(data), lock=False)
    with pytest.raises(ObjectExists) as info:
        s.move("_staging/job1/000000", "dst/k", expected_sha256=sha(data))
    assert info.value.code == "STO045"
    assert s.open("dst/k").read() == b"original"
    assert s.open("_staging/job1/000000").read() == data
    s.put("_staging/job1/000001", io.BytesIO(b"original"), lock=False)
    kept = s.move("_staging/job1/000001", "dst/k", expected_sha256=sha(b"original"))
    assert not kept.created and s.open("dst/k").read() == b"original"
    assert list(s.list()) == ["_staging/job1/000000", "dst/k"]


def test_move_of_missing_object(backend: Backend) -> None:
    with pytest.raises(ObjectMissing):
        backend.storage.move("_staging/none/000000", "dst/k", expected_sha256=sha(b""))
    assert list(backend.storage.list()) == []


def test_move_refuses_hostile_keys(backend: Backend) -> None:
    s = backend.storage
    s.put("_staging/j/000000", io.BytesIO(b"x"), lock=False)
    with pytest.raises(InvalidKey):
        s.move("_staging/j/000000", "../escape", expected_sha256=sha(b"x"))
    assert list(s.list()) == ["_staging/j/000000"]


def test_staged_copies_stream_to_every_location_then_move(backend: Backend) -> None:
    from storage.memory import MemoryStorage
    from storage.staging import StagedCopies, discard, staging_key

    other = MemoryStorage("second")
    data = bytes(range(256)) * (6 * MiB // 256)
    key = staging_key("job-a", 3)
    staged = StagedCopies([backend.storage, other], key, depth=2)
    for i in range(0, len(data), MiB):
        staged.write(memoryview(data)[i:i + MiB])
    stored = staged.close(sha(data), len(data))
    assert [o.sha256 for o in stored] == [sha(data)] * 2
    for s in (backend.storage, other):
        s.move(key, "A/F/c/v1/data/x.bin", expected_sha256=sha(data))
        assert s.verify("A/F/c/v1/data/x.bin", sha(data)).ok
    assert discard([backend.storage, other], "job-a") == 0


def test_staged_copies_abort_and_discard_leave_nothing(backend: Backend) -> None:
    from storage.staging import StagedCopies, discard, staging_key

    s = backend.storage
    staged = StagedCopies([s], staging_key("job-b", 0), depth=1)
    for _ in range(3):
        staged.write(b"y" * MiB)
    staged.abort()
    assert list(s.list()) == []
    done = StagedCopies([s], staging_key("job-b", 1))
    done.write(b"z")
    done.close(sha(b"z"), 1)
    assert discard([s], "job-b") == 1  # a crashed job's leftovers
    assert list(s.list()) == []


def test_staged_copies_digest_disagreement_fails_and_cleans(backend: Backend) -> None:
    from storage.staging import StagedCopies, staging_key

    staged = StagedCopies([backend.storage], staging_key("job-c", 0))
    staged.write(b"abc")
    with pytest.raises(StorageError) as info:
        staged.close(sha(b"abd"), 3)
    assert info.value.code == "STO011"
    assert list(backend.storage.list()) == []
