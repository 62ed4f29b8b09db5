"""Build a TT 05 SIP (``SIP_hoso`` / ``SIP_tailieu``) as a BagIt bag from files and a sheet.

For agencies without packaging software, and for tests: ``build_sip(src, sheet, out, ...)``.

Sheet format (CSV in UTF-8, XLSX first worksheet, or JSON). One row per record, the first row
of CSV/XLSX being the header; JSON is a list of row objects (or ``{"rows": [...]}``).

- ``kind``: ``hoso`` (the file, SIP_hoso, PL III: 18 fields) or ``tailieu`` (a batch of loose
  documents, SIP_tailieu, PL IV) on exactly one row; ``doc`` / ``pic`` / ``media`` on each
  document row.
- ``file``: for document rows, the file name(s) relative to ``src`` (``a.pdf`` or
  ``a.pdf;a-phu-luc.pdf``); a ``.fetch.txt`` file is a linked (holey) document.
- every other column is a TT 05 element name exactly as in the tables (``fileCode``, ``title``,
  ``maintenance``, ``docId``, ``docCode``, ``issuedDate``…); a cell applies to the rows whose kind
  has that element, an empty cell means "absent". Dates ``DD/MM/YYYY`` (XLSX date cells are
  accepted); multi-valued codes ``01;02``; booleans ``1``/``0``; codes ``01`` (an XLSX number
  ``1`` is read as ``01`` when only that is a valid code). ``totalDoc`` left empty is filled with
  the number of document rows.

Problems never raise mid-way: they are collected (``SIP010``–``SIP021`` with row and column, and
the EAD codes of :mod:`preservation.metadata`) and raised once as ``ValidationFailed`` (SIP009)
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
import uuid
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from preservation import __version__
from preservation.errors import KhosoError, ValidationFailed
from preservation.issues import Issue, Report
from preservation.metadata.codelists import FieldSpec, codelist, field_specs
from preservation.metadata.dates import TTDate
from preservation.metadata.ead import EadRecord, check_values, write_ead
from preservation.metadata.identifiers import PackageId
from preservation.metadata.rules import check_document_in_file, check_rules, check_total_doc
from preservation.packaging.mets import write_rep_mets, write_root_mets
from preservation.packaging.model import CHUNK, REP1, DocumentEntry, FileEntry, mime_for, now
from preservation.packaging.read import resolve_href
from preservation.packaging.validate import SHIPPED_SCHEMAS, STANDARD_DIR
from profiles import load_profile
from schemas import SCHEMA_DIR

PACKAGE_KINDS = ("hoso", "tailieu")
DOCUMENT_KINDS = ("doc", "pic", "media")
_TRUE, _FALSE = {"1", "true", "có", "co", "x", "yes"}, {"0", "false", "không", "khong", "no"}
Row = tuple[int, dict[str, str]]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ";".join(_cell(v) for v in value)
    return str(value).strip()


def read_sheet(sheet: Path, report: Report) -> list[Row] | None:
    """Rows as ``(row number, {column: text})``; ``None`` after SIP010 when unreadable."""
    try:
        suffix = sheet.suffix.lower()
        if suffix == ".json":
            data = json.loads(sheet.read_text(encoding="utf-8"))
            rows = data.get("rows") if isinstance(data, dict) else data
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ValueError("expected a list of row objects or {\"rows\": [...]}")
            return [(n, {str(k).strip(): _cell(v) for k, v in r.items()})
                    for n, r in enumerate(rows, 1)]
        if suffix == ".xlsx":
            import openpyxl
            book = openpyxl.load_workbook(sheet, read_only=True, data_only=True)
            try:
                values = list(book.worksheets[0].iter_rows(values_only=True))
            finally:
                book.close()
            header = [_cell(h) for h in values[0]] if values else []
            return [(n, {h: _cell(v) for h, v in zip(header, r, strict=False) if h})
                    for n, r in enumerate(values[1:], 2) if any(v is not None for v in r)]
        if suffix == ".csv":
            with sheet.open(encoding="utf-8-sig", newline="") as f:
                reader = csv.DictReader(f)
                return [(n, {(k or "").strip(): _cell(v) for k, v in r.items() if k})
                        for n, r in enumerate(reader, 2)]
        raise ValueError(f"unknown sheet type {suffix!r} (.csv, .xlsx, .json)")
    except (OSError, ValueError, KeyError, csv.Error, zipfile.BadZipFile) as exc:
        report.add("SIP010", str(sheet), item=sheet.name, reason=str(exc) or type(exc).__name__)
        return None


def _convert(spec: FieldSpec, text: str) -> object:
    """Sheet text to the typed value ``EadRecord`` expects; ``ValueError`` says why not."""
    if spec.type == "code":
        assert spec.codelist is not None
        known = codelist(spec.codelist)
        codes = [c.strip() for c in text.replace(",", ";").split(";") if c.strip()]
        codes = [c if c in known or f"0{c}" not in known else f"0{c}" for c in codes]
        return tuple(codes) if spec.multi else ";".join(codes)
    if spec.type == "number":
        if not text.isascii() or not text.isdigit():
            raise ValueError("cần số nguyên không âm / expected a non-negative integer")
        return int(text)
    if spec.type == "boolean":
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise ValueError("dùng 1 hoặc 0 / use 1 or 0")
    if spec.type == "date":
        try:
            return TTDate.parse(text)
        except KhosoError as exc:
            raise ValueError(f"{exc.code}: DD/MM/YYYY") from None
    return text


def _record(kind: str, row: Row, report: Report, where: str) -> EadRecord:
    number, cells = row
    values: dict[str, object] = {}
    for spec in field_specs("SIP", kind):
        text = cells.get(spec.name, "")
        if not text:
            continue
        try:
            values[spec.name] = _convert(spec, text)
        except ValueError as exc:
            report.add("SIP013", f"{where}/{spec.name}", row=number, column=spec.name,
                       value=text, reason=str(exc))
    return EadRecord("SIP", kind, values)


def _relay(issues: Iterable[Issue], report: Report, where: str) -> None:
    """Add ``issues`` under ``where``, minus "required field missing" for a cell that was
    present but unreadable (SIP013 already said why)."""
    failed = {i.path for i in report if i.code == "SIP013"}
    for i in issues:
        path = f"{where}{i.path}"
        if i.code == "EAD001" and f"{where}/{i.params.get('field')}" in failed:
            continue
        report.add(i.code, path, **i.params)


def _check_columns(rows: list[Row], report: Report) -> None:
    columns = {c for _, cells in rows for c in cells}
    kinds = {cells.get("kind", "") for _, cells in rows} & {*PACKAGE_KINDS, *DOCUMENT_KINDS}
    for column in ("kind", "file"):
        if column not in columns and (column == "kind" or kinds & set(DOCUMENT_KINDS)):
            report.add("SIP011", column=column, reason="kind/file")
    known = {"kind", "file"}
    for kind in sorted(kinds):
        for spec in field_specs("SIP", kind):
            known.add(spec.name)
            if spec.required and spec.name != "totalDoc" and spec.name not in columns:
                report.add("SIP011", column=spec.name, reason=f"bắt buộc/required for {kind}")
    for column in sorted(columns - known):
        report.add("SIP018", column=column, kinds=", ".join(sorted(kinds)))


def _document_files(src: Path, row: Row, seen: dict[str, int], report: Report) -> list[str]:
    number, cells = row
    names = [n.strip() for n in cells.get("file", "").split(";") if n.strip()]
    if not names:
        report.add("SIP020", row=number)
    found = []
    root = src.resolve()
    for name in names:
        rel, unsafe = resolve_href(name)
        path = (src / rel).resolve() if rel else None
        if unsafe or rel is None or path is None or not path.is_file() \
                or not path.is_relative_to(root):
            report.add("SIP012", row=number, file=name)
        elif rel in seen:
            report.add("SIP019", row=number, file=name, other=seen[rel])
        else:
            seen[rel] = number
            found.append(rel)
    return found


def plan_sip(src: Path, sheet: Path) -> tuple[Report, str | None, EadRecord | None,
                                               list[tuple[EadRecord, list[str]]]]:
    """Read and check the sheet against ``src``: (report, content type, package EAD, documents)."""
    report = Report()
    rows = read_sheet(sheet, report)
    if rows is None:
        return report, None, None, []
    _check_columns(rows, report)
    package_rows = [r for r in rows if r[1].get("kind", "") in PACKAGE_KINDS]
    if len(package_rows) != 1:
        report.add("SIP014", count=len(package_rows))
    seen: dict[str, int] = {}
    documents: list[tuple[EadRecord, list[str]]] = []
    wheres: list[str] = []
    for row in rows:
        kind = row[1].get("kind", "")
        if kind in DOCUMENT_KINDS:
            where = f"{sheet.name}#row={row[0]}"
            wheres.append(where)
            documents.append((_record(kind, row, report, where),
                              _document_files(src, row, seen, report)))
        elif kind not in PACKAGE_KINDS:
            report.add("SIP015", row=row[0], value=kind)
    for path in sorted(p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file()):
        if path not in seen:
            report.add("SIP016", path, file=path)
    if len(package_rows) != 1:
        return report, None, None, documents
    number, cells = package_rows[0]
    content = cells["kind"]
    if content == "hoso" and not cells.get("totalDoc"):
        cells = {**cells, "totalDoc": str(len(documents))}
    where = f"{sheet.name}#row={number}"
    package = _record(content, (number, cells), report, where)
    _relay(check_values(package), report, where)
    _relay(check_rules(package), report, where)
    _relay(check_total_doc(package, len(documents)), report, where)
    codes: dict[tuple[str, object], str] = {}
    for (record, _), doc_where in zip(documents, wheres, strict=True):
        _relay(check_values(record), report, doc_where)
        _relay(check_rules(record), report, doc_where)
        _relay(check_document_in_file(package, record), report, doc_where)
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


def _manifest_path(rel: str) -> str:
    return rel.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _write_bag(root: Path, payload: dict[str, tuple[int, str]], info: dict[str, str]) -> None:
    (root / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
                                    encoding="utf-8")
    oxum = f"{sum(s for s, _ in payload.values())}.{len(payload)}"
    lines = [f"{k}: {_one_line(v)}" for k, v in {**info, "Payload-Oxum": oxum}.items()]
    (root / "bag-info.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "manifest-sha256.txt").write_text(
        "".join(f"{d}  {_manifest_path('data/' + p)}\n" for p, (_, d) in sorted(payload.items())),
        encoding="utf-8")
    tags = ["bagit.txt", "bag-info.txt", "manifest-sha256.txt"]
    (root / "tagmanifest-sha256.txt").write_text(
        "".join(f"{hashlib.sha256((root / t).read_bytes()).hexdigest()}  {t}\n" for t in tags),
        encoding="utf-8")


def build_sip(src: Path, sheet: Path, out: Path, *, organ_id: str, agency_name: str,
              fond_code: str | None, software: tuple[str, str] = ("khoso", __version__),
              submission_agreement: str | None = None) -> Path:
    """Build the SIP bag at ``out`` (which must not exist) and return ``out``.

    Raises ``ValidationFailed`` (SIP009) with every problem of the sheet and files."""
    report, content, package, documents = plan_sip(src, sheet)
    if out.exists():
        report.add("SIP017", str(out), item=str(out))
    if report.errors or content is None or package is None:
        raise ValidationFailed(report, "SIP009")
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex}"
    try:
        _build(tmp, src, content, package, documents, organ_id=organ_id, agency_name=agency_name,
               fond_code=fond_code, software=software, agreement=submission_agreement)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _build(tmp: Path, src: Path, content: str, package: EadRecord,
           documents: list[tuple[EadRecord, list[str]]], *, organ_id: str, agency_name: str,
           fond_code: str | None, software: tuple[str, str], agreement: str | None) -> None:
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
