from __future__ import annotations

import datetime as dt
import string
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from preservation.errors import ValidationFailed
from preservation.metadata.codelists import PACKAGES, FieldSpec, codelist, field_specs, kinds
from preservation.metadata.dates import TTDate
from preservation.metadata.ead import EadRecord, check_values, read_ead, validate_xsd, write_ead
from tests.support.ead_samples import SAMPLES, TITLE, sample, xml

TABLES = [(p, k) for p in PACKAGES for k in kinds(p)]


def test_samples_cover_every_table() -> None:
    assert set(SAMPLES) == set(TABLES)


@pytest.mark.parametrize(("package", "kind"), TABLES)
def test_written_sample_validates_and_reads_back(package: str, kind: str) -> None:
    record = sample(package, kind)
    data = write_ead(record)
    assert validate_xsd(data, package, kind).codes() == set()
    back, report = read_ead(data, package, kind)
    assert report.codes() == set()
    assert back == record


@pytest.mark.parametrize(("package", "kind"), TABLES)
def test_minimal_record_validates(package: str, kind: str) -> None:
    """Only required values: every optional element is written empty and still valid."""
    specs = field_specs(package, kind)
    full = SAMPLES[(package, kind)]
    record = EadRecord(package, kind, {s.name: full[s.name] for s in specs if s.required})
    data = write_ead(record)
    assert validate_xsd(data, package, kind).codes() == set()
    root = etree.fromstring(data)
    assert [c.tag for c in root] == [s.name for s in specs]  # strict TT 05 order, all elements


def test_output_form() -> None:
    data = write_ead(sample("SIP", "hoso", title=unicodedata.normalize("NFD", TITLE)))
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<simpledc>\n  <fileCode>')
    assert TITLE.encode() in data  # NFC on output
    assert b"<keyword>" in data and b"<language>01</language>" in data


def test_xsd_rejects_what_the_tables_forbid() -> None:
    data = write_ead(sample("SIP", "hoso"))
    assert validate_xsd(data.replace(b"<mode>01</mode>", b"<mode>09</mode>"), "SIP", "hoso").codes() == {"XML005"}
    bad_date = data.replace(b"<startDate>02/01/2001", b"<startDate>01/2001")
    assert validate_xsd(bad_date, "SIP", "hoso").codes() == {"XML005"}
    aip = write_ead(sample("AIP", "hoso"))
    assert b"<startDate>01/2001</startDate>" in aip and b"<endDate>2001</endDate>" in aip
    no_title = data.replace(f"<title>{TITLE}</title>".encode(), b"")
    report = validate_xsd(no_title, "SIP", "hoso")
    assert report.codes() == {"XML005"} and "title" in report.issues[0].message("en")


def test_sip_xsd_accepts_pl3_subset() -> None:
    """PL III's own EAD.xsd has no numberOfPaper/riskRecovery/riskRecoveryStatus (§5.6 item 1)."""
    data = write_ead(sample("SIP", "hoso"))
    root = etree.fromstring(data)
    for name in ("numberOfPaper", "riskRecovery", "riskRecoveryStatus"):
        root.remove(root.find(name))
    subset = etree.tostring(root)
    assert validate_xsd(subset, "SIP", "hoso").codes() == set()
    _, report = read_ead(subset, "SIP", "hoso")
    assert report.codes() == {"EAD001"}  # riskRecovery still required by the table
    assert [i.path for i in report] == ["/simpledc/riskRecovery"]
    aip = etree.fromstring(write_ead(sample("AIP", "hoso")))
    aip.remove(aip.find("riskRecovery"))
    assert validate_xsd(etree.tostring(aip), "AIP", "hoso").codes() == {"XML005"}


def test_write_refuses_invalid_record() -> None:
    record = sample("SIP", "hoso", mode="09", totalDoc="137", title=None, colour="01", keyword=" x")
    with pytest.raises(ValidationFailed) as info:
        write_ead(record)
    assert info.value.code == "EAD015"
    assert info.value.report.codes() == {"EAD004", "EAD017", "EAD001", "EAD016", "EAD018"}


@pytest.mark.parametrize(
    ("changes", "codes"),
    [
        ({"title": "x" * 1001}, {"EAD003"}),
        ({"totalDoc": 10**10}, {"EAD006"}),
        ({"totalDoc": -1}, {"EAD005"}),
        ({"totalDoc": True}, {"EAD017"}),
        ({"language": "01"}, {"EAD017"}),
        ({"language": ()}, {"EAD018"}),
        ({"language": ("01", "12")}, {"EAD004"}),
        ({"startDate": TTDate(2001)}, {"DATE003"}),
        ({"description": "a\x01b"}, {"EAD012"}),
        ({"riskRecovery": 1}, {"EAD017"}),
    ],
)
def test_check_values(changes: dict, codes: set[str]) -> None:
    assert check_values(sample("SIP", "hoso", **changes)).codes() == codes


def test_doc_id_longer_than_25_is_a_warning() -> None:
    long_id = "000.00.00.G09.2010.01.TCCB.12"
    record = sample("SIP", "doc", docId=long_id)
    assert check_values(record).codes() == {"ID006"}
    back, report = read_ead(write_ead(record), "SIP", "doc")
    assert report.codes() == {"ID006"} and report.ok and back == record


# --- liberal reading (§5.6) -----------------------------------------------------------------

def _elements(package: str, kind: str) -> list[tuple[str, str]]:
    root = etree.fromstring(write_ead(sample(package, kind)))
    return [(c.tag, c.text or "") for c in root]


def _read(elements: list[tuple[str, str]], package: str = "SIP", kind: str = "hoso", **kw):
    return read_ead(xml(elements, **kw), package, kind)


