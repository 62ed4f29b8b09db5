from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from preservation.errors import KhosoError
from preservation.metadata.identifiers import (
    ArcDocCode,
    ArcFileCode,
    DocCode,
    DocId,
    FileCode,
    PackageId,
    PaperFileCode,
    SipTailieuCode,
)


def test_examples_from_the_standard() -> None:
    assert FileCode.parse("H49.64.33.2001.160") == FileCode("H49.64.33", 2001, "160")
    assert FileCode.parse("000.00.00.G09.2010.01.TH") == FileCode("000.00.00.G09", 2010, "01.TH")
    assert FileCode.parse("H05.02.02.2008.01.HC") == FileCode("H05.02.02", 2008, "01.HC")
    doc = DocCode.parse("H49.64.33.2001.160.0000001")
    assert doc == DocCode(FileCode("H49.64.33", 2001, "160"), 1)
    assert DocId.parse("H49.64.33.2001.160.1") == DocId(doc.file_code, 1)
    assert SipTailieuCode.parse("000.00.00.H41.2021.01.0000001") == SipTailieuCode(
        "000.00.00.H41", 2021, 1, 1
    )


def test_year_rule_skips_non_year_segments() -> None:
    # "1234" at position 0 is never a year (organ id needed before it); "0999" is implausible.
    assert FileCode.parse("1234.0999.2005.12").organ_id == "1234.0999"
    # a notation that looks like a year stays in the notation
    assert FileCode.parse("H49.2001.2002").notation == "2002"


def test_known_organ_id_disambiguates() -> None:
    text = "UB.1990.X.2005.01.TCCB"  # organ id holding a year-like segment
    assert FileCode.parse(text).organ_id == "UB"
    assert FileCode.parse(text, organ_id="UB.1990.X") == FileCode("UB.1990.X", 2005, "01.TCCB")
    with pytest.raises(KhosoError) as info:
        FileCode.parse(text, organ_id="H49")
    assert info.value.code == "ID009"


def test_arc_file_code_with_muc_luc() -> None:
    code = ArcFileCode("TTLT1", "P623", 1975, "15.VP", "2")
    assert str(code) == "TTLT1.P623.1975.15.VP.2"
    assert ArcFileCode.parse(str(code), has_muc_luc=True) == code
    assert ArcFileCode.parse(str(code)).notation == "15.VP.2"
    assert ArcFileCode.parse("A.B.C.2001.1", archive_code="A.B") == ArcFileCode("A.B", "C", 2001, "1")


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: FileCode.parse("H49.64.33.160"), "ID001"),
        (lambda: FileCode.parse("2001.160"), "ID001"),
        (lambda: FileCode.parse("H49.2001"), "ID002"),
        (lambda: FileCode.parse("H49..2001.1"), "ID002"),
        (lambda: FileCode.parse("H49 .2001.1"), "ID002"),
        (lambda: FileCode("H49", 1700, "1"), "ID001"),
        (lambda: FileCode.parse("H49.2001." + "x" * 100), "ID005"),
        (lambda: DocCode.parse("H49.2001.160.001"), "ID003"),
        (lambda: DocCode.parse("H49.2001.160.0000000"), "ID003"),
        (lambda: DocCode.parse("H49.160.0000001"), "ID001"),
        (lambda: DocCode(FileCode("H49", 2001, "1"), 10_000_000), "ID003"),
        (lambda: ArcDocCode.parse("A.H49.2001.1.12"), "ID003"),
        (lambda: ArcFileCode.parse("A"), "ID002"),
        (lambda: DocId.parse("H49.2001.160.01"), "ID004"),
        (lambda: DocId(FileCode("H49", 2001, "1"), 0), "ID004"),
        (lambda: PaperFileCode.parse("A.1"), "ID002"),
        (lambda: PaperFileCode.parse("A.K1.9", archive_code="B"), "ID009"),
        (lambda: SipTailieuCode.parse("H41.2021.1.0000001"), "ID007"),
        (lambda: SipTailieuCode.parse("H41.1021.01.0000001"), "ID001"),
        (lambda: SipTailieuCode("H41", 2021, 0, 1), "ID007"),
        (lambda: PackageId.parse("urn:uuid:" + str(uuid.uuid4()), "SIP"), "ID008"),
        (lambda: PackageId.parse("uuid-" + str(uuid.uuid4()), "AIP"), "ID008"),
        (lambda: PackageId.parse("uuid-123", "DIP"), "ID008"),
        (lambda: PackageId("SIP", uuid.uuid4(), "G09"), "ID008"),
    ],
)
def test_invalid_identifiers(call, code: str) -> None:
    with pytest.raises(KhosoError) as info:
        call()
    assert info.value.code == code


def test_long_doc_id_is_flagged_not_refused() -> None:
    doc_id = DocId.parse("000.00.00.G09.2010.01.TCCB.12")
    assert doc_id.is_long and len(str(doc_id)) == 29


