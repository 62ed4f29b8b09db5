"""ClamdScanner against a scripted in-process clamd; the real clamd is in tests/integration."""

from __future__ import annotations

import io
import socket
import struct
import threading

import pytest

from ingest.adapters.clamd import ClamdScanner, EngineVersion, ScanStatus, parse_reply
from ingest.adapters.fakes import FAKE_VIRUS_MARKER, FakeScanner
from preservation.errors import ConfigError


class ScriptedClamd:
    """Answers VERSION, records INSTREAM chunk sizes, replies ``reply`` (or hangs, or resets)."""

    def __init__(self, path: str, reply: bytes = b"stream: OK", mode: str = "reply",
                 version: bytes = b"ClamAV 1.4.6/27500/Sat Nov 22 08:00:00 2026") -> None:
        self.reply, self.mode, self.version = reply, mode, version
        self.chunks: list[int] = []
        self.received = bytearray()
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        self.sock.listen(8)
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _recv_exact(self, conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            part = conn.recv(n - len(data))
            if not part:
                raise ConnectionError
            data += part
        return data

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    self._handle(conn)
                except (ConnectionError, OSError):
                    pass

    def _handle(self, conn: socket.socket) -> None:
        command = b""
        while not command.endswith(b"\0"):
            command += self._recv_exact(conn, 1)
        if command == b"zVERSION\0":
            conn.sendall(self.version + b"\0")
            return
        while True:
            (size,) = struct.unpack("!L", self._recv_exact(conn, 4))
            if size == 0:
                break
            self.chunks.append(size)
            self.received += self._recv_exact(conn, size)
            if self.mode == "limit" and len(self.received) > 1000:
                conn.sendall(b"INSTREAM size limit exceeded. ERROR\0")
                return
        if self.mode == "hang":
            self.stop.wait(5)
            return
        if self.mode == "close":
            return
        conn.sendall(self.reply + b"\0")

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def sock_path(tmp_path):
    return str(tmp_path / "c.sock")


def serve(sock_path, **kw):
    return ScriptedClamd(sock_path, **kw)


def test_small_feeds_are_coalesced_into_large_chunks(sock_path):
    server = serve(sock_path)
    scanner = ClamdScanner(f"unix://{sock_path}", timeout=5, chunk_size=64 * 1024)
    session = scanner.open_stream()
    data = bytes(range(256)) * 1000  # 256,000 bytes fed 1,000 bytes at a time
    for i in range(0, len(data), 1000):
        session.feed(data[i:i + 1000])
    result = session.finish()
    server.close()
    assert result.status is ScanStatus.CLEAN and result.clean and result.bytes_scanned == len(data)
    assert bytes(server.received) == data
    assert server.chunks[:-1] == [64 * 1024] * 3 and server.chunks[-1] == len(data) - 3 * 64 * 1024
    assert (result.engine_version, result.signature_version) == ("ClamAV 1.4.6", "27500")
    assert result.signature_date == "Sat Nov 22 08:00:00 2026"
    assert "virusDefinitions=27500/Sat Nov 22" in result.event_detail()


def test_large_feed_is_sent_without_copy_in_chunk_size_pieces(sock_path):
    server = serve(sock_path)
    scanner = ClamdScanner(f"unix://{sock_path}", timeout=5, chunk_size=1000)
    result = scanner.scan_stream(io.BytesIO(b"x" * 4500))
    server.close()
    assert result.clean and server.chunks == [1000] * 4 + [500]


def test_found_reply(sock_path):
    serve(sock_path, reply=b"stream: Win.Test.EICAR_HDB-1 FOUND")
    result = ClamdScanner(f"unix://{sock_path}", timeout=5).scan_stream(io.BytesIO(b"abc"))
    assert result.infected and result.signature == "Win.Test.EICAR_HDB-1"
    assert not result.unavailable


def test_size_limit_reply_is_not_scanned(sock_path):
    serve(sock_path, mode="limit")
    scanner = ClamdScanner(f"unix://{sock_path}", timeout=5, chunk_size=512)
    result = scanner.scan_stream(io.BytesIO(b"y" * 100_000))
    assert result.status is ScanStatus.NOT_SCANNED and not result.scanned
    assert result.limit_exceeded, result.detail
    assert not result.unavailable  # clamd's own answer: a verdict on the file, not an outage
    assert result.bytes_scanned == 100_000  # feeding went on for the digests and the copy


def test_timeout_is_not_scanned(sock_path):
    server = serve(sock_path, mode="hang")
    result = ClamdScanner(f"unix://{sock_path}", timeout=0.3).scan_stream(io.BytesIO(b"abc"))
    server.close()
    assert result.status is ScanStatus.NOT_SCANNED and "timed out" in result.detail
    assert result.unavailable


def test_connection_closed_without_reply(sock_path):
    """clamd killed mid-scan: no verdict on the file, the scanner is unavailable."""
    serve(sock_path, mode="close")
    result = ClamdScanner(f"unix://{sock_path}", timeout=5).scan_stream(io.BytesIO(b"abc"))
    assert result.status is ScanStatus.NOT_SCANNED and "without an answer" in result.detail
    assert result.unavailable


def test_clamd_down_is_not_scanned(tmp_path):
    scanner = ClamdScanner(f"unix://{tmp_path}/absent.sock", timeout=1)
    assert scanner.ping() is False
    session = scanner.open_stream()
    session.feed(b"data")  # never raises: the single read pass goes on
    result = session.finish()
    assert result.status is ScanStatus.NOT_SCANNED
    assert "not reachable" in result.detail and result.bytes_scanned == 4
    assert result.unavailable
    with pytest.raises(RuntimeError):
        session.finish()


def test_tcp_refused_is_not_scanned():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    result = ClamdScanner(f"tcp://127.0.0.1:{port}", timeout=1).scan_stream(io.BytesIO(b"a"))
    assert result.status is ScanStatus.NOT_SCANNED and "not reachable" in result.detail
    assert result.unavailable


@pytest.mark.parametrize("address", ["", "clamd.sock", "http://x", "tcp://", "tcp://h:notaport"])
def test_bad_address_is_a_config_error(address):
    with pytest.raises(ConfigError) as err:
        ClamdScanner(address)
    assert err.value.code == "CFG002"


@pytest.mark.parametrize("text,expected", [
    ("ClamAV 1.4.6/27500/Sat Nov 22 08:00:00 2026", ("ClamAV 1.4.6", "27500", "Sat Nov 22 08:00:00 2026")),
    ("ClamAV 1.4.6", ("ClamAV 1.4.6", None, None)),
    ("ClamAV 1.4.6/27500\0", ("ClamAV 1.4.6", "27500", None)),
])
def test_version_parsing(text, expected):
    v = EngineVersion.parse(text)
    assert (v.engine, v.signature_version, v.signature_date) == expected


@pytest.mark.parametrize("reply,status,name", [
    ("stream: OK", ScanStatus.CLEAN, None),
    ("stream: Test.EICAR.NDB.UNOFFICIAL FOUND", ScanStatus.INFECTED, "Test.EICAR.NDB.UNOFFICIAL"),
    ("stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND", ScanStatus.NOT_SCANNED, None),
    ("INSTREAM size limit exceeded. ERROR", ScanStatus.NOT_SCANNED, None),
    ("stream: Can't allocate memory ERROR", ScanStatus.NOT_SCANNED, None),
    ("", ScanStatus.NOT_SCANNED, None),
])
def test_parse_reply(reply, status, name):
    got = parse_reply(reply)
    assert got[:2] == (status, name)
    assert (got[2] is None) == (status is not ScanStatus.NOT_SCANNED)


def test_fake_scanner_finds_marker_across_chunks():
    scanner = FakeScanner()
    session = scanner.open_stream()
    half = len(FAKE_VIRUS_MARKER) // 2
    session.feed(b"a" * 10 + FAKE_VIRUS_MARKER[:half])
    session.feed(FAKE_VIRUS_MARKER[half:] + b"b")
    assert session.finish().infected
    assert scanner.scan_stream(io.BytesIO(b"clean bytes")).clean
    failing = FakeScanner(failure="clamd not reachable")
    assert failing.scan_stream(io.BytesIO(FAKE_VIRUS_MARKER)).status is ScanStatus.NOT_SCANNED
