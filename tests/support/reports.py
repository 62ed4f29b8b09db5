"""A catalog in which every report has rows: an ingested SIP (backup log), an audit that found
a damaged copy and repaired it (inspection and incident records), a download in the access
register, and hồ sơ of limited term, destroyed and transferred beside the permanent one; and,
asked for, for the other areas' reports: a paper repository with its equipment and a paper hồ sơ lent and
returned, an expired hồ sơ listed for destruction with a case proposing it, and a transfer of
the permanent one registered."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from openpyxl import load_workbook

from access_api.services import audit as audit_service
from access_api.services.base import Identity, ServiceContext
from preservation.catalog.models import AccessEntry, Fonds, RecordFile
from preservation.catalog.vocab import FileState
from tests.support.cli import content_file
from tests.support.sips import FOND, make_sip

LIMITED_TITLE = "Hồ sơ về việc tổ chức hội nghị tổng kết công tác văn thư, lưu trữ năm 2015"


EXPIRED_CODE = "H49.64.33.2001.170"  # 10 years from 2001: listed for destruction


@dataclass
class ReportWorld:
    ctx: ServiceContext
    objid: str
    arc_file_code: str
    file_code: str
    case_id: str = ""
    transfer_id: str = ""

    def given(self, spec: Any) -> dict[str, str]:
        """The parameters ``spec`` requires, naming this world's fonds and hồ sơ (for the
        destruction file its case, for the hand-over record its transfer)."""
        hoso = {"ho_so_huy": self.case_id,
                "bien_ban_giao_nhan": self.transfer_id}.get(spec.name, self.arc_file_code)
        values = {"fonds": FOND, "hoso": hoso}
        return {p.value: values[p.value] for p in spec.required}


def _other_areas(khoso: Any, ctx: ServiceContext, world: ReportWorld) -> None:
    from access_api.services import paper, repository, transfers
    from access_api.services.base import UserRole
    from access_api.services.disposal import appraisal, cases
    from preservation.accounts import create_user
    from preservation.catalog.vocab import EquipmentCondition, EquipmentKind, PaperCondition

    admin = Identity("quan-tri-bao-cao", frozenset({UserRole.ADMIN}))
    today = dt.date.today()
    repository.create_repository(ctx, admin, code="K1", name="Kho số 1", area_m2=80.0)
    repository.add_shelf(ctx, admin, "K1", code="G1")
    repository.add_box(ctx, admin, "K1", shelf="G1", code="H1", capacity=10)
    repository.add_equipment(ctx, admin, "K1", kind=EquipmentKind.DEHUMIDIFIER,
                             label="Máy hút ẩm tầng 1", condition=EquipmentCondition.GOOD)
    code = "TTLTNA.K1/G1/H1.1"
    paper.register(ctx, admin, code=code, place=paper.Place("K1", "G1", "H1"),
                   title="Hồ sơ giấy về việc thành lập xã", maintenance="01", page_count=10,
                   condition=PaperCondition.GOOD, fonds=FOND, year=2001)
    paper.check_out(ctx, admin, code, borrower="Nguyễn Văn An", purpose="Số hóa",
                    due_on=today + dt.timedelta(days=7))
    paper.check_in(ctx, admin, code)

    assert khoso.ingest(make_sip(khoso.tmp / "expired", hoso={"maintenance": "06"},
                                 file_code=EXPIRED_CODE)).accepted
    appraisal.scan(ctx, admin)
    with khoso.catalog.session() as s:
        create_user(s, "hoi-dong-1", "Mật-khẩu-đủ-dài-2026", [UserRole.ARCHIVIST.value])
    case = cases.create(ctx, admin, title="Hủy hồ sơ hết thời hạn bảo quản",
                        explanation="Hồ sơ hết thời hạn bảo quản 10 năm.",
                        records=[EXPIRED_CODE], council=["hoi-dong-1"])
    world.case_id = str(case["id"])
    transfer = transfers.register(ctx, admin, fonds=FOND, title="Nộp lưu năm 2027",
                                  receiver="Lưu trữ lịch sử tỉnh",
                                  planned_on=today + dt.timedelta(days=400),
                                  records=[world.file_code])
    world.transfer_id = transfer.id


def build_world(khoso, *, every_area: bool = False) -> ReportWorld:
    """``every_area``: also the data of the other areas' reports (``_other_areas``)."""
    outcome = khoso.ingest(make_sip(khoso.tmp / "sip"))
    assert outcome.accepted
    ctx = ServiceContext(khoso.settings)
    officer = Identity.system("can-bo-bao-quan")
    audit_service.audit(ctx, officer, due_only=False)
    damaged = content_file(khoso, "replica1")
    data = bytearray(damaged.read_bytes())
    data[100] ^= 0xFF
    damaged.write_bytes(bytes(data))
    audit_service.audit(ctx, officer, due_only=False, repair=True)
    with khoso.catalog.session() as s:
        record = s.scalars(sa.select(RecordFile)).one()
        fonds_id = s.scalar(sa.select(Fonds.id).where(Fonds.fond_code == FOND))
        s.add(AccessEntry(actor="doc-gia", action="download", object_type="record",
                          object_id=record.arc_file_code, purpose="Nghiên cứu lịch sử địa phương",
                          detail={"bytes": 1234}))
        base = {"fonds_id": fonds_id, "mode": "01", "start_date": "01/01/2015",
                "end_date": "31/12/2015", "total_doc": 4, "number_of_paper": 12}
        s.add_all([
            RecordFile(file_code="H49.64.33.2015.07", title=LIMITED_TITLE, maintenance="04",
                       retention_expires_on=dt.date(2045, 12, 31), confidence_level="02", **base),
            RecordFile(file_code="H49.64.33.2010.01", title="Hồ sơ đã hủy", maintenance="06",
                       state=FileState.DESTROYED.value, **base),
            RecordFile(file_code="H49.64.33.2012.03", title="Hồ sơ đã nộp lưu vào lưu trữ lịch sử",
                       maintenance="01", state=FileState.TRANSFERRED.value,
                       confidence_level="01", **base),
        ])
        world = ReportWorld(ctx, outcome.objid, record.arc_file_code, record.file_code)
    if every_area:
        _other_areas(khoso, ctx, world)
    return world


# -- reading what a renderer wrote ------------------------------------------------------------

def xlsx_rows(data: bytes, labels: list[str]) -> list[list[Any]]:
    """The table's data rows: those below the header row (the column labels) up to the first
    empty row."""
    ws = load_workbook(io.BytesIO(data), read_only=True).active
    values = [list(r)[:len(labels)] for r in ws.iter_rows(values_only=True)]
    header = values.index(labels)
    out = []
    for row in values[header + 1:]:
        if all(v is None for v in row):
            break
        out.append(row)
    return out


def pdf_text(data: bytes, tmp: Path) -> str:
    path = tmp / "report.pdf"
    path.write_bytes(data)
    png = subprocess.run(["pdftoppm", "-r", "20", "-png", "-f", "1", "-l", "1", str(path)],
                         check=True, capture_output=True).stdout
    assert png.startswith(b"\x89PNG")
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    return unicodedata.normalize("NFC", text)


def json_doc(data: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(data)
    return doc
