"""Two archivists at once (#15), on SQLite and PostgreSQL: lending the same hồ sơ, or filling
the last place of a box. One wins; the other gets its code and nothing of it is kept."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from access_api.services import paper
from access_api.services.base import Identity, ServiceContext, UserRole
from preservation.catalog.models import PaperFile, PaperLoan
from preservation.catalog.vocab import PaperCondition
from preservation.errors import Conflict
from tests.support.catalog_api import make_api
from tests.support.paper_repository import PAPER, store
from tests.support.paper_repository import paper as register


def _both(work):
    barrier = threading.Barrier(2)
    results: list[object] = []

    def run(n):
        barrier.wait()
        try:
            results.append(work(n))
        except Conflict as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_one_check_out_and_one_last_place_win(khoso):
    api = make_api(khoso)
    store(api, capacity=2)
    assert register(api).status_code == 201
    archivist = Identity("archivist-x", frozenset({UserRole.ARCHIVIST}))

    def lend(n):
        ctx = ServiceContext(khoso.settings, khoso.catalog)
        return paper.check_out(ctx, archivist, PAPER, borrower=f"B{n}", purpose="P").borrower

    results = _both(lend)
    assert sorted(results, key=str) in (["B1", "KHO004"], ["B2", "KHO004"])
    place = paper.Place("K1", "G2", "H3")

    def fill(n):
        ctx = ServiceContext(khoso.settings, khoso.catalog)
        return paper.register(ctx, archivist, code=f"TTLTNA.K1.{n}", place=place, title="T",
                              maintenance="05", page_count=1,
                              condition=PaperCondition.GOOD).code

    results = _both(fill)
    assert sorted(results) in (["KHO003", "TTLTNA.K1.1"], ["KHO003", "TTLTNA.K1.2"])
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(PaperLoan)) == 1
        assert s.scalar(sa.select(sa.func.count()).select_from(PaperFile)) == 2
