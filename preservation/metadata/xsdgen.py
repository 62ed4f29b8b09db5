"""Generate the TT 05 XSDs from ``schemas/tt05.json``: ``python -m preservation.metadata.xsdgen``.

The XSDs are committed (packages ship them in their ``schemas/`` folder) and a test asserts they
equal a fresh generation, so they cannot drift from the JSON. ``--check`` exits 1 on a difference.

Layout: ``schemas/codelists.xsd`` plus an identical copy in each of ``sip/``, ``aip/``, ``dip/``;
every EAD XSD does ``xs:include schemaLocation="codelists.xsd"`` (same folder), so copying one
package folder flat into a package's ``schemas/`` keeps working without ``../`` paths.
SIP ``hoso`` elements flagged ``xsd_optional`` get ``minOccurs="0"`` (PL III's XSD omits them,
§5.6 item 1); the Python reader still enforces the table's required flag.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lxml import etree

from preservation.metadata.codelists import (
    PACKAGES,
    FieldSpec,
    codelist,
    codelist_names,
    field_specs,
    kinds,
    schema_file,
)
from schemas import SCHEMA_DIR

XS = "http://www.w3.org/2001/XMLSchema"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
HEADER = " Generated from tt05.json by `python -m preservation.metadata.xsdgen`. Do not edit. "
DAY_MONTH = "(0[1-9]|[12][0-9]|3[01])/(0[1-9]|1[0-2])"
PATTERNS = {
    "dateFull": f"{DAY_MONTH}/[0-9]{{4}}",
    "datePartial": f"({DAY_MONTH}/|(0[1-9]|1[0-2])/)?[0-9]{{4}}",
}


def _xs(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{XS}}}{tag}", attrs)


def _doc(parent: etree._Element, vi: str, en: str | None = None) -> None:
    annotation = _xs(parent, "annotation")
    for lang, text in (("vi", vi), ("en", en)):
        if text:
            _xs(annotation, "documentation", **{XML_LANG: lang}).text = text


def _schema() -> etree._Element:
    root = etree.Element(f"{{{XS}}}schema", nsmap={"xs": XS})
    root.append(etree.Comment(HEADER))
    return root


def _simple(parent: etree._Element, name: str | None = None) -> etree._Element:
    return _xs(parent, "simpleType", **({"name": name} if name else {}))


def codelists_xsd() -> etree._Element:
    root = _schema()
    for name in codelist_names():
        cl = codelist(name)
        st = _simple(root, f"{name}Code")
        _doc(st, cl.vi, cl.en)
        restriction = _xs(st, "restriction", base="xs:string")
        for code in cl.codes:
            _doc(_xs(restriction, "enumeration", value=code), cl.label(code), cl.label(code, "en"))
    multi = sorted({s.codelist for p in PACKAGES for k in kinds(p) for s in field_specs(p, k)
                    if s.multi and s.codelist})
    for name in multi:  # multi-valued variants: codes joined by ";"
        alternatives = "|".join(codelist(name).codes)
        st = _simple(root, f"{name}List")
        _doc(st, f"Một hoặc nhiều mã {name}, phân cách bằng ';'", f"One or more {name} codes, ';'-separated")
        _xs(_xs(st, "restriction", base="xs:string"), "pattern",
            value=f"({alternatives})(;({alternatives}))*")
    empty = _simple(root, "empty")
    _doc(empty, "Phần tử rỗng (giá trị không bắt buộc bị bỏ trống)", "Empty element (absent optional value)")
    _xs(_xs(empty, "restriction", base="xs:string"), "length", value="0")
    for name, pattern in PATTERNS.items():
        st = _simple(root, name)
        _doc(st, "DD/MM/YYYY" if name == "dateFull" else "DD/MM/YYYY, MM/YYYY hoặc YYYY")
        _xs(_xs(st, "restriction", base="xs:string"), "pattern", value=pattern)
    return root


def _named_type(spec: FieldSpec, package: str) -> str | None:
    if spec.type in ("code", "boolean") and spec.codelist:
        return f"{spec.codelist}{'List' if spec.multi else 'Code'}"
    if spec.type == "date":
        return "datePartial" if package == "AIP" else "dateFull"
    return None


def _field(parent: etree._Element, spec: FieldSpec, package: str) -> None:
    optional = not spec.required or (package == "SIP" and spec.xsd_optional)
    element = _xs(parent, "element", name=spec.name, minOccurs="0" if optional else "1")
    _doc(element, spec.vi)
    named = _named_type(spec, package)
    if named is not None:
        if spec.required:
            element.set("type", named)
        else:
            _xs(_simple(element), "union", memberTypes=f"{named} empty")
        return
    restriction = _xs(_simple(element), "restriction", base="xs:string")
    if spec.type == "number":
        low = "1" if spec.required else "0"
        _xs(restriction, "pattern", value=f"[0-9]{{{low},{spec.max_length}}}")
        return
    if spec.required:
        _xs(restriction, "minLength", value="1")
    if spec.max_length is not None:
        _xs(restriction, "maxLength", value=str(spec.max_length))


def ead_xsd(package: str, kind: str) -> etree._Element:
    root = _schema()
    _xs(root, "include", schemaLocation="codelists.xsd")
    element = _xs(root, "element", name="simpledc")
    _doc(element, f"TT 05/2025/TT-BNV — {package} {kind}")
    sequence = _xs(_xs(element, "complexType"), "all")
    for spec in field_specs(package, kind):
        _field(sequence, spec, package)
    return root


def _bytes(root: etree._Element) -> bytes:
    body: bytes = etree.tostring(root, encoding="UTF-8", pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def generate() -> dict[str, bytes]:
    """Relative path under ``schemas/`` → file content."""
    shared = _bytes(codelists_xsd())
    files = {"codelists.xsd": shared}
    for package in PACKAGES:
        files[f"{package.lower()}/codelists.xsd"] = shared
        for kind in kinds(package):
            files[schema_file(package, kind)] = _bytes(ead_xsd(package, kind))
    return files


def stale(folder: Path = SCHEMA_DIR) -> list[str]:
    """Relative paths whose committed content differs from a fresh generation."""
    return [
        rel for rel, data in generate().items()
        if not (folder / rel).is_file() or (folder / rel).read_bytes() != data
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if stale")
    args = parser.parse_args(argv)
    if args.check:
        differing = stale()
        for rel in differing:
            print(f"stale: schemas/{rel}", file=sys.stderr)
        return 1 if differing else 0
    for rel, data in generate().items():
        path = SCHEMA_DIR / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote schemas/{rel}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
