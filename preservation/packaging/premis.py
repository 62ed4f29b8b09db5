"""Streaming PREMIS 3.0 writer and reader for ``PREMIS.xml`` / ``PREMIS_rep1.xml`` (§5.4, A.4).

The PREMIS root is a sequence ``object+, event*, agent*``; an ingest learns objects, events and
agents in any order. Objects are written straight to the output; events and agents are rendered
when given and spooled to two temporary files (in memory up to 1 MiB, then on disk), copied after
the last object when the writer closes. So callers may interleave calls freely and memory stays
flat.

The object category is the ``xsi:type`` attribute (``file``, ``representation``,
``intellectualEntity``) as the LoC XSD requires; TT 05's ``objectCategory`` element is not in
that XSD and is not emitted. Event types must be strings of the LoC eventType vocabulary.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lxml import etree

from preservation.errors import KhosoError
from preservation.events import Agent, Event
from preservation.metadata.xmlsafe import INVALID_CHARS
from preservation.packaging.model import timestamp

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

PREMIS_NS = "http://www.loc.gov/premis/v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
CATEGORIES = ("file", "representation", "intellectualEntity")
# https://id.loc.gov/vocabulary/preservation/eventType.html
EVENT_TYPES = frozenset({
    "accession", "appraisal", "capture", "compiling", "compression", "creation",
    "deaccession", "decompression", "decryption", "deletion", "digital signature generation",
    "digital signature validation", "displaying", "dissemination", "encryption", "execution",
    "exporting", "extraction", "filename change", "fixity check", "forensic feature analysis",
    "format identification", "imaging", "information package creation",
    "information package merging", "information package splitting", "ingestion",
    "ingestion end", "ingestion start", "interpreting", "message digest calculation",
    "metadata extraction", "metadata modification", "migration", "modification",
    "normalization", "packing", "policy assignment", "printing", "quarantine", "recovery",
    "redaction", "refreshment", "rendering", "replication", "transfer", "unpacking",
    "unquarantine", "validation", "virus check",
})
Link = tuple[str, str, str | None]  # (identifier type, identifier value, role)


@dataclass(frozen=True)
class Signature:
    """``signatureInformation/signature``: what a signature check found on a file."""

    method: str
    value: str
    validation_rules: str
    signer: str | None = None
    encoding: str = "base64"


_INVALID = re.compile(f"[{INVALID_CHARS}]")
_NOT_PLAIN = re.compile(f"[{INVALID_CHARS}&<>\r]")  # a value that needs more than copying


def _text(value: str | int) -> str:
    """``value`` as XML character data; characters XML 1.0 cannot carry are refused (as lxml
    refuses them), a carriage return is kept as a reference so parsers do not turn it into a
    line feed."""
    text = value if type(value) is str else str(value)
    if _NOT_PLAIN.search(text) is None:  # most values (ids, types, dates): one scan, no copies
        return text
    if _INVALID.search(text):
        raise ValueError("All strings must be XML compatible: Unicode or ASCII, "
                         f"no NULL bytes or control characters: {text[:40]!r}")
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


def _attr(value: str) -> str:
    return _text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _leaf(tag: str, text: str | int) -> str:
    return f"<{tag}>{_text(text)}</{tag}>"


def _pair(wrapper: str, prefix: str, type_: str, value: str, role: tuple[str, str | None] | None = None) -> str:
    extra = _leaf(role[0], role[1]) if role is not None and role[1] else ""
    return (f"<{wrapper}><{prefix}Type>{_text(type_)}</{prefix}Type>"
            f"<{prefix}Value>{_text(value)}</{prefix}Value>{extra}</{wrapper}>")


@dataclass(frozen=True)
class Relationship:
    """A PREMIS ``relationship`` of an object, e.g. a migrated file's ``derivation`` /
    ``has source`` to its original, with the event that made it."""

    type: str
    sub_type: str
    object_type: str
    object_value: str
    event_uuid: str | None = None


class PremisWriter:
    """``with PremisWriter(out) as w: w.object(...); w.event(...); w.agent(...)``.

    Elements are written as text built here, not through lxml's incremental writer: an ingest
    of 20,000 files writes ~40,000 events, and one string per element instead of an element
    context per tag (and a JSON round trip per spooled event) made it 4x faster (measured
    2026-11-22), with the same bytes out. Every value goes through ``_text``; the tests
    validate the output against the PREMIS 3 XSD.
    """

    _FLUSH = 512  # elements buffered before one write

    def __init__(self, out: SupportsWrite[bytes]) -> None:
        self._out = out
        self._stack = contextlib.ExitStack()
        self._spools: dict[str, Any] = {}
        self._parts: list[str] = []
        self._open = False
        self._objects = 0

    def __enter__(self) -> PremisWriter:
        for kind in ("event", "agent"):
            self._spools[kind] = self._stack.enter_context(
                tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+b"))
        self._open = True
        self._emit(f"<?xml version='1.0' encoding='UTF-8'?>\n<premis xmlns=\"{PREMIS_NS}\" "
                   f"xmlns:xsi=\"{XSI_NS}\" version=\"3.0\">")
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        ok = exc_type is None and self._objects > 0
        try:
            if ok:
                self._flush()
                for kind in ("event", "agent"):
                    spool = self._spools[kind]
                    spool.seek(0)
                    shutil.copyfileobj(spool, self._out, 1 << 20)
                self._emit("</premis>")
                self._flush()
        finally:
            self._open = False
            self._parts.clear()  # after a failure the output is void: no closing tag
            self._stack.close()
        if exc_type is None and not self._objects:
            raise ValueError("a PREMIS document needs at least one object")

    # -- helpers -------------------------------------------------------------------------
    def _emit(self, text: str) -> None:
        self._parts.append(text)
        if len(self._parts) >= self._FLUSH:
            self._flush()

    def _flush(self) -> None:
        if self._parts:
            self._out.write("".join(self._parts).encode("utf-8"))
            self._parts.clear()

    # -- objects -------------------------------------------------------------------------
    def object(self, identifier_type: str, identifier_value: str, *, category: str = "file",
               size: int | None = None, sha256: str | None = None, puid: str | None = None,
               format_name: str | None = None, format_version: str | None = None,
               original_name: str | None = None, signatures: Iterable[Signature] = (),
               storage_location: str | None = None, storage_location_type: str = "URI",
               storage_medium: str | None = None, xml_id: str | None = None,
               linking_events: Iterable[tuple[str, str]] = (),
               relationships: Iterable[Relationship] = ()) -> None:
        """One ``object``. A ``file`` needs a format (``format_name`` and/or ``puid``);
        characteristics and signatures are refused on other categories rather than dropped."""
        if not self._open:
            raise RuntimeError("PremisWriter is used outside its with block")
        if category not in CATEGORIES:
            raise ValueError(f"category must be one of {CATEGORIES}, not {category!r}")
        signatures = tuple(signatures)
        is_file = category == "file"
        if is_file and not (format_name or puid):
            raise ValueError("a PREMIS file object needs format_name or puid")
        if not is_file and (size is not None or sha256 or puid or format_name or signatures):
            raise ValueError(f"a {category} object has no size, fixity, format or signature")
        if category == "intellectualEntity" and (storage_location or storage_medium):
            raise ValueError("an intellectualEntity object has no storage")
        parts = [f'<object xsi:type="{category}"',
                 f' xmlID="{_attr(xml_id)}">' if xml_id else ">",
                 _pair("objectIdentifier", "objectIdentifier", identifier_type, identifier_value)]
        if is_file:
            parts.append(self._characteristics(size, sha256, puid, format_name, format_version))
        if original_name:
            parts.append(_leaf("originalName", original_name))
        if storage_location or storage_medium:
            parts.append("<storage>")
            if storage_location:
                parts.append(_pair("contentLocation", "contentLocation", storage_location_type,
                                   storage_location))
            if storage_medium:
                parts.append(_leaf("storageMedium", storage_medium))
            parts.append("</storage>")
        for sig in signatures:
            parts += ["<signatureInformation><signature>",
                      _leaf("signatureEncoding", sig.encoding),
                      _leaf("signer", sig.signer) if sig.signer else "",
                      _leaf("signatureMethod", sig.method), _leaf("signatureValue", sig.value),
                      _leaf("signatureValidationRules", sig.validation_rules),
                      "</signature></signatureInformation>"]
        for rel in relationships:
            parts += ["<relationship>", _leaf("relationshipType", rel.type),
                      _leaf("relationshipSubType", rel.sub_type),
                      _pair("relatedObjectIdentifier", "relatedObjectIdentifier",
                            rel.object_type, rel.object_value),
                      _pair("relatedEventIdentifier", "relatedEventIdentifier", "UUID",
                            rel.event_uuid) if rel.event_uuid else "",
                      "</relationship>"]
        for type_, value in linking_events:
            parts.append(_pair("linkingEventIdentifier", "linkingEventIdentifier", type_, value))
        parts.append("</object>")
        self._emit("".join(parts))
        self._objects += 1

    @staticmethod
    def _characteristics(size: int | None, sha256: str | None, puid: str | None,
                         format_name: str | None, format_version: str | None) -> str:
        parts = ["<objectCharacteristics><compositionLevel>0</compositionLevel>"]
        if sha256:
            parts.append("<fixity><messageDigestAlgorithm>SHA-256</messageDigestAlgorithm>"
                         f"{_leaf('messageDigest', sha256.lower())}</fixity>")
        if size is not None:
            parts.append(_leaf("size", size))
        parts.append("<format>")
        if format_name:
            parts += ["<formatDesignation>", _leaf("formatName", format_name),
                      _leaf("formatVersion", format_version) if format_version else "",
                      "</formatDesignation>"]
        if puid:
            parts += ["<formatRegistry><formatRegistryName>PRONOM</formatRegistryName>",
                      _leaf("formatRegistryKey", puid), "</formatRegistry>"]
        parts.append("</format></objectCharacteristics>")
        return "".join(parts)

    # -- events and agents (spooled) -----------------------------------------------------
    def event(self, event_uuid: str, event_type: str, when: dt.datetime, *,
              detail: str | None = None, outcome: str | None = None,
              outcome_detail: str | None = None, agents: Iterable[Link] = (),
              objects: Iterable[Link] = (), identifier_type: str = "UUID") -> None:
        """One ``event``; ``event_type`` must be a LoC eventType term (e.g. ``virus check``)."""
        if event_type not in EVENT_TYPES:
            raise ValueError(f"{event_type!r} is not a LoC PREMIS eventType term")
        self._spool("event", self._event_xml(
            event_uuid=event_uuid, event_type=event_type, when=timestamp(when), detail=detail,
            outcome=outcome, outcome_detail=outcome_detail, agents=agents, objects=objects,
            identifier_type=identifier_type))

    def agent(self, identifier_type: str, identifier_value: str, name: str,
              agent_type: str, note: str | None = None, version: str | None = None) -> None:
        """One ``agent`` (``agent_type``: software / organization / person)."""
        self._spool("agent", self._agent_xml(identifier_type, identifier_value, name, agent_type,
                                             note, version))

    def record(self, event: Event, objects: Iterable[Link] = ()) -> None:
        """A khoso ``Event`` as every package writes it, linked to its agents by role (the
        agents themselves go in with ``record_agent``, once each)."""
        self.event(event.event_uuid, event.event_type, event.when, detail=event.detail,
                   outcome=event.outcome.value, outcome_detail=event.outcome_detail or None,
                   agents=[(a.identifier_type, a.identifier_value, role)
                           for a, role in event.agents], objects=objects)

    def record_agent(self, agent: Agent) -> None:
        self.agent(agent.identifier_type, agent.identifier_value, agent.name, agent.agent_type,
                   note=agent.note)

    def _spool(self, kind: str, xml: str) -> None:
        """Rendered now (bad values are refused at the call), kept as bytes, copied at the end."""
        if not self._open:
            raise RuntimeError("PremisWriter is used outside its with block")
        self._spools[kind].write(xml.encode("utf-8"))

    @staticmethod
    def _event_xml(*, event_uuid: str, event_type: str, when: str, detail: str | None,
                   outcome: str | None, outcome_detail: str | None, agents: Iterable[Link],
                   objects: Iterable[Link], identifier_type: str) -> str:
        parts = ["<event>", _pair("eventIdentifier", "eventIdentifier", identifier_type, event_uuid),
                 _leaf("eventType", event_type), _leaf("eventDateTime", when)]
        if detail:
            parts.append(f"<eventDetailInformation>{_leaf('eventDetail', detail)}"
                         "</eventDetailInformation>")
        if outcome or outcome_detail:
            parts.append("<eventOutcomeInformation>")
            if outcome:
                parts.append(_leaf("eventOutcome", outcome))
            if outcome_detail:
                parts.append(f"<eventOutcomeDetail>{_leaf('eventOutcomeDetailNote', outcome_detail)}"
                             "</eventOutcomeDetail>")
            parts.append("</eventOutcomeInformation>")
        for type_, value, role in agents:
            parts.append(_pair("linkingAgentIdentifier", "linkingAgentIdentifier", type_, value,
                               ("linkingAgentRole", role)))
        for type_, value, role in objects:
            parts.append(_pair("linkingObjectIdentifier", "linkingObjectIdentifier", type_, value,
                               ("linkingObjectRole", role)))
        parts.append("</event>")
        return "".join(parts)

    @staticmethod
    def _agent_xml(identifier_type: str, identifier_value: str, name: str, agent_type: str,
                   note: str | None, version: str | None) -> str:
        return "".join((
            "<agent>", _pair("agentIdentifier", "agentIdentifier", identifier_type, identifier_value),
            _leaf("agentName", name), _leaf("agentType", agent_type),
            _leaf("agentVersion", version) if version else "",
            _leaf("agentNote", note) if note else "", "</agent>"))


# -- reading ---------------------------------------------------------------------------------

_P = f"{{{PREMIS_NS}}}"


@dataclass
class Premis:
    """What the catalog needs back from a PREMIS file (``read_premis``)."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # identifier -> facts
    events: list[dict[str, Any]] = field(default_factory=list)
    agents: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def _object_facts(el: Any) -> tuple[str, dict[str, Any]]:
    text = el.findtext
    chars = f"{_P}objectCharacteristics/"
    size = text(f"{chars}{_P}size")
    return text(f"{_P}objectIdentifier/{_P}objectIdentifierValue") or "", {
        "size": int(size) if size and size.strip().isdigit() else None,
        "sha256": (text(f"{chars}{_P}fixity/{_P}messageDigest") or "").lower() or None,
        "puid": text(f"{chars}{_P}format/{_P}formatRegistry/{_P}formatRegistryKey"),
        "format_name": text(f"{chars}{_P}format/{_P}formatDesignation/{_P}formatName")}


