"""METS 1.12 + E-ARK CSIP extension and PREMIS 3 validation from the shipped ``schemas/standard``.

The METS XSD imports XLink from an http URL; our copy points at the local ``xlink.xsd`` and the
parser has ``no_network=True``, so validation never touches the network. A small driver schema
imports METS and the CSIP extension together: the extension's attributes are ``lax`` in METS and
are only checked (e.g. ``csip:NOTETYPE`` enumeration) when their schema is loaded too.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from preservation.errors import KhosoError
from preservation.issues import Report
from preservation.metadata.xmlsafe import parse_xml
from preservation.packaging.mets import CSIP_NS, METS_NS
from schemas import SCHEMA_DIR

STANDARD_DIR = SCHEMA_DIR / "standard"
METS_XSD, XLINK_XSD = "mets1_12.xsd", "xlink.xsd"
CSIP_XSD, PREMIS_XSD = "DILCISExtensionMETS.xsd", "premis-v3-0.xsd"
SHIPPED_SCHEMAS = (METS_XSD, XLINK_XSD, CSIP_XSD, PREMIS_XSD)
# Validating a big METS file needs a bigger limit than xmlsafe's default for metadata files.
MAX_METS_BYTES = 1 << 30


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


def _validate(source: bytes | Path, schema: etree.XMLSchema, name: str, code: str,
              max_bytes: int) -> Report:
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
