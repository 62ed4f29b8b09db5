"""What the index holds for a hồ sơ or a tài liệu: its facets, its original text and its
folded words, built from the catalog rows of an AIP's current version.

A metadata correction (a new AIP version) updates the hồ sơ and document rows in place, and
documents keep the ``package_id`` of the version that first held them; so an AIP's documents
are found through every version of its OBJID, and its facets through the active one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.catalog.models import (
    Agency,
    Document,
    DocumentOcrText,
    Fonds,
    Package,
    RecordFile,
)
from preservation.catalog.vocab import AccessMode, PackageKind, PackageStatus
from preservation.search.fold import index_text

RECORD_TEXT = ("description", "keyword", "paper_file_code", "infor_sign")
DOCUMENT_TITLE = ("subject", "image_title", "movie_title", "event_name")
DOCUMENT_TEXT = ("subject", "image_title", "movie_title", "event_name", "doc_code",
                 "code_number", "code_notation", "organ_name", "autograph", "description",
                 "keyword", "photographer", "photo_place", "recorder", "record_place",
                 "archives_number", "infor_sign")
DOCUMENT_DATES = ("issued_date", "photo_time", "record_date")
SEPARATOR = " · "


@dataclass(frozen=True)
class Aip:
    """The current version of an AIP as the index needs it."""

    objid: str
    fonds: str | None
    organ_id: str | None
    record_file_id: int | None
    package_ids: tuple[int, ...]  # every version: documents keep their first version's id


def _text(*parts: Any) -> str:
    return SEPARATOR.join(str(p).strip() for p in parts if p is not None and str(p).strip())


def _year(date: str | None) -> int | None:
    try:
        return int(date[:4]) if date else None
    except ValueError:
        return None


def _mode(*modes: str | None) -> str:
    """The strictest mode given (``AccessMode.strictest``): an entry without one stays hidden."""
    return AccessMode.strictest(*modes).value


def _doc_code(doc: Any) -> str | None:
    """An AIP's văn bản keeps its archival code in ``docCode``, a photo or a recording in
    ``arcDocCode`` (TT 05 Phụ lục II)."""
    code: str | None = doc.doc_code or doc.arc_doc_code or doc.doc_id
    return code


def record_entry(aip: Aip, rf: Any) -> dict[str, Any]:
    """``rf``: a ``RecordFile`` or a row of its table."""
    other = [getattr(rf, name) for name in RECORD_TEXT]
    return {"objid": aip.objid, "kind": "record", "record_file_id": rf.id, "document_id": None,
            "file_code": rf.file_code or rf.arc_file_code, "doc_code": None, "title": (rf.title or "")[:1000],
            "mode": _mode(rf.mode), "fonds": aip.fonds, "type": None,
            "date": rf.start_date, "year": _year(rf.start_date), "organ_id": aip.organ_id,
            "body": _text(rf.title, rf.file_code, *other), "ocr_text": None,
            "title_f": index_text(rf.title), "body_f": index_text(rf.file_code, *other)}


def document_entry(aip: Aip, doc: Any, rf: Any | None,
                   ocr_text: str | None = None) -> dict[str, Any]:
    """``doc``, ``rf``: a ``Document``, a ``RecordFile`` or rows of their tables."""
    title: str = next((getattr(doc, n) for n in DOCUMENT_TITLE if getattr(doc, n)), None) \
        or _doc_code(doc) or ""
    date: str | None = next((getattr(doc, n) for n in DOCUMENT_DATES if getattr(doc, n)),
                            None) or (rf.start_date if rf is not None else None)
    other = [getattr(doc, n) for n in DOCUMENT_TEXT if n not in DOCUMENT_TITLE]
    titles = [getattr(doc, n) for n in DOCUMENT_TITLE]
    file_code = (rf.file_code or rf.arc_file_code) if rf is not None else None
    return {"objid": aip.objid, "kind": "document",
            "record_file_id": rf.id if rf is not None else None, "document_id": doc.id,
            "file_code": file_code, "doc_code": _doc_code(doc),
            "title": title[:1000], "mode": _mode(doc.mode, rf.mode if rf is not None else None),
            "fonds": aip.fonds, "type": doc.type_name, "date": date, "year": _year(date),
            "organ_id": aip.organ_id,
            "body": _text(title, *[t for t in titles if t != title], file_code, *other),
            "ocr_text": ocr_text,
            "title_f": index_text(*titles) if any(titles) else index_text(title),
            "body_f": index_text(file_code, *other, ocr_text)}


def current_aips(s: Session, objid: str | None = None) -> list[Aip]:
    """The AIPs with an active version (all, or the one ``objid``); a deleted or only
    superseded AIP has none and leaves the index."""
    query = (sa.select(Package.objid, Package.id, Package.status, Package.record_file_id,
                       Fonds.fond_code, Agency.organ_id)
             .outerjoin(Fonds, Fonds.id == Package.fonds_id)
             .outerjoin(Agency, Agency.id == Package.agency_id)
             .where(Package.kind == PackageKind.AIP,
                    Package.status.in_((PackageStatus.ACTIVE, PackageStatus.SUPERSEDED)))
             .order_by(Package.objid, Package.version))
    if objid is not None:
        query = query.where(Package.objid == objid)
    versions: dict[str, list[int]] = {}
    active: dict[str, Any] = {}
    for row in s.execute(query):
        versions.setdefault(row.objid, []).append(row.id)
        if row.status == PackageStatus.ACTIVE:
            active[row.objid] = row
    return [Aip(o, r.fond_code, r.organ_id, r.record_file_id, tuple(versions[o]))
            for o, r in active.items()]


def entries_of(s: Session, aips: Iterable[Aip], chunk: int = 5000) -> Iterator[dict[str, Any]]:
    """Every entry of ``aips``: each hồ sơ, then its documents, read ``chunk`` rows at a time."""
    by_package = {pid: aip for aip in aips for pid in aip.package_ids}
    by_record = {aip.record_file_id: aip for aip in by_package.values() if aip.record_file_id}
    records: dict[int, Any] = {}
    rf_table, doc_table = cast(sa.Table, RecordFile.__table__), cast(sa.Table, Document.__table__)
    ocr_table = cast(sa.Table, DocumentOcrText.__table__)
    for ids in _batches(list(by_record), 900):
        for rf in s.execute(sa.select(rf_table).where(rf_table.c.id.in_(ids))):
            records[rf.id] = rf
            yield record_entry(by_record[rf.id], rf)
    # Core rows, not ORM objects: no identity map filled with a million documents
    for ids in _batches(list(by_package), 900):
        # a digitised document's OCR text (``DocumentOcrText``) joins its words to body_f
        query = (sa.select(doc_table, ocr_table.c.text.label("ocr_text"))
                 .outerjoin(ocr_table, ocr_table.c.document_id == doc_table.c.id)
                 .where(doc_table.c.package_id.in_(ids))
                 .order_by(doc_table.c.id).execution_options(yield_per=chunk))
        for doc in s.execute(query):
            aip = by_package[doc.package_id]
            yield document_entry(aip, doc, records.get(doc.record_file_id), doc.ocr_text)


def _batches(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
