"""A search: the entries matching the words and filters that the caller may see, ranked, one
page of them with snippets, and the facet counts of all of them.

Visibility is part of the query itself (``Scope``), never a filter on the page afterwards, so
an entry the caller may not see counts in no total and no facet.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler as Compiled

from preservation.search import rank
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
    exact: bool = True  # False: total and facets estimated from a sample, hits ranked in it
    ranked: int = 0  # entries ranked: every match when exact, else the sample's


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
          ranked: bool = True, within: tuple[int, int] | None = None, per_row: bool = False,
          among: Sequence[tuple[int, int]] | None = None
          ) -> tuple[sa.Select[Any], Match | None]:
    select = sa.select(*columns).select_from(ENTRY)
    match = (backend_for(s).match(words, ranked=ranked, within=within, per_row=per_row,
                                  among=among)
             if words else None)
    if match is not None:
        if match.source is not None and match.on is not None:
            select = select.join(match.source, match.on)
        if match.where is not None:
            select = select.where(match.where)
    elif within is not None:
        select = select.where(ENTRY.c.id.between(*within))
    return select.where(*_filters(query)), match


EXACT_LIMIT = 1_000
"""A query matching at most this many visible entries is counted, faceted and ranked exactly."""
BLOCKS = 20
"""Id ranges a sample is spread over (the index grows in id order: old and new records alike)."""
PER_BLOCK = 100
"""Matches read at most from each range: the sample's cost is bounded whatever the words."""
DENSE_LIMIT = 3_000
"""Where the word index reads whole lists (PostgreSQL), a query whose matches, by a first look
at some entries, may number at most this many is answered by reading every match through the
index (about 7 µs each from the table); past it, from a sample of id ranges (``_spread``),
which costs 25-35 ms whatever the count (2026-12-07, 1M documents, three runs each: 3,000
rather than 5,000 took the CPU p95 from 72-78 ms to 64-69 ms)."""
PEEK = 200
"""Ids in each of the ``BLOCKS`` ranges that first look checks one by one (where the words'
statistics do not tell the query's matches: ``_density``): 4,000 in all, so
that a query near ``DENSE_LIMIT`` is seldom taken for one under it, which costs a reading of
``DENSE_LIMIT`` matches before the sample (2026-12-07, 1M documents, best of two runs:
100 ids gave a CPU p95 of 55 ms, 200 ids 49 ms)."""
BITMAP_DENSITY = 0.06
"""Where the word index reads whole lists (PostgreSQL): below this many matches per id, a
sample's ranges are read in one statement through the index (the words' lists ANDed with the
ranges' ids: ``BitmapAnd``), so only the matches inside the ranges are read from the table;
above it each range's entries are checked one by one (few: the ranges are narrow), which
spares reading a common word's long list. The ranges hold ``BLOCKS * PER_BLOCK / 2 / density``
entries, checked one by one at about 1 µs each, where the ANDed index costs 25-35 ms of CPU
whatever the density (2026-12-07, 1M documents: 0.006 matches per id 140 ms one by one, 24 ms
through the index; 0.023: 46 and 27 ms; 0.069: 26 and 33 ms; 0.13: 14 and 48 ms). Once the
ranges checked one by one were read in one statement, 0.04 was measured again on the 67 bench
queries between 0.03 and 0.15, CPU of client and server, best of five (2026-12-07, 1M
documents): one word between 0.04 and 0.06, 7-11 ms through the index against 17-25 ms one by
one; two or three words there, 11-20 against 18-24 ms (two of 15 the other way by 2 ms); past
0.06 the index loses more often than it wins (one word from 0.062, two from 0.068)."""
KNOWN_MARGIN = 0.9
"""The rarest word's share bounds a query's: that bound under ``KNOWN_MARGIN * DENSE_LIMIT``
(ANALYZE's shares are from a sample of 30,000 entries: ±10 % at ``DENSE_LIMIT``), every
match is read without a first look."""
KNOWN_RATIO = 4.0
"""Past ``DENSE_LIMIT``, words' shares tell the query's matches per id when what they allow
(the rarest word's share if the words are always found together, their product if they are
found apart) is within this ratio; the sample's ranges are then sized by the geometric mean,
at most twice or half what they should be. Further apart ("hồ sơ": two common words that go
together), the first look (``_peek``) measures it."""
KNOWN_SLACK = 1.5
"""How far past its bounds (``_shares``) a first look may find a query before it is held to
them: ANALYZE's shares are ±10 % near ``DENSE_LIMIT``, and words may be found together less
often than apart, by a little. At 1.0, three common syllables whose product said 3,054 (a
true 2,961) were sampled through 327,000 ids of ranges rather than read whole: 50 ms more
(2026-12-07, 1M documents, CPU at load 8)."""
RANK_SAMPLE = 500
"""Of the sample, how many, spread over it, are scored for the hits."""


