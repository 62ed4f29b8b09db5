"""Deterministic METS inputs, including a lazy 100,000-document sequence for memory tests."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Sequence

from preservation.packaging.mets import write_rep_mets, write_root_mets
from preservation.packaging.model import ICT, DocumentEntry, FileEntry

WHEN = dt.datetime(2026, 6, 12, 11, 45, 37, 690000, tzinfo=ICT)
DIGEST = "ab" * 32


def _uuid(n: int) -> str:
    return str(uuid.UUID(int=n)).upper()


def entry(path: str, n: int = 0, mime: str | None = None) -> FileEntry:
    mime = mime or ("text/xml" if path.endswith(".xml") else "application/pdf")
    return FileEntry(path, 100 + n, f"{n:064x}", mime, WHEN, f"ID-{_uuid(n)}")


def document(i: int) -> DocumentEntry:
    base = "representations/rep1/"
    ead = entry(f"{base}metadata/descriptive/EAD_doc_{i}.xml", 3 * i)
    data = entry(f"{base}data/H49.64.33.2001.160.{i}.pdf", 3 * i + 1)
    return DocumentEntry(ead, (data,), dmd_id=f"uuid-{_uuid(3 * i + 2)}")


def write_lazy_rep_mets(target: str, count: int) -> dict[str, float]:
    """Write a ``count``-document AIP rep1 METS; return seconds and ru_maxrss growth (KiB).
    Run it in a fresh interpreter so the RSS peak belongs to this write alone."""
    import resource
    import time

    from preservation.packaging.mets import write_rep_mets

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with open(target, "wb") as out:
        write_rep_mets(out, **rep_kwargs("AIP", "hoso", LazyDocuments(count)))
    return {"seconds": time.perf_counter() - started,
            "rss_growth_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before}


class LazyDocuments(Sequence[DocumentEntry]):
    """Builds each entry on access, so a test measures the writer, not its input."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [document(i) for i in range(*index.indices(self.count))]
        if not 0 <= index < self.count:
            raise IndexError(index)
        return document(index)


def root_kwargs(package_type: str, content: str) -> dict:
    return dict(
        objid="uuid-7D0D1987-0F1C-47A7-8FD6-CC5C7DE4064F", label="Hồ sơ thành lập Sở Nội vụ",
        package_type=package_type, content=content, created=WHEN, software_name="khoso",
        software_version="0.1.0", fond_code="P623", submission_agreement="NL.BNV.2026.01",
        ead=entry("metadata/descriptive/EAD.xml", 900),
        premis=entry("metadata/preservation/PREMIS.xml", 901) if package_type == "AIP" else None,
        schemas=[entry("schemas/mets1_12.xsd", 902, "application/octet-stream"),
                 entry("schemas/EAD.xsd", 903, "application/octet-stream")],
        rep_mets=entry("representations/rep1/METS.xml", 904),
        documentation=[entry("documentation/UserManual.pdf", 905)],
    )


def rep_kwargs(package_type: str, content: str, documents: Sequence[DocumentEntry]) -> dict:
    premis = None
    if package_type == "AIP":
        premis = entry("representations/rep1/metadata/preservation/PREMIS_rep1.xml", 906)
    return dict(objid="uuid-7D0D1987-0F1C-47A7-8FD6-CC5C7DE4064F", package_type=package_type,
                content=content, created=WHEN, agency_name="Sở Nội vụ tỉnh Nghệ An",
                fond_code="P623", documents=documents, premis=premis)


def root_mets(package_type: str, content: str, **override) -> bytes:
    out = io.BytesIO()
    write_root_mets(out, **{**root_kwargs(package_type, content), **override})
    return out.getvalue()


def rep_mets(package_type: str, content: str, documents=None) -> bytes:
    out = io.BytesIO()
    docs = documents if documents is not None else [document(i) for i in range(5)]
    write_rep_mets(out, **rep_kwargs(package_type, content, docs))
    return out.getvalue()
