"""METS 1.12 + E-ARK CSIP extension and PREMIS 3 validation from the shipped ``schemas/standard``.

The METS XSD imports XLink from an http URL; our copy points at the local ``xlink.xsd`` and the
parser has ``no_network=True``, so validation never touches the network. A small driver schema
imports METS and the CSIP extension together: the extension's attributes are ``lax`` in METS and
are only checked (e.g. ``csip:NOTETYPE`` enumeration) when their schema is loaded too.
"""

from __future__ import annotations

import codecs
from functools import cache
from pathlib import Path

from lxml import etree

from preservation.errors import KhosoError
from preservation.issues import Report
from preservation.metadata.xmlsafe import check_encoding, parse_xml
from preservation.packaging.mets import CSIP_NS, METS_NS
from preservation.packaging.read import release
from schemas import SCHEMA_DIR

STANDARD_DIR = SCHEMA_DIR / "standard"
METS_XSD, XLINK_XSD = "mets1_12.xsd", "xlink.xsd"
CSIP_XSD, PREMIS_XSD = "DILCISExtensionMETS.xsd", "premis-v3-0.xsd"
SHIPPED_SCHEMAS = (METS_XSD, XLINK_XSD, CSIP_XSD, PREMIS_XSD)
# Validating a big METS file needs a bigger limit than xmlsafe's default for metadata files.
MAX_METS_BYTES = 1 << 30
STREAM_FROM = 4 << 20  # larger files are validated while streamed (``_stream_validate``)


def _schema_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _build(driver: bytes, name: str) -> etree.XMLSchema:
    try:
        doc = etree.fromstring(driver, _schema_parser(), base_url=STANDARD_DIR.as_uri() + "/")
        return etree.XMLSchema(doc)
    except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise KhosoError("XML006", schema=name, reason=str(exc)) from None


@cache
def mets_schema() -> etree.XMLSchema:
    driver = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:import namespace="{METS_NS}" schemaLocation="{METS_XSD}"/>
  <xs:import namespace="{CSIP_NS}" schemaLocation="{CSIP_XSD}"/>
</xs:schema>""".encode()
    return _build(driver, f"{METS_XSD} + {CSIP_XSD}")


@cache
def premis_schema() -> etree.XMLSchema:
    try:
        doc = etree.parse(str(STANDARD_DIR / PREMIS_XSD), _schema_parser())
        return etree.XMLSchema(doc)
    except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise KhosoError("XML006", schema=PREMIS_XSD, reason=str(exc)) from None


def _stream_validate(path: Path, schema: etree.XMLSchema, name: str, code: str,
                     max_bytes: int) -> Report:
    """Validate while parsing in 1 MiB pieces and drop each element once read, so a 100 MB
    METS of a 100,000-document hồ sơ needs a few MB, not a tree ten times its size. The
    xmlsafe rules are applied to the stream: UTF-8 only, no DOCTYPE, the size limit."""
    report = Report()
    size = path.stat().st_size
    if size > max_bytes:
        report.issues.append(KhosoError("XML003", str(path), size=size, limit=max_bytes).issue)
        return report
    parser = etree.XMLPullParser(events=("start", "end"), schema=schema, resolve_entities=False,
                                 no_network=True, load_dtd=False, huge_tree=False)
    utf8 = codecs.getincrementaldecoder("utf-8")()
    tail, total, first, depth, seen = b"", 0, True, 0, False
    try:
        with open(path, "rb") as f:
            while piece := f.read(1 << 20):
                total += len(piece)
                if total > max_bytes:
                    raise KhosoError("XML003", str(path), size=total, limit=max_bytes)
                if first:
                    first = False
                    check_encoding(piece[:4096] if len(piece) > 4096 else piece, partial=True)
                try:
                    utf8.decode(piece)
                except UnicodeDecodeError as exc:
                    raise KhosoError("XML004", reason=f"byte {total - len(piece) + exc.start}: "
                                     f"{exc.reason}") from None
                if b"\x00" in piece:
                    raise KhosoError("XML004", reason="NUL byte (UTF-16/32?)")
                if b"<!DOCTYPE" in tail + piece[:16] or b"<!DOCTYPE" in piece:
                    raise KhosoError("XML002")
                tail = piece[-16:]
                parser.feed(piece)
                for event, el in parser.read_events():
                    if event == "start":
                        depth, seen = depth + 1, True
                    else:
                        depth -= 1
                        release(el)
            utf8.decode(b"", final=True)
            parser.close()
            if depth or not seen:
                raise KhosoError("XML001", line="?", reason="the document ends before its root "
                                 "element is closed")
    except KhosoError as exc:
        report.issues.append(exc.issue)
    except UnicodeDecodeError as exc:
        report.add("XML004", reason=f"truncated UTF-8 at the end: {exc.reason}")
    except etree.XMLSyntaxError as exc:
        # The log may hold older entries (lxml keeps a global one): the last is this error.
        last = exc.error_log.last_error
        if last is not None and last.domain == etree.ErrorDomains.SCHEMASV:
            report.add(code, str(path), schema=name, line=last.line,
                       reason=last.message.rstrip("."))
        else:
            line = exc.position[0] if exc.position else "?"
            report.issues.append(KhosoError("XML001", line=line, reason=exc.msg).issue)
    return report


def _validate(source: bytes | Path, schema: etree.XMLSchema, name: str, code: str,
              max_bytes: int) -> Report:
    if isinstance(source, Path) and source.is_file() and source.stat().st_size > STREAM_FROM:
        return _stream_validate(source, schema, name, code, max_bytes)
    report = Report()
    try:
        root = parse_xml(source, max_bytes=max_bytes)
    except KhosoError as exc:
        report.issues.append(exc.issue)
        return report
    if not schema.validate(root):
        for entry in schema.error_log:
            report.add(code, str(source) if isinstance(source, Path) else "", schema=name,
                       line=entry.line, reason=entry.message.rstrip("."))
    return report


def validate_mets(source: bytes | Path, *, max_bytes: int = MAX_METS_BYTES) -> Report:
    """Safe parse (xmlsafe: no DOCTYPE, UTF-8) then METS 1.12 + CSIP; schema errors are METS001."""
    return _validate(source, mets_schema(), "METS 1.12 + CSIP", "METS001", max_bytes)


def validate_premis(source: bytes | Path, *, max_bytes: int = MAX_METS_BYTES) -> Report:
    """Safe parse then PREMIS 3.0; schema errors are PREM001."""
    return _validate(source, premis_schema(), "PREMIS 3.0", "PREM001", max_bytes)
