"""Build a TT 05 SIP (``SIP_hoso`` / ``SIP_tailieu``) as a BagIt bag from files and a sheet.

For agencies without packaging software, and for tests: ``build_sip(src, sheet, out, ...)``.

Sheet format (CSV, XLSX first worksheet, or JSON; read by :mod:`ingest.sip_sheet`, which also
writes the template). One row per record, the first row of CSV/XLSX being the header; JSON is a
list of row objects (or ``{"rows": [...]}``). Headers are column keys or their Vietnamese labels.

- ``kind``: ``hoso`` (the file, SIP_hoso, PL III: 18 fields) or ``tailieu`` (a batch of loose
  documents, SIP_tailieu, PL IV) on exactly one row; ``doc`` / ``pic`` / ``media`` on each
  document row (or their Vietnamese names); a ``kind`` cell starting with ``#`` marks a note row.
- ``file``: for document rows, the file name(s) relative to ``src`` (``a.pdf`` or
  ``a.pdf;a-phu-luc.pdf``); a ``.fetch.txt`` file is a linked (holey) document.
- every other column is a TT 05 element (``fileCode``, ``title``, ``maintenance``, ``docId``,
  ``docCode``, ``issuedDate``…); a cell applies to the rows whose kind has that element, an empty
  cell means "absent". Dates ``DD/MM/YYYY`` (XLSX date cells are accepted); multi-valued codes
  ``01;02``; booleans ``1``/``0``; codes ``01`` or their names (``Vĩnh viễn``, ``vinh vien``,
  ``01 - Vĩnh viễn``; an XLSX number ``1`` is read as ``01`` when only that is a valid code).
  ``totalDoc`` left empty is filled with the number of document rows.

Problems never raise mid-way: they are collected (``SIP010``–``SIP020`` and ``SHEET0xx`` with
row and column, and the EAD codes of :mod:`preservation.metadata`); ``try_build_sip`` returns them
with the bag (warnings too), ``build_sip`` raises them once as ``ValidationFailed`` (SIP009)
with the whole report. The bag is built in a temporary sibling folder and renamed into place at
the end, so ``out`` is either complete or absent.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import shutil
import unicodedata
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.sip_sheet import (
    DOCUMENT_KINDS,
    FILE,
    KIND,
    PACKAGE_KINDS,
    TEXT_SUFFIXES,
    Row,
    read_text_table,
    rows_from_table,
)
from ingest.sip_sheet import columns as sheet_columns
from preservation import __version__
from preservation.errors import KhosoError, ValidationFailed
from preservation.issues import Issue, Report
from preservation.metadata.codelists import FieldSpec, codelist, field_specs, fold
from preservation.metadata.dates import TTDate
from preservation.metadata.ead import EadRecord, check_values, write_ead
from preservation.metadata.identifiers import PackageId
from preservation.metadata.rules import check_document_in_file, check_rules, check_total_doc
from preservation.packaging.aip import bagit
from preservation.packaging.mets import write_rep_mets, write_root_mets
from preservation.packaging.model import CHUNK, REP1, DocumentEntry, FileEntry, mime_for, now
from preservation.packaging.read import resolve_href
from preservation.packaging.validate import SHIPPED_SCHEMAS, STANDARD_DIR
from profiles import load_profile
from schemas import SCHEMA_DIR

_TRUE, _FALSE = {"1", "true", "có", "co", "x", "yes"}, {"0", "false", "không", "khong", "no"}
_VALUE_CODES = ("SIP013", "SHEET010", "SHEET011")


def read_sheet(sheet: Path, report: Report) -> list[Row] | None:
    """Rows as ``(row number, {column key: text})``; ``None`` after SIP010 (or the SHEET code
    that says how to save the file) when unreadable."""
    try:
        suffix = sheet.suffix.lower()
        if suffix == ".json":
            data = json.loads(sheet.read_text(encoding="utf-8-sig"))
            rows = data.get("rows") if isinstance(data, dict) else data
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ValueError("expected a list of row objects or {\"rows\": [...]}")
            header = list(dict.fromkeys(str(k).strip() for r in rows for k in r))
            return rows_from_table(header, ((n, [r.get(h) for h in header])
                                            for n, r in enumerate(rows, 1)), report, sheet.name)
        if suffix == ".xlsx":
            import openpyxl
            with sheet.open("rb") as f:
                if f.read(4) != b"PK\x03\x04":
                    report.add("SHEET009", sheet.name, item=sheet.name)
                    return None
            book = openpyxl.load_workbook(sheet, read_only=True, data_only=True)
            try:
                values = list(book.worksheets[0].iter_rows(values_only=True))
            finally:
                book.close()
            if not values:
                report.add("SHEET001", sheet.name, item=sheet.name)
                return None
            return rows_from_table(values[0], enumerate(values[1:], 2), report, sheet.name)
        if suffix in TEXT_SUFFIXES:
            return read_text_table(sheet, report)
        report.add("SHEET008", sheet.name, item=sheet.name, suffix=suffix or "—")
        return None
    except (OSError, ValueError, KeyError, csv.Error, zipfile.BadZipFile) as exc:
        report.add("SIP010", str(sheet), item=sheet.name, reason=str(exc) or type(exc).__name__)
        return None


def _code(spec: FieldSpec, text: str, row: int, report: Report, where: str) -> str | None:
    """One code from a code or a name; ``None`` after SHEET010/SHEET011 names row and column."""
    assert spec.codelist is not None
    known = codelist(spec.codelist)
    if text not in known and f"0{text}" in known and text.isdigit():
        return f"0{text}"  # Excel dropped the leading zero
    found = known.resolve(text)
    if found.code is not None:
        return found.code
    path = f"{where}/{spec.name}"
    if found.ambiguous:
        report.add("SHEET011", path, row=row, column=spec.name, value=text,
                   codelist=known.vi, matches=", ".join(f"{c} ({known.label(c)})"
                                                         for c in found.ambiguous))
    else:
        report.add("SHEET010", path, row=row, column=spec.name, value=text,
                   codelist=known.vi, accepted=known.describe())
    return None


def _convert(spec: FieldSpec, text: str, row: int, report: Report, where: str) -> object:
    """Sheet text to the typed value ``EadRecord`` expects; ``None`` after reporting why not."""
    if spec.type == "code":
        whole = _code(spec, text, row, Report(), where) if not spec.multi else None
        if whole is not None:  # a name may itself hold a comma
            return whole
        parts = [p.strip() for p in text.replace(",", ";").split(";") if p.strip()]
        codes = [_code(spec, p, row, report, where) for p in parts]
        if None in codes:
            return None
        return tuple(c for c in codes if c) if spec.multi else ";".join(c for c in codes if c)
    if spec.type == "boolean":
        if fold(text) in _TRUE | _FALSE:
            return fold(text) in _TRUE
        if spec.codelist is not None:
            code = _code(spec, text, row, report, where)
            return None if code is None else code == "1"
        report.add("SIP013", f"{where}/{spec.name}", row=row, column=spec.name, value=text,
                   reason="dùng 1 hoặc 0 / use 1 or 0")
        return None
    try:
        if spec.type == "number":
            if not text.isascii() or not text.isdigit():
                raise ValueError("cần số nguyên không âm / expected a non-negative integer")
            return int(text)
        if spec.type == "date":
            try:
                return TTDate.parse(text)
            except KhosoError as exc:
                raise ValueError(f"{exc.code}: DD/MM/YYYY") from None
    except ValueError as exc:
        report.add("SIP013", f"{where}/{spec.name}", row=row, column=spec.name, value=text,
                   reason=str(exc))
        return None
    return text


def _record(kind: str, row: Row, report: Report, where: str) -> EadRecord:
    number, cells = row
    values: dict[str, object] = {}
    for spec in field_specs("SIP", kind):
        text = cells.get(spec.name, "")
        if text and (value := _convert(spec, text, number, report, where)) is not None:
            values[spec.name] = value
    return EadRecord("SIP", kind, values)


def _relay(issues: Iterable[Issue], report: Report, where: str, missing: set[str],
           failed: set[str]) -> None:
    """Add ``issues`` under ``where``, minus "required field missing" for a cell that was
    present but unreadable (``failed``: its own code already said why) or a column the sheet
    lacks (SIP011 said so once, not once per row)."""
    for i in issues:
        path = f"{where}{i.path}"
        field = i.params.get("field")
        if i.code == "EAD001" and (f"{where}/{field}" in failed or field in missing):
            continue
        report.add(i.code, path, **i.params)


def _check_columns(rows: list[Row], report: Report) -> set[str]:
    """Report each missing required column once; return the missing ones."""
    columns = {c for _, cells in rows for c in cells}
    kinds = {cells.get(KIND, "") for _, cells in rows} & {*PACKAGE_KINDS, *DOCUMENT_KINDS}
    missing: set[str] = set()
    for column in (KIND, FILE):
        if column not in columns and (column == KIND or kinds & set(DOCUMENT_KINDS)):
            report.add("SIP011", column=column, reason="kind/file")
            missing.add(column)
    known = {KIND, FILE}
    for kind in sorted(kinds):
        for spec in field_specs("SIP", kind):
            known.add(spec.name)
            if (spec.required and spec.name != "totalDoc" and spec.name not in columns
                    and spec.name not in missing):
                needs = sorted(k for k in kinds if spec.name in
                               {s.name for s in field_specs("SIP", k) if s.required})
                report.add("SIP011", column=spec.name, reason=", ".join(needs))
                missing.add(spec.name)
    template = {c.key for c in sheet_columns()}
    filled = {c for _, cells in rows for c, v in cells.items() if v}
    for column in sorted(columns - known):
        if column not in template or column in filled:  # an empty template column is no news
            report.add("SIP018", column=column, kinds=", ".join(sorted(kinds)))
    return missing


def _document_files(src: Path, row: Row, seen: dict[str, int], report: Report,
                    missing: set[str]) -> list[str]:
    number, cells = row
    names = [n.strip() for n in cells.get(FILE, "").split(";") if n.strip()]
    if not names and FILE not in missing:
        report.add("SIP020", row=number)
    found = []
    root = src.resolve()
    for name in names:
        rel = _existing(src, name)
        path = (src / rel).resolve() if rel else None
        if rel is None or path is None or not path.is_file() or not path.is_relative_to(root):
            report.add("SIP012", row=number, file=name)
        elif rel in seen:
            report.add("SIP019", row=number, file=name, other=seen[rel])
        else:
            seen[rel] = number
            found.append(rel)
    return found


def _existing(src: Path, name: str) -> str | None:
    """The safe relative path ``name`` means, in the Unicode form the file system has (the
    sheet is NFC; a folder copied from a Mac may hold NFD names)."""
    rel, unsafe = resolve_href(name)
    if unsafe or not rel:
        return None
    for form in ("NFC", "NFD"):
        candidate = unicodedata.normalize(form, rel)
        if (src / candidate).is_file():
            return candidate
    return rel


def plan_sip(src: Path, sheet: Path) -> tuple[Report, str | None, EadRecord | None,
                                               list[tuple[EadRecord, list[str]]]]:
    """Read and check the sheet against ``src``: (report, content type, package EAD, documents)."""
    report = Report()
    rows = read_sheet(sheet, report)
    if rows is None:
        return report, None, None, []
    missing = _check_columns(rows, report)
    package_rows = [r for r in rows if r[1].get(KIND, "") in PACKAGE_KINDS]
    if len(package_rows) != 1 and KIND not in missing:
        report.add("SIP014", count=len(package_rows))
    seen: dict[str, int] = {}
    documents: list[tuple[EadRecord, list[str]]] = []
    wheres: list[str] = []
    for row in rows:
        kind = row[1].get(KIND, "")
        if kind in DOCUMENT_KINDS:
            where = f"{sheet.name}#row={row[0]}"
            wheres.append(where)
            documents.append((_record(kind, row, report, where),
                              _document_files(src, row, seen, report, missing)))
        elif kind not in PACKAGE_KINDS and KIND not in missing:
            report.add("SIP015", row=row[0], value=kind)
    named = {unicodedata.normalize("NFC", s) for s in seen}
    for path in sorted(p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file()):
        if unicodedata.normalize("NFC", path) not in named:
            report.add("SIP016", path, file=path)
    if len(package_rows) != 1:
        return report, None, None, documents
    number, cells = package_rows[0]
    content = cells[KIND]
    if content == "hoso" and not cells.get("totalDoc"):
        cells = {**cells, "totalDoc": str(len(documents))}
    where = f"{sheet.name}#row={number}"
    package = _record(content, (number, cells), report, where)
    failed = {i.path for i in report if i.code in _VALUE_CODES}  # every cell is read by now
    _relay(check_values(package), report, where, missing, failed)
    _relay(check_rules(package), report, where, missing, failed)
    _relay(check_total_doc(package, len(documents)), report, where, missing, failed)
    codes: dict[tuple[str, object], str] = {}
    for (record, _), doc_where in zip(documents, wheres, strict=True):
        _relay(check_values(record), report, doc_where, missing, failed)
        _relay(check_rules(record), report, doc_where, missing, failed)
        _relay(check_document_in_file(package, record), report, doc_where, missing, failed)
        for name in ("docId", "docCode"):
            if (value := record.values.get(name)) is not None:
                if (name, value) in codes:
                    report.add("SIP006", doc_where, value=value, field=name,
                               first=codes[(name, value)], second=doc_where)
                codes[(name, value)] = doc_where
    return report, content, package, documents


def _copy_hashed(src: Path, dest: Path) -> tuple[int, str]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with src.open("rb") as fin, dest.open("wb") as fout:
        while chunk := fin.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            fout.write(chunk)
    return size, digest.hexdigest()


def _put(data: Path, rel: str, content: bytes, created: dt.datetime) -> FileEntry:
    path = data / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return FileEntry(rel, len(content), hashlib.sha256(content).hexdigest(), mime_for(rel), created)


def _hash(data: Path, rel: str, created: dt.datetime) -> FileEntry:
    path = data / rel
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return FileEntry(rel, path.stat().st_size, digest.hexdigest(), mime_for(rel), created)


def _ead_name(kind: str, first: str, used: set[str]) -> str:
    stem = Path(first).name.split(".")[0] or "file"
    name, n = f"EAD_{kind}_{stem}.xml", 1
    while name in used:
        n += 1
        name = f"EAD_{kind}_{stem}_{n}.xml"
    used.add(name)
    return name


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _write_bag(root: Path, payload: dict[str, tuple[int, str]], info: dict[str, str]) -> None:
    oxum = bagit.payload_oxum(sum(s for s, _ in payload.values()), len(payload))
    tags = {
        bagit.BAGIT_TXT: bagit.bagit_txt(),
        bagit.BAG_INFO: bagit.bag_info(
            (k, _one_line(v)) for k, v in {**info, bagit.PAYLOAD_OXUM: oxum}.items()),
        bagit.MANIFEST: bagit.manifest((f"data/{p}", d) for p, (_, d) in sorted(payload.items())),
    }
    for name, text in tags.items():
        (root / name).write_bytes(text.encode("utf-8"))
    (root / bagit.TAGMANIFEST).write_bytes(bagit.manifest(
        (t, hashlib.sha256((root / t).read_bytes()).hexdigest()) for t in tags).encode("utf-8"))


@dataclass(frozen=True)
class SipBuild:
    """What building a SIP gave: the bag (``None`` when the sheet had errors) and every issue,
    warnings included, so a caller can show both apart."""

    out: Path | None
    report: Report


def try_build_sip(src: Path, sheet: Path, out: Path, *, organ_id: str, agency_name: str,
                  fond_code: str | None, software: tuple[str, str] = ("khoso", __version__),
                  submission_agreement: str | None = None) -> SipBuild:
    """Build the SIP bag at ``out`` (which must not exist) unless the sheet has errors."""
    report, content, package, documents = plan_sip(src, sheet)
    if out.exists():
        report.add("SIP017", str(out), item=str(out))
    if report.errors or content is None or package is None:
        return SipBuild(None, report)
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex}"
    try:
        _build(tmp, src, content, package, documents, organ_id=organ_id, agency_name=agency_name,
               fond_code=fond_code, software=software, agreement=submission_agreement)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return SipBuild(out, report)


def build_sip(src: Path, sheet: Path, out: Path, *, organ_id: str, agency_name: str,
              fond_code: str | None, software: tuple[str, str] = ("khoso", __version__),
              submission_agreement: str | None = None) -> Path:
    """Build the SIP bag at ``out`` (which must not exist) and return ``out``.

    Raises ``ValidationFailed`` (SIP009) with every problem of the sheet and files."""
    result = try_build_sip(src, sheet, out, organ_id=organ_id, agency_name=agency_name,
                           fond_code=fond_code, software=software,
                           submission_agreement=submission_agreement)
    if result.out is None:
        raise ValidationFailed(result.report, "SIP009")
    return result.out


def build_sip_from_records(src: Path, out: Path, *, content: str, package: EadRecord,
                           documents: list[tuple[EadRecord, list[str]]], organ_id: str,
                           agency_name: str, fond_code: str | None,
                           software: tuple[str, str] = ("khoso", __version__)) -> str:
    """Build the SIP bag at ``out`` from records already checked by the caller (a transfer
    exports a hồ sơ the archive holds: its EADs come from the catalog, not from a sheet), each
    document with its files relative to ``src``; ``out`` is complete or absent. Returns the
    package's OBJID."""
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex}"
    try:
        objid = _build(tmp, src, content, package, documents, organ_id=organ_id,
                       agency_name=agency_name, fond_code=fond_code, software=software,
                       agreement=None)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return objid


