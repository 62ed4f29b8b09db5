"""Hostile and ordinary submissions: each refusal asserts its exact codes and an untouched disk."""

from __future__ import annotations

import io
import os
import shutil
import stat
import tarfile
import tempfile
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.bag import validate_bag
from ingest.unpack import UnpackLimits, detect_kind, stage_directory, unpack
from preservation.errors import KhosoError
from tests.support.bags import (
    gnu_sparse_member,
    make_bag,
    make_sip,
    patch_all,
    snapshot,
    tar_bytes,
    tar_special,
    tar_with_raw,
    zip_bytes,
    zip_symlink,
)
from tests.support.winzip import cp1258, explorer_zip

NFC = unicodedata.normalize("NFC", "Hồ sơ.pdf")
NFD = unicodedata.normalize("NFD", "Hồ sơ.pdf")


@pytest.fixture
def fast_tmp(tmp_path: Path) -> Iterator[Path]:
    """tmpfs when there is one: the 100,000-file tests measure our code, not the disk."""
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else str(tmp_path)
    folder = Path(tempfile.mkdtemp(dir=base))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_zip_bag_unpacks_with_file_list(tmp_path: Path) -> None:
    bag = make_sip(tmp_path / "src" / "bag")
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        for path in sorted(bag.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(tmp_path / "src").as_posix())
    archive = tmp_path / "bag.zip"
    archive.write_bytes(data.getvalue())
    result = unpack(archive, tmp_path / "out")
    assert result.ok and result.kind == "zip" and result.report.codes() == set()
    assert result.bag_root == tmp_path / "out" / "bag"
    sizes = {f.path: f.size for f in result.files}
    assert sizes["bag/data/representations/rep1/data/Hồ sơ.pdf"] == len(b"%PDF-1.4 test")
    assert result.total_bytes == sum(sizes.values())
    assert (result.bag_root / "data" / "METS.xml").read_bytes() == b"<mets/>"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("gz", [False, True])
def test_tar_made_with_dot_prefix_unpacks(tmp_path: Path, gz: bool) -> None:
    bag = make_sip(tmp_path / "src")
    archive = tmp_path / ("bag.tgz" if gz else "bag.tar")
    with tarfile.open(archive, "w:gz" if gz else "w") as tf:
        tf.add(bag, arcname=".")
    result = unpack(archive, tmp_path / "out")
    assert result.ok and result.kind == ("tgz" if gz else "tar")
    assert result.bag_root == tmp_path / "out"
    assert "data/METS.xml" in {f.path for f in result.files}


def test_kind_comes_from_magic_bytes_not_name(tmp_path: Path) -> None:
    archive = tmp_path / "looks-like.zip"
    archive.write_bytes(tar_bytes([("a.txt", b"x")], gz=True))
    assert detect_kind(archive) == "tgz"
    assert unpack(archive, tmp_path / "out").kind == "tgz"


def test_unknown_format(refuse) -> None:
    refuse(b"Rar!\x1a\x07\x00" + b"\x00" * 100, {"PKG001"})


def test_gzip_that_is_not_tar(refuse) -> None:
    import gzip

    refuse(gzip.compress(b"hello, not a tar" * 100), {"PKG002"})


@pytest.mark.parametrize("name, code", [
    ("../evil.txt", "PKG004"),
    ("data/../../evil.txt", "PKG004"),
    ("/tmp/evil.txt", "PKG003"),
    ("C:/evil.txt", "PKG005"),
    ("data\\..\\evil.txt", "PKG005"),
    ("data/./x.txt", "PKG019"),
    ("data//x.txt", "PKG019"),
    ("data/a\x01b.txt", "PKG019"),
])
@pytest.mark.parametrize("fmt", ["zip", "tar"])
def test_unsafe_names(refuse, tmp_path: Path, name: str, code: str, fmt: str) -> None:
    members = [("data/ok.txt", b"fine"), (name, b"evil")]
    refuse(zip_bytes(members) if fmt == "zip" else tar_bytes(members), {code})
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()


def test_zip_symlink(refuse) -> None:
    refuse(zip_bytes([("data/ok.txt", b"x"), (zip_symlink("data/link", "/etc/passwd"), b"/etc/passwd")]),
           {"PKG006"})


