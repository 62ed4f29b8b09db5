"""A hồ sơ digitised whole as one PDF (TT 05 Điều 8 khoản 1 điểm d): one document row with
file = ".", its pages at the top of the folder, one signed PDF/A named by the mã hồ sơ alone."""

from __future__ import annotations

import sqlalchemy as sa

from access_api.services import digitisation as service
from access_api.services.base import Identity, ServiceContext, UserRole
from ingest.digitise.importer import WHOLE, Options
from preservation.catalog.models import Bitstream, Document
from tests.support.digitised import FILE_CODE, render_page, rows, write_sheet
from tests.support.sips import FOND


def test_the_whole_hoso_becomes_one_pdf_named_by_its_code(khoso, tmp_path):
    folder = tmp_path / "quet"
    folder.mkdir()
    table = rows(FILE_CODE, 1)
    table[1]["file"] = WHOLE
    write_sheet(folder / "hoso.csv", table)
    render_page(folder / "001.png", "Sổ đăng ký văn bản đến năm 2001")
    render_page(folder / "002.jpg", "Mục lục hồ sơ phông Ủy ban", fmt="JPEG")
    done = service.run_now(ServiceContext(khoso.settings, khoso.catalog),
                           Identity("luu-tru-vien", frozenset({UserRole.ARCHIVIST})), folder,
                           Options(FILE_CODE, FOND, operator="Lê Thị B"))
    assert done.outcome is not None and done.outcome.accepted, done.outcome.to_dict()
    with khoso.catalog.session() as s:
        doc = s.scalars(sa.select(Document)).one()
        assert doc.number_of_page == 2
        paths = s.scalars(sa.select(Bitstream.path).where(Bitstream.document_id == doc.id)).all()
    assert [p.rsplit("/", 1)[-1] for p in paths] == [f"{FILE_CODE}.pdf"]
    for replica in ("replica1", "replica2"):
        assert [p.name for p in khoso.replica(replica).rglob("*.pdf")] == [f"{FILE_CODE}.pdf"]
