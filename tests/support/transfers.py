"""Two khoso instances for transfers: the ``khoso`` fixture sends (the agency's archive, code
TTLTNA), ``receiving_khoso`` receives (the historical archive, code TTLTLS, its own data folder
and SQLite catalog) with the same agency and fonds registered and an agency_submitter account
bound to that agency, whose token the sender uses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from preservation.catalog import registry
from preservation.catalog.db import Catalog
from preservation.settings import load_settings
from preservation.signing import init_keys
from tests.support.api_submissions import token_for
from tests.support.khoso import Khoso
from tests.support.sips import FOND, ORGAN

RECEIVER_CODE = "TTLTLS"


def receiving_khoso(root: Path, clamd_address: str) -> Khoso:
    data = root / "data"
    r1, r2 = data / "r1", data / "r2"
    r1.mkdir(parents=True)
    r2.mkdir(parents=True)
    settings = load_settings({
        "KHOSO_DATA_DIR": str(data), "KHOSO_DATABASE_URL": f"sqlite:///{root / 'catalog.sqlite'}",
        "KHOSO_CLAMD": clamd_address,
        "KHOSO_STORAGE_LOCATIONS": f"replica1=file://{r1},replica2=file://{r2}",
        "KHOSO_ARCHIVE_CODE": RECEIVER_CODE, "KHOSO_ARCHIVE_NAME": "Trung tâm Lưu trữ lịch sử"})
    init_keys(Path(settings.keys_dir), settings.archive_name, settings.archive_code)
    catalog = Catalog(settings.database_url)
    catalog.upgrade()
    with catalog.session() as s:
        body = registry.ensure_archive_body(s, RECEIVER_CODE, "Trung tâm Lưu trữ lịch sử",
                                            "lich_su")
        registry.add_agency(s, ORGAN, "UBND huyện Nghi Lộc")
        registry.add_fonds(s, body, registry.FondsInput(FOND, "Phông UBND huyện Nghi Lộc"))
    return Khoso(settings, catalog, root)


def submitter_token(receiver: Khoso) -> str:
    """The token of an agency_submitter account at the receiver, bound to the agency."""
    header = token_for(receiver, "luu-tru-co-quan", "agency_submitter", ORGAN)
    return header["Authorization"].removeprefix("Bearer ")


def planned(months: int = 13) -> str:
    """A planned date far enough ahead for a registration."""
    return (dt.date.today() + dt.timedelta(days=31 * months)).isoformat()
