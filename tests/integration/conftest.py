"""A khoso instance on the real catalog (SQLite and PostgreSQL), the harness's clamd and two
filesystem replicas; the SIP builders it is fed with are in ``tests.support.sips``."""

from __future__ import annotations

from pathlib import Path

import pytest

from preservation.catalog import registry
from preservation.catalog.db import Catalog
from preservation.settings import load_settings
from preservation.signing import init_keys
from tests.support.khoso import Khoso
from tests.support.sips import FOND, ORGAN


@pytest.fixture
def khoso(tmp_path, db_url, clamd_address) -> Khoso:
    data = tmp_path / "data"
    r1, r2 = data / "r1", data / "r2"
    r1.mkdir(parents=True)
    r2.mkdir(parents=True)
    settings = load_settings({
        "KHOSO_DATA_DIR": str(data), "KHOSO_DATABASE_URL": db_url, "KHOSO_CLAMD": clamd_address,
        "KHOSO_STORAGE_LOCATIONS": f"replica1=file://{r1},replica2=file://{r2}",
        "KHOSO_ARCHIVE_CODE": "TTLTNA"})
    init_keys(Path(settings.keys_dir), settings.archive_name, settings.archive_code)
    catalog = Catalog(settings.database_url)
    catalog.upgrade()
    with catalog.session() as s:
        body = registry.ensure_archive_body(s, "TTLTNA", "Trung tâm Lưu trữ tỉnh", "lich_su")
        registry.add_agency(s, ORGAN, "UBND huyện Nghi Lộc")
        registry.add_fonds(s, body, registry.FondsInput(FOND, "Phông UBND huyện Nghi Lộc"))
    yield Khoso(settings, catalog, tmp_path)
    catalog.dispose()
