"""The SIP metadata sheet as people write it: its columns, their Vietnamese labels, the template,
and reading CSV the way Excel saves it.

One module owns the format, so the template ``khoso sip template`` writes is the one ``khoso sip
build`` reads back: a header row of column keys (TT 05 element names, or their Vietnamese labels
as aliases), then one row per record. A row whose ``kind`` cell starts with ``#`` is a note and is
skipped (the template's second row describes each column that way).

CSV bytes are decoded in a fixed order: a BOM (UTF-8, UTF-16 LE/BE), then strict UTF-8, then
Windows-1258 (what Excel's plain "CSV" writes on a Vietnamese Windows, tone marks decomposed) only
when the result reads as Vietnamese; anything else is refused with a message that says how to save
the file. Every cell is NFC-normalised. The delimiter (``,``, ``;`` or tab) is the one under which
the header names the most known columns; Excel's ``sep=;`` first line is honoured.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from preservation.issues import Report
from preservation.metadata.codelists import codelist, field_specs, fold, plain

KIND, FILE = "kind", "file"
PACKAGE_KINDS = ("hoso", "tailieu")
DOCUMENT_KINDS = ("doc", "pic", "media")
KIND_NAMES = {"hoso": "Hồ sơ", "tailieu": "Tài liệu rời lẻ", "doc": "Văn bản",
              "pic": "Phim, ảnh", "media": "Ghi âm, ghi hình"}
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
DELIMITERS = (",", ";", "\t")
# TT 05 gives two different elements the same label; the template tells them apart
_LABELS = {"photographer": "Tác giả (phim, ảnh)", "recorder": "Tác giả (ghi âm, ghi hình)"}
_ZIP, _NUL = b"PK\x03\x04", b"\x00"
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_VI_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323", "\u0302", "\u0306", "\u031b"}

Row = tuple[int, dict[str, str]]


@dataclass(frozen=True)
class Column:
    """One sheet column: a TT 05 element (or ``kind``/``file``) with the kinds it belongs to."""

    key: str
    label: str
    kinds: tuple[str, ...]
    required: tuple[str, ...]
    type: str = "string"
    codelist: str | None = None
    multi: bool = False
    labels: tuple[str, ...] = ()

    def requirement(self) -> str:
        """``bắt buộc`` / ``bắt buộc với hoso, doc`` / ``không bắt buộc``."""
        if not self.required:
            return "không bắt buộc"
        if set(self.required) == set(self.kinds):
            return "bắt buộc"
        return "bắt buộc với " + ", ".join(self.required)


@cache
def columns() -> tuple[Column, ...]:
    """Every column a sheet may have, ``kind`` and ``file`` first, then TT 05 order."""
    found: dict[str, dict[str, Any]] = {}
    for kind in (*PACKAGE_KINDS, *DOCUMENT_KINDS):
        for spec in field_specs("SIP", kind):
            entry = found.setdefault(spec.name, {"spec": spec, "kinds": [], "required": [],
                                                 "labels": []})
            entry["kinds"].append(kind)
            if spec.required:
                entry["required"].append(kind)
            if spec.vi not in entry["labels"]:
                entry["labels"].append(spec.vi)
    every = (*PACKAGE_KINDS, *DOCUMENT_KINDS)
    result = [Column(KIND, "Loại dòng", every, every, labels=("Loại dòng", "Loại")),
              Column(FILE, "Tệp", DOCUMENT_KINDS, DOCUMENT_KINDS, labels=("Tệp", "Tên tệp"))]
    for key, e in found.items():
        label = _LABELS.get(key, e["labels"][0])
        result.append(Column(key, label, tuple(e["kinds"]), tuple(e["required"]), e["spec"].type,
                             e["spec"].codelist, e["spec"].multi,
                             tuple(dict.fromkeys([label, *e["labels"]]))))
    return tuple(result)


@cache
def _aliases() -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, set[str]]]:
    by_key: dict[str, set[str]] = {}
    by_fold: dict[str, set[str]] = {}
    by_plain: dict[str, set[str]] = {}
    for c in columns():
        by_key.setdefault(fold(c.key), set()).add(c.key)
        for label in c.labels:
            by_fold.setdefault(fold(label), set()).add(c.key)
            by_plain.setdefault(plain(label), set()).add(c.key)
    return by_key, by_fold, by_plain


def resolve_header(text: str) -> tuple[str, ...]:
    """The column keys ``text`` may mean: one key, several (ambiguous) or none (unknown).

    A key matches case-insensitively, a Vietnamese label also without diacritics; a label two
    elements share ("Tác giả") matches both, and the caller reports it."""
    if text in {c.key for c in columns()}:
        return (text,)
    for table, key in zip(_aliases(), (fold, fold, plain), strict=True):
        if found := table.get(key(text)):
            return tuple(sorted(found))
    return ()


def resolve_kind(text: str) -> str:
    """``hoso``/``tailieu``/``doc``/``pic``/``media`` from the key or its Vietnamese name;
    anything else comes back unchanged (for SIP015 to name it)."""
    for kind, name in KIND_NAMES.items():
        if fold(text) == kind or fold(text) == fold(name) or plain(text) == plain(name):
            return kind
    return text


def cell(value: Any) -> str:
    """A sheet cell as text: dates ``DD/MM/YYYY``, whole floats without ``.0``, NFC."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ";".join(cell(v) for v in value)
    return unicodedata.normalize("NFC", str(value)).strip()


