"""One interface to the word index, two backends chosen by the catalog's dialect.

``search_entry`` (facets, original text, folded words) is the same on both; only matching,
ranking and keeping the word index differ. Both receive already folded words
(``search.fold``), so "ho so" and "Hồ Sơ" are the same query everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.catalog.models import SearchEntry

ENTRY = cast(sa.Table, SearchEntry.__table__)
MMAP_BYTES = 4 << 30  # address space only: pages are the OS cache's, shared by connections


@dataclass(frozen=True)
class Match:
    """How a query's words restrict and rank ``search_entry``: join ``source`` (if any) on
    ``on``, keep ``where``, order by ``score`` (higher is better)."""

    source: sa.FromClause | None
    on: sa.ColumnElement[bool] | None
    where: sa.ColumnElement[bool] | None
    score: sa.ColumnElement[float]


class Backend(Protocol):
    name: str
    whole_lists: bool
    """Matching through the word index reads each word's whole list of entries before the
    first row comes out (PostgreSQL's GIN bitmap), rather than stopping at a ``LIMIT`` (FTS5)."""

    def match(self, words: Sequence[str], *, ranked: bool = True,
              within: tuple[int, int] | None = None, per_row: bool = False,
              among: Sequence[tuple[int, int]] | None = None) -> Match:
        """Entries holding every one of the (folded, whole) words; ``ranked=False`` when only
        the set matters (facets and totals), which spares scoring every matched entry;
        ``within``: only ids in this closed range, found without reading the others;
        ``per_row``: the caller restricts the rows itself, check each one's words;
        ``among``: only ids in these closed ranges, through the word index (one reading of
        each word's list for all of them)."""
        ...

    def prepare(self, s: Session) -> None:
        """Before a search on ``s``: whatever the connection needs to search fast."""
        ...

    def frequencies(self, s: Session, words: Sequence[str]) -> list[float] | None:
        """Where the word index reads whole lists: from the database's own statistics,
        ``[rows, floor, f1, f2, ...]``: the entries counted, the lowest share of entries a
        tracked word holds, and the share of entries holding each of ``words`` (-1: not
        tracked, so under ``floor``); None without statistics, or where nothing is needed (a
        ``LIMIT`` stops the reading)."""
        ...

    def added(self, s: Session, ids: Sequence[int]) -> None:
        """Entries ``ids`` were just inserted: index their words."""
        ...

    def removing(self, s: Session, where: sa.ColumnElement[bool]) -> None:
        """Entries matching ``where`` are about to be deleted: forget their words."""
        ...

    def rebuilt(self, s: Session) -> None:
        """``search_entry`` was refilled wholesale: rebuild the word index from it."""
        ...


class SqliteFts5:
    """SQLite FTS5 with external content (``search_fts`` reads its text from
    ``search_entry``), written explicitly here rather than by triggers so a full reindex can
    fill ``search_entry`` first and build the word index in one pass. Ranked by bm25 with the
    title weighing ten times the rest."""

    name = "sqlite-fts5"
    whole_lists = False

    def match(self, words: Sequence[str], *, ranked: bool = True,
              within: tuple[int, int] | None = None, per_row: bool = False,
              among: Sequence[tuple[int, int]] | None = None) -> Match:
        # Every word quoted: FTS5 then reads it as a string, never as syntax (NEAR, AND, *…)
        expression = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        fts = sa.table("search_fts", sa.column("rowid"))
        rank: sa.ColumnElement[Any] = sa.literal_column(
            "bm25(search_fts, 10.0, 1.0)" if ranked else "0")
        matching = (sa.select(fts.c.rowid.label("id"), rank.label("rank"))
                    .select_from(fts)
                    .where(sa.literal_column("search_fts").op("MATCH")(expression)))
        if within is not None:  # a rowid range FTS5 seeks to in each word's list
            matching = matching.where(fts.c.rowid.between(*within))
        if among is not None:
            matching = matching.where(sa.or_(*[fts.c.rowid.between(*r) for r in among]))
        hits = matching.subquery("m")
        return Match(hits, hits.c.id == ENTRY.c.id, None, -hits.c.rank)

    def frequencies(self, s: Session, words: Sequence[str]) -> list[float] | None:
        return None

    def prepare(self, s: Session) -> None:
        # A search reads matched entries at random: through the OS page cache by memory map
        # rather than a read() per page (2026-12-07, 1M documents: 2× faster joins).
        s.execute(sa.text(f"PRAGMA mmap_size={MMAP_BYTES}"))

    def added(self, s: Session, ids: Sequence[int]) -> None:
        for chunk in _chunks(ids):
            ids_sql = ",".join(str(int(i)) for i in chunk)  # integers: nothing to quote
            s.execute(sa.text("INSERT INTO search_fts(rowid, title_f, body_f) SELECT id, "
                              f"title_f, body_f FROM search_entry WHERE id IN ({ids_sql})"))

    def removing(self, s: Session, where: sa.ColumnElement[bool]) -> None:
        rows = s.execute(sa.select(ENTRY.c.id, ENTRY.c.title_f, ENTRY.c.body_f).where(where))
        params = [{"id": r.id, "t": r.title_f, "b": r.body_f} for r in rows]
        if params:  # external content: the old text tells FTS5 which words to forget
            s.execute(sa.text("INSERT INTO search_fts(search_fts, rowid, title_f, body_f) "
                              "VALUES ('delete', :id, :t, :b)"), params)

    def rebuilt(self, s: Session) -> None:
        s.execute(sa.text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))


