"""The one XML entry point for untrusted input: refuse DOCTYPEs, size bombs and non-UTF-8.

Every XML file in a submission passes here first. A DOCTYPE has no use in TT 05 metadata and is
the carrier of XXE, entity expansion ("billion laughs") and external DTD fetches, so any document
that has one is refused outright (XML002) rather than parsed "safely". The raw bytes are scanned
for ``<!DOCTYPE`` before lxml sees them; the parsed tree is checked again as a second line. The
scan is over the whole document, so the literal text ``<!DOCTYPE`` inside a comment or CDATA is
refused too: a false positive we accept for a simple, sure rule.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from lxml import etree

from preservation.errors import KhosoError
from preservation.metadata.codelists import schema_file
from schemas import SCHEMA_DIR

MAX_BYTES = 64 * 1024 * 1024
# What XML 1.0 cannot carry: C0 controls but tab/LF/CR, surrogates, U+FFFE/U+FFFF (a regex
# class, for the writers: EAD's checks and the PREMIS text writer).
INVALID_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
_DECL_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers are not thread-safe.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def _read(source: bytes | Path, max_bytes: int) -> bytes:
    if isinstance(source, Path):
        size = source.stat().st_size
        if size > max_bytes:
            raise KhosoError("XML003", str(source), size=size, limit=max_bytes)
        data = source.read_bytes()
    else:
        data = bytes(source)
    if len(data) > max_bytes:  # also catches a file that grew after stat()
        raise KhosoError("XML003", size=len(data), limit=max_bytes)
    return data


def check_encoding(data: bytes, *, partial: bool = False) -> bytes:
    """UTF-8 only. ``partial``: ``data`` is the start of a document (its BOM and declaration
    are checked; the bytes themselves are decoded by the caller as they stream)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise KhosoError("XML004", reason="UTF-16 byte order mark")
    body = data.removeprefix(b"\xef\xbb\xbf")
    try:
        if not partial:
            body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KhosoError("XML004", reason=f"byte {exc.start}: {exc.reason}") from None
    if b"\x00" in body:
        raise KhosoError("XML004", reason="NUL byte (UTF-16/32?)")
    m = _DECL_ENCODING.match(body)
    if m and m.group(1).decode("ascii").lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise KhosoError("XML004", reason=f"declared encoding {m.group(1).decode('ascii')}")
    return body


def parse_xml(source: bytes | Path, *, max_bytes: int = MAX_BYTES) -> etree._Element:
    """Parse untrusted XML and return its root element, or raise ``KhosoError`` (XML001–XML004)."""
    body = check_encoding(_read(source, max_bytes))
    if b"<!DOCTYPE" in body:
        raise KhosoError("XML002")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else "?"
        raise KhosoError("XML001", line=line, reason=exc.msg) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise KhosoError("XML002")
    return root


@cache
def load_schema(package: str, kind: str) -> etree.XMLSchema:
    """The generated XSD for one EAD file; loaded from local files only, never the network."""
    relative = schema_file(package, kind)
    try:
        doc = etree.parse(str(SCHEMA_DIR / relative), _parser())
        return etree.XMLSchema(doc)
    except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise KhosoError("XML006", schema=relative, reason=str(exc)) from None