def rows_from_table(header: Sequence[Any], records: Iterable[tuple[int, Sequence[Any]]],
                    report: Report, where: str) -> list[Row]:
    """Rows keyed by column key. An unknown header stays as written (SIP018 warns about it);
    an ambiguous or repeated one is reported once here and its column left out."""
    keys: list[str | None] = []
    seen: dict[str, str] = {}
    for raw in (cell(h) for h in header):
        if not raw:
            keys.append(None)
            continue
        found = resolve_header(raw)
        if len(found) > 1:
            report.add("SHEET006", where, column=raw, candidates=", ".join(found))
            keys.append(None)
            continue
        key = found[0] if found else raw
        if key in seen:
            report.add("SHEET007", where, column=raw, other=seen[key], field=key)
            keys.append(None)
            continue
        seen[key] = raw
        keys.append(key)
    rows = []
    for number, values in records:
        cells = {k: cell(v) for k, v in zip(keys, values, strict=False) if k}
        if not any(cells.values()) or cells.get(KIND, "").startswith("#"):
            continue
        if KIND in cells:
            cells[KIND] = resolve_kind(cells[KIND])
        rows.append((number, cells))
    return rows


def read_text_table(path: Path, report: Report) -> list[Row] | None:
    """Rows of a CSV/TSV/TXT sheet; ``None`` after reporting why the bytes cannot be read."""
    data = path.read_bytes()
    text = decode(data, path.name, report)
    if text is None:
        return None
    text = unicodedata.normalize("NFC", text)
    delimiter, text = dialect(text)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not records or not any(cell(v) for v in records[0]):
        report.add("SHEET001", path.name, item=path.name)
        return None
    return rows_from_table(records[0], enumerate(records[1:], 2), report, path.name)


def decode(data: bytes, name: str, report: Report) -> str | None:
    """The text of a CSV file in the encodings Excel writes, or ``None`` after SHEET00x."""
    if not data.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe\x00"):
        report.add("SHEET001", name, item=name)
        return None
    if data.startswith(_ZIP):
        report.add("SHEET004", name, item=name, suffix=Path(name).suffix)
        return None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError:
                report.add("SHEET002", name, item=name)
                return None
    if _NUL in data:
        report.add("SHEET003", name, item=name)
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = unicodedata.normalize("NFC", data.decode("cp1258"))
    except UnicodeDecodeError:
        text = ""
    if _reads_as_vietnamese(text):
        report.add("SHEET005", name, item=name)
        return text
    report.add("SHEET002", name, item=name)
    return None


