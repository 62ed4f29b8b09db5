"""CSV (UTF-8 with a byte-order mark, so a spreadsheet opens the diacritics right) and JSON
(for the web UI), written row by row."""

from __future__ import annotations

import csv
import io
import json
from typing import BinaryIO

from access_api.services.reports.sheet import Sheet, plain, text


def write_csv(sheet: Sheet, out: BinaryIO) -> int:
    """The column headers, then one line per row; returns the number of rows."""
    stream = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        stream.write("\ufeff")
        writer = csv.writer(stream)
        writer.writerow(sheet.labels())
        count = 0
        for row in sheet.rows:
            writer.writerow([text(v) for v in row])
            count += 1
        return count
    finally:
        stream.detach()


def write_json(sheet: Sheet, out: BinaryIO) -> int:
    """``{"report", "title", "archive", "preamble", "signers", "columns", "rows", "count"}``,
    each row an object keyed by the columns' keys."""
    keys = [c.key for c in sheet.columns]
    head = {"report": sheet.name, "title": sheet.title, "archive": sheet.archive_name,
            "preamble": list(sheet.preamble), "signers": list(sheet.signers),
            "columns": [{"key": c.key, "label": c.label(sheet.lang)} for c in sheet.columns]}
    out.write(json.dumps(head, ensure_ascii=False)[:-1].encode() + b', "rows": [')
    count = 0
    for row in sheet.rows:
        item = {k: plain(v) for k, v in zip(keys, row, strict=False)}
        out.write((b",\n" if count else b"\n") + json.dumps(item, ensure_ascii=False).encode())
        count += 1
    out.write(f'], "count": {count}}}'.encode())
    return count
