"""Ingested AIPs with their catalog sidecars written as the call sites do, and an empty second
catalog (another SQLite file, or another PostgreSQL schema) to rebuild into."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from preservation.catalog.db import Catalog
from storage.locations import open_storage
from tests.support.db import postgres_schema
from tests.support.khoso import Khoso
from tests.support.rebuild import write_audit_sidecars, write_ingest_sidecars
from tests.support.sheets import FILE_CODE
from tests.support.sips import make_sip


@pytest.fixture
def target(request: pytest.FixtureRequest, db_url: str, tmp_path) -> Iterator[Catalog]:
    """An empty, migrated catalog on the same kind of database as ``khoso``'s."""
    if db_url.startswith("sqlite"):
        catalog = Catalog(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
        catalog.upgrade()
        yield catalog
        catalog.dispose()
        return
    with postgres_schema(request.getfixturevalue("postgres_url"), "r") as url:
        catalog = Catalog(url)
        try:
            catalog.upgrade()
            yield catalog
        finally:
            catalog.dispose()


@pytest.fixture
def ingested(khoso: Khoso) -> Khoso:
    """Three hồ sơ ingested (1, 2 and 3 documents), then audited, with every sidecar written."""
    from storage.audit import run_audit

    for n in (1, 2, 3):
        outcome = khoso.ingest(make_sip(khoso.tmp / f"sip{n}", count=n, file_code=f"{FILE_CODE}{n}"))
        assert outcome.accepted, outcome.report.to_dict()
    write_ingest_sidecars(khoso)
    storages = {loc.name: open_storage(loc) for loc in khoso.settings.storage_locations}
    report = run_audit(khoso.catalog, storages, due_only=False)
    assert report.copies_checked == 6 and report.ok == 6
    write_audit_sidecars(khoso)
    return khoso