def _reads_as_vietnamese(text: str) -> bool:
    """After NFC every tone mark sits on a Vietnamese vowel; no mark is left over, no control
    character appears, and at least one letter is Vietnamese (not plain ASCII)."""
    vietnamese = False
    for ch in text:
        if ch.isascii():
            if not ch.isprintable() and ch not in "\r\n\t":
                return False
            continue
        if unicodedata.combining(ch) or unicodedata.category(ch)[0] == "C":
            return False
        base, *marks = list(unicodedata.normalize("NFD", ch))
        if ch in "đĐ" or (base.isascii() and base.isalpha() and marks
                          and set(marks) <= _VI_MARKS):
            vietnamese = True
        elif not ch.isspace() and unicodedata.category(ch)[0] not in "PS":
            return False
    return vietnamese


def dialect(text: str) -> tuple[str, str]:
    """The delimiter and the text without Excel's ``sep=`` line."""
    first, _, rest = text.partition("\n")
    if re.fullmatch(r"sep=(.)\r?", first):
        return first[4], rest
    best: tuple[int, int] = (-1, -1)
    chosen = ","
    for delimiter in DELIMITERS:
        header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
        known = sum(1 for h in header if len(resolve_header(cell(h))) == 1)
        if (known, len(header)) > best:
            best, chosen = (known, len(header)), delimiter
    return chosen, text


# -- the template ---------------------------------------------------------------------------

_CODE = "H49.64.33.2001.160"
_BATCH = "H49.64.33.2021.01.0000001"
EXAMPLE_FILES = ("qd-125.pdf", "anh-1.jpg", "ghi-am.mp3")
_PICK_ROWS = 5000  # rows of the XLSX template that offer a code list's pick list


def examples(content: str = "hoso") -> list[dict[str, str]]:
    """A valid sheet for ``content``: the package row and one document of each kind, naming
    the files in ``EXAMPLE_FILES``. Document rows show values given by name."""
    code = _CODE if content == "hoso" else _BATCH
    package = ({KIND: "hoso", "fileCode": _CODE,
                "title": "Hồ sơ về việc thành lập Sở Nội vụ tỉnh Nghệ An năm 2001",
                "maintenance": "01", "mode": "01", "language": "01", "startDate": "02/01/2001",
                "endDate": "28/12/2001", "totalDoc": "3", "numberOfPage": "12",
                "confidenceLevel": "01", "riskRecovery": "0"}
               if content == "hoso" else
               {KIND: "tailieu", "fileCode": _BATCH, "title": "Tài liệu rời lẻ năm 2021",
                "source": "1", "totalDoc": "3"})
    return [
        package,
        {KIND: "doc", FILE: EXAMPLE_FILES[0], "docId": f"{code}.1", "docCode": f"{code}.0000001",
         "maintenance": "Vĩnh viễn", "typeName": "Quyết định", "codeNumber": "125",
         "codeNotation": "QĐ-UBND", "issuedDate": "15/03/2001", "organName": "UBND tỉnh Nghệ An",
         "subject": "Quyết định thành lập Sở Nội vụ", "language": "Tiếng Việt;Tiếng Anh",
         "numberOfPage": "3", "mode": "Công khai", "riskRecovery": "0"},
        {KIND: "pic", FILE: EXAMPLE_FILES[1], "docCode": f"{code}.0000002", "maintenance": "01",
         "typePic": "Ảnh", "imageTitle": "Lễ công bố quyết định", "mode": "01",
         "riskRecovery": "0"},
        {KIND: "media", FILE: EXAMPLE_FILES[2], "docCode": f"{code}.0000003",
         "maintenance": "01", "typeMedia": "Âm thanh", "movieTitle": "Ghi âm buổi lễ",
         "language": "01", "mode": "01", "riskRecovery": "0"},
    ]