def test_tar_symlink(refuse) -> None:
    refuse(tar_bytes([("data/ok.txt", b"x"), tar_special("data/link", tarfile.SYMTYPE, "/etc/passwd")]),
           {"PKG006"})


def test_tar_hard_link(refuse) -> None:
    refuse(tar_bytes([("data/ok.txt", b"x"), tar_special("data/hard", tarfile.LNKTYPE, "data/ok.txt")]),
           {"PKG007"})


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_tar_device_and_fifo(refuse, kind: bytes) -> None:
    refuse(tar_bytes([tar_special("data/null", kind)]), {"PKG008"})


def test_zip_bomb_refused_from_headers(refuse) -> None:
    bomb = zip_bytes([("data/zeros.bin", bytes(50 << 20))])
    assert len(bomb) < 1 << 20
    refuse(bomb, {"PKG009", "PKG011"}, UnpackLimits(max_total_bytes=10 << 20))


def test_zip_bomb_ratio_alone(refuse) -> None:
    refuse(zip_bytes([("data/zeros.bin", bytes(8 << 20))]), {"PKG011"})


def test_tgz_bomb_stream_ratio(refuse) -> None:
    refuse(tar_bytes([("data/zeros.bin", bytes(8 << 20))], gz=True), {"PKG011"})


def test_zip_header_lying_about_size_is_caught_while_extracting(refuse) -> None:
    data = zip_bytes([("data/big.bin", bytes(5 << 20))])
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("data/big.bin")
    real, fake = info.file_size.to_bytes(4, "little"), (1000).to_bytes(4, "little")
    # uncompressed size sits right after the compressed size in both headers
    lying = patch_all(data, info.compress_size.to_bytes(4, "little") + real,
                      info.compress_size.to_bytes(4, "little") + fake)
    assert zipfile.ZipFile(io.BytesIO(lying)).getinfo("data/big.bin").file_size == 1000
    refuse(lying, {"PKG018"}, UnpackLimits(max_ratio=10_000))


@pytest.fixture(scope="module")
def many() -> bytes:
    """100,000 one-byte files, stored (no compression), built once for both count tests."""
    return zip_bytes([(f"data/d{i // 1000:03}/f{i:06}.txt", b"x") for i in range(100_000)],
                     compression=zipfile.ZIP_STORED)


def test_count_limit_at_100000_files(refuse, many: bytes) -> None:
    start = time.perf_counter()
    refuse(many, {"PKG010"}, UnpackLimits(max_files=99_999))
    assert time.perf_counter() - start < 5  # refused from the directory count, nothing parsed


def test_100000_files_under_the_limit(fast_tmp: Path, many: bytes) -> None:
    archive = fast_tmp / "many.zip"
    archive.write_bytes(many)
    result = unpack(archive, fast_tmp / "out")
    assert result.ok and len(result.files) == 100_000 and result.total_bytes == 100_000
    assert (fast_tmp / "out" / "data" / "d099" / "f099999.txt").read_bytes() == b"x"


def test_nfc_and_nfd_names_collide(refuse) -> None:
    refuse(zip_bytes([(f"data/{NFC}", b"a"), (f"data/{NFD}", b"b")]), {"PKG015", "PKG027"})


