"""Code lists and EAD field tables, loaded once from ``schemas/tt05.json``.

The JSON is the one source: the XSDs, the reader, the writer and the rules all read it through
this module, so a code added there is known everywhere at once.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
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

    @property
    def source(self) -> str:
        """Where the list is defined (TT 05 section), empty when not recorded."""
        return str(tt05_data()["codelists"].get(self.name, {}).get("source", ""))

    def resolve(self, text: str) -> Resolution:
        """The code a person means by ``text``: a code, its name, or ``code name`` together.

        Names match case-insensitively in Vietnamese or English; a Vietnamese name typed
        without diacritics ("vinh vien") matches only when exactly one entry fits, so a guess
        never picks between two entries."""
        text = " ".join(unicodedata.normalize("NFC", text).split())
        if text in self.entries:
            return Resolution(text)
        if (paired := _CODE_AND_NAME.fullmatch(text)) and paired["code"] in self.entries:
            named = self.resolve(paired["name"])
            if named.code == paired["code"]:
                return named
        for key, index in zip((fold, plain), self._names, strict=True):
            matches = index.get(key(text), ())
            if len(matches) == 1:
                return Resolution(matches[0])
            if matches:
                return Resolution(None, matches)
        return Resolution(None)

    @cached_property
    def _names(self) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
        """Codes by folded name and by name without diacritics, built once per list."""
        indexes: tuple[dict[str, tuple[str, ...]], ...] = ({}, {})
        for key, index in zip((fold, plain), indexes, strict=True):
            for code, entry in self.entries.items():
                for name in {key(str(entry["vi"])), key(str(entry["en"]))}:
                    if code not in index.get(name, ()):
                        index[name] = (*index.get(name, ()), code)
        return indexes[0], indexes[1]

    def describe(self, lang: str = "vi") -> str:
        """Every code with its name, for messages: ``01 (Vĩnh viễn), 02 (70 năm)``."""
        return ", ".join(f"{c} ({self.label(c, lang)})" for c in self.entries)


@dataclass(frozen=True)
class Resolution:
    """What ``CodeList.resolve`` found: one ``code``, or none with the ``ambiguous`` candidates
    (empty when nothing matched at all)."""

    code: str | None
    ambiguous: tuple[str, ...] = field(default=())


_CODE_AND_NAME = re.compile(r"(?P<code>[0-9A-Za-z_]+)\s*[-–—:.)]?\s+(?P<name>.+)")


def fold(text: str) -> str:
    """Compare text as a person reads it: NFC, case-insensitive, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def plain(text: str) -> str:
    """``fold`` without Vietnamese diacritics (đ → d): "Vĩnh viễn" → "vinh vien"."""
    decomposed = unicodedata.normalize("NFD", fold(text).replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


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
