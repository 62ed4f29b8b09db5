"""The two ways a sample's id ranges are read past the limits (``query._spread``), on SQLite
and PostgreSQL: through the word index in one statement (the words' lists ANDed with the
ranges: PostgreSQL's ``BitmapAnd``), or each range's entries checked one by one. Both must
return exactly the matching visible entries of each range, so the estimates they give are the
same, honest (``exact`` false, within 35 %) and never count a secret entry for a reader. The
limits are lowered so a catalog of 3,000 entries crosses them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from preservation import search
from preservation.catalog.db import Catalog
from preservation.search import Scope, SearchQuery, query
from preservation.search.backend import ENTRY, backend_for
from preservation.search.index import _insert

ENTRIES = 3000
READER = Scope(frozenset({"01", "02"}))


def words_of(i: int) -> list[str]:
    """Deterministic, unevenly spread words: "ngan" in about a third of the entries (runs of
    them, as a hồ sơ's documents share words), "sach" in half of those, "dat" in one in 100."""
    out = ["van", "ban"]
    if (i * 7919) % 97 < 33 or (i // 50) % 9 == 0:
        out.append("ngan")
        if i % 2:
            out.append("sach")
    if (i * 104729) % 100 == 0:
        out.append("dat")
    return out


def mode_of(i: int) -> str:
    return "03" if i % 5 == 0 else "02" if i % 5 == 1 else "01"


@pytest.fixture
def catalog(db_url) -> Iterator[Catalog]:
    catalog = Catalog(db_url)
    catalog.upgrade()
    with catalog.session() as s:
        rows = [{"objid": f"urn:test:{i // 20}", "kind": "document", "title": f"Tài liệu {i}",
                 "mode": mode_of(i), "fonds": f"P{600 + i % 3}", "type": "02",
                 "date": f"{2000 + i % 7}-01-01", "year": 2000 + i % 7, "body": "",
                 "title_f": " ".join(words_of(i)), "body_f": ""} for i in range(ENTRIES)]
        ids = _insert(s, rows)
        backend_for(s).added(s, ids)
    if catalog.engine.dialect.name == "postgresql":
        with catalog.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("ANALYZE search_entry"))
    yield catalog
    catalog.dispose()


def truth(s, words: list[str], modes: set[str]) -> list[int]:
    """The ids holding every word in ``modes``, read without the word index."""
    rows = s.execute(sa.select(ENTRY.c.id, ENTRY.c.title_f, ENTRY.c.mode)).all()
    return sorted(i for i, t, m in rows if m in modes and set(words) <= set(t.split()))


@pytest.fixture
def lowered(monkeypatch):
    monkeypatch.setattr(query, "EXACT_LIMIT", 40)
    monkeypatch.setattr(query, "DENSE_LIMIT", 80)
    monkeypatch.setattr(query, "BLOCKS", 10)
    monkeypatch.setattr(query, "PER_BLOCK", 24)
    monkeypatch.setattr(query, "PEEK", 60)
    monkeypatch.setattr(query, "RANK_SAMPLE", 60)


def test_ranges_through_the_word_index_give_exactly_the_matches_in_them(catalog):
    ranges = [(1, 1), (10, 260), (700, 701), (1500, 2400), (2990, ENTRIES + 50)]
    with catalog.session() as s:
        backend_for(s).prepare(s)
        got = query._rows(s, query._candidates(s, SearchQuery(scope=READER), ["ngan", "sach"],
                                               among=ranges))
        ids = [r[0] for r in got]
        expected = [i for i in truth(s, ["ngan", "sach"], {"01", "02"})
                    if any(lo <= i <= hi for lo, hi in ranges)]
        assert sorted(ids) == expected and len(ids) == len(set(ids)) and expected
        modes = {r[0]: r[FACET_MODE] for r in got}
        assert "03" not in modes.values()


FACET_MODE = 1 + query.FACETS.index("mode")


@pytest.mark.usefixtures("lowered")
@pytest.mark.parametrize("words", [["ngan"], ["ngan", "sach"]])
def test_both_ways_of_reading_the_ranges_give_the_same_sample(catalog, monkeypatch, words):
    with catalog.session() as s:
        low, high = query._bounds(s)
        ways: list[bool] = []  # each statement: through the index over every range?
        candidates = query._candidates
        monkeypatch.setattr(query, "_candidates", lambda *a, **k: ways.append(
            k.get("among") is not None) or candidates(*a, **k))
        monkeypatch.setattr(query, "BITMAP_DENSITY", 1.0)  # PostgreSQL: through the index
        by_index = query._spread(s, SearchQuery(scope=READER), words, low, high, 0.1)
        assert ways == ([True] if backend_for(s).whole_lists else [False])
        monkeypatch.setattr(query, "BITMAP_DENSITY", 0.0)  # every range checked row by row
        by_row = query._spread(s, SearchQuery(scope=READER), words, low, high, 0.1)
        assert ways[1:] == [False]
    assert by_index == by_row
    assert all(len(got) <= 24 for got, _ in by_index)
    if words == ["ngan"]:  # a range cut at PER_BLOCK: its rows weigh more
        assert any(len(got) == 24 for got, _ in by_index)
    assert all(row[FACET_MODE] != "03" for got, _ in by_index for row in got)


def test_the_bounds_are_read_from_the_ends_of_the_primary_key(catalog):
    """Every search reads them: never a scan of the whole table (SQLite scans it for ``min()``
    and ``max()`` in one select)."""
    with catalog.session() as s:
        assert query._bounds(s) == (1, ENTRIES)
        if catalog.engine.dialect.name == "sqlite":
            plan = s.execute(sa.text("EXPLAIN QUERY PLAN " + str(query.BOUNDS.compile(
                dialect=s.get_bind().dialect)))).all()
            assert not [row for row in plan if row[-1].startswith("SCAN search_entry")], plan


@pytest.mark.usefixtures("lowered")
def test_ranges_checked_row_by_row_are_read_in_one_statement_where_lists_are_whole(
        catalog, monkeypatch):
    """PostgreSQL: every range in one round trip (a lateral join), not one a range; the same
    rows, each range's in id order and cut at ``PER_BLOCK``. SQLite (in process): a range at a
    time, as before."""
    monkeypatch.setattr(query, "BITMAP_DENSITY", 0.0)
    statements: list[object] = []
    rows = query._rows
    monkeypatch.setattr(query, "_rows", lambda *a, **k: statements.append(a[1]) or rows(*a, **k))
    with catalog.session() as s:
        low, high = query._bounds(s)
        got = query._spread(s, SearchQuery(scope=READER), ["ngan"], low, high, 0.1)
        _, ranges = query._ranges(low, high, 0.1)
        expected = truth(s, ["ngan"], {"01", "02"})
        whole = backend_for(s).whole_lists
    assert len(statements) == (1 if whole else query.BLOCKS)
    for (found, _), (lo, hi) in zip(got, ranges, strict=True):
        assert [r[0] for r in found] == [i for i in expected if lo <= i <= hi][:24]


@pytest.mark.usefixtures("lowered")
@pytest.mark.parametrize(("density", "by_index"), [(0.05, True), (0.07, False)])
def test_up_to_one_match_in_17_ids_the_ranges_are_read_through_the_word_index(
        catalog, monkeypatch, density, by_index):
    """PostgreSQL: the word index read with the ranges beats checking their entries one by one
    up to about 0.06 matches per id (``BITMAP_DENSITY``); SQLite checks them one by one."""
    ways: list[bool] = []
    candidates = query._candidates
    monkeypatch.setattr(query, "_candidates", lambda *a, **k: ways.append(
        k.get("among") is not None) or candidates(*a, **k))
    with catalog.session() as s:
        low, high = query._bounds(s)
        query._spread(s, SearchQuery(scope=READER), ["ngan"], low, high, density)
        whole = backend_for(s).whole_lists
    assert ways == [by_index and whole]


@pytest.mark.usefixtures("lowered")
@pytest.mark.parametrize("bitmap_density", [1.0, 0.0])
@pytest.mark.parametrize("scope", [READER, Scope()], ids=["reader", "staff"])
def test_past_the_limits_estimates_are_honest_either_way(catalog, monkeypatch, bitmap_density,
                                                         scope):
    monkeypatch.setattr(query, "BITMAP_DENSITY", bitmap_density)
    modes = set(scope.modes or {"01", "02", "03"})
    with catalog.session() as s:
        for words in (["ngan"], ["ngan", "sach"]):
            result = search.search(s, SearchQuery(q=" ".join(words), scope=scope, size=10))
            true = len(truth(s, words, modes))
            assert true > 80 and result.exact is False
            assert abs(result.total - true) <= 0.35 * true, (words, result.total, true)
            assert abs(sum(result.facets["mode"].values()) - result.total) <= 3
            assert set(result.facets["mode"]) <= modes
            assert 0 < result.ranked <= 60 and len(result.hits) == 10
            for hit in result.hits:
                assert hit.mode in modes
                assert set(words) <= set(words_of(int(hit.title.split()[-1])))


def test_under_the_limits_a_rare_word_is_exact(catalog, lowered):
    with catalog.session() as s:
        result = search.search(s, SearchQuery(q="dat", scope=READER, size=100))
        assert result.exact is True
        assert result.total == len(truth(s, ["dat"], {"01", "02"})) == len(result.hits)


def test_a_reindex_leaves_the_planner_statistics_of_the_words(khoso):
    """Without them the planner cannot weigh the word index against the id ranges; on a
    machine where autovacuum is off nothing else would gather them."""
    if khoso.catalog.engine.dialect.name != "postgresql":
        pytest.skip("statistics for the planner: PostgreSQL's")
    from tests.support.search import build_corpus

    build_corpus(khoso)
    stats = sa.text("SELECT count(*) FROM pg_stats WHERE tablename = 'search_entry' "
                    "AND attname = 'tsv' AND schemaname = current_schema()")
    with khoso.catalog.session() as s:
        assert s.scalar(stats) == 0
        built = search.reindex(s)
    assert built.records == 3
    with khoso.catalog.session() as s:
        assert s.scalar(stats) == 1
        assert s.scalar(sa.text("SELECT reltuples FROM pg_class WHERE oid = "
                                "'search_entry'::regclass")) == built.records + built.documents


@pytest.mark.usefixtures("lowered")
def test_with_the_words_statistics_one_word_needs_no_first_look(catalog, monkeypatch):
    """PostgreSQL: ANALYZE's share of entries holding each common word
    (``pg_stats.most_common_elems``) gives the query's matches per id in the same round trip
    as the bounds; no first look at the entries (``_peek``), and the estimates stay honest.
    SQLite stops its reading at a ``LIMIT``: nothing to know beforehand."""
    looked: list[object] = []
    peek = query._peek
    monkeypatch.setattr(query, "_peek", lambda *a, **k: looked.append(a) or peek(*a, **k))
    with catalog.session() as s:
        low, high, freqs = query._look(s, ["ngan"])
        known = query._known(freqs, high - low + 1)
        assert (low, high) == (1, ENTRIES)
        true_all = len(truth(s, ["ngan"], {"01", "02", "03"}))
        result = search.search(s, SearchQuery(q="ngan", scope=READER, size=10))
        true = len(truth(s, ["ngan"], {"01", "02"}))
    if catalog.engine.dialect.name == "postgresql":
        assert known == pytest.approx(true_all / ENTRIES, rel=0.1)
        assert looked == []
    else:
        assert known is None
    assert result.exact is False and abs(result.total - true) <= 0.35 * true


@pytest.mark.usefixtures("lowered")
def test_a_rare_word_clustered_where_the_first_look_looks_is_still_counted_exactly(catalog):
    """40 entries (``EXACT_LIMIT``) holding "cum", all at the start of the ranges a first look
    checks: that look took them for 200 and answered an estimate (``exact`` false, 41) from
    a sample that missed them. Now the words' statistics (PostgreSQL) bound the query under
    ``DENSE_LIMIT`` and every match is read; and a sample finding far fewer than the look
    said is read again whole."""
    stride = ENTRIES // 10
    ids = [1 + i * stride + k for i in range(10) for k in range(4)]
    where = ENTRY.c.id.in_(ids)
    with catalog.session() as s:
        backend = backend_for(s)
        backend.removing(s, where)
        s.execute(sa.update(ENTRY).where(where).values(title_f=ENTRY.c.title_f + " cum"))
        backend.added(s, ids)
    if catalog.engine.dialect.name == "postgresql":
        with catalog.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("ANALYZE search_entry"))
    with catalog.session() as s:
        result = search.search(s, SearchQuery(q="cum", scope=Scope(), size=100))
    assert result.exact is True and result.total == len(result.hits) == 40


