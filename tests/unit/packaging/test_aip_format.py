"""The AIP format (preservation.packaging.aip and PREMIS): what is written reads back the same.

Property tests round-trip each format with hostile names (spaces, ``%``, CR/LF, Vietnamese in
NFC and NFD); example tests pin the exact bytes khoso has always written.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preservation.errors import KhosoError
from preservation.events import Agent, Event, Outcome
from preservation.packaging.aip import bagit, layout
from preservation.packaging.aip.layout import PackageKey
from preservation.packaging.premis import PremisWriter, read_premis

VIETNAMESE = ["Hồ sơ", unicodedata.normalize("NFD", "Hồ sơ"), "Quyết định số 12",
              unicodedata.normalize("NFD", "Tờ trình"), "Đơn"]
_hostile = st.sampled_from([" ", "%", "%25", "%0A", "%0d", "\r", "\n", "\r\n", "#", "?", "*",
                            "\t", "\u2028", "\x85", *VIETNAMESE])
_piece = st.one_of(_hostile, st.text(alphabet=st.characters(blacklist_categories=("Cs",)),
                                     min_size=1, max_size=8))


def _segment(extra: str = "") -> st.SearchStrategy[str]:
    """A key segment: no ``/``, not empty, not ``.``/``..``."""
    return st.lists(_piece, min_size=1, max_size=4).map("".join).filter(
        lambda s: "/" not in s and s not in (".", "..") and not any(c in s for c in extra))


# names as storage keys allow them: no control character (no CR/LF), not starting with "_"
_KEY_SAFE = "".join(chr(c) for c in range(32)) + "\x7f\x85"
_key_segment = _segment(_KEY_SAFE).filter(lambda s: not s.startswith("_") and s.strip() == s)
# bag paths may hold anything but "/" inside a segment
_path = st.lists(_segment(), min_size=1, max_size=3).map(lambda p: "data/" + "/".join(p))
_digest = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


# -- key layout ------------------------------------------------------------------------------

@given(_key_segment, _key_segment, _key_segment, st.integers(min_value=0, max_value=10**6))
def test_package_key_round_trips(archive: str, fonds: str, code: str, version: int) -> None:
    key = PackageKey(archive, fonds, code, version)
    assert PackageKey.parse(key.prefix) == key
    assert PackageKey.parse(key.prefix + "/") == key
    assert layout.split_package_prefix(key.prefix) == (key.entity, version)
    assert layout.version_prefix(key.entity, version) == key.prefix
    assert key.at(version + 1).prefix == f"{key.entity}/v{version + 1}"


@given(_key_segment, _key_segment, _segment(_KEY_SAFE), _path)
def test_an_aip_object_key_splits_into_its_version_and_bag_path(
        archive: str, fonds: str, arc_file_code: str, path: str) -> None:
    prefix = layout.aip_key_prefix(archive, fonds, arc_file_code)
    # the layout khoso has always used: first version v1, "/" of a notation made "_"
    assert prefix == f"{archive}/{fonds}/{arc_file_code.replace('/', '_')}/v1"
    assert layout.split_aip_key(f"{prefix}/{path}") == (prefix, path)


def test_notation_slash_becomes_underscore() -> None:
    assert layout.aip_key_prefix("TTLTNA", "P623", "TTLTNA.H49.2025.12/QĐ-UBND") == \
        "TTLTNA/P623/TTLTNA.H49.2025.12_QĐ-UBND/v1"


@pytest.mark.parametrize("prefix", ["A/P1/C1", "A/P1/C1/x2", "v1", "A/P1/C1/v", "A/P1/C1/v-1",
                                    "A/P1/C1/V1", ""])
def test_a_package_prefix_ends_in_a_version(prefix: str) -> None:
    with pytest.raises(ValueError):
        layout.split_package_prefix(prefix)
    with pytest.raises(ValueError):
        PackageKey.parse(prefix)


@pytest.mark.parametrize("prefix", ["P1/C1/v1", "A/P1/C1/x/v1", "A//C1/v1"])
def test_a_package_key_has_three_segments_before_its_version(prefix: str) -> None:
    with pytest.raises(ValueError):
        PackageKey.parse(prefix)


@pytest.mark.parametrize("key", ["A/_agencies/H49.json", "A/P1/_fonds.json",
                                 "A/P1/C1/_events/000001-0000beef.jsonl", "A/_x/C1/v1/a",
                                 "A/P1/C1/v1", "A/P1/C1/vx/a", "A//C1/v1/a"])
def test_sidecars_and_strays_are_not_aip_objects(key: str) -> None:
    assert layout.split_aip_key(key) is None


def test_sidecar_keys() -> None:
    assert layout.fonds_key("A", "P1") == "A/P1/_fonds.json"
    assert layout.agency_key("A", "H49") == "A/_agencies/H49.json"
    assert layout.events_prefix("A/P1/C1") == "A/P1/C1/_events/"


@given(_key_segment, _key_segment, _key_segment, _key_segment)
def test_sidecar_keys_round_trip(archive: str, fonds: str, code: str, name: str) -> None:
    assert layout.parse_fonds_key(layout.fonds_key(archive, fonds)) == fonds
    assert layout.parse_agency_key(layout.agency_key(archive, name)) == name
    entity = PackageKey(archive, fonds, code).entity
    assert layout.split_events_key(layout.events_prefix(entity) + name) == (entity, name)
    for key in (layout.fonds_key(archive, fonds), layout.agency_key(archive, name),
                layout.events_prefix(entity) + name):
        assert layout.split_aip_key(key) is None


@given(_key_segment, st.from_regex(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}", fullmatch=True),
       st.integers(1, 10**12 - 1), st.integers(0, 10**6), st.text("0123456789abcdef", min_size=8))
def test_archive_sidecar_keys_round_trip(archive: str, job_id: str, first: int, more: int,
                                         digest: str) -> None:
    assert layout.parse_rejection_key(layout.rejection_key(archive, job_id)) == job_id
    last = min(first + more, 10**12 - 1)
    key = layout.audit_batch_key(archive, first, last, digest)
    assert key.startswith(layout.audit_prefix(archive))
    assert layout.audit_batch_range(key) == (first, last)
    for other in (layout.rejection_key(archive, job_id), key):
        assert layout.split_aip_key(other) is None and layout.parse_fonds_key(other) is None


@pytest.mark.parametrize("job_id", ["", "../x", "a/b", ".hidden", "x" * 65])
def test_a_rejection_key_takes_plain_job_ids_only(job_id: str) -> None:
    with pytest.raises(ValueError):
        layout.rejection_key("A", job_id)


@pytest.mark.parametrize("key", ["A/P1/C1/v1/bagit.txt", "A/P1/fonds.json", "A/agencies/H.json",
                                 "A/_agencies/H.xml", "A/P1/C1/_events/x/y", "A/P1/_events/x"])
def test_other_keys_are_not_sidecar_keys(key: str) -> None:
    assert layout.parse_fonds_key(key) is None
    assert layout.parse_agency_key(key) is None
    assert layout.split_events_key(key) is None


@given(_key_segment, _key_segment, _key_segment, _path,
       st.integers(min_value=1, max_value=50), st.integers(min_value=1, max_value=50))
def test_fetch_url_resolves_to_the_version_that_holds_the_file(
        archive: str, fonds: str, code: str, path: str, held: int, ahead: int) -> None:
    entity = f"{archive}/{fonds}/{code}"
    url = layout.fetch_url(held, path)
    assert not any(c.isspace() for c in url)  # one field of a fetch.txt line
    assert layout.resolve_fetch_url(f"{entity}/v{held + ahead}", url) == f"{entity}/v{held}/{path}"
    with pytest.raises(ValueError, match="not in a version before"):
        layout.resolve_fetch_url(f"{entity}/v{held}", url)


@pytest.mark.parametrize(("url", "reason"), [
    ("/A/P1/C1/v1/data/a", "not a relative reference"),
    ("https://example.org/data/a", "not a relative reference"),
    ("../../P2/C1/v1/data/a", "outside A/P1/C1/vK/"),
    ("../_events/data/a", "outside A/P1/C1/vK/"),
    ("../v1", "outside A/P1/C1/vK/"),
    ("../v3/data/a", "not in a version before v2"),
])
def test_fetch_urls_outside_a_lower_version_are_refused(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        layout.resolve_fetch_url("A/P1/C1/v2", url)


# -- BagIt tag files ---------------------------------------------------------------------------

@given(st.text())
def test_path_encoding_round_trips_and_leaves_no_line_break(text: str) -> None:
    encoded = bagit.encode_path(text)
    assert bagit.decode_path(encoded) == text
    assert "\r" not in encoded and "\n" not in encoded


def test_path_decoding_is_one_pass_in_either_case() -> None:
    assert bagit.decode_path("a%250A%0a%0D%0d%2541%41") == "a%0A\n\r\r%41%41"


@given(st.dictionaries(_path, _digest, max_size=8))
def test_manifest_round_trips_hostile_names(entries: dict[str, str]) -> None:
    text = bagit.manifest(sorted(entries.items()))
    assert len(bagit.split_lines(text)) == len(entries)  # one line each, whatever the name
    assert bagit.parse_manifest(text) == entries


@given(st.dictionaries(_path.filter(lambda p: "\r" not in p and "\n" not in p), _digest,
                       max_size=8))
def test_aip_manifest_reads_what_it_wrote_and_what_earlier_versions_wrote(
        entries: dict[str, str]) -> None:
    for encode in (True, False):  # False: AIPs of before 2026-12-07 listed names as they are
        text = bagit.manifest(entries.items(), encode=encode)
        assert bagit.parse_aip_manifest(text, entries.__contains__) == entries


@pytest.mark.parametrize("encode", [True, False])
def test_an_aip_manifest_with_both_a_percent_and_its_encoding_is_read_right(encode: bool) -> None:
    """``a%`` and ``a%25`` both in one AIP: as written before 2026-12-07 (unencoded), the line
    ``a%25`` decoded would name ``a%`` twice; the reader sees that and takes the lines as they are."""
    entries = {"data/a%": "ab" * 32, "data/a%25": "cd" * 32, "data/b c": "ef" * 32}
    text = bagit.manifest(entries.items(), encode=encode)
    assert bagit.parse_aip_manifest(text, entries.__contains__) == entries


def test_manifest_lines_are_as_sha256sum_writes_them() -> None:
    assert bagit.manifest_line("ab" * 32, "data/100% a\nb.pdf") == \
        f"{'ab' * 32}  data/100%25 a%0Ab.pdf\n"
    assert bagit.manifest_line("ab" * 32, "data/100%.pdf", encode=False) == \
        f"{'ab' * 32}  data/100%.pdf\n"


def test_manifest_reading_is_liberal() -> None:
    text = f"{'AB' * 32} *data/a.pdf\r\n{'cd' * 32}\tdata/b c.pdf\rnonsense\n\n"
    assert bagit.parse_manifest(text) == {"data/a.pdf": "ab" * 32, "data/b c.pdf": "cd" * 32}
    assert bagit.parse_manifest_line("nonsense") is None


_label = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"),
                                        blacklist_characters=":"), min_size=1, max_size=20)
_value = st.lists(_piece, max_size=5).map("".join).map(
    lambda v: v.replace("\r", "").replace("\n", "").strip())


@given(st.lists(st.tuples(_label, _value), max_size=8))
def test_bag_info_round_trips(elements: list[tuple[str, str]]) -> None:
    info = bagit.parse_bag_info(bagit.bag_info(elements))
    assert list(info.elements) == elements
    assert info.notes == ()
    for label, value in elements:
        assert info.first(label) == next(v for k, v in elements if k == label)
        assert value in info.values(label)


@pytest.mark.parametrize(("label", "value"), [
    ("Source-Organization", "a\nb"), ("Source-Organization", "a\rb"), ("A:B", "x"),
    (" A", "x"), ("", "x"), ("A\n", "x")])
def test_bag_info_refuses_what_would_not_read_back(label: str, value: str) -> None:
    with pytest.raises(ValueError):
        bagit.bag_info([(label, value)])


def test_bag_info_reading_joins_continuations_and_notes_bad_lines() -> None:
    text = (" orphan\nA: 1\n  more\n\tand more\nno colon\n: empty\nB : 2\r\nA: 3\r"
            "C: x\u2028y\n")
    info = bagit.parse_bag_info(text)
    assert info.as_dict() == {"A": ("1 more and more", "3"), "B": ("2",), "C": ("x\u2028y",)}
    assert [(n.line, n.reason, n.label) for n in info.notes] == [
        (1, "continuation without a label", ""), (5, "no colon", ""), (6, "empty label", ""),
        (7, bagit.SPACE_BEFORE_COLON, "B")]


def test_bagit_txt_round_trips_and_refuses_other_shapes() -> None:
    assert bagit.bagit_txt() == "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    assert bagit.parse_bagit_txt(bagit.bagit_txt("0.97", "UTF-16")) == ("0.97", "UTF-16")
    with pytest.raises(ValueError, match="3 lines instead of 2"):
        bagit.parse_bagit_txt(bagit.bagit_txt() + "X: y\n")
    with pytest.raises(ValueError, match="unexpected line 'BagIt-Version : 1.0'"):
        bagit.parse_bagit_txt("BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n")


def test_aip_bag_info_is_written_as_always() -> None:
    first = bagit.aip_bag_info(source_organization="Trung tâm Lưu trữ quốc gia", content="hoso",
                               objid="AIP.X.P623", bagging_date="2026-12-07", octets=12, count=3,
                               organ_id="H49.01", software="khoso 1.0")
    assert first == ("Source-Organization: Trung tâm Lưu trữ quốc gia\nPackage-Type: AIP_hoso\n"
                     "External-Identifier: AIP.X.P623\nBagging-Date: 2026-12-07\n"
                     "Payload-Oxum: 12.3\nMa-Dinh-Danh-Co-Quan: H49.01\n"
                     "Bag-Software-Agent: khoso 1.0\n")
    later = bagit.aip_bag_info(source_organization="A", content="tailieu", objid="O",
                               bagging_date="2026-12-07", octets=0, count=0, organ_id=None,
                               software="khoso 1.0", version=3,
                               previous=layout.relative_version_path(2, ""))
    assert later.endswith("Payload-Oxum: 0.0\nBag-Software-Agent: khoso 1.0\n"
                          "Khoso-AIP-Version: 3\nKhoso-Previous-Version: ../v2\n")
    info = bagit.parse_bag_info(later)
    assert bagit.aip_content(info.first(bagit.PACKAGE_TYPE) or "") == "tailieu"
    assert info.first(bagit.ORGAN_ID) is None


@given(st.lists(st.tuples(st.integers(min_value=1, max_value=9), _path,
                          st.none() | st.integers(min_value=0, max_value=2**40)), max_size=6))
def test_fetch_txt_round_trips(lines: list[tuple[int, str, int | None]]) -> None:
    text = "".join(bagit.fetch_line(layout.fetch_url(v, p), size, p) for v, p, size in lines)
    parsed = bagit.parse_fetch(text)
    assert [(f.url, f.size, f.path) for f in parsed] == [
        (layout.fetch_url(v, p), size, p) for v, p, size in lines]
    assert all(f.well_formed for f in parsed)


def test_parse_fetch_decodes_bagit_paths() -> None:
    text = "../v1/data/a%20b.pdf 12 data/a b.pdf\n\n../v2/data/x%25 - data/x%25%0A\nbad\n"
    assert bagit.parse_fetch(text) == [("../v1/data/a%20b.pdf", "12", "data/a b.pdf"),
                                       ("../v2/data/x%25", "-", "data/x%\n"), ("bad", "", "")]
    assert [f.well_formed for f in bagit.parse_fetch(text)] == [True, True, False]
    assert not bagit.parse_fetch_line("u ² data/a").well_formed
    assert bagit.parse_fetch_line("u ² data/a").size is None


# -- PREMIS: what the catalog rebuild reads back -------------------------------------------------

_xml_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"),
                                           blacklist_characters="\ufffe\uffff"),
                    min_size=1, max_size=20).filter(lambda s: s.strip() == s)


@settings(deadline=None)  # writes and parses XML: a loaded machine must not make it flaky
@given(objid=_xml_text, path=_path.filter(lambda p: "\r" not in p and "\n" not in p
                                          and not any(unicodedata.category(c) == "Cc" for c in p)),
       size=st.integers(min_value=0, max_value=2**50), digest=_digest, detail=_xml_text,
       outcome_detail=_xml_text, agent=_xml_text, note=st.none() | _xml_text,
       millis=st.integers(min_value=0, max_value=999))
def test_premis_reads_back_what_was_written(objid: str, path: str, size: int, digest: str,
                                            detail: str, outcome_detail: str, agent: str,
                                            note: str | None, millis: int) -> None:
    when = dt.datetime(2026, 12, 7, 8, 0, 1, millis * 1000, tzinfo=dt.UTC)
    out = io.BytesIO()
    with PremisWriter(out) as w:
        w.object("URN", objid, category="intellectualEntity")
        w.object("filepath", path, size=size, sha256=digest.upper(), puid="fmt/276",
                 format_name="Acrobat PDF 1.7")
        w.event("E-1", "format identification", when, detail=detail, outcome="success",
                outcome_detail=outcome_detail, agents=[("local", agent, "executing program")],
                objects=[("filepath", path, "source")])
        w.agent("local", agent, "siegfried", "software", note=note)
    premis = read_premis(out.getvalue())
    assert premis.objects[path] == {"size": size, "sha256": digest, "puid": "fmt/276",
                                    "format_name": "Acrobat PDF 1.7"}
    assert premis.objects[objid] == {"size": None, "sha256": None, "puid": None,
                                     "format_name": None}
    [event] = premis.events
    assert dt.datetime.fromisoformat(event.pop("when")) == when
    assert event == {"event_uuid": "E-1", "event_type": "format identification",
                     "detail": detail, "outcome": "success", "outcome_detail": outcome_detail,
                     "object_identifier": path,
                     "agents": [("local", agent, "executing program")]}
    assert premis.agents == {("local", agent): {
        "identifier_type": "local", "identifier_value": agent, "name": "siegfried",
        "agent_type": "software", "note": note}}


def test_premis_reading_refuses_a_doctype_and_broken_xml() -> None:
    with pytest.raises(KhosoError) as doctype:
        read_premis(b'<?xml version="1.0"?><!DOCTYPE premis [<!ENTITY x "y">]><premis/>')
    assert doctype.value.code == "XML002"
    with pytest.raises(KhosoError) as broken:
        read_premis(b'<premis xmlns="http://www.loc.gov/premis/v3"><object>')
    assert broken.value.code == "XML001"


def test_an_event_recorded_reads_back_as_the_event() -> None:
    agent = Agent("khoso-1.0", "khoso", note="Kho lưu trữ số")
    person = Agent("nguyen.van.a", "Nguyễn Văn A", agent_type="person")
    event = Event("metadata modification", Outcome.SUCCESS, "AIP X v1 → v2; lý do: sửa tên",
                  object_identifier="AIP.X", agents=((agent, "executing program"),
                                                     (person, "implementer")))
    out = io.BytesIO()
    with PremisWriter(out) as w:
        w.object("URN", "AIP.X", category="intellectualEntity")
        w.record(event, [("URN", "AIP.X", "source")])
        for a, _ in event.agents:
            w.record_agent(a)
    premis = read_premis(out.getvalue())
    [read] = premis.events
    assert dt.datetime.fromisoformat(read["when"]) == event.when
    assert (read["event_uuid"], read["event_type"], read["detail"], read["outcome"],
            read["outcome_detail"], read["object_identifier"]) == (
        event.event_uuid, event.event_type, event.detail, "success", "", "AIP.X")
    assert read["agents"] == [("local", "khoso-1.0", "executing program"),
                              ("local", "nguyen.van.a", "implementer")]
    assert premis.agents[("local", "nguyen.van.a")] == {
        "identifier_type": "local", "identifier_value": "nguyen.van.a", "name": "Nguyễn Văn A",
        "agent_type": "person", "note": None}
    assert premis.agents[("local", "khoso-1.0")]["note"] == "Kho lưu trữ số"
