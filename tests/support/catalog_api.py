"""What the catalog and file API tests share: SIPs of a chosen access mode with named files,
an API client with a token per role, and the text of a PDF page (for the BẢN SAO mark)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import sqlalchemy as sa
from fpdf import FPDF

from access_api.app import create_app
from access_api.services.base import UserRole
from ingest.sip_build import build_sip
from preservation.accounts import create_user, issue_token
from preservation.catalog.models import Agency
from tests.support.pki import minimal_pdf
from tests.support.sheets import HOSO, write_csv
from tests.support.sips import FOND, ORGAN, document_rows, png

ROLES = ("admin", "archivist", "agency_submitter", "preservation_officer", "reader")


def pdf_pages(count: int, title: str = "Trang") -> bytes:
    """A real PDF of ``count`` A4 pages."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for i in range(1, count + 1):
        pdf.add_page()
        pdf.text(20, 20, f"{title} {i}")
    return bytes(pdf.output())


def make_mode_sip(folder: Path, file_code: str, *, mode: str = "01",
                  doc_modes: tuple[str | None, ...] = ("01", "01"),
                  names: tuple[str, ...] | None = None,
                  contents: dict[str, bytes] | None = None) -> Path:
    """A SIP_hoso of mode ``mode`` whose documents (PDF, PNG alternating) have ``doc_modes``
    (None: no mode of their own) and file ``names``."""
    src = folder / "src"
    src.mkdir(parents=True)
    rows = document_rows(len(doc_modes), file_code)
    for i, (row, doc_mode) in enumerate(zip(rows, doc_modes, strict=True)):
        if names:
            row["file"] = names[i]
        if doc_mode is None:
            row.pop("mode")
        else:
            row["mode"] = doc_mode
        name = row["file"]
        data = (contents or {}).get(name)
        if data is None:
            data = minimal_pdf(row.get("subject", name)) if name.endswith(".pdf") else png()
        (src / name).write_bytes(data)
    hoso = dict(HOSO, fileCode=file_code, mode=mode, totalDoc=str(len(rows)))
    sheet = write_csv(folder / "sheet.csv", [hoso, *rows])
    return build_sip(src, sheet, folder / "bag", organ_id=ORGAN,
                     agency_name="UBND huyện Nghi Lộc", fond_code=FOND)


@dataclass
class Api:
    client: object
    tokens: dict[str, str]

    def headers(self, role: str | None) -> dict[str, str]:
        return {} if role in (None, "anonymous") else {
            "Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, url: str, role: str | None = "reader", **headers: str):
        return self.client.get(url, headers={**self.headers(role), **headers})  # type: ignore[attr-defined]

    def head(self, url: str, role: str | None = "reader", **headers: str):
        return self.client.head(url, headers={**self.headers(role), **headers})  # type: ignore[attr-defined]


def make_api(khoso, *, other_agency: bool = False) -> Api:
    """A client and one account per role (the agency submitter bound to the SIPs' agency, or
    with ``other_agency`` to another one)."""
    tokens = {}
    with khoso.catalog.session() as s:
        agency = s.scalar(sa.select(Agency).where(Agency.organ_id == ORGAN))
        for role in ROLES:
            value = UserRole.AGENCY_SUBMITTER.value if role == "agency_submitter" else role
            user = create_user(s, f"u-{role}", "mật-khẩu-dài-đủ-12", [value])
            if role == "agency_submitter" and not other_agency:
                user.agency_id = agency.id
            tokens[role] = issue_token(s, user, "t").token
    return Api(create_app(khoso.settings, khoso.catalog).test_client(), tokens)


# -- text of a PDF page, through its fonts' ToUnicode maps ------------------------------------

def _cmap(font: pikepdf.Object) -> dict[bytes, str]:
    out: dict[bytes, str] = {}
    if "/ToUnicode" not in font:
        return out
    text = font.ToUnicode.read_bytes().decode("latin-1")
    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[bytes.fromhex(src)] = bytes.fromhex(dst).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>",
                                      block):
            start, width = int(lo, 16), len(lo) // 2
            first = int.from_bytes(bytes.fromhex(dst), "big")
            for n in range(start, int(hi, 16) + 1):
                out[n.to_bytes(width, "big")] = chr(first + n - start)
    return out


def _decode(data: bytes, cmap: dict[bytes, str]) -> str:
    if not cmap:
        return data.decode("latin-1")
    width = len(next(iter(cmap)))
    return "".join(cmap.get(data[i:i + width], "?") for i in range(0, len(data), width))


def _text(content: pikepdf.Object, resources: pikepdf.Object) -> str:
    fonts = resources.get("/Font", {})
    xobjects = resources.get("/XObject", {})
    cmap: dict[bytes, str] = {}
    out = []
    for operands, operator in pikepdf.parse_content_stream(content):
        op = str(operator)
        if op == "Tf":
            cmap = _cmap(fonts[operands[0]]) if operands[0] in fonts else {}
        elif op == "Tj":
            out.append(_decode(bytes(operands[0]), cmap))
        elif op == "TJ":
            out.append("".join(_decode(bytes(o), cmap) for o in operands[0]
                               if isinstance(o, pikepdf.String)))
        elif op == "Do" and operands[0] in xobjects:
            x = xobjects[operands[0]]
            if x.get("/Subtype") == "/Form":
                out.append(_text(x, x.get("/Resources", resources)))
    return " ".join(out)


def page_texts(data: bytes) -> list[str]:
    import io

    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [_text(page.obj, page.Resources) for page in pdf.pages]
