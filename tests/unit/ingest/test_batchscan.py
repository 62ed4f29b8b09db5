"""Small files scanned as one tar stream per batch, settled file by file when not clean."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile

import pytest

from ingest.adapters.clamd import ScanStatus
from ingest.adapters.fakes import FAKE_VIRUS_MARKER, FakeScanner
from ingest.batchscan import _header, _pad, is_container, plan, scan_small_files


def write(tmp_path, contents: list[bytes]):
    files = []
    for i, data in enumerate(contents):
        src = tmp_path / "src" / f"f{i}.bin"
        src.parent.mkdir(exist_ok=True)
        src.write_bytes(data)
        files.append((src, tmp_path / "copy" / f"f{i}.bin"))
    return files


def test_headers_make_a_tar_that_tarfile_reads_back():
    members = [b"", b"a", b"x" * 511, b"y" * 512, b"z" * 1000]
    stream = b"".join(_header(i, len(d)) + d + _pad(len(d)) for i, d in enumerate(members))
    stream += b"\0" * 1024
    with tarfile.open(fileobj=io.BytesIO(stream), mode="r:") as tar:
        read = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
    assert read == [(f"{i:07d}", d) for i, d in enumerate(members)]


def test_a_clean_batch_is_one_scan_and_each_file_gets_its_digests_verdict_and_copy(tmp_path):
    contents = [b"%PDF-1.4 " + bytes([i]) * (100 * i) for i in range(40)]
    files = write(tmp_path, contents)
    scanner = FakeScanner()  # counts its sessions: batching is about fewer
    results = scan_small_files(files, ["sha256", "md5"], scanner)
    assert scanner.sessions == 1
    for (_src, copy), data, r in zip(files, contents, results, strict=True):
        assert r.size == len(data) and r.digests["sha256"] == hashlib.sha256(data).hexdigest()
        assert r.digests["md5"] == hashlib.md5(data).hexdigest()
        assert r.scan.clean and r.scan.bytes_scanned == len(data)
        assert copy.read_bytes() == data


def test_an_infected_batch_is_settled_file_by_file_and_the_infected_copy_never_written(tmp_path):
    contents = [b"clean one", b"before " + FAKE_VIRUS_MARKER + b" after", b"clean two"]
    files = write(tmp_path, contents)
    scanner = FakeScanner()  # counts its sessions: batching is about fewer
    results = scan_small_files(files, ["sha256"], scanner)
    assert scanner.sessions == 1 + 3
    assert [r.scan.status for r in results] == [ScanStatus.CLEAN, ScanStatus.INFECTED,
                                                 ScanStatus.CLEAN]
    assert results[1].scan.signature == "Fake.Marker"
    assert files[0][1].exists() and not files[1][1].exists() and files[2][1].exists()
    assert not any(p.name.startswith(".") for p in (tmp_path / "copy").iterdir())


def test_a_scanner_failure_leaves_every_file_not_scanned(tmp_path):
    files = write(tmp_path, [b"one", b"two"])
    results = scan_small_files(files, ["sha256"], FakeScanner(failure="clamd not reachable"))
    assert all(r.scan.status is ScanStatus.NOT_SCANNED and r.scan.detail == "clamd not reachable"
               for r in results)


def test_archives_are_scanned_alone_not_inside_the_batch(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("inner.txt", b"hello")
    contents = [b"plain", buf.getvalue(), b"\x1f\x8b\x08rest", b"plain too"]
    files = write(tmp_path, contents)
    scanner = FakeScanner()  # counts its sessions: batching is about fewer
    results = scan_small_files(files, ["sha256"], scanner)
    assert scanner.sessions == 1 + 2 and all(r.scan.clean for r in results)
    assert [is_container(c) for c in contents] == [False, True, True, False]


def test_without_a_scanner_files_are_hashed_and_copied(tmp_path):
    files = write(tmp_path, [b"abc"])
    (result,) = scan_small_files(files, ["sha256"], None)
    assert result.scan is None and files[0][1].read_bytes() == b"abc"


def test_the_signature_marker_is_seen(tmp_path):
    files = write(tmp_path, [b"%PDF /ByteRange [0 1 2 3]", b"%PDF"])
    assert [r.marker for r in scan_small_files(files, ["sha256"], FakeScanner())] == [True, False]


@pytest.mark.parametrize(("sizes", "expected"), [
    ([10, 10, 10], [[0, 1, 2]]),
    ([10, 100, 10], [[0], [1], [2]]),
    ([10] * 5, [[0, 1], [2, 3], [4]]),
    ([40, 40, 40], [[0], [1], [2]]),
    ([], []),
])
def test_plan_batches_small_files_in_order_and_keeps_large_ones_alone(sizes, expected):
    paths = [f"p{i}" for i in range(len(sizes))]
    size = dict(zip(paths, sizes, strict=True))
    assert list(plan(paths, size.get, small_max=50, max_files=2 if len(sizes) == 5 else 9,
                     max_bytes=60)) == expected