def test_nfd_name_alone_is_kept_with_a_warning(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(zip_bytes([(f"data/{NFD}", b"a")]))
    result = unpack(archive, tmp_path / "out")
    assert result.ok and result.report.codes() == {"PKG027"}
    assert result.files[0].path == f"data/{NFD}"


def test_case_only_difference_is_a_warning(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar"
    archive.write_bytes(tar_bytes([("data/A.txt", b"a"), ("data/a.txt", b"b")]))
    result = unpack(archive, tmp_path / "out")
    assert result.ok and result.report.codes() == {"PKG021"}


def test_tar_invalid_utf8_name(refuse) -> None:
    bad = b"data/h\xf4 s\xa1.pdf".decode("utf-8", "surrogateescape")
    refuse(tar_bytes([(bad, b"x")]), {"PKG014"})


def test_zip_legacy_name_not_utf8_is_refused(refuse) -> None:
    data = zip_bytes([("data/hXsX.pdf", b"x")])
    refuse(patch_all(data, b"data/hXsX.pdf", b"data/h\xf4s\xa1.pdf"), {"PKG014"})


def test_zip_utf8_name_without_flag_is_read_as_utf8(tmp_path: Path) -> None:
    name = "data/sơ.pdf".encode()
    data = zip_bytes([("data/XXX.pdf", b"x")])
    assert len(name) == len(b"data/XXX.pdf")
    archive = tmp_path / "a.zip"
    archive.write_bytes(patch_all(data, b"data/XXX.pdf", name))
    result = unpack(archive, tmp_path / "out")
    assert result.ok and result.report.codes() == {"PKG023"}
    assert result.files[0].path == "data/sơ.pdf"


def test_duplicate_members(refuse) -> None:
    with pytest.warns(UserWarning):
        data = zip_bytes([("data/a.txt", b"1"), ("data/a.txt", b"2")])
    refuse(data, {"PKG016"})


def test_file_and_folder_with_the_same_name(refuse) -> None:
    refuse(tar_bytes([("data/x", b"1"), ("data/x/y", b"2")]), {"PKG020"})


def test_encrypted_zip_member(refuse) -> None:
    data = bytearray(zip_bytes([("data/a.txt", b"secret")]))
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(sig) + offset
        data[at] |= 0x01
    refuse(bytes(data), {"PKG017"})


def test_unsupported_zip_method(refuse) -> None:
    refuse(zip_bytes([("data/a.txt", b"x" * 100)], compression=zipfile.ZIP_BZIP2), {"PKG022"})


def test_depth_and_name_length_limits(refuse) -> None:
    deep = "/".join(["d"] * 5) + "/f.txt"
    refuse(tar_bytes([(deep, b"x"), ("data/" + "n" * 40, b"x")]), {"PKG012", "PKG013"},
           UnpackLimits(max_depth=4, max_name_bytes=32))


def test_total_size_counted_with_honest_headers(refuse) -> None:
    refuse(tar_bytes([("data/a.bin", b"x" * 600), ("data/b.bin", b"y" * 600)]), {"PKG009"},
           UnpackLimits(max_total_bytes=1000))


def test_every_problem_is_collected(refuse) -> None:
    refuse(tar_bytes([("../a", b"x"), tar_special("l", tarfile.SYMTYPE, "/"), ("/abs", b"x")]),
           {"PKG004", "PKG006", "PKG003"})


def test_destination_must_be_empty(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar"
    archive.write_bytes(tar_bytes([("a.txt", b"x")]))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(KhosoError) as err:
        unpack(archive, tmp_path / "out")
    assert err.value.code == "PKG024"
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_missing_archive(tmp_path: Path) -> None:
    assert unpack(tmp_path / "nope.zip", tmp_path / "out").report.codes() == {"PKG025"}


# -- folder submissions -------------------------------------------------------------------------

def test_stage_directory_in_place(tmp_path: Path) -> None:
    bag = make_sip(tmp_path / "bag")
    result = stage_directory(bag)
    assert result.ok and result.root == bag and result.kind == "dir"
    assert "data/METS.xml" in {f.path for f in result.files}


def test_stage_directory_copy(tmp_path: Path) -> None:
    bag = make_sip(tmp_path / "bag")
    result = stage_directory(bag, dest=tmp_path / "copy")
    assert result.ok and result.root == tmp_path / "copy"
    assert (tmp_path / "copy" / "data" / "METS.xml").read_bytes() == b"<mets/>"


def test_stage_directory_refuses_links_and_special_files(tmp_path: Path) -> None:
    src = tmp_path / "bag"
    (src / "data").mkdir(parents=True)
    (src / "data" / "a.txt").write_text("a")
    os.symlink("/etc/passwd", src / "data" / "link")
    os.link(src / "data" / "a.txt", tmp_path / "elsewhere.txt")
    os.mkfifo(src / "data" / "pipe")
    assert stat.S_ISFIFO(os.lstat(src / "data" / "pipe").st_mode)
    result = stage_directory(src)
    assert result.report.codes() == {"PKG006", "PKG007", "PKG008"} and result.root is None
    before = snapshot(tmp_path)
    copied = stage_directory(src, dest=tmp_path / "copy")
    assert copied.report.codes() == {"PKG006", "PKG007", "PKG008"} and not copied.ok
    assert snapshot(tmp_path) == before


def test_stage_directory_nfc_collision(tmp_path: Path) -> None:
    src = tmp_path / "bag"
    (src / "data").mkdir(parents=True)
    (src / "data" / NFC).write_bytes(b"a")
    (src / "data" / NFD).write_bytes(b"b")
    assert stage_directory(src).report.codes() == {"PKG015", "PKG027"}


# -- expansion counted on what is written, whatever the member type (issue #12, item 5) ----------

@pytest.mark.parametrize("gz", [True, False], ids=["tar.gz", "tar"])
def test_gnu_sparse_member_cannot_expand_past_the_archive_ratio(refuse, gz: bool) -> None:
    # A 64 MiB file stored as one 512-byte segment: ~200 bytes of tar.gz, 300,000:1. The
    # per-member ratio never sees it (tar has no compressed size per member) and the tar.gz
    # stream ratio counts the tar stream, which holds only the stored segment.
    data = tar_with_raw([("data/a.txt", b"hello")],
                        gnu_sparse_member("data/sparse.bin", 64 << 20), gz=gz)
    assert len(data) < 64 << 10
    refuse(data, {"PKG077"})


def test_many_small_highly_compressed_zip_members_are_counted_together(refuse) -> None:
    # 100 members of 512 KiB of zeros: each is under the 1 MiB per-member floor, so no member
    # is ratio-checked on its own, but together 50 MiB come out of ~60 KB.
    members = [(f"data/z{i:03}.bin", bytes(512 << 10)) for i in range(100)]
    data = zip_bytes(members)
    assert len(data) < 100 << 10
    result = refuse(data, {"PKG077"})
    issue = next(iter(result.report))
    assert int(issue.params["compressed"]) == len(data) and issue.params["limit"] == 200


def test_the_expansion_limit_counts_bytes_written_not_headers(tmp_path: Path) -> None:
    # The writer alone (headers already passed): it stops as soon as what it has written to
    # disk passes the limit, and leaves no more than one chunk beyond it.
    from ingest.unpack import _Stop, _Writer
    from preservation.issues import Report

    report = Report()
    limits = UnpackLimits(max_ratio=10, ratio_floor=2 << 20)
    writer = _Writer(tmp_path, limits, report, archive_bytes=100 << 10)  # limit: 2 MiB
    with pytest.raises(_Stop):
        writer.write("big.bin", io.BytesIO(bytes(8 << 20)), 8 << 20)
    assert report.codes() == {"PKG077"}
    assert (tmp_path / "big.bin").stat().st_size <= (2 << 20)


# -- unreadable entries of a folder submission (issue #12, item 7) ------------------------------

def _as_unprivileged(fn):
    """``fn()`` in a child that has dropped root (root reads a chmod 000 file regardless),
    or here when already unprivileged; its JSON-able result comes back through a pipe."""
    import json

    from preservation.issues import issue_catalog

    if os.geteuid() != 0:
        return fn()
    issue_catalog()  # loaded by root: the child could not import what lives under /root
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setgid(65534)
            os.setuid(65534)
            out = fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            out = {"error": repr(exc)}
        finally:
            os.write(write, json.dumps(out).encode())
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        out = f.read()
    os.waitpid(pid, 0)
    return json.loads(out)


def test_unreadable_entries_of_a_folder_are_each_named() -> None:
    base = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        src = make_sip(base / "bag")
        secret = src / "data" / "secret.pdf"
        secret.write_bytes(b"%PDF-1.4")
        (src / "data" / "locked").mkdir()
        (src / "data" / "locked" / "inside.pdf").write_bytes(b"%PDF-1.4")
        for path in (base, *base.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)
        secret.chmod(0)
        (src / "data" / "locked").chmod(0)

        def check() -> list:
            result = stage_directory(src)
            return [result.root is None, sorted((i.code, i.path) for i in result.report)]

        out = _as_unprivileged(check)
        assert isinstance(out, list), out
        refused, issues = out
    finally:
        for path in (base, *base.rglob("*")):
            path.chmod(0o755)
        shutil.rmtree(base)
    assert refused
    assert [tuple(i) for i in issues] == [("PKG078", "data/locked"), ("PKG078", "data/secret.pdf")]


# -- payload paths a storage key cannot carry (issue #12, item 8) --------------------------------

def _bag_tar(payload: str, *, bagged: bool = True) -> bytes:
    members = [("bag/bagit.txt", b"BagIt-Version: 1.0\n")] if bagged else []
    return tar_bytes([*members, ("bag/data/ok.txt", b"x"), (f"bag/{payload}", b"x")])


def test_payload_path_longer_than_a_storage_key_allows(refuse) -> None:
    # room for the bag path: 1024 - 200 = 824 bytes; "data/…" of 830 bytes is refused, under the
    # old 1024-byte path limit. The single top folder "bag/" is not part of the key.
    limits = UnpackLimits(key_prefix_bytes=200)
    path = "data/" + "/".join(["đ" * 100] * 4) + "/" + "x" * 21  # 5 + 4*201 + 21 = 830 bytes
    assert len(path.encode()) == 830
    result = refuse(_bag_tar(path), {"PKG079"}, limits)
    issue = next(iter(result.report))
    assert issue.path == f"bag/{path}"
    assert (issue.params["length"], issue.params["limit"]) == (830, 824)


def test_payload_path_that_fits_and_tag_files_are_not_counted(tmp_path: Path) -> None:
    limits = UnpackLimits(key_prefix_bytes=200)
    fits = "data/" + "d" * 200 + "/" + "x" * 200 + "/" + "y" * 200 + "/" + "z" * 216  # 824
    tag = "tags/" + "/".join(["t" * 200] * 4)  # not payload: never a storage key
    archive = tmp_path / "a.tar"
    archive.write_bytes(tar_bytes([("bag/bagit.txt", b"BagIt-Version: 1.0\n"),
                                   (f"bag/{fits}", b"x"), (f"bag/{tag}", b"x")]))
    assert unpack(archive, tmp_path / "out", limits).ok


def test_unbagged_package_paths_are_counted_under_data(refuse) -> None:
    # No bagit.txt: the package would be carried under data/, five bytes more.
    limits = UnpackLimits(key_prefix_bytes=200)
    path = "representations/" + "r" * 200 + "/" + "s" * 200 + "/" + "t" * 200 + "/" + "u" * 201
    assert len(path.encode()) == 820  # fits alone, not with "data/" (825)
    refuse(_bag_tar(path, bagged=False), {"PKG079"}, limits)


def test_default_limits_assume_the_longest_archive_code() -> None:
    from ingest.unpack import MAX_KEY_BYTES, aip_prefix_bytes

    # "{archive}/{fonds}/{archive}.{fileCode}/v9999/" with a 25-character archive code, a
    # 20-character fonds code and a 100-character fileCode of up to 4 bytes per character
    assert UnpackLimits().key_prefix_bytes == 25 + 1 + 20 + 1 + 25 + 1 + 400 + 1 + 5 + 1
    assert aip_prefix_bytes("TTLTNA") < UnpackLimits().key_prefix_bytes < MAX_KEY_BYTES


@pytest.mark.parametrize("fmt", ["zip", "tar"])
def test_reserved_storage_prefix_and_c1_controls_are_refused(refuse, fmt: str) -> None:
    members = [("data/ok.txt", b"x"), ("data/.khoso-tmp-1", b"x"), ("data/a\x85b.txt", b"x")]
    result = refuse(zip_bytes(members) if fmt == "zip" else tar_bytes(members),
                    {"PKG080", "PKG019"})
    assert {i.path for i in result.report} == {"data/.khoso-tmp-1", "data/a?b.txt"}


def test_unreadable_archive_is_named_not_called_corrupt() -> None:
    base = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        base.chmod(0o777)
        archive = base / "bag.tar"
        archive.write_bytes(tar_bytes([("data/a.txt", b"x")]))
        archive.chmod(0)

        def check() -> list:
            result = unpack(archive, base / "out")
            return [result.root is None, sorted((i.code, i.path) for i in result.report)]

        out = _as_unprivileged(check)
        assert isinstance(out, list), out
    finally:
        shutil.rmtree(base)
    assert out[0] and [tuple(i) for i in out[1]] == [("PKG078", "bag.tar")]


@pytest.mark.parametrize("gz", [True, False], ids=["tar.gz", "tar"])
def test_pax_sparse_member_cannot_expand_past_the_archive_ratio(refuse, gz: bool) -> None:
    # The POSIX (PAX 0.1) spelling of a sparse file, which tarfile writes from pax headers.
    real, data = 64 << 20, b"x" * 512
    sparse = tarfile.TarInfo("data/sparse.bin")
    sparse.size = len(data)
    sparse.pax_headers = {"GNU.sparse.size": str(real), "GNU.sparse.map": f"{real - 512},512"}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as tf:
        tf.addfile(sparse, io.BytesIO(data))
    assert len(buf.getvalue()) < 64 << 10
    refuse(buf.getvalue(), {"PKG077"})


def _three_members(gz: bool = False) -> bytes:
    return tar_bytes([("bagit.txt", b"BagIt-Version: 1.0\n"), ("data/a.bin", b"a" * 5000),
                      ("data/b.txt", b"b" * 100)], gz=gz)


# The offsets below are those of _three_members: headers at 0, 1024 and 6656, data/b's data at 7168.
@pytest.mark.parametrize("cut", [1024, 1500, 6656, 6900, 7680],
                         ids=["at-a-header", "mid-header", "at-the-last-header", "mid-last-header",
                              "before-the-end-marker"])
def test_a_tar_cut_short_between_members_is_refused_not_read_as_shorter(refuse, cut: int) -> None:
    # tarfile ends the member list silently at a header it cannot read: the members after the
    # cut were lost without a word (a cut inside member data was already caught).
    refuse(_three_members()[:cut], {"PKG002"})


def test_a_tar_with_a_damaged_header_is_refused_not_read_as_shorter(refuse) -> None:
    data = bytearray(_three_members())
    data[6656 + 148:6656 + 156] = b"0000000\0"  # data/b.txt's header checksum, wrong
    refuse(bytes(data), {"PKG002"})


@pytest.mark.parametrize("gz", [False, True], ids=["tar", "tar.gz"])
def test_a_second_tar_appended_is_refused_not_ignored(refuse, gz: bool) -> None:
    # `cat a.tar b.tar` (or two gzip members): tarfile stops at a.tar's end marker and never
    # sees b.tar's members.
    second = tar_bytes([("data/c.txt", b"c")], gz=gz)
    refuse(_three_members(gz=gz) + second, {"PKG002"})


@pytest.mark.parametrize("damage", ["cut-trailer", "bad-crc"])
def test_a_tar_gz_whose_gzip_trailer_is_cut_or_wrong_is_refused(refuse, damage: str) -> None:
    data = bytearray(_three_members(gz=True))
    if damage == "cut-trailer":
        del data[-6:]
    else:
        data[-8] ^= 0xFF  # the CRC-32 of the uncompressed tar
    refuse(bytes(data), {"PKG002"})


def test_a_tar_with_only_the_end_marker_padding_is_read_whole(tmp_path: Path) -> None:
    # Writers pad to a 10 KiB record (GNU tar, tarfile) or write just two zero blocks (Go, 7-Zip).
    full = _three_members()
    for n, data in enumerate((full, full[:7680 + 1024], full + b"\0" * 20480)):
        archive = tmp_path / f"{n}.tar"
        archive.write_bytes(data)
        result = unpack(archive, tmp_path / f"out{n}")
        assert result.report.ok, list(result.report)
        assert sorted(f.path for f in result.files) == ["bagit.txt", "data/a.bin", "data/b.txt"]


def test_the_macos_finder_resource_fork_folder_is_left_out_with_a_warning(tmp_path: Path) -> None:
    # Finder's "Compress" puts AppleDouble files (resource forks, Finder attributes, never the
    # content) under a second top folder __MACOSX/: the bag was no longer the only top folder,
    # so it was not found ("no bagit.txt at the root").
    archive = tmp_path / "bag.zip"
    archive.write_bytes(zip_bytes([("bag/bagit.txt", b"x"), ("bag/data/a.txt", b"a"),
                                   ("__MACOSX/", b""), ("__MACOSX/bag/._bagit.txt", b"\0\5\x16\7"),
                                   ("__MACOSX/bag/data/._a.txt", b"\0\5\x16\7")]))
    result = unpack(archive, tmp_path / "out")
    assert result.ok, list(result.report)
    assert sorted(f.path for f in result.files) == ["bag/bagit.txt", "bag/data/a.txt"]
    assert result.bag_root == tmp_path / "out" / "bag"
    assert [(i.code, i.params["count"]) for i in result.report] == [("PKG082", 2)]


def test_a_hostile_member_under_macosx_is_still_refused(refuse) -> None:
    # Only what Finder writes there is left out: the name rules hold for every member.
    refuse(zip_bytes([("bag/bagit.txt", b"x"), ("__MACOSX/../../evil.txt", b"e")]), {"PKG004"})


def _zip_entry(name: str, attr: int, system: int = 0) -> zipfile.ZipInfo:
    """An entry as Windows tools write it: made on MS-DOS/NTFS (0), attributes in the low byte."""
    info = zipfile.ZipInfo(name)
    info.create_system, info.external_attr = system, attr
    return info


def test_zip_folder_entries_without_a_slash_are_folders(tmp_path: Path) -> None:
    """Some Windows tools mark a folder entry by the MS-DOS directory attribute (0x10) alone,
    with no "/" at the end of its name: a folder, not an empty file."""
    archive = tmp_path / "a.zip"
    archive.write_bytes(zip_bytes([(_zip_entry("bag/data", 0x10), b""),
                                   (_zip_entry("bag/data/trống", 0x10), b""),
                                   (_zip_entry("bag/data/sub", 0x10), b""),
                                   (_zip_entry("bag/data/sub/a.txt", 0x20), b"x")]))
    result = unpack(archive, tmp_path / "out")
    assert result.ok and result.report.codes() == set()
    assert [f.path for f in result.files] == ["bag/data/sub/a.txt"]
    assert (tmp_path / "out" / "bag" / "data" / "trống").is_dir()
    assert (tmp_path / "out" / "bag" / "data" / "sub" / "a.txt").read_bytes() == b"x"


@pytest.mark.parametrize("entry", [_zip_entry("data/sub/", 0x10),
                                   _zip_entry("data/sub", 0x10),
                                   _zip_entry("data/sub", (stat.S_IFDIR | 0o755) << 16, system=3)])
def test_zip_folder_entry_holding_data_is_refused(refuse, entry: zipfile.ZipInfo) -> None:
    result = refuse(zip_bytes([(entry, b"hidden bytes"), ("data/a.txt", b"x")]), {"PKG202"})
    assert [i.path for i in result.report] == ["data/sub"]


def test_zip_regular_file_mode_wins_over_the_dos_attribute(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(zip_bytes([(_zip_entry("data/a", (stat.S_IFREG | 0o644) << 16 | 0x10, 3),
                                    b"x")]))
    result = unpack(archive, tmp_path / "out")
    assert result.ok and [f.path for f in result.files] == ["data/a"]


def _unicode_path(header: bytes, name: str) -> bytes:
    """The Info-ZIP Unicode Path extra field (0x7075, APPNOTE 4.6.9) for ``header``."""
    body = b"\x01" + zlib.crc32(header).to_bytes(4, "little") + name.encode()
    return (0x7075).to_bytes(2, "little") + len(body).to_bytes(2, "little") + body


@pytest.mark.parametrize("header", ["data/Tài liệu.pdf".encode("cp1258", "replace"),  # b"...li?u"
                                    b"data/T\x85i li?u.pdf"])  # cp437, '?' for what it lacks
def test_zip_name_from_the_unicode_path_field(tmp_path: Path, header: bytes) -> None:
    """A Windows tool without the UTF-8 flag writes the name in its code page (what it cannot
    write as '?') and the real name in the Unicode Path field, which is read, with a warning."""
    placeholder = b"data/" + b"Q" * (len(header) - 5)
    info = zipfile.ZipInfo(placeholder.decode())
    info.extra = _unicode_path(header, "data/Tài liệu.pdf")
    archive = tmp_path / "a.zip"
    archive.write_bytes(patch_all(zip_bytes([(info, b"%PDF")]), placeholder, header))
    result = unpack(archive, tmp_path / "out")
    assert result.ok and result.report.codes() == {"PKG201"}
    assert [f.path for f in result.files] == ["data/Tài liệu.pdf"]
    assert (tmp_path / "out" / "data" / "Tài liệu.pdf").read_bytes() == b"%PDF"


def test_zip_unicode_path_field_for_another_name_is_ignored(refuse) -> None:
    """A tool renamed the entry without updating the field: its CRC no longer matches."""
    header = b"data/T\xe0i li?u.pdf"
    placeholder = b"data/" + b"Q" * (len(header) - 5)
    info = zipfile.ZipInfo(placeholder.decode())
    info.extra = _unicode_path(b"data/old name.pdf", "data/Tài liệu.pdf")
    refuse(patch_all(zip_bytes([(info, b"%PDF")]), placeholder, header), {"PKG014"})


@pytest.mark.parametrize("kind", ["zip", "tar", "dir"])
def test_names_hiding_characters_are_kept_and_warned(tmp_path: Path, kind: str) -> None:
    spoofed = "data/Hồ sơ \u202efdp.exe"  # shown as "Hồ sơ exe.pdf"
    folder = "data/\u200bẢnh"  # a zero-width space: warned once, not for each file in it
    members = [(spoofed, b"MZ"), (f"{folder}/1.jpg", b"1"), (f"{folder}/2.jpg", b"2")]
    if kind == "dir":
        src = tmp_path / "src"
        for name, data in members:
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes(data)
        result = stage_directory(src)
    else:
        archive = tmp_path / "a.bin"
        archive.write_bytes(zip_bytes(members) if kind == "zip" else tar_bytes(members))
        result = unpack(archive, tmp_path / "out")
    assert result.ok and result.report.codes() == {"PKG203"}
    warned = {i.path: i.params["chars"] for i in result.report}
    assert warned == {"data/Hồ sơ \\u202efdp.exe": "U+202E", "data/\\u200bẢnh": "U+200B"}
    assert "\\u202e" in result.report.issues[0].message("vi")
    assert spoofed in {f.path for f in result.files}  # the name itself is kept exactly
    if kind != "dir":
        assert (tmp_path / "out" / spoofed).read_bytes() == b"MZ"


def test_zip_made_on_windows_with_backslash_separators(tmp_path: Path) -> None:
    """.NET Framework before 4.6.1 wrote "bag\\data\\a.txt": on a Windows host '\\' can only
    separate folders, so it is read as '/', warned once for the archive."""
    archive = tmp_path / "a.zip"
    archive.write_bytes(zip_bytes([(_zip_entry("bag\\bagit.txt", 0x20), b"b"),
                                   (_zip_entry("bag\\data\\Hồ sơ\\a.txt", 0x20), b"a")]))
    result = unpack(archive, tmp_path / "out")
    assert result.ok and result.report.codes() == {"PKG204"}
    assert [(i.path, i.params["count"]) for i in result.report] == [("bag/bagit.txt", 2)]
    assert (tmp_path / "out" / "bag" / "data" / "Hồ sơ" / "a.txt").read_bytes() == b"a"
    assert result.bag_root == tmp_path / "out" / "bag"


@pytest.mark.parametrize(("entry", "codes"), [
    (_zip_entry("data\\a.txt", 0x20, system=3), {"PKG005"}),  # Unix: '\\' may be in a name
    (_zip_entry("..\\..\\evil.txt", 0x20), {"PKG004", "PKG204"}),
    (_zip_entry("C:\\Windows\\evil.txt", 0x20), {"PKG005", "PKG204"}),
    (_zip_entry("\\\\server\\share\\evil.txt", 0x20), {"PKG003", "PKG204"}),
])
def test_zip_backslash_names_that_stay_refused(refuse, entry: zipfile.ZipInfo,
                                               codes: set[str]) -> None:
    refuse(zip_bytes([(entry, b"x")]), codes)


def test_zip_names_in_the_vietnamese_code_page_confirmed_by_the_manifest(tmp_path: Path) -> None:
    files = {"Công văn số 12.pdf": b"%PDF", "Ảnh hiện trường/ảnh 1.png": b"png"}
    bag = make_bag(tmp_path / "src" / "bag", files)
    assert not cp1258("Công văn số 12.pdf").decode("cp1258").isascii()
    archive = tmp_path / "a.zip"
    archive.write_bytes(explorer_zip(bag))
    result = unpack(archive, tmp_path / "out")
    assert result.ok and result.report.codes() == {"PKG205", "PKG027"}
    (warned,) = [i for i in result.report if i.code == "PKG205"]
    assert warned.params["code_page"] == "cp1258" and warned.params["count"] == 3
    on_disk = {unicodedata.normalize("NFC", f.path) for f in result.files}
    assert {f"bag/data/{name}" for name in files} <= on_disk
    assert validate_bag(tmp_path / "out" / "bag").is_valid()


def test_zip_code_page_names_no_manifest_confirms_are_refused(refuse, tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "src" / "bag", {"Công văn.pdf": b"%PDF"})
    (bag / "data" / "Tờ trình.pdf").write_bytes(b"x")  # not in the manifest
    refuse(explorer_zip(bag), {"PKG014"})
