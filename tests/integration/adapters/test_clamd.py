"""ClamdScanner against the real clamd of the test harness (its database knows only EICAR)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from ingest.adapters.clamd import ClamdScanner, ScanStatus
from tests.support.viruses import EICAR, zipped

pytestmark = pytest.mark.integration



@pytest.fixture(params=["unix", "tcp"])
def scanner(request) -> ClamdScanner:
    address = request.getfixturevalue("clamd_address" if request.param == "unix" else "clamd_tcp_address")
    return ClamdScanner(address, timeout=30)


def test_ping_and_version(scanner):
    assert scanner.ping()
    v = scanner.version()
    assert v.engine.startswith("ClamAV ")
    assert v.signature_version is None or v.signature_version.isdigit()  # custom DB: absent


def test_clean_stream(scanner):
    result = scanner.scan_stream(io.BytesIO(os.urandom(3 * 1024 * 1024 + 17)))
    assert result.status is ScanStatus.CLEAN and result.detail is None
    assert result.engine_version.startswith("ClamAV ") and result.bytes_scanned == 3 * 1024 * 1024 + 17


def test_eicar_stream(scanner):
    result = scanner.scan_stream(io.BytesIO(EICAR))
    assert result.status is ScanStatus.INFECTED
    assert result.signature.startswith("Test.EICAR.") and result.signature.endswith(".UNOFFICIAL")


def test_eicar_nested_in_zip_in_zip(scanner):
    nested = zipped("ho-so.zip", zipped("tai-lieu/eicar.com", EICAR))
    assert scanner.scan_stream(io.BytesIO(nested)).infected


@pytest.mark.parametrize("piece", [1, 7, 4096])
def test_small_chunks_and_one_chunk_agree(clamd_address, piece):
    data = os.urandom(200_000) + EICAR + os.urandom(50_000)
    scanner = ClamdScanner(clamd_address, timeout=30, chunk_size=64 * 1024)
    session = scanner.open_stream()
    for i in range(0, len(data), piece if piece > 1 else 1):
        session.feed(data[i:i + piece])
    many = session.finish()
    one = scanner.open_stream()
    one.feed(data)
    single = one.finish()
    assert many.infected and single.infected and many.signature == single.signature
    assert many.bytes_scanned == single.bytes_scanned == len(data)


def test_clamd_down_is_not_scanned(tmp_path):
    dead = tmp_path / "dead.sock"
    import socket

    s = socket.socket(socket.AF_UNIX)
    s.bind(str(dead))
    s.close()  # socket file exists, nobody listens
    result = ClamdScanner(f"unix://{dead}", timeout=2).scan_stream(io.BytesIO(EICAR))
    assert result.status is ScanStatus.NOT_SCANNED and "not reachable" in result.detail


@pytest.fixture(scope="module")
def tiny_clamd(clamd_address):
    """A private clamd with tiny limits (stream 1M, file 100K), sharing the harness's EICAR DB."""
    clamd = shutil.which("clamd") or "/usr/sbin/clamd"
    if not os.path.exists(clamd):
        pytest.skip("clamd binary not installed")
    db = Path(clamd_address.removeprefix("unix://")).parent / "db"
    folder = Path(tempfile.mkdtemp(prefix="khoso-clamd-", dir="/tmp"))  # short socket path
    (folder / "tmp").mkdir()
    conf = folder / "clamd.conf"
    conf.write_text(f"""Foreground yes
LocalSocket {folder}/clamd.sock
DatabaseDirectory {db}
TemporaryDirectory {folder}/tmp
LogFile {folder}/clamd.log
StreamMaxLength 1M
MaxFileSize 100K
MaxScanSize 100K
AlertExceedsMax yes
SelfCheck 0
""")
    proc = subprocess.Popen([clamd, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        scanner = ClamdScanner(f"unix://{folder}/clamd.sock", timeout=10)
        for _ in range(100):
            if scanner.ping():
                break
            if proc.poll() is not None:
                pytest.skip("private clamd did not start")
            time.sleep(0.1)
        else:
            pytest.skip("private clamd did not answer")
        yield scanner
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def test_stream_over_stream_max_length_is_not_scanned(tiny_clamd):
    result = tiny_clamd.scan_stream(io.BytesIO(os.urandom(3 * 1024 * 1024)))
    assert result.status is ScanStatus.NOT_SCANNED, result
    assert result.limit_exceeded and "INSTREAM size limit exceeded" in result.detail
    assert result.bytes_scanned == 3 * 1024 * 1024
    assert tiny_clamd.scan_stream(io.BytesIO(EICAR)).infected  # the same server still works


def test_file_over_max_file_size_is_not_scanned_not_clean(tiny_clamd):
    result = tiny_clamd.scan_stream(io.BytesIO(os.urandom(500 * 1024)))
    assert result.status is ScanStatus.NOT_SCANNED, result
    assert result.limit_exceeded and "Heuristics.Limits.Exceeded" in result.detail
