"""Liberal, bounded-memory reader for TT 05 root and rep1 METS (write strictly, read liberally).

``iterparse`` with the xmlsafe rules: no entity resolution, no DTD loading, no network, and a
document with a DOCTYPE is refused (XML002) as soon as its root element starts; elements are
cleared once read, so memory grows with the entries returned, not with the XML tree.

Variants of §5.6 are accepted and reported as info (METS012): ``@USER`` for ``@USE``, MDTYPE
``DC``, MDTYPEVERSION ``1.0.0``, ``application/xml``, lower-case checksums, OAISPACKAGETYPE on
``<mets>`` instead of ``metsHdr``. Any OBJID is read as given (rep1 ``OBJID="rep1"`` included).
Hrefs are percent-decoded and resolved against the package root; an unsafe one (absolute,
``..``, URL scheme) keeps ``path=None`` and is reported by the caller that checks files.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

from lxml import etree

from preservation.errors import KhosoError
from preservation.issues import Report
from preservation.packaging.mets import CSIP_NS, METS_NS, XLINK_NS
from preservation.packaging.model import REP1

_HREF = f"{{{XLINK_NS}}}href"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_CSIP_TYPE = f"{{{CSIP_NS}}}OAISPACKAGETYPE"
_CSIP_NOTE = f"{{{CSIP_NS}}}NOTETYPE"


def _m(tag: str) -> str:
    return f"{{{METS_NS}}}{tag}"


_OTHER_MD = frozenset(_m(t) for t in ("techMD", "rightsMD", "sourceMD", "digiprovMD"))
_RELEASE = frozenset(_m(t) for t in ("dmdSec", "amdSec", "metsHdr", "fileSec", "structMap"))


def resolve_href(href: str, base: str = "") -> tuple[str | None, str | None]:
    """``(package-relative path, None)`` or ``(None, reason)`` when the href leaves the package."""
    text = unquote(href.strip())
    if not text:
        return None, "empty"
    if _SCHEME.match(text) and not re.match(r"^[A-Za-z]:[\\/]", text):
        return None, "URL scheme"
    if text.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", text):
        return None, "absolute path"
    if "\\" in text or "\x00" in text:
        return None, "backslash or NUL"
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None, "'..' segment"
    return base + "/".join(parts), None


@dataclass(frozen=True, slots=True)
class MetsFile:
    """A ``file`` or ``mdRef`` as listed: checksum lower-cased, path package-relative."""

    href: str
    path: str | None
    unsafe: str | None
    id: str | None = None
    size: int | None = None
    checksum: str | None = None
    checksum_type: str | None = None
    mime: str | None = None
    group: str | None = None
    mdtype: str | None = None
    other_mdtype: str | None = None  # OTHERMDTYPE when MDTYPE is OTHER (``EAD``, ``EAD_doc``)


@dataclass(frozen=True, slots=True)
class Agent:
    role: str | None
    type: str | None
    other_type: str | None
    name: str
    notes: tuple[tuple[str | None, str], ...]


@dataclass(slots=True)
class RepDocument:
    dmd_id: str
    ead: MetsFile | None
    adm_id: str | None
    label: str | None
    file_ids: list[str] = field(default_factory=list)
    files: list[MetsFile] = field(default_factory=list)


@dataclass
class MetsDocument:
    """What one METS says. Root: ``ead``, ``premis``, ``files`` by group, ``mptrs``.
    rep1: also ``documents`` (MetadataLink divs) and ``data_div`` (FILEIDs of the Data div)."""

    objid: str | None = None
    label: str | None = None
    type: str | None = None
    profile: str | None = None
    package_type: str | None = None
    agents: list[Agent] = field(default_factory=list)
    alt_record_ids: dict[str, list[str]] = field(default_factory=dict)
    dmd: dict[str, MetsFile] = field(default_factory=dict)
    premis: MetsFile | None = None
    # other amdSec metadata (techMD, rightsMD, sourceMD, non-PREMIS digiprovMD) by section ID
    other: dict[str, MetsFile] = field(default_factory=dict)
    files: dict[str, MetsFile] = field(default_factory=dict)
    mptrs: list[str] = field(default_factory=list)
    metadata_dmdids: list[str] = field(default_factory=list)
    documents: list[RepDocument] = field(default_factory=list)
    data_div: list[str] = field(default_factory=list)

    @property
    def ead(self) -> MetsFile | None:
        """Root METS: the package EAD (the Metadata div's dmdSec, else the first dmdSec)."""
        for dmd_id in self.metadata_dmdids:
            if dmd_id in self.dmd:
                return self.dmd[dmd_id]
        return next(iter(self.dmd.values()), None)

    def files_in(self, group: str) -> list[MetsFile]:
        return [f for f in self.files.values() if f.group == group]

    def agreement(self) -> str | None:
        values = self.alt_record_ids.get("SUBMISSIONAGREEMENT")
        return values[0] if values else None


class _Reader:
    def __init__(self, base: str, report: Report, where: str) -> None:
        self.base, self.report, self.where = base, report, where
        self.doc = MetsDocument()
        self.groups: list[str | None] = []
        self.divs: list[dict[str, Any]] = []
        self.variants: set[str] = set()
        self.same: dict[str, str] = {}  # one object per repeated attribute value (MIME types…)

    def variant(self, text: str) -> None:
        if text not in self.variants:
            self.variants.add(text)
            self.report.add("METS012", self.where, variant=text)

    def entry(self, el: etree._Element, href: str | None, group: str | None = None) -> MetsFile:
        path, unsafe = resolve_href(href or "", self.base)
        checksum = el.get("CHECKSUM")
        if checksum and checksum != checksum.upper():
            self.variant("lower-case CHECKSUM")
        mime = el.get("MIMETYPE")
        if mime == "application/xml" and el.tag == _m("mdRef"):
            self.variant("MIMETYPE application/xml")
        size = el.get("SIZE")
        same = self.same.setdefault
        kind, mdtype, other = el.get("CHECKSUMTYPE"), el.get("MDTYPE"), el.get("OTHERMDTYPE")
        return MetsFile(href or "", path, unsafe, el.get("ID"),
                        int(size) if size and size.strip().isdigit() else None,
                        checksum.strip().lower() if checksum else None,
                        kind and same(kind, kind), mime and same(mime, mime), group,
                        mdtype and same(mdtype, mdtype), other and same(other, other))

    def start(self, el: etree._Element) -> None:
        tag = el.tag
        if tag == _m("mets"):
            d = self.doc
            d.objid, d.label, d.type = el.get("OBJID"), el.get("LABEL"), el.get("TYPE")
            d.profile = el.get("PROFILE")
            if el.get(_CSIP_TYPE):
                d.package_type = el.get(_CSIP_TYPE)
                self.variant("OAISPACKAGETYPE on <mets>")
        elif tag == _m("metsHdr"):
            if el.get(_CSIP_TYPE):
                self.doc.package_type = el.get(_CSIP_TYPE)
        elif tag == _m("fileGrp"):
            use = el.get("USE")
            if use is None and el.get("USER") is not None:
                use = el.get("USER")
                self.variant("fileGrp/@USER instead of @USE")
            self.groups.append(use)
        elif tag == _m("div"):
            self.divs.append({"label": el.get("LABEL"), "dmdid": el.get("DMDID"),
                              "admid": el.get("ADMID"), "fptrs": []})

    def end(self, el: etree._Element) -> None:
        tag = el.tag
        if tag == _m("agent"):
            self.agent(el)
        elif tag == _m("altRecordID"):
            self.doc.alt_record_ids.setdefault(el.get("TYPE") or "", []).append(
                (el.text or "").strip())
        elif tag == _m("mdRef"):
            self.mdref(el)
        elif tag == _m("file"):
            flocat = el.find(_m("FLocat"))
            href = flocat.get(_HREF) if flocat is not None else None
            group = self.groups[-1] if self.groups else None
            entry = self.entry(el, href, group)
            self.doc.files[entry.id or f"#{len(self.doc.files)}"] = entry
        elif tag == _m("fileGrp"):
            self.groups.pop()
        elif tag == _m("fptr"):
            if self.divs and el.get("FILEID"):
                self.divs[-1]["fptrs"].append(el.get("FILEID"))
        elif tag == _m("mptr"):
            self.doc.mptrs.append(el.get(_HREF) or "")
        elif tag == _m("div"):
            self.div(self.divs.pop())
        elif tag not in _RELEASE:
            return
        release(el)

    def agent(self, el: etree._Element) -> None:
        name = el.findtext(_m("name")) or ""
        notes = tuple((n.get(_CSIP_NOTE), (n.text or "").strip()) for n in el.findall(_m("note")))
        self.doc.agents.append(Agent(el.get("ROLE"), el.get("TYPE"), el.get("OTHERTYPE"),
                                     name.strip(), notes))

    def mdref(self, el: etree._Element) -> None:
        parent = el.getparent()
        entry = self.entry(el, el.get(_HREF))
        mdtype, version = el.get("MDTYPE"), el.get("MDTYPEVERSION")
        if parent is not None and parent.tag == _m("dmdSec"):
            if mdtype == "DC":
                self.variant("MDTYPE DC")
            if version == "1.0.0":
                self.variant("MDTYPEVERSION 1.0.0")
            self.doc.dmd[parent.get("ID") or f"#{len(self.doc.dmd)}"] = entry
        elif parent is not None and parent.tag == _m("digiprovMD") and (
                mdtype == "PREMIS" or (entry.path or "").lower().endswith(".xml")):
            self.doc.premis = entry
        elif parent is not None and parent.tag in _OTHER_MD:
            self.doc.other[parent.get("ID") or f"#{len(self.doc.other)}"] = entry

    def div(self, info: dict[str, Any]) -> None:
        label = info["label"] or ""
        dmdids = (info["dmdid"] or "").split()
        if label == "Metadata":
            self.doc.metadata_dmdids.extend(dmdids)
        elif label == "Data":
            self.doc.data_div.extend(info["fptrs"])
        elif label.startswith("MetadataLink/") or (dmdids and label not in ("Metadata", "rep1")
                                                    and self.base):
            for dmd_id in dmdids or [""]:
                self.doc.documents.append(RepDocument(dmd_id, None, info["admid"], label,
                                                      list(info["fptrs"])))


def release(el: etree._Element) -> None:
    """Drop what was read: the element's content and the already processed siblings."""
    el.clear(keep_tail=True)
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def _events(source: Path | bytes | IO[bytes]) -> Iterator[tuple[str, etree._Element]]:
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    elif isinstance(source, Path):
        source = str(source)  # type: ignore[assignment]
    context = etree.iterparse(source, events=("start", "end"), resolve_entities=False,
                              load_dtd=False, no_network=True, huge_tree=False,
                              remove_comments=True, remove_pis=True)
    first = True
    try:
        for event, el in context:
            if first:
                first = False
                info = el.getroottree().docinfo
                if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
                    raise KhosoError("XML002")
            yield event, el
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else "?"
        raise KhosoError("XML001", line=line, reason=exc.msg) from None


def read_mets(source: Path | bytes | IO[bytes], *, rep: bool = False,
              where: str = "") -> tuple[MetsDocument, Report]:
    """Read a root (``rep=False``) or rep1 METS. Raises ``KhosoError`` XML001/XML002 when the
    bytes are not safe, well-formed XML; everything else is data or an issue."""
    report = Report()
    reader = _Reader(REP1 if rep else "", report, where)
    root_seen = False
    for event, el in _events(source):
        if event == "start":
            if not root_seen:
                root_seen = True
                if el.tag != _m("mets"):
                    report.add("METS002", where, reason=f"root element is {el.tag}, not mets")
                    return reader.doc, report
            reader.start(el)
        else:
            reader.end(el)
    doc = reader.doc
    for document in doc.documents:
        document.ead = doc.dmd.get(document.dmd_id)
        if document.ead is None:
            report.add("METS011", where, ref=document.dmd_id, attribute="DMDID")
        for file_id in document.file_ids:
            if file_id in doc.files:
                document.files.append(doc.files[file_id])
            else:
                report.add("METS011", where, ref=file_id, attribute="FILEID")
    return doc, report
