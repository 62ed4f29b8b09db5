"""Streaming writers for the root and rep1 ``METS.xml`` of a TT 05 package (§5.2, §5.3, A.1, A.2).

Written strictly per the Thông tư tables (the reader accepts the vendor variants, §5.6):
``MDTYPE="OTHER"`` ``MDTYPEVERSION="1.0"`` ``MIMETYPE`` of the entry (``text/xml`` for EAD),
``CHECKSUMTYPE="SHA-256"`` with an upper-case digest, timestamps with ``+07:00``. Elements go
out one by one through ``etree.xmlfile`` (nested ``xf.element`` contexts, so namespaces are
declared once on the root), never as a whole tree: memory stays flat for 100,000 documents.
``documents`` is iterated five times (dmdSecs, two file groups, two structMap divs), so it must
be a re-iterable sequence; each ``FileEntry`` must belong to one document only.

Decisions: a SIP has no ``amdSec`` unless it carries other metadata (the text has none; the
vendor's empty one is not copied); the root agent carries only the ``SOFTWARE VERSION`` note
(E-ARK CSIP15 allows one note; the fonds code is the rep1 agent's ``IDENTIFICATIONCODE``);
every EAD ``mdRef`` names its TT 05 schema in ``OTHERMDTYPE`` (``EAD``, ``EAD_doc``,
``EAD_pic``, ``EAD_media``); ``documentation/`` files are the ``Documentation`` file group and
div of their METS, ``metadata/other/`` files a ``techMD`` each (neither descriptive nor
provenance), listed in the ``ADMID`` of the Metadata div (root) or the rep1 div; rep1 ``div`` TYPE is ``NORMALIZED`` in an AIP and ``ORIGINAL`` otherwise; a data file whose
name ends in ``.fetch.txt`` is a holey file (``Holeyfile`` group, ``MetadataLink/Holey`` div).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from lxml import etree

from preservation.packaging.model import REP1, DocumentEntry, FileEntry, new_id, timestamp

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

METS_NS = "http://www.loc.gov/METS/"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
NSMAP = {None: METS_NS, "xlink": XLINK_NS, "xsi": XSI_NS, "csip": CSIP_NS}
CSIP_PROFILE = "https://earkcsip.dilcis.eu/profile/E-ARK-CSIP.xml"
PROFILES = {
    "SIP": CSIP_PROFILE,
    "AIP": "http://www.ra.ee/METS/v01/IP.xml",
    "DIP": "https://earkdip.dilcis.eu/profile/E-ARK-DIP.xml",
}
CONTENT_TYPES = {"hoso": "Mixed", "tailieu": "Collection"}
SCHEMA_FILES = {METS_NS: "mets1_12.xsd", XLINK_NS: "xlink.xsd", CSIP_NS: "DILCISExtensionMETS.xsd"}
EAD_HREF = "metadata/descriptive/EAD.xml"
PREMIS_HREF = "metadata/preservation/PREMIS.xml"
REP_METS_HREF = REP1 + "METS.xml"
HOLEY_SUFFIX = ".fetch.txt"
# TT 05 EAD schemas by file-name prefix (lower case), as OTHERMDTYPE of the mdRef
EAD_TYPES = (("ead_doc", "EAD_doc"), ("ead_pic", "EAD_pic"), ("ead_media", "EAD_media"))

XL_HREF, XL_TYPE, XL_TITLE = (f"{{{XLINK_NS}}}{n}" for n in ("href", "type", "title"))
CSIP_CONTENT = f"{{{CSIP_NS}}}CONTENTINFORMATIONTYPE"
CSIP_PACKAGE = f"{{{CSIP_NS}}}OAISPACKAGETYPE"
CSIP_NOTE = f"{{{CSIP_NS}}}NOTETYPE"
SCHEMA_LOCATION = f"{{{XSI_NS}}}schemaLocation"


def _m(tag: str) -> str:
    return f"{{{METS_NS}}}{tag}"


def _check(package_type: str, content: str) -> None:
    if package_type not in PROFILES:
        raise ValueError(f"package_type must be SIP, AIP or DIP, not {package_type!r}")
    if content not in CONTENT_TYPES:
        raise ValueError(f"content must be 'hoso' or 'tailieu', not {content!r}")


def _leaf(xf: Any, tag: str, attrib: dict[str, str], text: str | None = None) -> None:
    with xf.element(_m(tag), attrib):
        if text is not None:
            xf.write(text)


def href_of(path: str) -> str:
    """A package path as an xlink:href (a URI reference, RFC 3986): readers percent-decode hrefs
    (``preservation.packaging.read.resolve_href``), so a ``%`` in a file name is written ``%25``
    (else ``100%25.pdf`` would be read as ``100%.pdf``); names stay readable otherwise."""
    return path.replace("%", "%25")


def _rep_href(path: str) -> str:
    """rep1 METS links are relative to ``representations/rep1/``."""
    if not path.startswith(REP1):
        raise ValueError(f"{path!r} is not inside {REP1}")
    return path[len(REP1):]


def _schema_location(prefix: str) -> str:
    return " ".join(f"{ns} {prefix}schemas/{name}" for ns, name in SCHEMA_FILES.items())


def _mets_attrs(objid: str, label: str | None, package_type: str, content: str,
                profile: str, prefix: str) -> dict[str, str]:
    attrs = {"OBJID": objid}
    if label:
        attrs["LABEL"] = label
    attrs["TYPE"] = "MIXED" if package_type == "DIP" else CONTENT_TYPES[content]
    attrs["PROFILE"] = profile
    attrs[CSIP_CONTENT] = "MIXED"
    attrs[SCHEMA_LOCATION] = _schema_location(prefix)
    return attrs


def _header(xf: Any, created: str, package_type: str, agent_type: dict[str, str], name: str,
            notes: Iterable[tuple[str, str | None]], agreement: str | None = None) -> None:
    attrs = {"CREATEDATE": created, "LASTMODDATE": created, "RECORDSTATUS": "NEW",
             CSIP_PACKAGE: package_type}
    with xf.element(_m("metsHdr"), attrs):
        with xf.element(_m("agent"), {"ROLE": "CREATOR", **agent_type}):
            _leaf(xf, "name", {}, name)
            for note_type, value in notes:
                if value:
                    _leaf(xf, "note", {CSIP_NOTE: note_type}, value)
        if agreement:
            _leaf(xf, "altRecordID", {"TYPE": "SUBMISSIONAGREEMENT"}, agreement)


def ead_type(path: str) -> str:
    """OTHERMDTYPE of a TT 05 EAD: ``EAD_doc_x.xml`` → ``EAD_doc``; the package's → ``EAD``."""
    name = path.rsplit("/", 1)[-1].lower()
    return next((kind for prefix, kind in EAD_TYPES if name.startswith(prefix)), "EAD")


