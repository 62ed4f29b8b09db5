"""A khoso initialised by its own CLI, for the command-line ingest tests."""

from __future__ import annotations

import pytest

from tests.support.cli import run
from tests.support.sips import FOND, ORGAN


@pytest.fixture
def env(tmp_path, db_url, clamd_address) -> dict[str, str]:
    """A khoso initialised by the CLI itself, with the agency and fonds the SIPs name."""
    data = tmp_path / "data"
    environ = {
        "KHOSO_DATA_DIR": str(data), "KHOSO_DATABASE_URL": db_url, "KHOSO_CLAMD": clamd_address,
        "KHOSO_STORAGE_LOCATIONS": f"replica1=file://{data / 'r1'},replica2=file://{data / 'r2'}",
        "KHOSO_ARCHIVE_CODE": "TTLTNA", "KHOSO_CLAMD_MANAGED": "false"}
    for args in (["init"], ["agency", "add", ORGAN, "UBND huyện Nghi Lộc"],
                 ["fonds", "add", FOND, "Phông UBND huyện Nghi Lộc"]):
        result = run(environ, *args)
        assert result.exit_code == 0, result.output
    return environ