def describe(column: Column) -> str:
    """The template's second-row cell: label, requirement, accepted values."""
    text = f"{column.label} — {column.requirement()}"
    if column.key == KIND:
        return "# " + text + ": " + " | ".join(f"{k} ({n})" for k, n in KIND_NAMES.items()) \
            + "; dòng bắt đầu bằng # được bỏ qua"
    if column.key == FILE:
        return text + "; nhiều tệp ngăn bằng ;"
    if column.codelist:
        text += ": " + codelist(column.codelist).describe()
        if column.multi:
            text += "; nhiều giá trị ngăn bằng ;"
    elif column.type == "date":
        text += ": DD/MM/YYYY"
    elif column.type == "number":
        text += ": số nguyên"
    return text


def write_template(out: Path, content: str = "hoso") -> None:
    """Write an empty-but-for-examples sheet with every column to ``out`` (.xlsx or .csv)."""
    cols = columns()
    body = [[row.get(c.key, "") for c in cols] for row in examples(content)]
    if out.suffix.lower() == ".csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerows([[c.key for c in cols], [describe(c) for c in cols], *body])
        out.write_bytes(buffer.getvalue().encode("utf-8-sig"))  # the BOM makes Excel read UTF-8
        return
    _write_xlsx(out, cols, body)


def _write_xlsx(out: Path, cols: Sequence[Column], body: list[list[str]]) -> None:
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Bảng kê"
    sheet.append([c.key for c in cols])
    sheet.append([describe(c) for c in cols])
    for row in body:
        sheet.append(row)
    for i, c in enumerate(cols, 1):
        head = sheet.cell(1, i)
        head.font = Font(bold=True)
        head.comment = Comment(f"{c.label}\n{c.requirement()}\n{_kinds_text(c)}", "khoso")
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = max(12, min(40, len(c.key) + 4))
        for r in range(1, len(body) + 3):
            sheet.cell(r, i).number_format = "@"  # codes keep their leading zero
    sheet.freeze_panes = "A3"
    guide = book.create_sheet("Hướng dẫn")
    guide.append(["Cột", "Tên cột (tiếng Việt)", "Bắt buộc", "Áp dụng cho", "Kiểu",
                  "Danh mục mã", "Ví dụ"])
    sample = {k: v for row in examples() for k, v in row.items()}
    for c in cols:
        guide.append([c.key, c.label, c.requirement(), ", ".join(c.kinds), c.type,
                      c.codelist or "", sample.get(c.key, "")])
    lists = book.create_sheet("Danh mục mã")
    lists.append(["Danh mục", "Mã", "Tên", "Tên (English)", "Chọn trong danh sách"])
    ranges: dict[str, str] = {}
    for name in dict.fromkeys(c.codelist for c in cols if c.codelist):
        cl = codelist(name)
        first = lists.max_row + 1
        for code in cl.codes:
            lists.append([f"{name} — {cl.vi}", code, cl.label(code), cl.label(code, "en"),
                          f"{code} - {cl.label(code)}"])
        ranges[name] = f"'Danh mục mã'!$E${first}:$E${lists.max_row}"
    for i, c in enumerate(cols, 1):
        if c.codelist and not c.multi:  # a pick list; typing a code or a name still works
            pick = DataValidation(type="list", formula1=ranges[c.codelist], allow_blank=True,
                                  showErrorMessage=False)
            letter = get_column_letter(i)
            pick.add(f"{letter}3:{letter}{_PICK_ROWS}")
            sheet.add_data_validation(pick)
    for extra in (guide, lists):
        for cell_ in extra[1]:
            cell_.font = Font(bold=True)
    book.save(out)


def _kinds_text(column: Column) -> str:
    return "Dòng: " + ", ".join(column.kinds)

