"""Hồ sơ and tài liệu: EAD → catalog → EAD is lossless on both databases; bad records write nothing."""

import datetime as dt

import pytest
import sqlalchemy as sa

from preservation.catalog import registry
from preservation.catalog.db import Catalog
from preservation.catalog.models import AuditEntry, Document, Fonds, RecordFile
from preservation.catalog.records import (
    document_ead,
    from_iso,
    iso_date,
    record_file_ead,
    save_document,
    save_record_file,
)
from preservation.errors import ValidationFailed
from preservation.metadata.dates import TTDate
from preservation.metadata.ead import read_ead, write_ead
from tests.support.ead_samples import sample


@pytest.fixture
def catalog(db_url):
    c = Catalog(db_url)
    c.upgrade()
    yield c
    c.dispose()


@pytest.fixture
def fonds_id(catalog):
    with catalog.session() as s:
        body = registry.ensure_archive_body(s, "TTLTNA", "Trung tâm Lưu trữ lịch sử", "lich_su")
        return registry.add_fonds(s, body, registry.FondsInput("P623", "Phông UBND")).id


def test_iso_prefix_dates_keep_precision_and_sort():
    dates = [TTDate(2001, 3, 15), TTDate(2001), TTDate(2001, 3), TTDate(1999, 12, 31)]
    for d in dates:
        assert from_iso(iso_date(d)) == d
    assert sorted(iso_date(d) for d in dates) == ["1999-12-31", "2001", "2001-03", "2001-03-15"]


def test_record_file_round_trip_and_retention(catalog, fonds_id):
    record = sample("AIP", "hoso", maintenance="06", endDate=TTDate(2001, 12, 28))
    with catalog.session() as s:
        rf = save_record_file(s, s.get(Fonds, fonds_id), record)
        rf_id = rf.id
    with catalog.session() as s:
        rf = s.get(RecordFile, rf_id)
        assert rf.retention_expires_on == dt.date(2011, 12, 31)
        assert rf.state == "active"
        assert record_file_ead(rf, "AIP") == record
        # and through XML: catalog → EAD.xml → reader gives the same record again
        again, report = read_ead(write_ead(record_file_ead(rf, "AIP")), "AIP", "hoso")
        assert report.ok and again == record
        assert s.scalar(sa.select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)) \
            == "record_file.create"


def test_permanent_record_file_never_expires(catalog, fonds_id):
    with catalog.session() as s:
        fonds = s.get(Fonds, fonds_id)
        rf = save_record_file(s, fonds, sample("AIP", "hoso", maintenance="01"))
        assert rf.retention_expires_on is None


@pytest.mark.parametrize("kind", ["doc", "pic", "media"])
def test_document_round_trip(catalog, fonds_id, kind):
    with catalog.session() as s:
        fonds = s.get(Fonds, fonds_id)
        rf = save_record_file(s, fonds, sample("AIP", "hoso"))
        record = sample("AIP", kind)
        doc_id = save_document(s, record, record_file=rf).id
    with catalog.session() as s:
        assert document_ead(s.get(Document, doc_id), "AIP") == record


def test_invalid_record_writes_nothing(catalog, fonds_id):
    # confidenceLevel 02 (số hóa) without paperFileCode breaks a TT 05 cross-field rule.
    bad = sample("AIP", "hoso", confidenceLevel="02")
    bad = type(bad)(bad.package, bad.kind,
                    {k: v for k, v in bad.values.items() if k != "paperFileCode"})
    with pytest.raises(ValidationFailed) as err:
        with catalog.session() as s:
            fonds = s.get(Fonds, fonds_id)
            save_record_file(s, fonds, bad)
    assert err.value.report.codes()
    with catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count(RecordFile.id))) == 0