@pytest.mark.usefixtures("lowered")
def test_statistics_left_from_other_entries_still_count_a_rare_query_exactly(catalog):
    """PostgreSQL: after most entries holding "ngan" went, ANALYZE (autovacuum may be off)
    still says a third of them hold it; the sample finds far fewer than that and every match
    is read: exact, as the query is rare now."""
    with catalog.session() as s:
        if catalog.engine.dialect.name == "postgresql":
            s.execute(sa.text("ALTER TABLE search_entry SET (autovacuum_enabled = false)"))
        keep = truth(s, ["ngan"], {"01", "02", "03"})[::40]
        gone = ENTRY.c.title_f.contains("ngan") & ENTRY.c.id.notin_(keep)
        backend_for(s).removing(s, gone)
        s.execute(sa.delete(ENTRY).where(gone))
    with catalog.session() as s:
        if catalog.engine.dialect.name == "postgresql":
            assert query._known(query._look(s, ["ngan"])[2], ENTRIES) > 0.2  # from before
        result = search.search(s, SearchQuery(q="ngan", scope=Scope(), size=100))
    assert result.exact is True and result.total == len(keep) == len(result.hits)


def test_the_words_statistics_are_read_once_a_while_and_again_after_a_reindex(catalog):
    """Read with every search they cost more CPU than the bounds; a process keeps them
    ``STATS_SECONDS``, and forgets them when its reindex gathered new ones."""
    if catalog.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's statistics")
    from preservation.search import backend as backend_module

    read: list[str] = []
    sa.event.listen(catalog.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *a: read.append(statement)
                    if "pg_stats" in statement else None)
    with catalog.session() as s:
        backend = backend_for(s)
        first = backend.frequencies(s, ["ngan", "zzz"])
        assert backend.frequencies(s, ["sach"]) is not None
        assert len(read) == 1
        assert first is not None and first[0] == ENTRIES and first[3] == -1
        backend.rebuilt(s)
        backend.frequencies(s, ["ngan"])
        assert len(read) == 2
    assert backend_module.STATS_SECONDS <= 300
