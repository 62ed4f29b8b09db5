"""A search: the entries matching the words and filters that the caller may see, ranked, one
page of them with snippets, and the facet counts of all of them.

Visibility is part of the query itself (``Scope``), never a filter on the page afterwards, so
an entry the caller may not see counts in no total and no facet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.search.backend import ENTRY, Match, backend_for
from preservation.search.fold import query_words
from preservation.search.snippet import make_snippet

FACETS = ("fonds", "type", "year", "mode")
KINDS = ("record", "document")


@dataclass(frozen=True)
class Scope:
    """What the caller may see: every entry of ``modes``, and every entry of the agency
    ``organ_id`` (a submitting agency sees its own records whatever their mode). ``modes``
    None: everything (staff)."""

    modes: frozenset[str] | None = None
    organ_id: str | None = None


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    fonds: str | None = None
    type: str | None = None
    date_from: str | None = None  # ISO prefix: 2020, 2020-05, 2020-05-12
    date_to: str | None = None
    mode: str | None = None
    kind: str | None = None
    page: int = 1
    size: int = 50
    scope: Scope = field(default_factory=Scope)


@dataclass(frozen=True)
class Hit:
    kind: str
    file_code: str | None
    doc_code: str | None
    title: str
    snippet: str
    highlights: list[tuple[int, int]]
    mode: str
    year: int | None


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    words: list[str]


def date_after(prefix: str) -> str:
    """The first ISO prefix after every date starting with ``prefix``: "2020" -> "2021",
    "2020-12" -> "2021-01", "2020-05-31" -> "2020-06-01" (as text they sort as dates do)."""
    parts = [int(p) for p in prefix.split("-")]
    if len(parts) == 1:
        return f"{parts[0] + 1:04d}"
    if len(parts) == 2:
        year, month = parts
        return f"{year + month // 12:04d}-{month % 12 + 1:02d}"
    day = dt.date(*parts) + dt.timedelta(days=1)
    return day.isoformat()


def _filters(query: SearchQuery) -> list[sa.ColumnElement[bool]]:
    c = ENTRY.c
    out: list[sa.ColumnElement[bool]] = []
    scope = query.scope
    if scope.modes is not None:
        seen: sa.ColumnElement[bool] = c.mode.in_(sorted(scope.modes))
        if scope.organ_id is not None:
            seen = sa.or_(seen, c.organ_id == scope.organ_id)
        out.append(seen)
    for name in ("fonds", "type", "mode", "kind"):
        value = getattr(query, name)
        if value is not None:
            out.append(c[name] == value)
    if query.date_from is not None:
        out.append(c.date >= query.date_from)
    if query.date_to is not None:
        out.append(c.date < date_after(query.date_to))
    return out


def _base(s: Session, query: SearchQuery, words: Sequence[str], columns: Sequence[Any], *,
          ranked: bool = True) -> tuple[sa.Select[Any], Match | None]:
    select = sa.select(*columns).select_from(ENTRY)
    match = backend_for(s).match(words, ranked=ranked) if words else None
    if match is not None:
        if match.source is not None and match.on is not None:
            select = select.join(match.source, match.on)
        if match.where is not None:
            select = select.where(match.where)
    return select.where(*_filters(query)), match


def facets(s: Session, query: SearchQuery, words: Sequence[str]) -> dict[str, dict[str, int]]:
    """The counts by fonds, type, year and mode of every entry the query finds: one statement
    over the matched set, materialised once."""
    matched = _base(s, query, words, [ENTRY.c[f] for f in FACETS],
                    ranked=False)[0].cte("matched")
    matched = matched.prefix_with("MATERIALIZED")
    parts = [sa.select(sa.literal(f).label("facet"),
                       sa.cast(matched.c[f], sa.String).label("value"),
                       sa.func.count().label("n")).group_by(matched.c[f])
             for f in FACETS]
    out: dict[str, dict[str, int]] = {f: {} for f in FACETS}
    for facet, value, n in s.execute(sa.union_all(*parts)):
        if value is not None:
            out[facet][value] = n
    return out


def search(s: Session, query: SearchQuery) -> SearchResult:
    words = query_words(query.q)
    backend_for(s).prepare(s)
    counts = facets(s, query, words)
    total = sum(counts["mode"].values())
    c = ENTRY.c
    # The page's ids first, sorted with nothing but their score: the matched entries' text
    # never goes through the sort (2026-12-07, 1M documents: most of a ranked query's time).
    page, match = _base(s, query, words, [c.id])
    if match is not None:
        page = page.order_by(match.score.desc(), c.id)
    else:
        page = page.order_by(c.file_code.nulls_first(), c.doc_code.nulls_first(), c.id)
    ids = list(s.scalars(page.limit(query.size).offset((query.page - 1) * query.size)))
    rows = {r.id: r for r in s.execute(
        sa.select(c.id, c.kind, c.file_code, c.doc_code, c.title, c.body, c.mode, c.year)
        .where(c.id.in_(ids)))} if ids else {}
    hits = []
    for row in (rows[i] for i in ids):
        snippet = make_snippet(row.body or row.title, words)
        hits.append(Hit(row.kind, row.file_code, row.doc_code, row.title, snippet.text,
                        snippet.highlights, row.mode, row.year))
    return SearchResult(total, hits, counts, words)
