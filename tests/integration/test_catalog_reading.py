"""``Catalog.reading``: reads that never wait for the write lock, and may not write."""

from __future__ import annotations

import threading
import time

import pytest

from preservation.catalog import registry
from preservation.catalog.db import Catalog
from preservation.catalog.models import Agency


@pytest.fixture
def catalog(db_url):
    c = Catalog(db_url)
    c.upgrade()
    yield c
    c.dispose()


def test_a_read_does_not_wait_for_a_writer(catalog):
    with catalog.session() as s:
        registry.add_agency(s, "000.00.00.H41", "UBND tỉnh Nghệ An")
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with catalog.session() as s:
            s.query(Agency).one().name = "UBND tỉnh Nghệ An (sửa)"
            s.flush()
            holding.set()
            release.wait(10)

    t = threading.Thread(target=writer)
    t.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        with catalog.reading() as s:
            assert s.query(Agency).one().name == "UBND tỉnh Nghệ An"  # the committed state
        assert time.monotonic() - started < 2
    finally:
        release.set()
        t.join(10)
    with catalog.reading() as s:
        assert s.query(Agency).one().name == "UBND tỉnh Nghệ An (sửa)"


def test_writing_in_a_reading_transaction_is_refused(catalog):
    with pytest.raises(RuntimeError, match="may not write"):
        with catalog.reading() as s:
            s.add(Agency(organ_id="000.00.00.H42", name="Sở Nội vụ"))
    with catalog.reading() as s:
        assert s.query(Agency).count() == 0
