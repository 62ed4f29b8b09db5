"""Submission packages for agencies without packaging software: the sheet template, building a
SIP from a folder and a sheet, and the TT 05 code lists the sheet's values come from.

No terminal here: the CLI (``khoso sip …``, ``khoso codes``) and the HTTP API render the results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingest.sip_build import SipBuild, try_build_sip
from ingest.sip_sheet import columns, write_template
from preservation.errors import KhosoError
from preservation.issues import Report, Severity
from preservation.metadata.codelists import codelist, codelist_names, fold, plain

__all__ = ["CodeListView", "SipBuild", "build", "code_lists", "counts", "template"]

TEMPLATE_SUFFIXES = (".xlsx", ".csv")


def template(out: Path, *, content: str = "hoso", overwrite: bool = False) -> Path:
    """Write the sheet template (every column, its label and requirement, example rows)."""
    if out.suffix.lower() not in TEMPLATE_SUFFIXES:
        raise KhosoError("SHEET020", item=str(out))
    if out.exists() and not overwrite:
        raise KhosoError("SHEET021", item=str(out))
    write_template(out, content)
    return out


def build(src: Path, sheet: Path, out: Path, *, organ_id: str, agency_name: str,
          fond_code: str | None, submission_agreement: str | None = None) -> SipBuild:
    """Build the SIP bag; problems come back in the result's report, not as an exception."""
    return try_build_sip(src, sheet, out, organ_id=organ_id, agency_name=agency_name,
                         fond_code=fond_code, submission_agreement=submission_agreement)


def counts(report: Report) -> dict[str, int]:
    """Issues per severity, every severity present (zero included), for a summary line."""
    return {s.value: sum(1 for i in report if i.severity is s) for s in Severity}


@dataclass(frozen=True)
class CodeListView:
    """One TT 05 code list as people read it, with the sheet columns that take its values."""

    name: str
    vi: str
    en: str
    source: str
    codes: tuple[tuple[str, str, str], ...]
    columns: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "vi": self.vi, "en": self.en, "source": self.source,
                "columns": list(self.columns),
                "codes": [{"code": c, "vi": vi, "en": en} for c, vi, en in self.codes]}


def code_lists(name: str | None = None) -> list[CodeListView]:
    """Every code list, or the one ``name`` means (its key or its Vietnamese or English title,
    case- and diacritics-tolerant); ``CODE001`` when none matches."""
    names = list(codelist_names())
    if name is not None:
        wanted = [n for n in names if fold(name) in {fold(n), fold(codelist(n).vi),
                                                     fold(codelist(n).en)}]
        wanted = wanted or [n for n in names if plain(name) == plain(codelist(n).vi)]
        if not wanted:
            raise KhosoError("CODE001", name=name, known=", ".join(names))
        names = wanted
    used: dict[str, list[str]] = {}
    for column in columns():
        if column.codelist:
            used.setdefault(column.codelist, []).append(column.key)
    views = []
    for n in names:
        cl = codelist(n)
        views.append(CodeListView(n, cl.vi, cl.en, cl.source,
                                  tuple((c, cl.label(c), cl.label(c, "en")) for c in cl.codes),
                                  tuple(used.get(n, ()))))
    return views