class PostgresFullText:
    """PostgreSQL full text: ``search_entry.tsv`` is generated from the folded words (title
    weight A, the rest B, the ``simple`` configuration: no stemming, no stop words) under a GIN
    index; ranked by ``ts_rank_cd``. Nothing to keep by hand."""

    name = "postgresql-tsvector"
    whole_lists = True

    def match(self, words: Sequence[str], *, ranked: bool = True,
              within: tuple[int, int] | None = None, per_row: bool = False,
              among: Sequence[tuple[int, int]] | None = None) -> Match:
        # plainto_tsquery reads no operators at all: the words are ANDed
        query = sa.func.plainto_tsquery(sa.literal_column("'simple'"), " ".join(words))
        tsv: sa.ColumnElement[Any] = sa.literal_column("search_entry.tsv")
        where: sa.ColumnElement[bool] = tsv.op("@@")(query)
        if among is not None:
            # the word index's bitmap ANDed with the ranges' primary-key bitmap
            # (``BitmapAnd``): each word's list is read once, and only the matches inside the
            # ranges are read from the table (``query._spread``)
            where = sa.and_(where, sa.or_(*[ENTRY.c.id.between(*r) for r in among]))
        elif per_row and within is None:
            where = sa.func.ts_match_vq(tsv, query, type_=sa.Boolean)
        elif within is not None:
            # within a range, each row's words are checked (``ts_match_vq`` is ``@@`` in a form
            # the GIN index does not take): the index would read the words' whole lists for a
            # handful of rows (2026-12-07, 1M documents: 100 ms a range for a common word)
            where = sa.and_(ENTRY.c.id.between(*within),
                            sa.func.ts_match_vq(tsv, query, type_=sa.Boolean))
        return Match(None, None, where, sa.func.ts_rank_cd(tsv, query, type_=sa.Float))

    def prepare(self, s: Session) -> None:
        # a bitmap of a common word's entries fits exactly, not lossily (no recheck of every
        # row of its pages: 2026-12-07, 14,000 matches read in half the time)
        s.execute(sa.text("SET LOCAL work_mem = '32MB'"))

    def frequencies(self, s: Session, words: Sequence[str]) -> list[float] | None:
        stats = _word_stats(s)
        if stats is None:
            return None
        rows, floor, shares = stats
        return [rows, floor, *[shares.get(w, -1.0) for w in words]]

    def added(self, s: Session, ids: Sequence[int]) -> None:
        return None

    def removing(self, s: Session, where: sa.ColumnElement[bool]) -> None:
        return None

    def rebuilt(self, s: Session) -> None:
        # the planner picks the word index, and ANDs it with id ranges (``query._spread``),
        # by the statistics of ``tsv``: a refilled table has none until autovacuum (which may
        # be off) comes by. ANALYZE runs in the transaction and sees its rows.
        s.execute(sa.text("ANALYZE search_entry"))
        _STATS.pop(_key(s), None)
        # rows inserted after the index was built wait in its pending list, which every search
        # reads through (2026-12-07, 1M documents: 412 pages left by a reindex) until
        # autovacuum (which may be off) merges them: merged here
        s.execute(sa.text("SELECT gin_clean_pending_list('ix_search_entry_tsv')"))


STATS_SECONDS = 60.0
"""How long a process keeps the words' statistics it read (``_word_stats``). Reading them
with every search cost 1.8 ms of CPU a query (2026-12-07, 1M documents, 402 words tracked:
2.4 ms with the bounds against 0.6 ms for the bounds alone); ANALYZE changes them slowly, and
a search they mislead stays right (``query._density``), only slower."""
_STATS: dict[str, tuple[float, tuple[float, float, dict[str, float]] | None]] = {}
WORD_STATS = sa.text(
    "SELECT c.reltuples::float8, p.most_common_elems::text::text[],"
    " p.most_common_elem_freqs::float8[] FROM pg_stats AS p, pg_class AS c"
    " WHERE p.schemaname = current_schema() AND p.tablename = 'search_entry'"
    " AND p.attname = 'tsv' AND c.oid = 'search_entry'::regclass")


def _key(s: Session) -> str:
    bind = s.get_bind()
    engine = bind if isinstance(bind, sa.Engine) else bind.engine
    return engine.url.render_as_string(hide_password=True)


def _word_stats(s: Session) -> tuple[float, float, dict[str, float]] | None:
    """ANALYZE's words most often found in its sample of ``search_entry`` (the ``tsv``
    column's ``most_common_elems``: 10 × the statistics target, up to 1,000) with the share of
    entries holding each, the lowest share among them, and the entries counted; None without
    statistics. The folded words are the index's lexemes (``fold.index_text``): a query word
    the parser would split is simply not found. Kept ``STATS_SECONDS`` by the process."""
    now = time.monotonic()
    key = _key(s)
    cached = _STATS.get(key)
    if cached is not None and now - cached[0] < STATS_SECONDS:
        return cached[1]
    row = s.execute(WORD_STATS).first()
    stats = None
    if row is not None and row[1] and row[2] and len(row[2]) > 2:
        rows, elems, freqs = row
        # the shares, then the lowest and the highest (tsvector's statistics)
        stats = (float(rows), float(freqs[-2]), dict(zip(elems, freqs, strict=False)))
    _STATS[key] = (now, stats)
    return stats


def backend_for(s: Session) -> Backend:
    """The backend of the catalog ``s`` is connected to."""
    dialect = s.get_bind().dialect.name
    if dialect == "sqlite":
        return SqliteFts5()
    if dialect == "postgresql":
        return PostgresFullText()
    raise ValueError(f"full-text search needs SQLite or PostgreSQL, not {dialect}")


def _chunks(ids: Sequence[int], size: int = 900) -> list[Sequence[int]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]