def _mdref(xf: Any, entry: FileEntry, href: str, mdtype: str, version: str | None,
           other: str | None = None) -> None:
    attrs = {"LOCTYPE": "URL", "MDTYPE": mdtype}
    if other:
        attrs["OTHERMDTYPE"] = other
    if version:
        attrs["MDTYPEVERSION"] = version
    _leaf(xf, "mdRef", {
        **attrs, "MIMETYPE": entry.mime,
        XL_TYPE: "simple", XL_HREF: href_of(href), "SIZE": str(entry.size),
        "CREATED": timestamp(entry.created), "CHECKSUMTYPE": "SHA-256",
        "CHECKSUM": entry.sha256.upper(),
    })


def _dmd(xf: Any, dmd_id: str, entry: FileEntry, href: str) -> None:
    created = timestamp(entry.created)
    with xf.element(_m("dmdSec"), {"ID": dmd_id, "CREATED": created, "STATUS": "CURRENT"}):
        _mdref(xf, entry, href, "OTHER", "1.0", ead_type(entry.path))


def _amd_other(xf: Any, other: Sequence[tuple[str, FileEntry]], rep: bool) -> None:
    """One ``techMD`` per ``metadata/other/`` file: its format is the agency's, not known."""
    for md_id, entry in other:
        with xf.element(_m("techMD"), {"ID": md_id, "CREATED": timestamp(entry.created),
                                       "STATUS": "CURRENT"}):
            _mdref(xf, entry, _rep_href(entry.path) if rep else entry.path, "OTHER", None)