def _candidates(s: Session, query: SearchQuery, words: Sequence[str], *,
                within: tuple[Any, Any] | None = None, limit: int | None = None,
                among: Sequence[tuple[int, int]] | None = None) -> sa.Select[Any]:
    """Matching visible entries in id order, with their facets (and no text: scored later,
    only for those ranked)."""
    c = ENTRY.c
    select = _base(s, query, words, [c.id, *[c[f] for f in FACETS]], ranked=False,
                   within=within, among=among)[0]
    return select if limit is None else select.limit(limit)


def _rows(s: Session, statement: sa.Select[Any] | Compiled,
          values: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """``statement``'s rows as plain tuples, fetched by the driver in one call: going through
    SQLAlchemy's result row by row cost as much as the search itself (2026-12-07, 2,000
    sampled rows: 10 ms)."""
    conn = s.connection()
    compiled = statement if isinstance(statement, Compiled) else statement.compile(
        dialect=conn.dialect)
    state = compiled.construct_expanded_state(values)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if state.positiontup is not None:
            cursor.execute(state.statement, state.positional_parameters)
        else:
            cursor.execute(state.statement, state.parameters)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _sample(s: Session, query: SearchQuery, words: Sequence[str], rows: list[tuple[Any, ...]]
            ) -> list[tuple[list[tuple[Any, ...]], float]]:
    """Past ``EXACT_LIMIT`` (``rows``: the first matches in id order): up to ``PER_BLOCK``
    matches from each of ``BLOCKS`` id ranges spread evenly over the index, each sized to hold
    about half that by the density the first matches show; each range's rows with their
    weight, the matches each stands for (its stride over what the range's reading covered)."""
    low, high = _bounds(s)
    density = len(rows) / max(1, max(r[0] for r in rows) - low + 1)  # matches per id
    return _spread(s, query, words, low, high, density)


BOUNDS = sa.select(sa.select(sa.func.min(ENTRY.c.id)).scalar_subquery(),
                   sa.select(sa.func.max(ENTRY.c.id)).scalar_subquery())
"""The lowest and highest ids in one round trip, each in its own subquery, which both dialects
answer from the primary key's ends (SQLite reads the whole table for ``min()`` and ``max()``
side by side: 72 ms at 1M rows, 2026-12-07)."""


def _bounds(s: Session) -> tuple[int, int]:
    low, high = s.execute(BOUNDS).one()
    return low or 0, high or 0


def _look(s: Session, words: Sequence[str]
          ) -> tuple[int, int, Sequence[float] | None]:
    """The bounds of the ids and the database's statistics of the words
    (``Backend.frequencies``: None without them)."""
    low, high = _bounds(s)
    return low, high, backend_for(s).frequencies(s, words)


def _shares(freqs: Sequence[float] | None, span: int) -> tuple[float, float] | None:
    """From ``[rows, floor, share of each word...]`` (``Backend.frequencies``), the least and
    the most matches per id the query can have: at most the rarest word's share (a word not
    tracked holds under ``floor``), at least, as words found together are found at least as
    often as words found apart, their product (0 with a word not tracked)."""
    if not freqs or len(freqs) < 3 or span <= 0:
        return None
    rows, floor, *each = freqs
    scale = rows / span
    return (math.prod(max(f, 0.0) for f in each) * scale,
            min(f if f >= 0 else floor for f in each) * scale)


def _known(freqs: Sequence[float] | None, span: int) -> float | None:
    """The query's matches per id where the words' statistics tell it clearly: surely under
    ``DENSE_LIMIT`` by the rarest word, or one word (its share is measured), or words whose
    bounds (``_shares``) are within ``KNOWN_RATIO``; otherwise (found together, or apart?)
    None."""
    shares = _shares(freqs, span)
    if shares is None:
        return None
    least, most = shares
    if most * span <= DENSE_LIMIT * KNOWN_MARGIN:
        return most
    if most <= least * KNOWN_RATIO:
        return math.sqrt(most * least)
    return None


def _density(s: Session, query: SearchQuery, words: Sequence[str], low: int, high: int,
             freqs: Sequence[float] | None) -> float:
    """The query's matches per id: known from the words' statistics (``_known``), else by a
    first look (``_peek``) kept within the bounds the statistics allow: a look that finds
    fewer matches than words found apart would give (four common syllables of place names,
    each in 5-20 % of the entries) no longer reads ``DENSE_LIMIT`` matches before the sample.
    Measured 2026-12-07, 1M documents, the bench's 200 queries, each run first look only /
    this way in turn, best of three, load 6.4 (two cores shared): CPU of client and server
    p50 44.6 -> 41.5 ms, p95 76.6 -> 73.6 ms; wall p50 62.9 -> 57.3 ms, p95 139 -> 128 ms;
    the estimates' error (20 queries) median 2.6 -> 2.3 %, worst 25.9 -> 23.4 %. Again, the
    statistics kept by the process, load 3.2: CPU p50 41.0 -> 38.8 ms, p95 75.0 -> 70.4 ms;
    wall p50 41.9 -> 39.7 ms, p95 77.7 -> 70.0 ms. Still
    slowest: two or three common syllables whose matches are near ``DENSE_LIMIT`` (a look
    of 4,000 ids sees about 12 of them: a coin toss either side)."""
    known = _known(freqs, high - low + 1)
    if known is not None:
        return known
    density = _peek(s, query, words, low, high)
    shares = _shares(freqs, high - low + 1)
    if shares is None:
        return density
    return min(max(density, shares[0] / KNOWN_SLACK), shares[1] * KNOWN_SLACK)


def _peek(s: Session, query: SearchQuery, words: Sequence[str], low: int, high: int
          ) -> float:
    """Matches per id in ``BLOCKS`` ranges of ``PEEK`` ids spread over the index, each entry
    checked on its own: what a query will cost before the word index reads whole lists."""
    stride = (high - low + 1) / BLOCKS
    width = max(1, min(PEEK, int(stride)))
    where = sa.or_(*[ENTRY.c.id.between(low + int(i * stride), low + int(i * stride) + width - 1)
                     for i in range(BLOCKS)])
    select, _ = _base(s, query, words, [sa.func.count()], ranked=False, per_row=True)
    found = s.scalar(select.where(where)) or 0
    return found / (width * BLOCKS)


def _ranges(low: int, high: int, density: float) -> tuple[float, list[tuple[int, int]]]:
    """The stride and the ``BLOCKS`` id ranges of a sample, each sized to hold about half
    ``PER_BLOCK`` matches at ``density``."""
    stride = (high - low + 1) / BLOCKS
    width = max(1, min(int(stride), int(PER_BLOCK / 2 / max(density, 1e-9))))
    out = []
    for i in range(BLOCKS):
        # each range placed at a fixed pseudo-random point of its stride: evenly spaced ranges
        # could fall in step with a period of the data (every other hồ sơ, say) and see one
        # phase of it only
        slack = max(0, int(stride) - width)
        start = low + int(i * stride) + (i * 2654435761 + 97) % 1009 * slack // 1009
        out.append((start, min(high, start + width - 1)))
    return stride, out


def _spread(s: Session, query: SearchQuery, words: Sequence[str], low: int, high: int,
            density: float) -> list[tuple[list[tuple[Any, ...]], float]]:
    stride, ranges = _ranges(low, high, density)
    if backend_for(s).whole_lists and density < BITMAP_DENSITY:
        found = sorted(_rows(s, _candidates(s, query, words, among=ranges)))
        ids = [row[0] for row in found]
        gots = [found[bisect_left(ids, lo):bisect_right(ids, hi)][:PER_BLOCK]
                for lo, hi in ranges]
    elif backend_for(s).whole_lists:
        # every range in one statement (a lateral join over them): one round trip to the server
        # rather than one a range, each of which, with the cores busy, waits its turn for them
        # (2026-12-07, 1M documents, load 3-4, two runs each: the bench's p95 of CPU, client
        # and server, 50-56 ms -> 45-51 ms, of wall time 81-95 -> 71-84 ms)
        r = sa.values(sa.column("n", sa.Integer), sa.column("lo", sa.Integer),
                      sa.column("hi", sa.Integer), name="r").data(
            [(n, lo, hi) for n, (lo, hi) in enumerate(ranges)])
        each = _candidates(s, query, words, within=(r.c.lo, r.c.hi), limit=PER_BLOCK
                           ).order_by(ENTRY.c.id).lateral("e")
        gots = [[] for _ in ranges]
        for n, *row in _rows(s, sa.select(r.c.n, *each.c).select_from(r).join(each, sa.true())):
            gots[n].append(tuple(row))
        for got in gots:
            got.sort(key=lambda row: row[0])
    else:
        block = _candidates(s, query, words,
                            within=(sa.bindparam("lo", 0), sa.bindparam("hi", 0)),
                            limit=PER_BLOCK).compile(dialect=s.get_bind().dialect)
        gots = [_rows(s, block, {"lo": lo, "hi": hi}) for lo, hi in ranges]
    out = []
    for got, (start, end) in zip(gots, ranges, strict=True):
        covered = (got[-1][0] if len(got) == PER_BLOCK else end) - start + 1
        out.append((got, stride / covered))
    return out


def _facets(blocks: Sequence[tuple[Sequence[tuple[Any, ...]], float]]
            ) -> dict[str, dict[str, int]]:
    """Counts by facet value (columns 1.. of each row), each block's scaled by its weight."""
    counts: dict[str, dict[str, float]] = {f: {} for f in FACETS}
    for rows, weight in blocks:
        for n, f in enumerate(FACETS, 1):
            for value, k in Counter(row[n] for row in rows).items():
                if value is not None:
                    key = str(value)
                    counts[f][key] = counts[f].get(key, 0) + k * weight
    return {f: {k: max(1, round(n)) for k, n in v.items()} for f, v in counts.items()}


def _id_in(s: Session, ids: list[int]) -> sa.ColumnElement[bool]:
    """``search_entry.id`` among ``ids``: on PostgreSQL one array parameter rather than one
    parameter each, which SQLAlchemy, the driver and the planner all handle one by one
    (2026-12-07, 500 ids: 3.3 ms rather than 9.6 ms)."""
    if s.get_bind().dialect.name == "postgresql":
        return ENTRY.c.id == sa.any_(sa.bindparam("ids", ids, type_=ARRAY(sa.Integer)))
    return ENTRY.c.id.in_(ids)


def _ranked(s: Session, words: Sequence[str], ids: list[int]) -> list[int]:
    """``ids`` best first (``rank.scores``; ties by id)."""
    c = ENTRY.c
    texts: dict[int, tuple[str, str]] = {}
    for chunk in range(0, len(ids), 900):
        texts.update((i, (t, b)) for i, t, b in _rows(s, sa.select(
            c.id, c.title_f, sa.func.substr(c.body_f, 1, rank.BODY_CHARS))
            .where(_id_in(s, ids[chunk:chunk + 900]))))
    known = [i for i in ids if i in texts]
    scored = rank.scores(words, [texts[i] for i in known])
    return [i for _, i in sorted(zip(scored, known, strict=True), key=lambda p: (-p[0], p[1]))]


def search(s: Session, query: SearchQuery) -> SearchResult:
    """Exact for a query that finds at most ``EXACT_LIMIT`` entries. Past that, counting and
    ranking every match costs time in proportion to the matches (2026-12-07, 1M documents: a
    p95 of 876 ms on SQLite, 1,370 ms on PostgreSQL, for words in a fifth of the index), so
    the total and the facets are estimated from a sample of the matches spread evenly over
    the whole index, and the hits are the best ranked of part of that sample (``exact``
    False, ``ranked`` how many were ranked), as search engines bound what they count."""
    words = query_words(query.q)
    backend_for(s).prepare(s)
    c = ENTRY.c
    backend = backend_for(s)
    blocks: list[tuple[list[tuple[Any, ...]], float]] | None = None
    if words and backend.whole_lists:
        low, high, freqs = _look(s, words)
        density = _density(s, query, words, low, high, freqs)
        if density * (high - low + 1) > DENSE_LIMIT:
            blocks = _spread(s, query, words, low, high, density)
            if sum(len(got) * w for got, w in blocks) <= DENSE_LIMIT:
                blocks = None  # far fewer than the look said: every match read after all
        if blocks is None:
            rows = _rows(s, _candidates(s, query, words, limit=DENSE_LIMIT + 1))
            if len(rows) > DENSE_LIMIT:  # the first look missed them
                blocks = _sample(s, query, words, rows)
            elif len(rows) > EXACT_LIMIT:  # every match at hand: counted, a sample ranked
                blocks = [(rows, 1.0)]
    else:
        rows = _rows(s, _candidates(s, query, words, limit=EXACT_LIMIT + 1))
        if len(rows) > EXACT_LIMIT:
            blocks = _sample(s, query, words, rows)
    exact = blocks is None
    if blocks is None:
        blocks = [(rows, 1.0)]
    else:
        rows = [row for got, _ in blocks for row in got]
    counts = _facets(blocks)
    total = len(rows) if exact else max(EXACT_LIMIT + 1,
                                        round(sum(len(got) * w for got, w in blocks)))
    start = (query.page - 1) * query.size
    if words:
        chosen = [r[0] for r in rows]
        if not exact and len(chosen) > RANK_SAMPLE:
            # a fixed pseudo-random choice: every k-th could fall in step with a period of the
            # data (every other hồ sơ matching by its title, say)
            chosen = sorted(chosen, key=lambda i: (i * 2654435761) % 4294967296)[:RANK_SAMPLE]
        order = _ranked(s, words, chosen)
        ranked = len(order)
        ids = order[start:start + query.size]
    else:  # a listing: in code order over everything the filters keep
        page = _base(s, query, words, [c.id])[0].order_by(
            c.file_code.nulls_first(), c.doc_code.nulls_first(), c.id)
        ids = list(s.scalars(page.limit(query.size).offset(start)))
        ranked = total
    texts = {r.id: r for r in s.execute(
        sa.select(c.id, c.kind, c.file_code, c.doc_code, c.title, c.body, c.mode, c.year)
        .where(c.id.in_(ids)))} if ids else {}
    hits = []
    for row in (texts[i] for i in ids):
        snippet = make_snippet(row.body or row.title, words)
        hits.append(Hit(row.kind, row.file_code, row.doc_code, row.title, snippet.text,
                        snippet.highlights, row.mode, row.year))
    return SearchResult(total, hits, counts, words, exact, ranked)
