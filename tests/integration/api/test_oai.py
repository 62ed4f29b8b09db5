"""OAI-PMH 2.0 over real ingested AIPs, harvested by the ``sickle`` harvester through a real
HTTP server (werkzeug, threaded) on loopback, plus raw-XML checks of every error condition.

One archive per catalog for the whole module (ingests are the slow part): five public hồ sơ in
two fonds (one of them corrected into a version 2), one of mode 02 and one of mode 03, with
registration times set to known instants so that from/until have exact answers."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
import sqlalchemy as sa
from lxml import etree
from sickle import Sickle, oaiexceptions
from werkzeug.serving import make_server

from access_api.app import create_app
from access_api.services import oai as oai_service
from ingest.sip_build import build_sip
from preservation.catalog import registry
from preservation.catalog.db import Catalog
from preservation.catalog.models import Package, RecordFile
from preservation.settings import load_settings
from preservation.signing import init_keys
from tests.support.db import postgres_schema
from tests.support.khoso import Khoso
from tests.support.pki import minimal_pdf
from tests.support.sheets import HOSO, write_csv
from tests.support.sips import FOND, ORGAN, document_rows
from tests.support.versions import EAD, retitle, update

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas" / "oai"
NS = {"o": oai_service.OAI_NS, "dc": oai_service.DC_NS, "oai_dc": oai_service.OAI_DC_NS}
OTHER_FOND = "P624"
# (n, mode, fonds, registered at)
RECORDS = [(1, "01", FOND, "2026-01-01T10:00:00"), (2, "01", FOND, "2026-01-02T10:00:00"),
           (3, "01", FOND, "2026-01-03T10:00:00"), (4, "01", FOND, "2026-01-04T10:00:00"),
           (5, "01", OTHER_FOND, "2026-01-05T10:00:00"), (6, "02", FOND, "2026-01-02T11:00:00"),
           (7, "03", FOND, "2026-01-02T12:00:00")]


def sip(folder: Path, n: int, mode: str, fond: str) -> Path:
    code = f"{ORGAN}.2001.{200 + n}"
    src = folder / "src"
    src.mkdir(parents=True)
    rows = [dict(r, mode=mode) for r in document_rows(1, code)]
    for row in rows:
        (src / row["file"]).write_bytes(minimal_pdf(row["subject"]))
    sheet = write_csv(folder / "sheet.csv", [dict(
        HOSO, fileCode=code, mode=mode, totalDoc="1", keyword="đê điều",
        title=f"Hồ sơ số {n} về việc tu bổ đê điều huyện Nghi Lộc"), *rows])
    return build_sip(src, sheet, folder / "bag", organ_id=ORGAN,
                     agency_name="UBND huyện Nghi Lộc", fond_code=fond)


class Archive:
    def __init__(self, khoso: Khoso, url: str, codes: dict[int, str], corrected_at: str):
        self.khoso, self.url, self.codes, self.corrected_at = khoso, url, codes, corrected_at

    def identifier(self, n: int) -> str:
        return f"oai:TTLTNA:{self.codes[n]}"

    def public(self, *numbers: int) -> set[str]:
        return {self.identifier(n) for n in numbers}

    def raw(self, method: str = "GET", **args: str | list[str]) -> etree._Element:
        query = urlencode(args, doseq=True)
        if method == "GET":
            req = Request(f"{self.url}?{query}")
        else:
            req = Request(self.url, data=query.encode(), method="POST", headers={
                "Content-Type": "application/x-www-form-urlencoded"})
        with urlopen(req, timeout=30) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "text/xml; charset=utf-8"
            body = resp.read()
        doc = etree.fromstring(body)
        schema().assertValid(doc)
        return doc


_SCHEMA: list[etree.XMLSchema] = []


def schema() -> etree.XMLSchema:
    if not _SCHEMA:
        _SCHEMA.append(etree.XMLSchema(etree.parse(str(SCHEMAS / "oai-pmh.xsd"))))
    return _SCHEMA[0]


def errors(doc: etree._Element) -> list[str]:
    return [e.get("code") for e in doc.findall("o:error", NS)]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def archive(request, tmp_path_factory, clamd_address):
    tmp = tmp_path_factory.mktemp(f"oai-{request.param}")
    if request.param == "sqlite":
        yield from _archive(tmp, f"sqlite:///{tmp / 'catalog.sqlite'}", clamd_address)
    else:
        with postgres_schema(request.getfixturevalue("postgres_url")) as url:
            yield from _archive(tmp, url, clamd_address)


def _archive(tmp: Path, db_url: str, clamd_address: str):
    data = tmp / "data"
    (data / "r1").mkdir(parents=True)
    (data / "r2").mkdir(parents=True)
    settings = load_settings({
        "KHOSO_DATA_DIR": str(data), "KHOSO_DATABASE_URL": db_url, "KHOSO_CLAMD": clamd_address,
        "KHOSO_STORAGE_LOCATIONS": f"replica1=file://{data / 'r1'},replica2=file://{data / 'r2'}",
        "KHOSO_ARCHIVE_CODE": "TTLTNA", "KHOSO_ARCHIVE_NAME": "Trung tâm Lưu trữ lịch sử tỉnh"})
    init_keys(Path(settings.keys_dir), settings.archive_name, settings.archive_code)
    catalog = Catalog(settings.database_url)
    catalog.upgrade()
    with catalog.session() as s:
        body = registry.ensure_archive_body(s, "TTLTNA", "Trung tâm Lưu trữ tỉnh", "lich_su")
        registry.add_agency(s, ORGAN, "UBND huyện Nghi Lộc")
        registry.add_fonds(s, body, registry.FondsInput(FOND, "Phông UBND huyện Nghi Lộc"))
        registry.add_fonds(s, body, registry.FondsInput(OTHER_FOND, "Phông Hội đồng nhân dân"))
    khoso = Khoso(settings, catalog, tmp)
    objids = {}
    for n, mode, fond, _ in RECORDS:
        outcome = khoso.ingest(sip(tmp / f"sip{n}", n, mode, fond))
        assert outcome.accepted, outcome.report
        objids[n] = outcome.objid
    # a metadata correction of record 1: version 2 is current, version 1 superseded
    ead = next(khoso.replica("replica1").rglob(f"*{ORGAN}.2001.201*/v1/{EAD}")).read_bytes()
    update(khoso, objids[1], package_ead=retitle(ead, "Hồ sơ số 1 đã sửa tiêu đề"))
    with catalog.session() as s:
        for n, _, _, at in RECORDS:
            s.execute(sa.update(Package).where(Package.objid == objids[n], Package.version == 1)
                      .values(created_at=dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC)))
        corrected = dt.datetime(2026, 2, 1, 8, 30, 15, 250000, tzinfo=dt.UTC)
        s.execute(sa.update(Package).where(Package.objid == objids[1], Package.version == 2)
                  .values(created_at=corrected))
        codes = {}
        for n, _, _, _ in RECORDS:
            rf_id = s.scalar(sa.select(Package.record_file_id).where(
                Package.objid == objids[n]).limit(1))
            codes[n] = s.get_one(RecordFile, rf_id).arc_file_code
    app = create_app(settings, catalog)
    app.config["KHOSO_OAI_PAGE_SIZE"] = 2
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Archive(khoso, f"http://127.0.0.1:{server.server_port}/oai", codes,
                      "2026-02-01T08:30:15Z")
    finally:
        server.shutdown()
        thread.join()
        catalog.dispose()


def harvester(archive: Archive) -> Sickle:
    return Sickle(archive.url, max_retries=0, timeout=30)


def test_harvest_every_public_record_across_resumption_tokens(archive):
    records = list(harvester(archive).ListRecords(metadataPrefix="oai_dc"))
    ids = [r.header.identifier for r in records]
    assert len(ids) == len(set(ids)) == 5  # one per hồ sơ, the corrected one once
    assert set(ids) == archive.public(1, 2, 3, 4, 5)
    # mode 02 and 03 never appear
    assert archive.identifier(6) not in ids and archive.identifier(7) not in ids
    by_id = {r.header.identifier: r for r in records}
    first = by_id[archive.identifier(1)]
    assert first.header.datestamp == archive.corrected_at  # its current version's
    assert first.metadata["title"] == ["Hồ sơ số 1 đã sửa tiêu đề"]
    second = by_id[archive.identifier(2)].metadata
    assert second["title"] == ["Hồ sơ số 2 về việc tu bổ đê điều huyện Nghi Lộc"]
    assert second["publisher"] == ["Trung tâm Lưu trữ lịch sử tỉnh"]
    assert second["subject"] == ["đê điều"]
    assert second["language"] == ["vi"]
    assert second["date"] == ["2001-01-02/2001-12-28"]
    assert archive.codes[2] in second["identifier"]
    assert "Công khai (chế độ sử dụng 01)" in second["rights"]
    assert "Open (access level 01)" in second["rights"]
    assert "Collection" in second["type"]
    assert second["creator"] == ["UBND huyện Nghi Lộc"]
    assert by_id[archive.identifier(5)].header.setSpecs == [OTHER_FOND]
    assert by_id[archive.identifier(2)].header.setSpecs == [FOND]


def test_resumption_tokens_carry_the_list_size_and_cursor(archive):
    doc = archive.raw(verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = doc.find("o:ListIdentifiers/o:resumptionToken", NS)
    assert (token.get("completeListSize"), token.get("cursor")) == ("5", "0")
    assert len(doc.findall("o:ListIdentifiers/o:header", NS)) == 2
    seen, cursors = 2, ["0"]
    while token.text:
        doc = archive.raw(verb="ListIdentifiers", resumptionToken=token.text)
        assert errors(doc) == [] and doc.find("o:request", NS).get("resumptionToken")
        token = doc.find("o:ListIdentifiers/o:resumptionToken", NS)
        cursors.append(token.get("cursor"))
        seen += len(doc.findall("o:ListIdentifiers/o:header", NS))
    assert seen == 5 and cursors == ["0", "2", "4"]  # the last token is empty
    # a token of ListIdentifiers is not one of ListRecords
    first = archive.raw(verb="ListIdentifiers", metadataPrefix="oai_dc")
    text = first.find("o:ListIdentifiers/o:resumptionToken", NS).text
    assert errors(archive.raw(verb="ListRecords", resumptionToken=text)) == [
        "badResumptionToken"]


def test_the_datestamps_are_utc_seconds_in_registration_order(archive):
    headers = list(harvester(archive).ListIdentifiers(metadataPrefix="oai_dc"))
    assert [h.datestamp for h in headers] == [
        "2026-01-02T10:00:00Z", "2026-01-03T10:00:00Z", "2026-01-04T10:00:00Z",
        "2026-01-05T10:00:00Z", archive.corrected_at]


@pytest.mark.parametrize(("args", "expected"), [
    ({"from": "2026-01-03"}, (3, 4, 5, 1)),
    ({"until": "2026-01-03"}, (2, 3)),  # a day includes all of it
    ({"from": "2026-01-03", "until": "2026-01-04"}, (3, 4)),
    ({"from": "2026-01-03T10:00:00Z", "until": "2026-01-04T09:59:59Z"}, (3,)),
    ({"from": "2026-01-03T10:00:01Z"}, (4, 5, 1)),
    ({"until": "2026-02-01T08:30:15Z", "from": "2026-02-01T08:30:15Z"}, (1,)),  # its second
    ({"set": OTHER_FOND}, (5,)),
    ({"set": FOND, "from": "2026-01-04"}, (4, 1)),
])
def test_selective_harvesting(archive, args, expected):
    got = [h.identifier for h in harvester(archive).ListIdentifiers(metadataPrefix="oai_dc",
                                                                    **args)]
    assert got == [archive.identifier(n) for n in expected]


def test_no_records_match(archive):
    with pytest.raises(oaiexceptions.NoRecordsMatch):
        list(harvester(archive).ListIdentifiers(metadataPrefix="oai_dc", set="P999"))
    doc = archive.raw(verb="ListRecords", metadataPrefix="oai_dc", **{"from": "2030-01-01"})
    assert errors(doc) == ["noRecordsMatch"]
    assert doc.find("o:request", NS).get("from") == "2030-01-01"


def test_sets_are_the_fonds_with_public_records(archive):
    sets = {s.setSpec: s.setName for s in harvester(archive).ListSets()}
    assert sets == {FOND: "Phông UBND huyện Nghi Lộc", OTHER_FOND: "Phông Hội đồng nhân dân"}


def test_identify_and_formats(archive):
    identify = harvester(archive).Identify()
    assert identify.repositoryName == "Trung tâm Lưu trữ lịch sử tỉnh"
    assert identify.baseURL == archive.url and identify.protocolVersion == "2.0"
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.deletedRecord == "no"
    # the earliest public datestamp (record 1 now has its version 2 of February)
    assert identify.earliestDatestamp == "2026-01-02T10:00:00Z"
    formats = list(harvester(archive).ListMetadataFormats())
    assert [f.metadataPrefix for f in formats] == ["oai_dc"]
    one = list(harvester(archive).ListMetadataFormats(identifier=archive.identifier(2)))
    assert [f.metadataPrefix for f in one] == ["oai_dc"]


def test_get_record(archive):
    record = harvester(archive).GetRecord(identifier=archive.identifier(3),
                                          metadataPrefix="oai_dc")
    assert record.header.identifier == archive.identifier(3)
    assert record.header.datestamp == "2026-01-03T10:00:00Z"
    assert record.metadata["title"] == ["Hồ sơ số 3 về việc tu bổ đê điều huyện Nghi Lộc"]
    post = archive.raw("POST", verb="GetRecord", identifier=archive.identifier(3),
                       metadataPrefix="oai_dc")
    assert post.find(".//dc:title", NS).text == record.metadata["title"][0]


@pytest.mark.parametrize("n", [6, 7])
def test_conditional_and_secret_records_do_not_exist(archive, n):
    for verb in ("GetRecord", "ListMetadataFormats"):
        args = {"identifier": archive.identifier(n)}
        if verb == "GetRecord":
            args["metadataPrefix"] = "oai_dc"
        assert errors(archive.raw(verb=verb, **args)) == ["idDoesNotExist"]
    everything = archive.raw(verb="ListIdentifiers", metadataPrefix="oai_dc",
                             **{"from": "2026-01-02", "until": "2026-01-02"})
    assert [h.text for h in everything.iterfind(".//o:identifier", NS)] == [
        archive.identifier(2)]


@pytest.mark.parametrize(("args", "code"), [
    ({}, "badVerb"),
    ({"verb": "Nothing"}, "badVerb"),
    ({"verb": ["Identify", "Identify"]}, "badVerb"),
    ({"verb": "Identify", "extra": "1"}, "badArgument"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": ["oai_dc", "oai_dc"]}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-01-01",
      "until": "2026-01-02T00:00:00Z"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-13-45"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-01-01T10:00:00"},
     "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-01-01T10:00:00+07:00"},
     "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-02-01",
      "until": "2026-01-01"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "a b"}, "badArgument"),
    ({"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"},
     "badArgument"),
    ({"verb": "ListRecords", "resumptionToken": "rác"}, "badResumptionToken"),
    ({"verb": "ListRecords", "resumptionToken": "eyJ2IjoxfQ.0000"}, "badResumptionToken"),
    ({"verb": "ListRecords", "resumptionToken": "A" * 5000}, "badResumptionToken"),
    ({"verb": "ListSets", "resumptionToken": "x"}, "badResumptionToken"),
    ({"verb": "ListRecords", "resumptionToken": oai_service.make_token(
        "ListRecords", "oai_dc", {"from": "hôm qua"},
        oai_service.Position(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 1, 2))},
     "badResumptionToken"),
    # the digest is no secret: a token made by hand with a position we never issue
    ({"verb": "ListIdentifiers", "resumptionToken": oai_service.make_token(
        "ListIdentifiers", "oai_dc", {},
        oai_service.Position(dt.datetime(2020, 1, 1, tzinfo=dt.UTC), 1, -5))},
     "badResumptionToken"),
    ({"verb": "ListRecords", "resumptionToken": oai_service.make_token(
        "ListRecords", "oai_dc", {},
        oai_service.Position(dt.datetime(2020, 1, 1, tzinfo=dt.UTC), -1, 2))},
     "badResumptionToken"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "mods", "identifier": "oai:TTLTNA:x"},
     "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:TTLTNA:khong-co"},
     "idDoesNotExist"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:KHAC:x"},
     "idDoesNotExist"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:TTLTNA:\x01\x00"},
     "idDoesNotExist"),
    ({"verb": "ListMetadataFormats", "identifier": "oai:TTLTNA:khong-co"}, "idDoesNotExist"),
])
def test_error_conditions(archive, args, code):
    for method in ("GET", "POST"):
        doc = archive.raw(method, **args)
        assert errors(doc) == [code], (method, args)
        error = doc.find("o:error", NS)
        assert " / " in error.text  # Vietnamese, then English
        request = doc.find("o:request", NS)
        assert request.text == archive.url
        if code in ("badVerb", "badArgument"):
            assert dict(request.attrib) == {}  # §3.5: the base URL only


def test_every_verb_validates_against_the_schema(archive):
    for args in ({"verb": "Identify"}, {"verb": "ListSets"}, {"verb": "ListMetadataFormats"},
                 {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
                 {"verb": "GetRecord", "metadataPrefix": "oai_dc",
                  "identifier": archive.identifier(4)}):
        doc = archive.raw(**args)  # raw() validates
        assert errors(doc) == [] and doc.find("o:request", NS).get("verb") == args["verb"]
    official = SCHEMAS / "OAI-PMH.xsd"
    if official.exists():  # the official XSD, when the integrator adds it (schemas/oai/README)
        xsd = etree.XMLSchema(etree.parse(str(official)))
        xsd.assertValid(archive.raw(verb="ListIdentifiers", metadataPrefix="oai_dc"))


def test_the_oai_endpoint_is_not_in_the_openapi_document(archive):
    client = create_app(archive.khoso.settings, archive.khoso.catalog).test_client()
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/oai" not in spec["paths"] and "/metrics" not in spec["paths"]
    assert "/healthz" not in spec["paths"]


@pytest.mark.parametrize(("query", "code"), [
    ("verb=%ff", "badVerb"),
    ("verb=Identify&%00=1", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=%00", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&set=%F0%9F%98%80", "badArgument"),
    ("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:TTLTNA:%ff%00", "idDoesNotExist"),
    ("verb=GetRecord&metadataPrefix=oai_%00dc&identifier=x", "cannotDisseminateFormat"),
    ("verb=ListIdentifiers&resumptionToken=%00.%ff", "badResumptionToken"),
])
def test_hostile_bytes_get_a_valid_error_document(archive, query, code):
    client = create_app(archive.khoso.settings, archive.khoso.catalog).test_client()
    resp = client.get(f"/oai?{query}")
    assert resp.status_code == 200 and resp.content_type == "text/xml; charset=utf-8"
    doc = etree.fromstring(resp.data)
    schema().assertValid(doc)
    assert errors(doc) == [code]
