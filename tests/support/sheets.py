"""A small, valid SIP_hoso and SIP_tailieu source folder with its sheet in CSV, XLSX and JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path

FILE_CODE = "H49.64.33.2001.160"
TAILIEU_CODE = "H49.64.33.2021.01.0000001"
HOSO = {
    "kind": "hoso", "fileCode": FILE_CODE,
    "title": "Hồ sơ về việc thành lập Sở Nội vụ tỉnh Nghệ An năm 2001",
    "maintenance": "01", "mode": "01", "language": "01", "startDate": "02/01/2001",
    "endDate": "28/12/2001", "numberOfPage": "12", "confidenceLevel": "01", "riskRecovery": "0",
}
TAILIEU = {"kind": "tailieu", "fileCode": TAILIEU_CODE, "title": "Tài liệu rời lẻ năm 2021",
           "source": "1", "totalDoc": "3"}


def documents(code: str = FILE_CODE) -> list[dict[str, str]]:
    return [
        {"kind": "doc", "file": "qd-125.pdf", "docId": f"{code}.1", "docCode": f"{code}.0000001",
         "maintenance": "01", "typeName": "02", "codeNumber": "125", "codeNotation": "QĐ-UBND",
         "issuedDate": "15/03/2001", "organName": "UBND tỉnh Nghệ An",
         "subject": "Quyết định thành lập Sở Nội vụ", "language": "01;02", "numberOfPage": "3",
         "mode": "01", "riskRecovery": "0"},
        {"kind": "pic", "file": "anh-1.jpg", "docCode": f"{code}.0000002", "maintenance": "01",
         "typePic": "01", "imageTitle": "Lễ công bố quyết định", "mode": "01",
         "riskRecovery": "0"},
        {"kind": "media", "file": "ghi-am.mp3;ghi-am-2.mp3", "docCode": f"{code}.0000003",
         "maintenance": "01", "typeMedia": "02", "movieTitle": "Ghi âm buổi lễ",
         "language": "01", "mode": "01", "riskRecovery": "0"},
    ]


def make_source(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "qd-125.pdf").write_bytes("%PDF-1.4\n% Quyết định\n%%EOF\n".encode())
    (folder / "anh-1.jpg").write_bytes(b"\xff\xd8\xff\xe0 fake jpeg \xff\xd9")
    (folder / "ghi-am.mp3").write_bytes(b"ID3 fake mp3 1")
    (folder / "ghi-am-2.mp3").write_bytes(b"ID3 fake mp3 2")
    return folder


def rows(content: str = "hoso") -> list[dict[str, str]]:
    if content == "hoso":
        return [dict(HOSO), *documents()]
    return [dict(TAILIEU), *documents(TAILIEU_CODE)]


def columns(table: list[dict[str, str]]) -> list[str]:
    return list(dict.fromkeys(k for r in table for k in r))


def write_csv(path: Path, table: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, columns(table))
        writer.writeheader()
        writer.writerows(table)
    return path


def write_xlsx(path: Path, table: list[dict[str, str]]) -> Path:
    import datetime as dt

    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    header = columns(table)
    sheet.append(header)
    for r in table:
        values: list[object] = []
        for h in header:
            v = r.get(h)
            if h in ("startDate", "endDate", "issuedDate") and v:
                d, m, y = (int(x) for x in v.split("/"))
                values.append(dt.datetime(y, m, d))  # a real date cell
            elif h in ("numberOfPage", "totalDoc") and v:
                values.append(int(v))
            elif h == "maintenance" and v:
                values.append(int(v))  # Excel drops the leading zero: read back as 01
            else:
                values.append(v)
        sheet.append(values)
    book.save(path)
    return path


def write_json(path: Path, table: list[dict[str, str]]) -> Path:
    native = [{k: (v.split(";") if k == "language" else v) for k, v in r.items()} for r in table]
    path.write_text(json.dumps({"rows": native}, ensure_ascii=False), encoding="utf-8")
    return path


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "json": write_json}
