"""The issue codes as reference data: what each code means and which clause it enforces.

Read-only and the same for every caller, so it takes no ``Identity``: the CLI (``khoso issues``)
and the coming HTTP API render the same lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from preservation.errors import NotFound
from preservation.issues import IssueDefinition, issue_catalog

_CODE = re.compile(r"([A-Z]+)(\d+)([a-z]?)")


def _order(code: str) -> tuple[str, int, str]:
    """Family, then number: ``SIG008`` before ``SIG098`` before ``SIG100``."""
    m = _CODE.fullmatch(code)
    return (m.group(1), int(m.group(2)), m.group(3)) if m else (code, 0, "")


@dataclass(frozen=True)
class IssueLookup:
    """Codes that answer a query; ``exact`` when the query named one code."""

    definitions: tuple[IssueDefinition, ...]
    exact: bool = False


def issue_to_dict(d: IssueDefinition) -> dict[str, Any]:
    """A code as data, both languages, as in ``preservation/data/issues/*.json``."""
    return {"code": d.code, "severity": d.severity.value, "clause": d.clause,
            "vi": d.vi, "en": d.en}


def lookup_issues(query: str | None = None) -> IssueLookup:
    """Every code (no query), the one code named, or the codes it begins (``PKG``, ``SIG0``).

    Case does not matter. A query no code is or begins raises ``ISS001``."""
    catalog = issue_catalog()
    if not query:
        return IssueLookup(tuple(sorted(catalog.values(), key=lambda d: _order(d.code))))
    wanted = query.strip().upper()
    if wanted in catalog:
        return IssueLookup((catalog[wanted],), exact=True)
    found = sorted((d for c, d in catalog.items() if c.startswith(wanted)),
                   key=lambda d: _order(d.code))
    if not found:
        raise NotFound("ISS001", query=query)
    return IssueLookup(tuple(found))
