"""Full-text search for readers and staff, and the reindex operators run.

The caller's identity decides what exists for them (``policy``): a reader or an anonymous
caller never meets a mode 03 entry, not in the hits, the total or a facet count; a submitting
agency also sees its own; staff see everything.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from access_api.services import policy
from access_api.services.base import Identity, ServiceContext, UserRole
from preservation import search as index
from preservation.catalog import audit
from preservation.errors import ValidationFailed
from preservation.issues import Report

DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    fonds: str | None = None
    type: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    mode: str | None = None
    kind: str | None = None
    page: int = 1
    size: int = 50


def _date(value: str | None, name: str, report: Report) -> str | None:
    """A year or an ISO date, as the ISO prefix the index compares (None if bad or absent)."""
    if value is None or value == "":
        return None
    text = value.strip()
    if DATE.fullmatch(text):
        parts = [int(p) for p in text.split("-")]
        try:
            dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
            if parts[0] >= 1:
                return text
        except ValueError:
            pass
    report.add("SRCH002", name, field=name, value=value[:40])
    return None


def scope(identity: Identity) -> index.Scope:
    """The entries ``identity`` may see, from the one access policy."""
    if policy.is_staff(identity):
        return index.Scope(None)
    organ = identity.agency if identity.has(UserRole.AGENCY_SUBMITTER) else None
    return index.Scope(frozenset(m.value for m in policy.visible_modes(identity)), organ)


def run_search(ctx: ServiceContext, identity: Identity, params: SearchParams
               ) -> index.SearchResult:
    """One page of hits and the facets; ``ValidationFailed`` (SRCH001) for a bad period."""
    report = Report()
    date_from = _date(params.date_from, "from", report)
    date_to = _date(params.date_to, "to", report)
    if date_from and date_to and date_from[:len(date_to)] > date_to:
        report.add("SRCH003", "from", date_from=date_from, date_to=date_to)
    if not report.ok:
        raise ValidationFailed(report, "SRCH001")
    query = index.SearchQuery(q=params.q, fonds=params.fonds or None, type=params.type or None,
                              date_from=date_from, date_to=date_to, mode=params.mode or None,
                              kind=params.kind or None, page=params.page, size=params.size,
                              scope=scope(identity))
    with ctx.catalog.session() as s:
        result = index.search(s, query)
    if not result.exact and (params.page - 1) * params.size >= result.ranked:
        last = max(1, -(-result.ranked // params.size))
        report.add("SRCH004", "page", page=params.page, last=last, total=result.total,
                   ranked=result.ranked)
        raise ValidationFailed(report, "SRCH001")
    return result


def reindex(ctx: ServiceContext, identity: Identity) -> index.Reindexed:
    """The whole index built again from the catalog (idempotent), in one transaction: searches
    see the old index until it commits."""
    with ctx.catalog.session() as s:
        done = index.reindex(s)
        audit.record(s, identity.actor, "search.reindex", "search_index", done.backend,
                     records=done.records, documents=done.documents, seconds=done.seconds)
    return done
