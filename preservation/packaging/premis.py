"""Streaming PREMIS 3.0 writer for ``PREMIS.xml`` / ``PREMIS_rep1.xml`` (§5.4, A.4).

The PREMIS root is a sequence ``object+, event*, agent*``; an ingest learns objects, events and
agents in any order. Objects are written straight to the output; events and agents are spooled
as JSON lines to two temporary files (in memory up to 1 MiB, then on disk) and written after the
last object when the writer closes. So callers may interleave calls freely and memory stays flat.

The object category is the ``xsi:type`` attribute (``file``, ``representation``,
``intellectualEntity``) as the LoC XSD requires; TT 05's ``objectCategory`` element is not in
that XSD and is not emitted. Event types must be strings of the LoC eventType vocabulary.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from lxml import etree

from preservation.packaging.model import timestamp

PREMIS_NS = "http://www.loc.gov/premis/v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI_NS}}}type"
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


def _p(tag: str) -> str:
    return f"{{{PREMIS_NS}}}{tag}"


class PremisWriter:
    """``with PremisWriter(out) as w: w.object(...); w.event(...); w.agent(...)``."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._stack = contextlib.ExitStack()
        self._spools: dict[str, Any] = {}
        self._xf: Any = None
        self._objects = 0

    def __enter__(self) -> PremisWriter:
        for kind in ("event", "agent"):
            self._spools[kind] = self._stack.enter_context(
                tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="utf-8"))
        self._xf = self._stack.enter_context(etree.xmlfile(self._out, encoding="UTF-8"))
        self._xf.write_declaration()
        self._root = self._xf.element(_p("premis"), {"version": "3.0"},
                                      nsmap={None: PREMIS_NS, "xsi": XSI_NS})
        self._root.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        ok = exc_type is None and self._objects > 0
        try:
            if ok:
                for kind, write in (("event", self._write_event), ("agent", self._write_agent)):
                    spool = self._spools[kind]
                    spool.seek(0)
                    for line in spool:
                        write(**json.loads(line))
                self._root.__exit__(None, None, None)
        finally:
            try:
                self._stack.close()
            except etree.LxmlSyntaxError:  # unclosed <premis> after a failure: output is void
                if ok:
                    raise
        if exc_type is None and not self._objects:
            raise ValueError("a PREMIS document needs at least one object")

    # -- helpers -------------------------------------------------------------------------
    def _leaf(self, tag: str, text: str | int | None, attrib: dict[str, str] | None = None) -> None:
        with self._xf.element(_p(tag), attrib or {}):
            if text is not None:
                self._xf.write(str(text))

    def _pair(self, wrapper: str, prefix: str, type_: str, value: str,
              role: tuple[str, str | None] | None = None) -> None:
        with self._xf.element(_p(wrapper)):
            self._leaf(f"{prefix}Type", type_)
            self._leaf(f"{prefix}Value", value)
            if role is not None and role[1]:
                self._leaf(role[0], role[1])

    # -- objects -------------------------------------------------------------------------
    def object(self, identifier_type: str, identifier_value: str, *, category: str = "file",
               size: int | None = None, sha256: str | None = None, puid: str | None = None,
               format_name: str | None = None, format_version: str | None = None,
               original_name: str | None = None, signatures: Iterable[Signature] = (),
               storage_location: str | None = None, storage_location_type: str = "URI",
               storage_medium: str | None = None, xml_id: str | None = None,
               linking_events: Iterable[tuple[str, str]] = ()) -> None:
        """One ``object``. A ``file`` needs a format (``format_name`` and/or ``puid``);
        characteristics and signatures are refused on other categories rather than dropped."""
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
        attrs = {XSI_TYPE: category}
        if xml_id:
            attrs["xmlID"] = xml_id
        with self._xf.element(_p("object"), attrs):
            self._pair("objectIdentifier", "objectIdentifier", identifier_type, identifier_value)
            if is_file:
                self._characteristics(size, sha256, puid, format_name, format_version)
            if original_name:
                self._leaf("originalName", original_name)
            if storage_location or storage_medium:
                with self._xf.element(_p("storage")):
                    if storage_location:
                        self._pair("contentLocation", "contentLocation", storage_location_type,
                                   storage_location)
                    if storage_medium:
                        self._leaf("storageMedium", storage_medium)
            for sig in signatures:
                with self._xf.element(_p("signatureInformation")), \
                        self._xf.element(_p("signature")):
                    self._leaf("signatureEncoding", sig.encoding)
                    if sig.signer:
                        self._leaf("signer", sig.signer)
                    self._leaf("signatureMethod", sig.method)
                    self._leaf("signatureValue", sig.value)
                    self._leaf("signatureValidationRules", sig.validation_rules)
            for type_, value in linking_events:
                self._pair("linkingEventIdentifier", "linkingEventIdentifier", type_, value)
        self._objects += 1

    def _characteristics(self, size: int | None, sha256: str | None, puid: str | None,
                         format_name: str | None, format_version: str | None) -> None:
        with self._xf.element(_p("objectCharacteristics")):
            self._leaf("compositionLevel", 0)
            if sha256:
                with self._xf.element(_p("fixity")):
                    self._leaf("messageDigestAlgorithm", "SHA-256")
                    self._leaf("messageDigest", sha256.lower())
            if size is not None:
                self._leaf("size", size)
            with self._xf.element(_p("format")):
                if format_name:
                    with self._xf.element(_p("formatDesignation")):
                        self._leaf("formatName", format_name)
                        if format_version:
                            self._leaf("formatVersion", format_version)
                if puid:
                    with self._xf.element(_p("formatRegistry")):
                        self._leaf("formatRegistryName", "PRONOM")
                        self._leaf("formatRegistryKey", puid)

    # -- events and agents (spooled) -----------------------------------------------------
    def event(self, event_uuid: str, event_type: str, when: dt.datetime, *,
              detail: str | None = None, outcome: str | None = None,
              outcome_detail: str | None = None, agents: Iterable[Link] = (),
              objects: Iterable[Link] = (), identifier_type: str = "UUID") -> None:
        """One ``event``; ``event_type`` must be a LoC eventType term (e.g. ``virus check``)."""
        if event_type not in EVENT_TYPES:
            raise ValueError(f"{event_type!r} is not a LoC PREMIS eventType term")
        self._spool_call("event", dict(
            event_uuid=event_uuid, event_type=event_type, when=timestamp(when), detail=detail,
            outcome=outcome, outcome_detail=outcome_detail, agents=list(agents),
            objects=list(objects), identifier_type=identifier_type))

    def agent(self, identifier_type: str, identifier_value: str, name: str,
              agent_type: str, note: str | None = None, version: str | None = None) -> None:
        """One ``agent`` (``agent_type``: software / organization / person)."""
        self._spool_call("agent", dict(identifier_type=identifier_type,
                                       identifier_value=identifier_value, name=name,
                                       agent_type=agent_type, note=note, version=version))

    def _spool_call(self, kind: str, args: dict[str, Any]) -> None:
        if not self._spools:
            raise RuntimeError("PremisWriter is used outside its with block")
        self._spools[kind].write(json.dumps(args, ensure_ascii=False) + "\n")

    def _write_event(self, *, event_uuid: str, event_type: str, when: str, detail: str | None,
                     outcome: str | None, outcome_detail: str | None, agents: list[Link],
                     objects: list[Link], identifier_type: str) -> None:
        with self._xf.element(_p("event")):
            self._pair("eventIdentifier", "eventIdentifier", identifier_type, event_uuid)
            self._leaf("eventType", event_type)
            self._leaf("eventDateTime", when)
            if detail:
                with self._xf.element(_p("eventDetailInformation")):
                    self._leaf("eventDetail", detail)
            if outcome or outcome_detail:
                with self._xf.element(_p("eventOutcomeInformation")):
                    if outcome:
                        self._leaf("eventOutcome", outcome)
                    if outcome_detail:
                        with self._xf.element(_p("eventOutcomeDetail")):
                            self._leaf("eventOutcomeDetailNote", outcome_detail)
            for type_, value, role in agents:
                self._pair("linkingAgentIdentifier", "linkingAgentIdentifier", type_, value,
                           ("linkingAgentRole", role))
            for type_, value, role in objects:
                self._pair("linkingObjectIdentifier", "linkingObjectIdentifier", type_, value,
                           ("linkingObjectRole", role))

    def _write_agent(self, *, identifier_type: str, identifier_value: str, name: str,
                     agent_type: str, note: str | None, version: str | None) -> None:
        with self._xf.element(_p("agent")):
            self._pair("agentIdentifier", "agentIdentifier", identifier_type, identifier_value)
            self._leaf("agentName", name)
            self._leaf("agentType", agent_type)
            if version:
                self._leaf("agentVersion", version)
            if note:
                self._leaf("agentNote", note)
