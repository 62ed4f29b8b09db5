"""What only the filesystem backend has: temp files, fsync, symlinks, folders."""

from __future__ import annotations

import errno
import hashlib
import io
import os
from pathlib import Path

import pytest

from storage import FixityOutcome, ObjectExists, ObjectMissing, StorageError
from storage.filesystem import FilesystemStorage
from storage.keys import RESERVED_PREFIX


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root").mkdir()
    return tmp_path / "root"


@pytest.fixture
def fs(root: Path) -> FilesystemStorage:
    return FilesystemStorage(root, name="replica1")


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


class Boom(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise ConnectionResetError("gone")


def test_objects_are_plain_files(fs: FilesystemStorage, root: Path) -> None:
    fs.put("aip/1/data/a.pdf", io.BytesIO(b"pdf"))
    assert (root / "aip/1/data/a.pdf").read_bytes() == b"pdf"
    assert files_under(root) == ["aip", "aip/1", "aip/1/data", "aip/1/data/a.pdf"]


def test_failed_put_leaves_no_temp_file_and_no_new_folders(fs: FilesystemStorage, root: Path) -> None:
    fs.put("keep/x", io.BytesIO(b"x"))
    with pytest.raises(ConnectionResetError):
        fs.put("keep/new/deeper/y", Boom())
    with pytest.raises(ConnectionResetError):
        fs.put("keep/x", Boom())
    assert files_under(root) == ["keep", "keep/x"]
    assert (root / "keep/x").read_bytes() == b"x"


def test_list_ignores_temp_files_and_links(fs: FilesystemStorage, root: Path, tmp_path: Path) -> None:
    fs.put("a/b", io.BytesIO(b"1"))
    (root / "a" / f"{RESERVED_PREFIX}tmp-123").write_bytes(b"half")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_bytes(b"s")
    (root / "a" / "link").symlink_to(tmp_path / "outside")
    (root / "a" / "flink").symlink_to(tmp_path / "outside" / "secret")
    assert list(fs.list()) == ["a/b"]
    assert list(fs.list("a/link/")) == []


def test_symlinked_folder_is_refused(fs: FilesystemStorage, root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x").write_bytes(b"outside")
    (root / "a").symlink_to(outside)
    for call in [lambda: fs.put("a/new", io.BytesIO(b"evil")), lambda: fs.open("a/x"),
                 lambda: fs.stat("a/x"), lambda: fs.delete("a/x")]:
        with pytest.raises(StorageError) as info:
            call()
        assert info.value.code == "STO008"
        assert "liên kết" in info.value.message("vi")
    result = fs.verify("a/x", sha(b"outside"))  # a link where our folder was: damaged
    assert result.outcome is FixityOutcome.MISMATCH and "symbolic link" in result.detail
    assert files_under(outside) == ["x"] and (outside / "x").read_bytes() == b"outside"


def test_symlinked_file_is_refused(fs: FilesystemStorage, root: Path, tmp_path: Path) -> None:
    (tmp_path / "secret").write_bytes(b"secret")
    (root / "f").symlink_to(tmp_path / "secret")
    with pytest.raises(StorageError) as info:
        fs.open("f")
    assert info.value.code == "STO008"
    with pytest.raises(StorageError):
        fs.delete("f")
    assert fs.verify("f", sha(b"secret")).outcome is FixityOutcome.MISMATCH
    with pytest.raises(ObjectExists):  # write-once: not even over a link
        fs.put("f", io.BytesIO(b"replaced"))
    assert (root / "f").is_symlink()
    fs.put("f", io.BytesIO(b"replaced"), replace=True)  # replaces the link itself, never its target
    assert (tmp_path / "secret").read_bytes() == b"secret"
    assert not (root / "f").is_symlink() and fs.open("f").read() == b"replaced"


def test_root_given_through_a_link_is_fine(root: Path, tmp_path: Path) -> None:
    (tmp_path / "via").symlink_to(root)
    fs = FilesystemStorage(tmp_path / "via")
    fs.put("k", io.BytesIO(b"1"))
    assert fs.root == root.resolve() and (root / "k").exists()


def test_folder_where_object_expected(fs: FilesystemStorage, root: Path) -> None:
    fs.put("a/b", io.BytesIO(b"1"))
    with pytest.raises(StorageError) as info:
        fs.put("a", io.BytesIO(b"2"))
    assert info.value.code == "STO009"
    with pytest.raises(StorageError) as info:
        fs.put("a/b/c", io.BytesIO(b"3"))
    assert info.value.code == "STO009"
    with pytest.raises(ObjectMissing):
        fs.stat("a/b/c")
    assert list(fs.list()) == ["a/b"]
    (root / "d").mkdir()
    assert fs.verify("d", sha(b"")).outcome is FixityOutcome.UNREADABLE


def test_delete_prunes_empty_folders(fs: FilesystemStorage, root: Path) -> None:
    fs.put("aip/1/data/a", io.BytesIO(b"1"))
    fs.put("aip/2/b", io.BytesIO(b"2"))
    fs.delete("aip/1/data/a")
    assert files_under(root) == ["aip", "aip/2", "aip/2/b"]


def test_put_fsyncs_file_and_folder(fs: FilesystemStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    fs.put("k", io.BytesIO(b"1"))
    assert len(calls) >= 2


def test_stat_reports_digest_from_xattr(fs: FilesystemStorage, root: Path) -> None:
    fs.put("k", io.BytesIO(b"abc"))
    try:
        os.getxattr(root / "k", "user.khoso.sha256")
    except OSError:
        pytest.skip("this filesystem keeps no user xattrs")
    assert fs.stat("k").sha256 == sha(b"abc")


def test_disk_error_while_writing(fs: FilesystemStorage, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(StorageError) as info:
        fs.put("a/k", io.BytesIO(b"1"))
    assert info.value.code == "STO044" and "No space left" in info.value.message("en")
    assert info.value.transient  # the archive's disk, not the package: retry later
    assert files_under(root) == []


def test_health(tmp_path: Path) -> None:
    missing = FilesystemStorage(tmp_path / "not-mounted", name="r")
    health = missing.health()
    assert not health.up and "does not exist" in health.detail
    with pytest.raises(StorageError) as info:
        missing.put("k", io.BytesIO(b"1"))
    assert info.value.code == "STO044" and info.value.transient
    created = FilesystemStorage(tmp_path / "new", create_root=True)
    assert created.health().up and "GiB free" in created.health().detail


def test_list_on_missing_root_raises(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as info:
        list(FilesystemStorage(tmp_path / "gone").list())
    assert info.value.code == "STO044" and info.value.transient


def test_range_reader_is_independent_of_other_readers(fs: FilesystemStorage) -> None:
    fs.put("k", io.BytesIO(bytes(range(256)) * 4096))
    a, b = fs.open("k", start=100, end=200), fs.open("k", start=1000)
    assert a.read(10) == bytes(range(100, 110))
    assert b.read(1) == bytes([1000 % 256])
    assert a.read() == bytes(range(110, 200))
    a.close()
    b.close()


def test_deferred_sync_skips_per_object_fsyncs_and_flushes_only_its_own_filesystem(fs, root,
                                                                                  monkeypatch):
    import storage.filesystem as module

    flushed, fsynced = [], []
    real_fsync = os.fsync
    monkeypatch.setattr(module, "_SYNCFS", lambda fd: flushed.append(os.fstat(fd).st_ino) or 0)
    monkeypatch.setattr(module.os, "sync", lambda: pytest.fail("os.sync flushes every disk"))
    monkeypatch.setattr(module.os, "fsync", lambda fd: fsynced.append(fd) or real_fsync(fd))
    with fs.deferred_sync():
        for i in range(3):
            fs.put(f"pkg/{i}.bin", io.BytesIO(b"x" * i))
        assert flushed == []
    assert flushed == [root.stat().st_ino]
    assert len(fsynced) == 1  # the one new folder "pkg"; no object and no rename waits for the disk
    assert sorted(fs.list("pkg/")) == ["pkg/0.bin", "pkg/1.bin", "pkg/2.bin"]


def test_without_syncfs_the_whole_machine_is_flushed(fs, monkeypatch):
    import storage.filesystem as module

    calls = []
    monkeypatch.setattr(module, "_SYNCFS", None)
    monkeypatch.setattr(module.os, "sync", lambda: calls.append("sync"))
    with fs.deferred_sync():
        fs.put("a.bin", io.BytesIO(b"a"))
    assert calls == ["sync"]


@pytest.mark.parametrize("err", [errno.EPERM, errno.EROFS, errno.EACCES, errno.ENOSPC])
def test_mkdir_refused_is_a_coded_transient_error(fs: FilesystemStorage, root: Path, err: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A replica folder that cannot be created (read-only, no permission) never escapes as
    a bare OSError (a traceback with exit 1): it is STO044, transient, nothing left behind."""
    def refuse(*args, **kwargs) -> None:
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(os, "mkdir", refuse)
    with pytest.raises(StorageError) as info:
        fs.put("A/F/c/v1/data/x.pdf", io.BytesIO(b"1"))
    assert info.value.code == "STO044" and info.value.transient
    assert os.strerror(err) in info.value.message("en") and "mkdir" in info.value.message("en")
    assert files_under(root) == []


def test_unreadable_folder_in_list_is_a_coded_error(fs: FilesystemStorage,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fs.put("a/b", io.BytesIO(b"1"))

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "scandir", denied)
    with pytest.raises(StorageError) as info:
        list(fs.list("a/"))
    assert info.value.code == "STO044" and info.value.transient


def test_fsync_failure_is_a_coded_error(fs: FilesystemStorage, root: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    def eio(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", eio)
    with pytest.raises(StorageError) as info:
        fs.put("k", io.BytesIO(b"1"))
    assert info.value.code == "STO044" and info.value.transient
    assert files_under(root) == []