def _set(elements: list[tuple[str, str]], name: str, text: str) -> list[tuple[str, str]]:
    return [(n, text if n == name else t) for n, t in elements]


def test_shuffled_order_is_fine() -> None:
    elements = list(reversed(_elements("SIP", "hoso")))
    record, report = _read(elements)
    assert report.codes() == set() and record == sample("SIP", "hoso")


@pytest.mark.parametrize(
    ("package", "kind", "found", "expected"),
    [("DIP", "pic", "docCode", "arcDocCode"), ("AIP", "media", "docCode", "arcDocCode"),
     ("SIP", "pic", "arcDocCode", "docCode"), ("SIP", "doc", "arcDocCode", "docCode")],
)
def test_doc_code_name_swap(package: str, kind: str, found: str, expected: str) -> None:
    elements = [(found if n == expected else n, t) for n, t in _elements(package, kind)]
    record, report = _read(elements, package, kind)
    assert report.codes() == {"EAD009"}
    assert record == sample(package, kind)


def test_both_names_present_keeps_the_right_one() -> None:
    elements = _elements("DIP", "pic") + [("docCode", "X.2001.1.0000001")]
    record, report = _read(elements, "DIP", "pic")
    assert report.codes() == {"EAD002"} and record == sample("DIP", "pic")


@pytest.mark.parametrize(
    ("variant", "codes"),
    [
        ([("language", "01"), ("language", "02")], {"EAD010"}),
        ([("language", "01, 02")], {"EAD010"}),
        ([("language", "01;02")], set()),
        ([("language", " 01 ; 02 ")], set()),
    ],
)
def test_language_variants(variant: list[tuple[str, str]], codes: set[str]) -> None:
    elements = [e for e in _elements("SIP", "doc") if e[0] != "language"] + variant
    record, report = _read(elements, "SIP", "doc")
    assert report.codes() == codes
    assert record.values["language"] == ("01", "02")


@pytest.mark.parametrize(
    ("name", "text", "codes"),
    [
        ("title", "", {"EAD001"}),
        ("mode", "9", {"EAD004"}),
        ("title", "ạ" * 1001, {"EAD003"}),
        ("totalDoc", "12a", {"EAD005"}),
        ("totalDoc", "12345678901", {"EAD006"}),
        ("riskRecovery", "có", {"EAD007"}),
        ("riskRecovery", "true", set()),
        ("startDate", "2001-01-02", {"DATE004"}),
        ("startDate", "31/02/2001", {"DATE002"}),
        ("startDate", "01/2001", {"DATE003"}),
        ("startDate", "January 2001", {"DATE001"}),
        ("keyword", "  Sở Nội vụ  ", set()),
    ],
)
def test_value_problems(name: str, text: str, codes: set[str]) -> None:
    record, report = _read(_set(_elements("SIP", "hoso"), name, text))
    assert report.codes() == codes
    assert all(i.path == f"/simpledc/{name}" for i in report)
    if codes & {"EAD003", "EAD004", "EAD005", "EAD006", "EAD007", "DATE001", "DATE002"}:
        assert name not in record.values


def test_structure_problems() -> None:
    elements = _elements("SIP", "hoso")
    _, report = _read(elements + [("title", "again"), ("signer", "Nguyễn Văn A")])
    assert report.codes() == {"EAD008", "EAD002"}
    nested = xml(elements).replace(b"<keyword>", b"<keyword><b>x</b>")
    assert read_ead(nested, "SIP", "hoso")[1].codes() == {"EAD011"}
    _, report = _read(elements, root="dc")
    assert report.codes() == {"EAD014"}


def test_aip_accepts_partial_dates() -> None:
    record, report = _read(_set(_elements("AIP", "hoso"), "startDate", "1975"), "AIP", "hoso")
    assert report.codes() == set() and record.values["startDate"] == TTDate(1975)


# --- property: write -> read -> equal, and every written file is XSD-valid -------------------

VI = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
ALPHABET = VI + VI.upper() + string.ascii_letters + string.digits + " .,;:-/()&<>\"'"


def _text(max_length: int) -> st.SearchStrategy[str]:
    return (
        st.text(ALPHABET, min_size=1, max_size=min(max_length, 120))
        .map(lambda s: unicodedata.normalize("NFC", s).strip())
        .filter(bool)
    )


def _value(spec: FieldSpec, package: str) -> st.SearchStrategy[object]:
    if spec.type == "string":
        return _text(spec.max_length or 100)
    if spec.type == "code":
        codes = st.sampled_from(codelist(spec.codelist or "").codes)
        return st.lists(codes, min_size=1, unique=True).map(tuple) if spec.multi else codes
    if spec.type == "number":
        return st.integers(0, 10 ** (spec.max_length or 10) - 1)
    if spec.type == "boolean":
        return st.booleans()
    days = st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2100, 12, 31))
    full = days.map(TTDate.from_date)
    if package != "AIP":
        return full
    return st.one_of(full, days.map(lambda d: TTDate(d.year, d.month)), days.map(lambda d: TTDate(d.year)))


@st.composite
def records(draw: st.DrawFn) -> EadRecord:
    package, kind = draw(st.sampled_from(TABLES))
    specs = field_specs(package, kind)
    values = draw(st.fixed_dictionaries(
        {s.name: _value(s, package) for s in specs if s.required},
        optional={s.name: _value(s, package) for s in specs if not s.required},
    ))
    return EadRecord(package, kind, values)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_write_read_roundtrip(record: EadRecord) -> None:
    data = write_ead(record)
    assert validate_xsd(data, record.package, record.kind).codes() == set()
    back, report = read_ead(data, record.package, record.kind)
    assert report.ok, report.to_dict()
    assert report.codes() <= {"ID006"}
    assert back == record