def _event_facts(el: Any) -> dict[str, Any]:
    text = el.findtext
    info = f"{_P}eventOutcomeInformation/"
    return {
        "event_uuid": text(f"{_P}eventIdentifier/{_P}eventIdentifierValue"),
        "event_type": text(f"{_P}eventType"),
        "when": text(f"{_P}eventDateTime"),
        "detail": text(f"{_P}eventDetailInformation/{_P}eventDetail") or "",
        "outcome": text(f"{info}{_P}eventOutcome"),
        "outcome_detail": text(f"{info}{_P}eventOutcomeDetail/{_P}eventOutcomeDetailNote") or "",
        "object_identifier": text(
            f"{_P}linkingObjectIdentifier/{_P}linkingObjectIdentifierValue"),
        "agents": [(a.findtext(f"{_P}linkingAgentIdentifierType") or "",
                    a.findtext(f"{_P}linkingAgentIdentifierValue") or "",
                    a.findtext(f"{_P}linkingAgentRole") or "")
                   for a in el.iterfind(f"{_P}linkingAgentIdentifier")]}


def _agent_facts(el: Any) -> tuple[tuple[str, str], dict[str, Any]]:
    text = el.findtext
    key = (text(f"{_P}agentIdentifier/{_P}agentIdentifierType") or "",
           text(f"{_P}agentIdentifier/{_P}agentIdentifierValue") or "")
    return key, {"identifier_type": key[0], "identifier_value": key[1],
                 "name": text(f"{_P}agentName") or key[1],
                 "agent_type": text(f"{_P}agentType") or "software",
                 "note": text(f"{_P}agentNote")}


def read_premis(data: bytes) -> Premis:
    """Objects, events and agents of a PREMIS file, streamed with the xmlsafe rules (no DTD,
    no entities, no network; a DOCTYPE is refused, ``XML002``; malformed XML is ``XML001``):
    memory follows the facts kept, not the tree. Event times are returned as written."""
    if b"<!DOCTYPE" in data:
        raise KhosoError("XML002")
    out = Premis()
    context = etree.iterparse(io.BytesIO(data), events=("end",),
                              tag=(f"{_P}object", f"{_P}event", f"{_P}agent"),
                              resolve_entities=False, load_dtd=False, no_network=True,
                              huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        for _, el in context:
            info = el.getroottree().docinfo
            if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
                raise KhosoError("XML002")
            tag = el.tag[len(_P):]
            if tag == "object":
                identifier, facts = _object_facts(el)
                out.objects[identifier] = facts
            elif tag == "event":
                out.events.append(_event_facts(el))
            else:
                key, agent = _agent_facts(el)
                out.agents[key] = agent
            el.clear(keep_tail=True)
            parent = el.getparent()
            while parent is not None and el.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        raise KhosoError("XML001", line=exc.position[0] if exc.position else "?",
                         reason=exc.msg) from None
    return out