def _amd(xf: Any, amd_id: str, digiprov_id: str, premis: FileEntry | None, href: str,
         other: Sequence[tuple[str, FileEntry]] = (), rep: bool = False) -> None:
    if premis is None and not other:
        return
    with xf.element(_m("amdSec"), {"ID": amd_id}):
        _amd_other(xf, other, rep)
        if premis is not None:
            with xf.element(_m("digiprovMD"), {"ID": digiprov_id,
                                               "CREATED": timestamp(premis.created),
                                               "STATUS": "CURRENT"}):
                _mdref(xf, premis, href, "PREMIS", "3.0")


def _file(xf: Any, entry: FileEntry, href: str) -> None:
    attrs = {"ID": entry.id, "MIMETYPE": entry.mime, "SIZE": str(entry.size),
             "CREATED": timestamp(entry.created), "CHECKSUMTYPE": "SHA-256",
             "CHECKSUM": entry.sha256.upper()}
    with xf.element(_m("file"), attrs):
        _leaf(xf, "FLocat", {"LOCTYPE": "URL", XL_TYPE: "simple", XL_HREF: href_of(href)})


def _file_group(xf: Any, use: str, entries: Iterable[FileEntry], rep: bool = False,
                group_id: str | None = None) -> None:
    with xf.element(_m("fileGrp"), {"ID": group_id or new_id("uuid-"), "USE": use}):
        for entry in entries:
            _file(xf, entry, _rep_href(entry.path) if rep else entry.path)


def _div(label: str, **extra: str) -> dict[str, str]:
    return {"ID": new_id("uuid-"), "LABEL": label, **extra}


def _fptrs(xf: Any, entries: Iterable[FileEntry]) -> None:
    for entry in entries:
        _leaf(xf, "fptr", {"FILEID": entry.id})


def write_root_mets(out: SupportsWrite[bytes], *, objid: str, label: str | None, package_type: str,
                    content: str, created: dt.datetime, software_name: str,
                    software_version: str, fond_code: str | None = None,
                    submission_agreement: str | None = None, ead: FileEntry,
                    premis: FileEntry | None, schemas: Iterable[FileEntry],
                    rep_mets: FileEntry, documentation: Iterable[FileEntry] = (),
                    other_metadata: Iterable[FileEntry] = ()) -> None:
    """The package's ``METS.xml``: EAD dmdSec, PREMIS amdSec (AIP), schemas, rep1 pointer,
    ``documentation/`` and ``metadata/other/`` files. ``fond_code`` is not written here: the
    root agent has one note (CSIP15), and the fonds code is in the rep1 METS."""
    _check(package_type, content)
    if package_type == "AIP" and premis is None:
        raise ValueError("an AIP root METS must point to metadata/preservation/PREMIS.xml")
    schema_entries, docs = tuple(schemas), tuple(documentation)
    other = tuple((new_id("uuid-"), e) for e in other_metadata)
    dmd_id, amd_id, digiprov_id = new_id("uuid-"), new_id("uuid-"), new_id("uuid-")
    rep_group = new_id("uuid-")
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        attrs = _mets_attrs(objid, label, package_type, content, PROFILES[package_type], "")
        with xf.element(_m("mets"), attrs, nsmap=NSMAP):
            _header(xf, timestamp(created), package_type,
                    {"TYPE": "OTHER", "OTHERTYPE": "SOFTWARE"}, software_name,
                    [("SOFTWARE VERSION", software_version)],
                    submission_agreement if package_type == "SIP" else None)
            _dmd(xf, dmd_id, ead, ead.path)
            _amd(xf, amd_id, digiprov_id, premis, premis.path if premis else "", other)
            with xf.element(_m("fileSec"), {"ID": new_id("uuid-")}):
                _file_group(xf, "Schemas", schema_entries)
                _file_group(xf, "Representations/rep1", [rep_mets], group_id=rep_group)
                if docs:
                    _file_group(xf, "Documentation", docs)
            with xf.element(_m("structMap"), {"ID": new_id("uuid-"), "TYPE": "PHYSICAL",
                                              "LABEL": "CSIP"}):
                with xf.element(_m("div"), _div(objid)):
                    meta = {"DMDID": dmd_id}
                    admids = [md_id for md_id, _ in other]
                    if premis is not None:
                        admids.append(digiprov_id)
                    if admids:
                        meta["ADMID"] = " ".join(admids)
                    _leaf(xf, "div", _div("Metadata", **meta))
                    with xf.element(_m("div"), _div("Schemas")):
                        _fptrs(xf, schema_entries)
                    if docs:
                        with xf.element(_m("div"), _div("Documentation")):
                            _fptrs(xf, docs)
                    with xf.element(_m("div"), _div("Representations/rep1")):
                        _leaf(xf, "mptr", {"LOCTYPE": "URL", XL_TYPE: "simple",
                                           XL_HREF: href_of(rep_mets.path), XL_TITLE: rep_group})