def _build(tmp: Path, src: Path, content: str, package: EadRecord,
           documents: list[tuple[EadRecord, list[str]]], *, organ_id: str, agency_name: str,
           fond_code: str | None, software: tuple[str, str], agreement: str | None) -> str:
    data, created = tmp / "data", now()
    data.mkdir(parents=True)
    payload: dict[str, tuple[int, str]] = {}

    def record(entry: FileEntry) -> FileEntry:
        payload[entry.path] = (entry.size, entry.sha256)
        return entry

    entries: list[DocumentEntry] = []
    used: set[str] = set()
    for doc, files in documents:
        file_entries = []
        for rel in files:
            target = f"{REP1}data/{rel}"
            size, digest = _copy_hashed(src / rel, data / target)
            file_entries.append(record(FileEntry(target, size, digest, mime_for(rel), created)))
        ead_rel = f"{REP1}metadata/descriptive/{_ead_name(doc.kind, files[0], used)}"
        ead = record(_put(data, ead_rel, write_ead(doc), created))
        entries.append(DocumentEntry(ead, tuple(file_entries)))
    ead = record(_put(data, "metadata/descriptive/EAD.xml", write_ead(package), created))
    schemas = [(STANDARD_DIR / n, n) for n in SHIPPED_SCHEMAS if n != "premis-v3-0.xsd"]
    schemas += [(p, p.name) for p in sorted((SCHEMA_DIR / "sip").glob("*.xsd"))]
    schema_entries = []
    for path, name in schemas:
        size, digest = _copy_hashed(path, data / "schemas" / name)
        schema_entries.append(record(FileEntry(f"schemas/{name}", size, digest,
                                               "application/octet-stream", created)))
    objid = PackageId("SIP", uuid.uuid4()).build()
    with (data / REP1 / "METS.xml").open("wb") as f:
        write_rep_mets(f, objid=objid, package_type="SIP", content=content, created=created,
                       agency_name=agency_name, fond_code=fond_code, documents=entries)
    rep_mets = record(_hash(data, f"{REP1}METS.xml", created))
    with (data / "METS.xml").open("wb") as f:
        write_root_mets(f, objid=objid, label=str(package.values.get("title", "")) or None,
                        package_type="SIP", content=content, created=created,
                        software_name=software[0], software_version=software[1],
                        fond_code=fond_code, submission_agreement=agreement, ead=ead,
                        premis=None, schemas=schema_entries, rep_mets=rep_mets)
    record(_hash(data, "METS.xml", created))
    profile = load_profile("sip-tt05")
    _write_bag(tmp, payload, {
        "BagIt-Profile-Identifier": profile["BagIt-Profile-Info"]["BagIt-Profile-Identifier"],
        "Source-Organization": agency_name,
        "Ma-Dinh-Danh-Co-Quan": organ_id,
        "Package-Type": f"SIP_{content}",
        "External-Identifier": objid,
        "Internal-Sender-Identifier": str(package.values.get("fileCode", "")),
        "Bagging-Date": created.date().isoformat(),
        "Bag-Software-Agent": f"{software[0]} {software[1]}",
    })
    return objid
