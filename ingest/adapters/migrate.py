"""Format migration converters: one per preservation format khoso migrates to.

A converter turns one source file into one file of its target format and says which tool
(and version) did it, for the PREMIS ``migration`` event. A file the tool cannot convert
(encrypted, broken, the tool failing on it, too slow) raises ``KhosoError`` ``MIG002``; a tool
the archive lacks raises ``Unavailable`` ``MIG004`` (the archive's fault: the job is retried).
The output's format is then identified by the caller, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from preservation.catalog.vocab import MigrationTarget
from preservation.errors import KhosoError
from preservation.issues import Text

# The PUIDs a migrated file must be identified as (PRONOM): PDF/A-2b, TIFF (any byte order).
EXPECTED_PUIDS: dict[MigrationTarget, frozenset[str]] = {
    MigrationTarget.PDFA_2B: frozenset({"fmt/477"}),
    MigrationTarget.TIFF: frozenset({"fmt/353"}),
}
TARGET_NAMES = {MigrationTarget.PDFA_2B: "PDF/A-2b", MigrationTarget.TIFF: "TIFF"}


@dataclass(frozen=True)
class ToolRun:
    """The program that made a migrated file, as the PREMIS event and its agent name it."""

    tool: str
    version: str
    options: str


class Converter(Protocol):
    target: MigrationTarget
    extension: str  # the migrated file's extension, with its dot

    def convert(self, source: Path, out: Path, *, name: str) -> ToolRun:
        """Write ``out`` from ``source`` (``name`` is the file's bag path, for messages)."""
        ...


def refused(name: str, target: MigrationTarget, vi: str, en: str) -> KhosoError:
    """MIG002: this file could not be migrated, and why (both languages)."""
    return KhosoError("MIG002", name, file=name, target=TARGET_NAMES[target],
                      why=Text(vi, en))


def converter_for(target: MigrationTarget, *, timeout: float) -> Converter:
    from ingest.adapters.migrate_image import PillowTiff
    from ingest.adapters.migrate_pdfa import GhostscriptPdfa

    if target == MigrationTarget.PDFA_2B:
        return GhostscriptPdfa(timeout=timeout)
    return PillowTiff()
