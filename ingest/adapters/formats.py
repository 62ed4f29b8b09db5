"""Format identification (PRONOM PUIDs) with siegfried (pygfried, default) or fido.

pygfried is siegfried compiled into the wheel: PRONOM v125, ≈20–45× faster than fido (measured
2026-11-22). fido stays selectable for sites that must reproduce Archivematica's tool; its Python API needs three
workarounds on Python 3 (see ``FidoIdentifier``). Identification never raises for a bad input:
a missing, unreadable or empty file comes back with ``error`` set, and the policy turns that into
an issue code.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

EMPTY = "empty source"


@dataclass(frozen=True, slots=True)
class FormatIdentification:
    path: str
    puid: str | None  # None: no PRONOM identifier matched
    format_name: str = ""
    version: str = ""
    mime: str = ""
    basis: str = ""
    warning: str = ""
    error: str = ""  # why the tool could not read the file ("empty source" for 0 bytes)
    tool: str = ""
    tool_version: str = ""
    signature_file: str = ""  # e.g. "default.sig (DROID_SignatureFile_V125.xml; …)"
    alternatives: tuple[str, ...] = ()  # further PUIDs when the tool could not decide

    @property
    def known(self) -> bool:
        return self.puid is not None

    @property
    def empty(self) -> bool:
        return self.error == EMPTY

    @property
    def extension_only(self) -> bool:
        # siegfried's basis for a real match reads "extension match pdf; byte match at …":
        # only a basis with no byte or container match is a guess from the name.
        content = "byte match" in self.basis or "container match" in self.basis
        return "extension only" in self.warning or (
            self.basis.startswith("extension") and not content)

    def event_detail(self) -> str:
        """PREMIS eventDetail: program and version, signature file."""
        return f"program={self.tool}; version={self.tool_version}; signatures={self.signature_file}"


class Tool(TypedDict):
    """The program that answered, as each ``FormatIdentification`` it makes records it."""

    tool: str
    tool_version: str
    signature_file: str


class FormatIdentifier(Protocol):
    def identify(self, path: str | os.PathLike[str]) -> FormatIdentification: ...

    def identify_many(self, paths: Iterable[str | os.PathLike[str]],
                      workers: int = 2) -> list[FormatIdentification]: ...


@runtime_checkable
class BackgroundIdentifier(FormatIdentifier, Protocol):
    """An identifier that works beside the read pass (``identify_process.IsolatedIdentifier``):
    ``submit`` starts a batch, ``result`` collects its answers."""

    def submit(self, paths: Iterable[str | os.PathLike[str]],
               workers: int = 2) -> Future[list[FormatIdentification]]: ...

    def result(self, future: Future[list[FormatIdentification]],
               paths: Iterable[str | os.PathLike[str]],
               workers: int = 2) -> list[FormatIdentification]: ...


def _size(name: str) -> int:
    try:
        return os.stat(name).st_size
    except OSError:
        return -1


_NO_FOLDER = contextlib.nullcontext("")


class PygfriedIdentifier:
    """siegfried through pygfried. ``detailed=True`` never raises for missing or empty files.

    siegfried reads every byte of a file (measured 2026-12-01 on a 1 GiB PDF: 4.9 s of CPU,
    peak memory 1.1 GB). A file of at least ``windowed_min`` bytes is identified from a copy of
    its first and last ``window`` bytes, as DROID does by default (it scans 64 KiB from each end):
    PRONOM byte signatures are anchored at the beginning or the end. The whole file is read
    when the windows name a ZIP or OLE2 container (their container signatures follow offsets
    into the middle), match nothing, or leave siegfried unsure (a warning).
    """

    tool = "siegfried"
    WINDOW = 1 << 20
    WINDOWED_MIN = 32 << 20
    CONTAINERS = frozenset({"x-fmt/263", "fmt/111"})  # ZIP and OLE2

    def __init__(self, profile: Literal["default", "archivematica"] | None = None,
                 window: int = WINDOW,
                 windowed_min: int = WINDOWED_MIN) -> None:
        import pygfried

        self._scanner = pygfried.Scanner(profile=profile) if profile else pygfried.Scanner()
        self.window = window
        self.windowed_min = max(windowed_min, 2 * window)

    def identify(self, path: str | os.PathLike[str]) -> FormatIdentification:
        return self.identify_many([path], workers=1)[0]

    def identify_many(self, paths: Iterable[str | os.PathLike[str]],
                      workers: int = 2) -> list[FormatIdentification]:
        names = [os.fspath(p) for p in paths]
        if not names:
            return []
        large = [n for n in names if _size(n) >= self.windowed_min]
        with tempfile.TemporaryDirectory(prefix="khoso-sf-") if large else _NO_FOLDER as tmp:
            windows = self._windows(large, tmp) if large else {}
            by_name, tool = self._report([windows.get(n, n) for n in names], workers)
            entries = {n: by_name.get(windows.get(n, n)) for n in names}
        whole = [n for n in windows if not self._window_decides(entries[n])]
        if whole:
            again, tool = self._report(whole, workers)
            entries.update((n, again.get(n)) for n in whole)
        note = f"; identified from the first and last {self.window} bytes"
        same: dict[Any, Any] = {}  # one object per distinct value: pickled once, kept once
        return [self._convert(n, entries[n], tool, same,
                              note if n in windows and n not in whole else "") for n in names]

    def _report(self, names: list[str], workers: int) -> tuple[dict[str, Any], Tool]:
        report = self._scanner.identify_many(names, workers=workers)
        details = "; ".join(i.get("details", "") for i in report.get("identifiers", []))
        # the same string objects for every file: pickled once when sent from a helper process
        tool = Tool(tool=self.tool, tool_version=report.get("siegfried", ""),
                    signature_file=f"{report.get('signature', '')} ({details})")
        return {f["filename"]: f for f in report.get("files", [])}, tool

    def _windows(self, names: list[str], folder: str) -> dict[str, str]:
        """Window copies of large files, keeping each name's extension (siegfried uses it)."""
        windows: dict[str, str] = {}
        for i, name in enumerate(names):
            if name in windows:
                continue
            try:
                with open(name, "rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    if size < self.windowed_min:  # changed since it was listed
                        continue
                    head = f.read(self.window)
                    f.seek(size - self.window)
                    tail = f.read(self.window)
            except OSError:
                continue  # siegfried reports why it cannot read it
            copy = os.path.join(folder, f"{i}{os.path.splitext(name)[1]}")
            with open(copy, "wb") as out:
                out.write(head)
                out.write(tail)
            windows[name] = copy
        return windows

    def _window_decides(self, entry: dict[str, Any] | None) -> bool:
        if entry is None or entry.get("errors"):
            return False
        matches = [m for m in entry.get("matches", []) if m.get("ns", "pronom") == "pronom"]
        return bool(matches) and all(
            m.get("id") not in (None, "", "UNKNOWN") and m["id"] not in self.CONTAINERS
            and not m.get("warning") and "container" not in m.get("basis", "")
            for m in matches)

    def _convert(self, name: str, entry: dict[str, Any] | None, tool: Tool,
                 same: dict[Any, Any], note: str = "") -> FormatIdentification:
        if entry is None:
            return FormatIdentification(name, None, error="no result from siegfried", **tool)
        error = entry.get("errors", "")
        matches = [m for m in entry.get("matches", []) if m.get("ns", "pronom") == "pronom"]
        if error == EMPTY or entry.get("filesize") == 0 and not error:
            return FormatIdentification(name, None, error=EMPTY, **tool)
        if not matches:
            return FormatIdentification(name, None, error=error or "", **tool)
        m = matches[0]
        puid = m.get("id") or None
        if puid == "UNKNOWN":
            puid = None
        alternatives = tuple(x["id"] for x in matches[1:] if x.get("id") not in (None, "UNKNOWN"))
        values: tuple[Any, ...] = (
            puid, m.get("format", ""), m.get("version", ""), m.get("mime", ""),
            m.get("basis", "") + note, m.get("warning", ""), error, alternatives)
        puid, fmt, version, mime, basis, warning, error, alternatives = (
            same.setdefault(v, v) for v in values)
        return FormatIdentification(name, puid, fmt, version, mime, basis, warning, error, **tool,
                                    alternatives=alternatives)


class FidoIdentifier:
    """fido (opf-fido 1.6.x, bundled PRONOM) with its Python-3 API bugs worked around.

    1. ``Fido()`` names a signature file that is not shipped: pass the bundled ones explicitly.
    2. ``identify_stream`` loops forever on short streams: only ``identify_file`` is used.
    3. ``identify_file`` keeps per-file state and reports through a callback: one lock per
       instance, and a missing/empty file is checked here before fido prints to stderr.
    """

    tool = "fido"

    def __init__(self, nocontainer: bool = False) -> None:
        import fido
        from fido import CONFIG_DIR
        from fido.fido import Fido
        from fido.versions import get_local_versions

        v = get_local_versions(CONFIG_DIR)
        self._fido = Fido(quiet=True, handle_matches=self._on_matches, nocontainer=nocontainer,
                          format_files=[v.pronom_signature, v.fido_extension_signature])
        self._fido.containersignature_file = v.pronom_container_signature
        self._tool = Tool(tool=self.tool, tool_version=fido.__version__,
                          signature_file=f"{v.pronom_signature}; {v.pronom_container_signature}")
        self._lock = threading.Lock()
        self._found: list[tuple[Any, str]] = []
        self._matchtype = ""

    def _on_matches(self, fullname: str, matches: Sequence[Any], delta_t: float,
                    matchtype: str = "") -> None:
        self._found = [(fmt, _sig) for fmt, _sig in matches]
        self._matchtype = matchtype

    def identify(self, path: str | os.PathLike[str]) -> FormatIdentification:
        name = os.fspath(path)
        try:
            size = Path(name).stat().st_size
        except OSError as exc:
            return FormatIdentification(name, None, error=exc.strerror or str(exc), **self._tool)
        if size == 0:
            return FormatIdentification(name, None, error=EMPTY, **self._tool)
        with self._lock:
            self._found, self._matchtype = [], ""
            self._fido.identify_file(name)
            found, matchtype = self._found, self._matchtype
        if not found:
            return FormatIdentification(name, None, basis=matchtype, **self._tool)
        puids = [fmt.findtext("puid") for fmt, _ in found]
        fmt = found[0][0]
        warning = "match on extension only" if matchtype == "extension" else ""
        if len(puids) > 1:
            warning = "; ".join(filter(None, [warning, f"{len(puids)} candidate formats"]))
        return FormatIdentification(
            name, puids[0], fmt.findtext("name") or "", fmt.findtext("version") or "",
            fmt.findtext("mime") or "", matchtype, warning, "", **self._tool,
            alternatives=tuple(puids[1:]),
        )

    def identify_many(self, paths: Iterable[str | os.PathLike[str]],
                      workers: int = 2) -> list[FormatIdentification]:
        """Sequential: fido's state is per instance, and it is slow enough that threads buy little."""
        return [self.identify(p) for p in paths]


def make_identifier(name: str = "siegfried") -> FormatIdentifier:
    """Pick an identifier by the name used in settings: ``siegfried`` (default) or ``fido``."""
    if name in ("siegfried", "pygfried"):
        return PygfriedIdentifier()
    if name == "fido":
        return FidoIdentifier()
    from preservation.errors import ConfigError
    from preservation.issues import Text

    raise ConfigError("CFG002", name="KHOSO_FORMAT_IDENTIFIER", value=name,
                      reason=Text("cần siegfried hoặc fido", "expected siegfried or fido"))
