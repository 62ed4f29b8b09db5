"""The digitisation import and the paper repository meet in the registering transaction
(``Services.on_register``): a digitised AIP whose paperFileCode names a paper hồ sơ marks it
done in the queue; anything else leaves the queue alone and never fails the ingest."""

from __future__ import annotations

import sqlalchemy as sa

from access_api.services.digitisation_queue import paper_digitised
from access_api.services.wiring import build_services
from preservation.catalog.models import DigitisationItem, Document, DocumentOcrText, Package
from tests.support.catalog_api import make_api
from tests.support.paper_repository import PAPER
from tests.support.paper_repository import paper as _paper
from tests.support.paper_repository import store as _store
from tests.support.sips import make_sip


def _ingested(khoso, tmp_path, code=PAPER):
    outcome = khoso.ingest(make_sip(tmp_path / "sip", hoso={
        "confidenceLevel": "02", "paperFileCode": code, "numberOfPaper": "20"}))
    assert outcome.accepted
    with khoso.catalog.session() as s:
        return s.scalar(sa.select(Package.id).where(Package.objid == outcome.objid)), \
            outcome.objid


def _ocr(khoso, package_id, pages):
    with khoso.catalog.session() as s:
        docs = s.scalars(sa.select(Document.id).order_by(Document.id)).all()
        for doc, n in zip(docs, pages, strict=False):
            s.add(DocumentOcrText(document_id=doc, package_id=package_id, pages=n,
                                  engine="tesseract 5.3.0", text="Quyết định"))


def _item(khoso):
    with khoso.catalog.session() as s:
        return s.scalar(sa.select(DigitisationItem))


def test_the_archive_wires_the_hook(khoso):
    assert build_services(khoso.settings).on_register is paper_digitised


def test_a_digitised_aip_marks_its_paper_hoso_done(khoso, tmp_path):
    package_id, objid = _ingested(khoso, tmp_path)
    api = make_api(khoso)
    _store(api, capacity=5)
    assert _paper(api).status_code == 201
    _ocr(khoso, package_id, [3, 4])
    with khoso.catalog.session() as s:
        paper_digitised(s, None, package_id, {})
    item = _item(khoso)
    assert (item.state, item.pages, item.objid) == ("done", 7, objid)
    with khoso.catalog.session() as s:  # digitised again: the first record stays, no error
        paper_digitised(s, None, package_id, {})
    assert _item(khoso).objid == objid


def test_an_ordinary_ingest_or_an_unregistered_paper_code_changes_nothing(khoso, tmp_path):
    package_id, _ = _ingested(khoso, tmp_path, code="TTLTNA.K9.1")
    api = make_api(khoso)
    _store(api, capacity=5)
    assert _paper(api).status_code == 201
    with khoso.catalog.session() as s:  # no OCR text: not a digitisation
        paper_digitised(s, None, package_id, {})
    _ocr(khoso, package_id, [2])
    with khoso.catalog.session() as s:  # its paper code is not in the repository
        paper_digitised(s, None, package_id, {})
    assert _item(khoso) is None