def _is_holey(entry: FileEntry) -> bool:
    return entry.path.endswith(HOLEY_SUFFIX)


def write_rep_mets(out: SupportsWrite[bytes], *, objid: str, package_type: str, content: str,
                   created: dt.datetime, agency_name: str, fond_code: str | None,
                   documents: Sequence[DocumentEntry], premis: FileEntry | None = None,
                   label: str | None = None, documentation: Iterable[FileEntry] = (),
                   other_metadata: Iterable[FileEntry] = (),
                   loose: Iterable[FileEntry] = ()) -> None:
    """``representations/rep1/METS.xml``: one dmdSec per document EAD, the data files, and
    the ``MetadataLink/File`` divs that tie each EAD to its file(s); rep1's own
    ``documentation/`` and ``metadata/other/`` files. ``loose`` data files (a SIP may list a
    file no document links, METS016) are listed in the Data group and div all the same."""
    _check(package_type, content)
    if package_type == "AIP" and premis is None:
        raise ValueError("an AIP rep1 METS must point to metadata/preservation/PREMIS_rep1.xml")
    docs, unlinked = tuple(documentation), tuple(loose)
    other = tuple((new_id("uuid-"), e) for e in other_metadata)
    amd_id, digiprov_id = new_id("uuid-"), new_id("uuid-")

    def data(holey: bool) -> Iterator[FileEntry]:
        yield from (f for d in documents for f in d.files if _is_holey(f) == holey)
        yield from (f for f in unlinked if _is_holey(f) == holey)

    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        attrs = _mets_attrs(objid, label, package_type, content, CSIP_PROFILE, "../../")
        with xf.element(_m("mets"), attrs, nsmap=NSMAP):
            _header(xf, timestamp(created), package_type, {"TYPE": "ORGANIZATION"}, agency_name,
                    [("IDENTIFICATIONCODE", fond_code)])
            for doc in documents:
                _dmd(xf, doc.dmd_id, doc.ead, _rep_href(doc.ead.path))
            _amd(xf, amd_id, digiprov_id, premis, _rep_href(premis.path) if premis else "",
                 other, rep=True)
            with xf.element(_m("fileSec"), {"ID": new_id("uuid-")}):
                _file_group(xf, "Data", data(False), rep=True)
                if next(data(True), None) is not None:
                    _file_group(xf, "Holeyfile", data(True), rep=True)
                if docs:
                    _file_group(xf, "Documentation", docs, rep=True)
            rep_type = "NORMALIZED" if package_type == "AIP" else "ORIGINAL"
            rep_div = {"TYPE": rep_type}
            if other:
                rep_div["ADMID"] = " ".join(md_id for md_id, _ in other)
            with xf.element(_m("structMap"), {"ID": new_id("uuid-"), "TYPE": "PHYSICAL",
                                              "LABEL": "CSIP"}):
                with xf.element(_m("div"), _div("rep1", **rep_div)):
                    if docs:
                        with xf.element(_m("div"), _div("Documentation")):
                            _fptrs(xf, docs)
                    with xf.element(_m("div"), _div("Data")):
                        _fptrs(xf, data(False))
                    with xf.element(_m("div"), _div("MetadataLink")):
                        for doc in documents:
                            holey = bool(doc.files) and all(_is_holey(f) for f in doc.files)
                            link = {"DMDID": doc.dmd_id}
                            if premis is not None:
                                link["ADMID"] = doc.adm_id or digiprov_id
                            label_ = "MetadataLink/Holey" if holey else "MetadataLink/File"
                            with xf.element(_m("div"), _div(label_, **link)):
                                _fptrs(xf, doc.files)
