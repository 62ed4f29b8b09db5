"""Fakes implementing the adapter protocols, for unit tests of the steps that use them.

They behave like the real adapters on the points steps depend on: incremental feeding, a failure
reported as NOT_SCANNED (never CLEAN), typed frozen results.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, BinaryIO

from ingest.adapters.clamd import ScanResult, ScanStatus, _scan_stream
from ingest.adapters.formats import EMPTY, FormatIdentification, Tool
from ingest.adapters.signatures import SignatureVerification
from preservation.issues import Issue

FAKE_VIRUS_MARKER = b"KHOSO-FAKE-VIRUS-MARKER"


class FakeScanSession:
    def __init__(self, scanner: FakeScanner) -> None:
        self._scanner = scanner
        self._tail = b""
        self._found = False
        self._bytes = 0
        self._done = False

    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        data = self._tail + bytes(chunk)
        self._bytes += len(chunk)
        self._found = self._found or self._scanner.marker in data
        self._tail = data[-(len(self._scanner.marker) - 1):]  # markers split across chunks

    def finish(self) -> ScanResult:
        if self._done:
            raise RuntimeError("scan session already finished")
        self._done = True
        s = self._scanner
        common: dict[str, Any] = dict(engine_version=s.engine_version, signature_version="1",
                                      bytes_scanned=self._bytes)
        if s.failure:
            return ScanResult(ScanStatus.NOT_SCANNED, detail=s.failure, unavailable=s.unavailable,
                              **common)
        if self._found:
            return ScanResult(ScanStatus.INFECTED, s.signature_name, **common)
        return ScanResult(ScanStatus.CLEAN, **common)

    def abort(self) -> None:
        self._done = True


class FakeScanner:
    """``VirusScanner`` that finds ``marker`` anywhere in the stream; ``failure`` makes it fail
    (a verdict like clamd's limit replies, or with ``unavailable`` a scanner that is down)."""

    engine_version = "FakeScanner 1.0"

    def __init__(self, marker: bytes = FAKE_VIRUS_MARKER, signature_name: str = "Fake.Marker",
                 failure: str | None = None, unavailable: bool = False) -> None:
        self.marker = marker
        self.unavailable = unavailable
        self.address = "fake://scanner"
        self.signature_name = signature_name
        self.failure = failure
        self.sessions = 0

    def open_stream(self) -> FakeScanSession:
        self.sessions += 1
        return FakeScanSession(self)

    def scan_stream(self, stream: BinaryIO) -> ScanResult:
        return _scan_stream(self, stream, 64 * 1024)


class FakeIdentifier:
    """``FormatIdentifier`` answering from a suffix → PUID table (``.pdf`` → PDF/A-2b by default)."""

    DEFAULT = {".pdf": ("fmt/477", "Acrobat PDF/A - Portable Document Format", "2b", "application/pdf"),
               ".txt": ("x-fmt/111", "Plain Text File", "", "text/plain"),
               ".png": ("fmt/11", "Portable Network Graphics", "1.0", "image/png")}

    def __init__(self, table: Mapping[str, tuple[str, str, str, str]] | None = None) -> None:
        self.table = dict(self.DEFAULT if table is None else table)

    def identify(self, path: str | os.PathLike[str]) -> FormatIdentification:
        name = os.fspath(path)
        tool = Tool(tool="fake", tool_version="1", signature_file="fake")
        if not os.path.exists(name):
            return FormatIdentification(name, None, error="no such file", **tool)
        if os.path.getsize(name) == 0:
            return FormatIdentification(name, None, error=EMPTY, **tool)
        row = self.table.get(os.path.splitext(name)[1].lower())
        if row is None:
            return FormatIdentification(name, None, **tool)
        puid, fmt, version, mime = row
        return FormatIdentification(name, puid, fmt, version, mime, "fake signature", **tool)

    def identify_many(self, paths: Iterable[str | os.PathLike[str]],
                      workers: int = 2) -> list[FormatIdentification]:
        return [self.identify(p) for p in paths]


class FakeSignatureVerifier:
    """``SignatureVerifier`` returning canned results per path; unknown paths are unsigned."""

    def __init__(self, results: Mapping[str, SignatureVerification] | None = None) -> None:
        self.results = dict(results or {})

    def verify(self, path: str | os.PathLike[str]) -> SignatureVerification:
        name = os.fspath(path)
        return self.results.get(name) or SignatureVerification(name, problems=(Issue("SIG001", name),))
