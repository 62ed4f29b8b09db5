"""A catalog rebuilt from the storage locations can be searched as the original could."""

from __future__ import annotations

import sqlalchemy as sa

from preservation import search
from preservation.catalog.models import SearchEntry
from preservation.search import SearchQuery
from storage.filesystem import FilesystemStorage
from storage.rebuild import rebuild_catalog
from tests.support.rebuild import ARCHIVE, LOCATION


def _entries(catalog):
    with catalog.session() as s:
        return sorted(tuple(str(v) for v in row) for row in s.execute(sa.select(SearchEntry.kind, SearchEntry.file_code,
                                          SearchEntry.doc_code, SearchEntry.title,
                                          SearchEntry.mode, SearchEntry.year)).all())


def test_a_rebuilt_catalog_is_indexed(ingested, target):
    storage = FilesystemStorage(ingested.replica(LOCATION), name=LOCATION)
    report = rebuild_catalog(target, storage, archive_code=ARCHIVE)
    assert report.complete and report.search_entries == 3 + 6  # 3 hồ sơ, 1+2+3 documents
    assert _entries(target) == _entries(ingested.catalog)
    with target.session() as s:
        found = search.search(s, SearchQuery(q="so noi vu", kind="record"))
    assert found.total == 3
