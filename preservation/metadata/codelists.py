"""Code lists and EAD field tables, loaded once from ``schemas/tt05.json``.

The JSON is the one source: the XSDs, the reader, the writer and the rules all read it through
this module, so a code added there is known everywhere at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from preservation.errors import KhosoError

FieldType = Literal["string", "code", "number", "date", "boolean"]
PACKAGES = ("SIP", "AIP", "DIP")


@dataclass(frozen=True)
class CodeList:
    """One TT 05 code list: ordered codes with Vietnamese and English labels."""

    name: str
    vi: str
    en: str
    entries: Mapping[str, Mapping[str, Any]]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.entries)

    def __contains__(self, code: object) -> bool:
        return code in self.entries

    def label(self, code: str, lang: str = "vi") -> str:
        return str(self.entries[code]["vi" if lang == "vi" else "en"])

    def attr(self, code: str, key: str) -> Any:
        """Extra data attached to a code, e.g. ``years`` of a retention code."""
        return self.entries[code].get(key)


@dataclass(frozen=True)
class FieldSpec:
    """One row of a TT 05 table. ``max_length`` is in characters (strings) or digits (numbers)."""

    name: str
    type: FieldType
    max_length: int | None
    required: bool
    vi: str
    codelist: str | None = None
    multi: bool = False
    soft_max: int | None = None
    xsd_optional: bool = False


@cache
def tt05_data() -> Mapping[str, Any]:
    text = (resources.files("schemas") / "tt05.json").read_text(encoding="utf-8")
    data: Mapping[str, Any] = json.loads(text)
    return data


@cache
def codelist(name: str) -> CodeList:
    spec = tt05_data()["codelists"][name]
    return CodeList(name, spec["vi"], spec["en"], spec["codes"])


def codelist_names() -> tuple[str, ...]:
    return tuple(tt05_data()["codelists"])


def kinds(package: str) -> tuple[str, ...]:
    return tuple(tt05_data()["packages"].get(package, {}))


def _table(package: str, kind: str) -> Mapping[str, Any]:
    try:
        table: Mapping[str, Any] = tt05_data()["packages"][package][kind]
        return table
    except KeyError:
        known = ", ".join(f"{p}/{k}" for p in PACKAGES for k in kinds(p))
        raise KhosoError("EAD013", package=package, kind=kind, known=known) from None


@cache
def field_specs(package: str, kind: str) -> tuple[FieldSpec, ...]:
    """The element table of one EAD file, in TT 05 order."""
    return tuple(
        FieldSpec(
            name=f["name"],
            type=f["type"],
            max_length=f.get("max"),
            required=f["required"],
            vi=f["vi"],
            codelist=f.get("codelist"),
            multi=f.get("multi", False),
            soft_max=f.get("soft_max"),
            xsd_optional=f.get("xsd_optional", False),
        )
        for f in _table(package, kind)["fields"]
    )


def schema_file(package: str, kind: str) -> str:
    """Relative path of the generated XSD, e.g. ``sip/EAD_doc.xsd``."""
    return f"{package.lower()}/{_table(package, kind)['file']}"