def test_package_ids() -> None:
    u = uuid.UUID("9c13e70e-08b2-4c54-8baf-979b35d01b4d")
    assert str(PackageId("SIP", u)) == "uuid-9C13E70E-08B2-4C54-8BAF-979B35D01B4D"
    aip = PackageId("AIP", u, "G09")
    assert str(aip) == "urn:G09:uuid-9C13E70E-08B2-4C54-8BAF-979B35D01B4D"
    assert aip.folder_name == "urn_G09_uuid-9C13E70E-08B2-4C54-8BAF-979B35D01B4D"
    assert PackageId.parse(f"urn:G09:uuid:{u}", "AIP") == aip
    assert PackageId.parse(f"urn:uuid:{u}", "AIP") == PackageId("AIP", u)
    assert str(PackageId("AIP", u)) == f"urn:uuid:{str(u).upper()}"


# --- property tests -------------------------------------------------------------------------

_upper = st.sampled_from("ABCDEFGHKLMNPQTUVX")
qd20_ids = st.tuples(
    st.integers(0, 999), st.integers(0, 99), st.integers(0, 99), _upper, st.integers(1, 99)
).map(lambda t: f"{t[0]:03d}.{t[1]:02d}.{t[2]:02d}.{t[3]}{t[4]:02d}")  # 000.00.00.G09
short_ids = st.lists(
    st.one_of(st.integers(1, 99).map(str), st.tuples(_upper, st.integers(1, 99)).map(
        lambda t: f"{t[0]}{t[1]:02d}")),
    min_size=1, max_size=4,
).map(".".join)  # H49.64.33
organ_ids = st.one_of(qd20_ids, short_ids)
notation_part = st.one_of(
    st.integers(1, 999).map(str),
    st.integers(1, 99).map(lambda n: f"{n:02d}"),
    st.text("ABCDHKNQSTVĐ", min_size=1, max_size=5),
)
notations = st.lists(notation_part, min_size=1, max_size=3).map(".".join)  # 01.TCCB, 160
years = st.integers(1800, 2100)
file_codes = st.builds(FileCode, organ_ids, years, notations)
archive_codes = st.text("ABCDLNTU", min_size=1, max_size=8)


@given(file_codes)
def test_file_code_roundtrip(code: FileCode) -> None:
    assert FileCode.parse(str(code)) == code
    assert FileCode.parse(code.build(), organ_id=code.organ_id) == code


@given(file_codes, st.integers(1, 9_999_999))
def test_doc_code_and_doc_id_roundtrip(code: FileCode, ordinal: int) -> None:
    assert DocCode.parse(str(DocCode(code, ordinal))) == DocCode(code, ordinal)
    assert DocId.parse(str(DocId(code, ordinal))) == DocId(code, ordinal)


@given(archive_codes, organ_ids, years, notations, st.one_of(st.none(), st.integers(1, 20).map(str)),
       st.integers(1, 9_999_999))
def test_arc_codes_roundtrip(archive: str, owner: str, year: int, notation: str,
                             muc_luc: str | None, ordinal: int) -> None:
    code = ArcFileCode(archive, owner, year, notation, muc_luc)
    assert ArcFileCode.parse(str(code), has_muc_luc=muc_luc is not None) == code
    doc = ArcDocCode(code, ordinal)
    assert ArcDocCode.parse(str(doc), has_muc_luc=muc_luc is not None) == doc


@given(archive_codes, st.lists(st.text("KGH0123456789-/", min_size=1, max_size=6), min_size=1,
                               max_size=3).map(".".join), st.integers(1, 99999).map(str))
def test_paper_file_code_roundtrip(archive: str, location: str, number: str) -> None:
    code = PaperFileCode(archive, location, number)
    assert PaperFileCode.parse(str(code)) == code


@given(organ_ids, years, st.integers(1, 99), st.integers(1, 9_999_999))
def test_sip_tailieu_roundtrip(organ: str, year: int, batch: int, ordinal: int) -> None:
    code = SipTailieuCode(organ, year, batch, ordinal)
    assert SipTailieuCode.parse(str(code)) == code


@given(st.sampled_from(["SIP", "AIP", "DIP"]), st.uuids(),
       st.one_of(st.none(), st.text("ABCGP_0123456789", min_size=1, max_size=10)))
def test_package_id_roundtrip(package: str, value: uuid.UUID, fond: str | None) -> None:
    pid = PackageId(package, value, fond if package == "AIP" else None)
    assert PackageId.parse(str(pid), package) == pid


@pytest.mark.parametrize("hidden", ["\u200b", "\u202e", "\ufeff", "\u00ad", "\u2060", "\x7f"],
                         ids=["zero-width-space", "right-to-left-override", "bom", "soft-hyphen",
                              "word-joiner", "delete"])
@pytest.mark.parametrize("parse, text", [
    (FileCode.parse, "H49.64.33.2001.1{}60"),
    (DocCode.parse, "H49.64.33.2001.160{}.0000001"),
    (ArcFileCode.parse, "TTLTNA.H49.64.33.2001.16{}0"),
], ids=["fileCode", "docCode", "arcFileCode"])
def test_a_code_with_an_invisible_character_is_refused_and_the_character_shown(parse, text, hidden):
    # It looked like another code (a second hồ sơ under the "same" code, a search that never
    # finds it): the message names the character, which the reader could not see.
    with pytest.raises(KhosoError) as err:
        parse(text.format(hidden))
    assert err.value.code == "ID002"
    shown = f"<U+{ord(hidden):04X}>"
    assert shown in err.value.issue.message("vi") and shown in err.value.issue.message("en")
